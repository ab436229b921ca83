package taxii

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Prefix is where the handler serves: discovery at /taxii2/, the API root
// at /taxii2/{root}/.
const Prefix = "/taxii2/"

// DefaultRoot is the API root's name when Options.Root is empty.
const DefaultRoot = "tearline"

// Options configure a Handler.
type Options struct {
	Title       string // discovery and API root title; required by TAXII
	Description string
	Contact     string
	// Root names the API root: it is served at /taxii2/{Root}/.
	Root string
	// MaxContentLength bounds a POST body, and is advertised as the API
	// root's max_content_length.
	MaxContentLength int64
	// BaseURL is the scheme and authority clients reach this server at
	// (https://taxii.example.org), for the absolute URLs in the discovery
	// resource when a proxy sits in front. Empty: taken from each request.
	BaseURL string
	Logger  *slog.Logger
	Now     func() time.Time
}

// Handler serves TAXII 2.1 under Prefix.
type Handler struct {
	b        Backend
	o        Options
	mux      *http.ServeMux
	statuses *statusStore
	routes   []string // "METHOD pattern" of every endpoint, for Routes
}

// New returns a handler serving b.
func New(b Backend, o Options) *Handler {
	if o.Root == "" {
		o.Root = DefaultRoot
	}
	if o.Title == "" {
		o.Title = "Tearline TAXII 2.1"
	}
	if o.MaxContentLength <= 0 {
		o.MaxContentLength = 64 << 20
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = func() time.Time { return time.Now().UTC() }
	}
	o.BaseURL = strings.TrimSuffix(o.BaseURL, "/")
	h := &Handler{b: b, o: o, mux: http.NewServeMux(), statuses: newStatusStore(o.Now)}
	const root = Prefix + "{root}/"
	const coll = root + "collections/{collection}/"
	h.route(Prefix+"{$}", map[string]endpoint{http.MethodGet: h.discovery})
	h.route(root+"{$}", map[string]endpoint{http.MethodGet: h.apiRoot})
	h.route(root+"status/{status}/{$}", map[string]endpoint{http.MethodGet: h.status})
	h.route(root+"collections/{$}", map[string]endpoint{http.MethodGet: h.collections})
	h.route(coll+"{$}", map[string]endpoint{http.MethodGet: h.collection})
	h.route(coll+"manifest/{$}", map[string]endpoint{http.MethodGet: h.manifest})
	h.route(coll+"objects/{$}", map[string]endpoint{http.MethodGet: h.getObjects, http.MethodPost: h.addObjects})
	h.route(coll+"objects/{object}/{$}", map[string]endpoint{http.MethodGet: h.getObject, http.MethodDelete: h.deleteObject})
	h.route(coll+"objects/{object}/versions/{$}", map[string]endpoint{http.MethodGet: h.versions})
	h.mux.HandleFunc(Prefix, func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such TAXII endpoint")
	})
	return h
}

// Routes lists the endpoints, one "METHOD pattern" for each method each
// answers (other methods get 405), so that whoever mounts the handler can
// check every one (api's authorization-matrix test).
func (h *Handler) Routes() []string { return slices.Clone(h.routes) }

// ServeHTTP implements http.Handler. TAXII URLs end in '/'; a request
// without it is served as if it had it, because a redirect would lose a
// POST body with some clients.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasSuffix(r.URL.Path, "/") {
		r2 := r.Clone(r.Context())
		r2.URL.Path += "/"
		r2.URL.RawPath = ""
		r = r2
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	h.mux.ServeHTTP(w, r)
}

// request is one authenticated, negotiated request.
type request struct {
	w      http.ResponseWriter
	r      *http.Request
	ctx    context.Context
	caller Caller
}

type endpoint func(*request)

// route registers an endpoint with its methods. The order of checks is
// fixed: method (405), credentials (401), Accept (406), API root (404);
// then the endpoint.
func (h *Handler) route(pattern string, methods map[string]endpoint) {
	allow := make([]string, 0, len(methods))
	for m := range methods {
		allow = append(allow, m)
	}
	slices.Sort(allow)
	for _, m := range allow {
		h.routes = append(h.routes, m+" "+pattern)
	}
	h.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		ep, ok := methods[r.Method]
		if !ok {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			writeError(w, http.StatusMethodNotAllowed, r.Method+" is not supported here")
			return
		}
		c, err := h.authenticate(r)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		if !acceptable(r.Header.Get("Accept")) {
			writeError(w, http.StatusNotAcceptable, "this server speaks "+MediaTypeTAXII+" only; the Accept header does not allow it")
			return
		}
		if root := r.PathValue("root"); root != "" && root != h.o.Root {
			writeError(w, http.StatusNotFound, "no such API root")
			return
		}
		ep(&request{w: w, r: r, ctx: r.Context(), caller: c})
	})
}

// authenticate takes the API token from a Bearer header, from a Token
// header (taxii2-client's TokenAuth) or as the password of HTTP Basic,
// which is what most TAXII clients offer.
func (h *Handler) authenticate(r *http.Request) (Caller, error) {
	var user, token string
	auth := r.Header.Get("Authorization")
	if scheme, rest, ok := strings.Cut(auth, " "); ok && (strings.EqualFold(scheme, "Bearer") || strings.EqualFold(scheme, "Token")) {
		token = strings.TrimSpace(rest)
	} else if u, p, ok := r.BasicAuth(); ok {
		user, token = u, p
	}
	if token == "" {
		// No token: a caller the server identified otherwise (a partner's
		// client certificate), if the backend knows of such callers.
		if ca, ok := h.b.(ContextAuthenticator); ok {
			if c, ok, err := ca.AuthenticateContext(r.Context()); err != nil || ok {
				return c, err
			}
		}
		return nil, ErrUnauthenticated
	}
	return h.b.Authenticate(r.Context(), user, token)
}

func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	var mbe *http.MaxBytesError
	switch {
	case errors.Is(err, ErrUnauthenticated):
		w.Header().Add("WWW-Authenticate", `Basic realm="tearline", charset="UTF-8"`)
		w.Header().Add("WWW-Authenticate", `Bearer realm="tearline"`)
		writeError(w, http.StatusUnauthorized, "missing, invalid, expired or revoked token: send the API token as Bearer, or as the password of HTTP Basic")
	case errors.Is(err, ErrForbidden):
		writeError(w, http.StatusForbidden, err.Error())
	case errors.Is(err, ErrNotFound):
		writeError(w, http.StatusNotFound, "not found")
	case errors.Is(err, ErrBadRequest):
		writeError(w, http.StatusBadRequest, err.Error())
	case errors.Is(err, ErrNotSupported):
		writeError(w, http.StatusMethodNotAllowed, err.Error())
	case errors.As(err, &mbe):
		writeError(w, http.StatusRequestEntityTooLarge, "request body is over max_content_length")
	case errors.Is(err, context.Canceled):
		// The client is gone; nobody reads an answer.
	default:
		h.o.Logger.Error("taxii request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		writeError(w, http.StatusInternalServerError, "internal error")
	}
}

func writeError(w http.ResponseWriter, code int, description string) {
	write(w, code, Error{Title: http.StatusText(code), Description: description, HTTPStatus: strconv.Itoa(code)})
}

// write sends v as TAXII JSON. HTML escaping is off so that objects are sent
// byte for byte as stored.
func write(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", MediaTypeTAXII)
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// newUUID returns a random (version 4) UUID for a status resource.
func newUUID() string {
	var u [16]byte
	_, _ = rand.Read(u[:]) // never fails (crypto/rand)
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], u[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], u[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], u[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], u[8:10])
	s[23] = '-'
	hex.Encode(s[24:], u[10:])
	return string(s[:])
}
