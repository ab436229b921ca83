package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/trust"
)

// Partner routes are served on the node's one HTTPS listener beside the user
// routes. The listener (Serve) verifies any client certificate during the
// handshake; WithPeer names the peer behind it for each request, and
// RequirePeer admits only requests that come from a peer.

type peerKey struct{}

// PeerFrom returns the partner node the request came from, if any: set by
// WithPeer from the client certificate.
func PeerFrom(ctx context.Context) (*node.Peer, bool) {
	p, ok := ctx.Value(peerKey{}).(*node.Peer)
	return p, ok && p != nil
}

// peerCertKey marks a request that presented a client certificate that
// names no peer, so that RequirePeer can answer 403 rather than 401.
type peerCertKey struct{}

// WithPeer identifies the client certificate of each request (if any) under
// the current trust and puts the peer in the request context. It re-checks
// the certificate rather than trust the handshake alone, since a kept-alive
// connection can outlive a revocation or a peer's removal; a certificate
// that no longer passes is refused with 403 on every route.
func WithPeer(ts *trust.Store, log *slog.Logger, h http.Handler) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
			h.ServeHTTP(w, r)
			return
		}
		p, err := ts.Identify(r.TLS.PeerCertificates)
		if err != nil {
			log.Warn("client certificate refused", "subject", r.TLS.PeerCertificates[0].Subject.String(), "err", err)
			writeError(w, http.StatusForbidden, "client certificate not accepted")
			return
		}
		ctx := context.WithValue(r.Context(), peerCertKey{}, true)
		if p != nil {
			ctx = context.WithValue(ctx, peerKey{}, p)
		}
		h.ServeHTTP(w, r.WithContext(ctx))
	})
}

// RequirePeer admits only requests from a partner node: no client
// certificate is 401, a valid certificate of a node that is not this node's
// peer is 403. Mount partner routes through it; the handler finds the peer
// with PeerFrom.
func RequirePeer(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := PeerFrom(r.Context()); ok {
			h.ServeHTTP(w, r)
			return
		}
		if presented, _ := r.Context().Value(peerCertKey{}).(bool); presented {
			writeError(w, http.StatusForbidden, "not a partner of this node")
			return
		}
		writeError(w, http.StatusUnauthorized, "partner route: a partner node's client certificate is required")
	})
}

// federationRoutes mounts the partner routes.
func (s *Server) federationRoutes() {
	s.mux.Handle("GET /federation/v1/hello", RequirePeer(http.HandlerFunc(s.hello)))
	s.mux.Handle("POST "+node.InboxPath, RequirePeer(http.HandlerFunc(s.inbox))) // inbox.go
}

// hello answers who the caller is, as this node knows it: the simplest
// proof that mutual TLS and the peer registry agree.
func (s *Server) hello(w http.ResponseWriter, r *http.Request) {
	p, ok := PeerFrom(r.Context())
	if !ok { // RequirePeer lets no such request through
		s.fail(w, r, errors.New("hello: no peer in context"))
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]string{"peer": p.Name, "country": p.Country, "org": p.Org, "node": s.n.Config().Name})
}
