// Package api is Tearline's HTTP JSON API: ingest, reads and user
// administration, documented in docs/API.md, with the TAXII 2.1 server
// (package taxii, docs/TAXII.md) mounted beside it under /taxii2/ and the
// partner routes under /federation/.
//
// It authenticates the caller and hands the principal to node, which
// decides every role and clearance question (node/authority.go); here the
// node's errors become statuses (fail, agreementFail) and nothing else is
// decided about who may do what.
package api

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tearline/tearline/federation"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/stack"
	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/taxii"
)

// Server serves the API for one node.
type Server struct {
	n       *stack.Node
	log     *slog.Logger
	mux     *http.ServeMux
	reqs    *prometheus.CounterVec
	dur     *prometheus.HistogramVec
	objects *prometheus.CounterVec
	routes  []string // every pattern served, for Routes
}

// New returns the API handler for n. Metrics go to reg (a fresh registry
// when nil); ServeMetrics serves them, on a listener of their own.
func New(n *stack.Node, log *slog.Logger, reg *prometheus.Registry) *Server {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	s := &Server{n: n, log: log, mux: http.NewServeMux(),
		reqs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tearline_http_requests_total", Help: "HTTP requests by route and status code."}, []string{"route", "code"}),
		dur: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "tearline_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16)}, []string{"route"}),
		objects: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tearline_ingest_objects_total", Help: "Objects submitted, by outcome (created, exists, refused)."}, []string{"outcome"}),
	}
	reg.MustRegister(s.reqs, s.dur, s.objects, prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	reg.MustRegister(n.Oversight.WitnessCollector()) // split views, rollbacks, cosignatures (node/witnessmetrics.go)
	reg.MustRegister(n.Deliveries.DeliveryMetrics()) // delivery states (package federation)
	// Every layer of the node's store with metrics of its own adds them:
	// the access MAC checks (mismatches, accessmac/checks) and a backend's
	// (SQLite's id index).
	for st := n.Store(); ; {
		if c, ok := st.(interface{ Collector() prometheus.Collector }); ok {
			reg.MustRegister(c.Collector())
		}
		u, ok := st.(interface{ Unwrap() store.Store })
		if !ok {
			break
		}
		st = u.Unwrap()
	}

	s.handle("GET /healthz", s.healthz, false)
	s.handle("GET /api/v1/whoami", s.whoami, true)
	s.handle("POST /api/v1/objects", s.publish, true)
	s.handle("GET /api/v1/objects", s.list, true)
	s.handle("GET /api/v1/objects/{id}", s.get, true)
	s.handle("GET /api/v1/objects/{id}/versions", s.versions, true)
	s.handle("GET /api/v1/objects/{id}/bindings", s.bindings, true)
	s.handle("GET /api/v1/count", s.count, true)
	s.handle("GET /api/v1/export", s.export, true)
	s.handle("GET /api/v1/labels/{id}", s.label, true)
	s.handle("GET /api/v1/users", s.users, true)
	s.handle("POST /api/v1/users", s.addUser, true)
	s.handle("PATCH /api/v1/users/{name}", s.updateUser, true)
	s.handle("GET /api/v1/users/{name}/tokens", s.tokens, true)
	s.handle("POST /api/v1/users/{name}/tokens", s.issueToken, true)
	s.handle("DELETE /api/v1/tokens/{id}", s.revokeToken, true)
	(&auditAPI{s}).auditRoutes()
	(&sharingAPI{s}).agreementRoutes()                           // agreements.go
	(&recallAPI{s}).recallRoutes()                               // recalls.go
	federation.NewServer(n.Config().Name, n.Inbox, log).Mount(s) // partner routes, behind RequirePeer
	(&witnessAPI{s}).witnessRoutes()                             // witness.go
	// TAXII 2.1 (docs/TAXII.md): discovery at /taxii2/, the API root below
	// it. The taxii handler authenticates and answers in TAXII's own media
	// type and error format, so it is mounted without the JSON API's auth.
	// A partner's certificate without a token reads the partner view
	// (taxii_partner.go, node/partnerview.go).
	th := taxii.New(n.TAXII, taxii.Options{Title: "Tearline node " + n.Config().Name,
		Description: "TAXII 2.1 for Tearline node " + n.Config().Name, MaxContentLength: n.Config().MaxBodyBytes, Logger: log})
	s.handle(taxii.Prefix, partnerTAXII(th).ServeHTTP, false)
	s.routes = append(s.routes, th.Routes()...)
	return s
}

// Routes lists every route the server answers, as registered ("GET
// /api/v1/objects/{id}"; a pattern without a method answers every method),
// the TAXII handler's own routes included. The authorization-matrix test
// (matrix_test.go) walks it, so a route added without a row there fails.
func (s *Server) Routes() []string { return slices.Clone(s.routes) }

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Handle mounts another handler (TAXII, the UI) on the same mux.
func (s *Server) Handle(pattern string, h http.Handler) {
	s.routes = append(s.routes, pattern)
	s.mux.Handle(pattern, h)
}

type principalKey struct{}

func principal(r *http.Request) *node.Principal {
	p, _ := r.Context().Value(principalKey{}).(*node.Principal)
	return p
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(c int) { w.code = c; w.ResponseWriter.WriteHeader(c) }

func (s *Server) handle(pattern string, h http.HandlerFunc, auth bool) {
	route := pattern
	s.routes = append(s.routes, pattern)
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, code: 200}
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		defer func() {
			s.reqs.WithLabelValues(route, strconv.Itoa(sw.code)).Inc()
			s.dur.WithLabelValues(route).Observe(time.Since(start).Seconds())
		}()
		if auth {
			tok := bearer(r)
			if tok == "" {
				sw.Header().Set("WWW-Authenticate", `Bearer realm="tearline"`)
				writeError(sw, http.StatusUnauthorized, "missing bearer token")
				return
			}
			p, err := s.n.Authenticate(r.Context(), tok)
			if err != nil {
				if errors.Is(err, node.ErrUnauthenticated) {
					sw.Header().Set("WWW-Authenticate", `Bearer realm="tearline", error="invalid_token"`)
					writeError(sw, http.StatusUnauthorized, err.Error())
					return
				}
				s.fail(sw, r, err)
				return
			}
			r = r.WithContext(context.WithValue(r.Context(), principalKey{}, p))
		}
		h(sw, r)
	})
}

func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if t, ok := strings.CutPrefix(h, "Bearer "); ok {
		return strings.TrimSpace(t)
	}
	if _, pw, ok := r.BasicAuth(); ok {
		return pw // TAXII clients send the token as the Basic password
	}
	return ""
}

type errorBody struct {
	Error string `json:"error"`
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, errorBody{Error: msg})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// fail maps an error to a response. Objects a caller may not see come back
// as 404, exactly like objects that do not exist.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var mbe *http.MaxBytesError
	switch {
	case errors.Is(err, node.ErrNotFound), errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, "not found")
	case errors.Is(err, node.ErrForbidden):
		writeError(w, http.StatusForbidden, err.Error())
	case errors.Is(err, node.ErrBadCursor), errors.Is(err, node.ErrInvalid):
		writeError(w, http.StatusBadRequest, err.Error())
	case errors.Is(err, store.ErrExists):
		writeError(w, http.StatusConflict, err.Error())
	case errors.As(err, &mbe):
		writeError(w, http.StatusRequestEntityTooLarge, err.Error())
	case errors.Is(err, context.Canceled):
		writeError(w, 499, "request cancelled")
	default:
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		writeError(w, http.StatusInternalServerError, "internal error")
	}
}

func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	return io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
}

func newUUID() string { return uuid.NewString() }
