package node

import (
	"github.com/tearline/tearline/datadir"
	"github.com/tearline/tearline/trust"
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
