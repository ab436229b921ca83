package node

import (
	"github.com/tearline/tearline/datadir"
	"github.com/tearline/tearline/trust"
	"golang.org/x/mod/sumdb/note"
)

// Partners and TLS trust are package trust's; node uses them.

// Peer is a partner node (trust.Peer).
type Peer = trust.Peer

// Federation files in the data directory (datadir names them).
const (
	PeersFile   = datadir.PeersFile
	TrustCAFile = datadir.TrustCAFile
	RevokedFile = datadir.RevokedFile
)

// Peers returns the node's peers as peers.yaml is now: the file is edited
// by `tearline peer` in another process, so every use takes a stat of it
// and only a changed file is parsed again (releases and deliveries ask for
// the peers once per object). Callers must not modify the slice: it is
// shared until the file changes.
func (n *Node) Peers() ([]Peer, error) { return n.peerCache.Get() }

// Peer returns the peer called name, nil if there is none.
func (n *Node) Peer(name string) (*Peer, error) {
	peers, err := n.Peers()
	if err != nil {
		return nil, err
	}
	for i := range peers {
		if peers[i].Name == name {
			return &peers[i], nil
		}
	}
	return nil, nil
}

// PeerOrigin returns the origin of peer's log, "" when its log key is not
// known.
func PeerOrigin(p *Peer) string {
	if p == nil || p.LogKey == "" {
		return ""
	}
	v, err := note.NewVerifier(p.LogKey)
	if err != nil {
		return ""
	}
	return v.Name()
}
