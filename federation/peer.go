package federation

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"log/slog"
	"net/http"
)

// Peer is a partner node as the protocol knows it: who its client
// certificate names, and where it serves.
type Peer struct {
	Name    string
	Country string
	Org     string
	// URL is where the peer serves (https://host:port); empty: nothing is
	// sent to it.
	URL string
}

// IdentifyFunc resolves a request's verified client certificate chain to
// the peer it names under the trust as it is now: nil and no error when
// the certificate is valid but names no peer; an error when it no longer
// passes (revoked, the CA removed).
type IdentifyFunc func(certs []*x509.Certificate) (*Peer, error)

type peerKey struct{}

// peerCertKey marks a request that presented a client certificate that
// names no peer, so that RequirePeer can answer 403 rather than 401.
type peerCertKey struct{}

// PeerFrom returns the partner node the request came from, if any: set by
// WithPeer from the client certificate.
func PeerFrom(ctx context.Context) (*Peer, bool) {
	p, ok := ctx.Value(peerKey{}).(*Peer)
	return p, ok && p != nil
}

// WithPeer identifies the client certificate of each request (if any) with
// identify and puts the peer in the request context. It re-checks the
// certificate rather than trust the handshake alone, since a kept-alive
// connection can outlive a revocation or a peer's removal; a certificate
// that no longer passes is refused with 403 on every route.
func WithPeer(identify IdentifyFunc, log *slog.Logger, h http.Handler) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
			h.ServeHTTP(w, r)
			return
		}
		p, err := identify(r.TLS.PeerCertificates)
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

// writeError answers as the user-facing API does: {"error": msg}.
func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}
