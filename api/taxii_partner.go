package api

import (
	"net/http"

	"github.com/tearline/tearline/federation"
	"github.com/tearline/tearline/node/taxiiview"
)

// partnerTAXII lets a partner node read the TAXII collections with its
// client certificate alone: the peer federation.WithPeer found is handed to the node's
// TAXII backend through the context, and the backend serves that partner's
// view (what the agreements release to it). A request with a token is a
// person's, whatever certificate it came with.
func partnerTAXII(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p, ok := federation.PeerFrom(r.Context()); ok && r.Header.Get("Authorization") == "" {
			r = r.WithContext(taxiiview.WithPartner(r.Context(), p))
		}
		h.ServeHTTP(w, r)
	})
}
