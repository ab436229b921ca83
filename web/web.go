// Package web is Tearline's web interface (docs/UI.md): server-rendered
// pages under /ui/, enhanced by htmx where JavaScript runs and readable
// without it. It stands beside package api and, like it, decides nothing
// about who may see or do what: it signs people in through node/users and
// hands their principal to the same node methods the API calls, so the
// same policy, role checks and audit apply, and what a user may not read is
// missing here exactly as there.
//
// Every page is marked at top and bottom with the dominant label of what it
// shows (marking.go), and every object with its portion mark.
package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/stack"
	"github.com/tearline/tearline/web/worldmap"
)

//go:embed static templates
var assets embed.FS

// Prefix is the interface's root.
const Prefix = "/ui/"

// Cookie names. The __Host- prefix makes the browser insist on Secure,
// Path=/ and no Domain, so no other host or path can set or shadow them.
const (
	sessionCookie = "__Host-tearline-session"
	loginCookie   = "__Host-tearline-login" // the login form's CSRF token, before any session
)

// csp allows scripts and styles only from this origin (no inline script,
// no eval: htmx runs with allowEval off, configured by a meta tag), no
// framing, and forms posting only here.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// Server serves the web interface of one node.
type Server struct {
	n      *stack.Node
	log    *slog.Logger
	mux    *http.ServeMux
	pages  map[string]*template.Template
	static http.Handler
	routes []string
}

// A Screens adds a role's screens to the interface (packages
// web/releaser, web/auditor, web/admin; web/site composes them all).
type Screens func(*Server)

// New returns the web interface of n: the frame (sign-in, sessions,
// markings, pages) and the analyst's screens, with the screens given.
func New(n *stack.Node, log *slog.Logger, screens ...Screens) (*Server, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	static, err := fs.Sub(assets, "static")
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	s := &Server{n: n, log: log, mux: http.NewServeMux(), pages: map[string]*template.Template{},
		static: http.StripPrefix(Prefix+"static/", http.FileServerFS(static))}
	if err := s.parseTemplates(); err != nil {
		return nil, err
	}
	s.Handle("GET /{$}", s.root)
	s.Handle("GET "+Prefix+"static/", s.serveStatic)
	s.Handle("GET "+Prefix+"levels.css", s.levelsCSS)
	s.Handle("GET "+Prefix+"login", s.loginForm)
	s.Handle("POST "+Prefix+"login", s.login)
	s.Handle("POST "+Prefix+"logout", s.SignedIn(s.logout))
	s.Handle("GET "+Prefix+"{$}", s.SignedIn((&dashboardPages{s}).page))
	s.Handle("GET "+Prefix+"objects", s.SignedIn(s.objects))
	op := &objectPages{s}
	s.Handle("GET "+Prefix+"objects/{id}", s.SignedIn(op.page))
	s.Handle("GET "+Prefix+"objects/{id}/neighbours", s.SignedIn(op.neighbours))
	publishPages{s}.routes() // publish.go
	world, err := worldmap.New()
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	mp := &mapPages{Server: s, world: world.SVG()}
	s.Handle("GET "+Prefix+"map", s.SignedIn(mp.page))
	s.Handle("GET "+Prefix+"static/world.svg", mp.outline)
	searchPages{s}.routes() // search.go
	for _, add := range screens {
		add(s)
	}
	s.Handle(Prefix, s.SignedIn(s.NotFound))
	return s, nil
}

// Routes lists every pattern served, for the operator's route listing and
// tests that walk them.
func (s *Server) Routes() []string { return slices.Clone(s.routes) }

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

func (s *Server) Handle(pattern string, h http.HandlerFunc) {
	s.routes = append(s.routes, pattern)
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", csp)
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("X-Content-Type-Options", "nosniff")
		// same-origin, not no-referrer: with no-referrer a browser sends
		// "Origin: null" on form posts, and sameOrigin could not check them.
		hd.Set("Referrer-Policy", "same-origin")
		hd.Set("Cross-Origin-Opener-Policy", "same-origin")
		if !strings.HasPrefix(r.URL.Path, Prefix+"static/") {
			// Pages show intelligence: never kept by the browser or a proxy.
			hd.Set("Cache-Control", "no-store")
		}
		h(w, r)
	})
}

func (s *Server) root(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, Prefix, http.StatusSeeOther)
}

func (s *Server) serveStatic(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "public, max-age=3600")
	s.static.ServeHTTP(w, r)
}

type principalKey struct{}
type tokenKey struct{}

func Principal(r *http.Request) *node.Principal {
	p, _ := r.Context().Value(principalKey{}).(*node.Principal)
	return p
}

// signedIn resolves the session cookie to a principal (node/users reads
// the user afresh, so a disabled user or changed clearance applies now)
// and, for every request that may change state, checks the CSRF token
// before anything else runs: a POST without a valid one answers 403 and
// changes nothing.
func (s *Server) SignedIn(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(sessionCookie)
		var p *node.Principal
		if err == nil {
			p, err = s.n.Users.Session(r.Context(), c.Value)
		}
		if err != nil {
			if err != http.ErrNoCookie && !errors.Is(err, node.ErrUnauthenticated) {
				s.log.Error("web: session", "err", err)
				s.ErrorPage(w, r, nil, http.StatusInternalServerError, "The node could not check your session.")
				return
			}
			if r.Method != http.MethodGet {
				s.ErrorPage(w, r, nil, http.StatusForbidden, "Your session has ended. Sign in again.")
				return
			}
			if r.Header.Get("HX-Request") == "true" {
				w.Header().Set("HX-Redirect", Prefix+"login")
			}
			http.Redirect(w, r, Prefix+"login", http.StatusSeeOther)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			if !sameOrigin(r) || !validCSRF(c.Value, r.FormValue("csrf")) {
				s.ErrorPage(w, r, p, http.StatusForbidden, "The form was not accepted: it did not come from this page (CSRF check). Nothing was changed.")
				return
			}
		}
		ctx := context.WithValue(r.Context(), principalKey{}, p)
		ctx = context.WithValue(ctx, tokenKey{}, c.Value)
		h(w, r.WithContext(ctx))
	}
}

// csrfToken is derived from the session token, so it needs no storage and
// nobody without the session cookie can make it.
func csrfToken(session string) string {
	h := sha256.Sum256([]byte("tearline web csrf\x00" + session))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

func validCSRF(session, got string) bool {
	return got != "" && subtle.ConstantTimeCompare([]byte(csrfToken(session)), []byte(got)) == 1
}

// sameOrigin refuses a state change whose Origin or Referer header names
// another origin; a request with neither is left to the CSRF token.
func sameOrigin(r *http.Request) bool {
	for _, h := range []string{r.Header.Get("Origin"), r.Header.Get("Referer")} {
		if h == "" {
			continue
		}
		u, err := url.Parse(h)
		if err != nil || u.Host != r.Host {
			return false
		}
		return true
	}
	return true
}

func randomToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// Node returns the node the interface serves: the screens of every role
// (packages web/admin, web/auditor, web/releaser) call its services.
func (s *Server) Node() *stack.Node { return s.n }
