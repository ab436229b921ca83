package api

import (
	"crypto/x509"

	"github.com/tearline/tearline/federation"
	"github.com/tearline/tearline/trust"
)

// Partner routes (package federation) are served on the node's one HTTPS
// listener beside the user routes. The listener (Serve) verifies any client
// certificate during the handshake; federation.WithPeer names the peer
// behind it for each request, and the partner routes admit only requests
// that come from a peer.

// identifyPeer resolves a client certificate to a peer under the trust
// files as they are now (trust.Store reloads them when they change).
func identifyPeer(ts *trust.Store) federation.IdentifyFunc {
	return func(certs []*x509.Certificate) (*federation.Peer, error) {
		p, err := ts.Identify(certs)
		if err != nil || p == nil {
			return nil, err
		}
		return &federation.Peer{Name: p.Name, Country: p.Country, Org: p.Org, URL: p.URL}, nil
	}
}
