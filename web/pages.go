package web

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/tearline/tearline/label"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/policy"
)

// view is what every page template gets.
type View struct {
	Title  string
	Node   string
	Banner Marking
	User   *userView
	CSRF   string
	Data   any
}

type userView struct {
	Name, Role, Clearance, Nationality string
}

// pageFiles are the page templates, each parsed with the layout.
var pageFiles = []string{"login", "error", "objects", "object", "publish", "audit", "audit_entry", "checkpoints", "ledger", "admin_users", "admin_user", "admin_peers", "admin_agreements", "admin_health", "releases", "preview", "agreements", "agreement", "map", "search", "dashboard", "deliveries"}

func (s *Server) parseTemplates() error {
	for _, name := range pageFiles {
		t, err := template.New(name).ParseFS(assets, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return fmt.Errorf("web: template %s: %w", name, err)
		}
		s.pages[name] = t
	}
	return nil
}

func (s *Server) ViewFor(r *http.Request, title string, banner Marking, data any) View {
	v := View{Title: title, Node: s.n.Config().Name, Banner: banner, Data: data}
	if p := Principal(r); p != nil {
		clr := make([]string, 0, len(p.User.Clearances))
		for pol, lvl := range p.User.Clearances {
			clr = append(clr, pol+" "+lvl)
		}
		slices.Sort(clr)
		c := strings.Join(clr, ", ")
		if c == "" {
			c = "no clearance"
		}
		if len(p.User.Compartments) > 0 {
			c += " + " + strings.Join(p.User.Compartments, ", ")
		}
		v.User = &userView{Name: p.User.Name, Role: p.User.Role, Clearance: c, Nationality: p.User.Nationality}
		if tok, ok := r.Context().Value(tokenKey{}).(string); ok {
			v.CSRF = csrfToken(tok)
		}
	}
	return v
}

// render writes a page (or, with tmpl set, one named template of it)
// into a buffer first, so a template error never leaves half a page.
func (s *Server) Render(w http.ResponseWriter, code int, page, tmpl string, v View) {
	if tmpl == "" {
		tmpl = "layout"
	}
	var b bytes.Buffer
	if err := s.pages[page].ExecuteTemplate(&b, tmpl, v); err != nil {
		s.log.Error("web: render", "page", page, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	w.Write(b.Bytes())
}

// errorPage shows a message that names nothing asked for (never the id in
// the URL), under the system-low Marking: it shows no intelligence.
func (s *Server) ErrorPage(w http.ResponseWriter, r *http.Request, p *node.Principal, code int, msg string) {
	title := http.StatusText(code)
	_ = p // the header shows whoever the request's context says is signed in
	s.Render(w, code, "error", "", s.ViewFor(r, title, s.NewMarks().Banner(), msg))
}

// fail maps a node error to a page, as the API maps it to a status: what
// the user may not read is not found, exactly as what does not exist.
func (s *Server) Fail(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, node.ErrNotFound):
		s.ErrorPage(w, r, Principal(r), http.StatusNotFound, "Nothing is here, or nothing you may see.")
	case errors.Is(err, node.ErrForbidden):
		s.ErrorPage(w, r, Principal(r), http.StatusForbidden, "Your role may not do this.")
	case errors.Is(err, node.ErrInvalid):
		s.ErrorPage(w, r, Principal(r), http.StatusBadRequest, "The request was not valid.")
	default:
		s.log.Error("web", "path", r.URL.Path, "err", err)
		s.ErrorPage(w, r, Principal(r), http.StatusInternalServerError, "The node could not answer.")
	}
}

func (s *Server) NotFound(w http.ResponseWriter, r *http.Request) {
	s.Fail(w, r, node.ErrNotFound)
}

// levelsCSS gives each level of each policy its banner colour (from the
// policy configuration); colours are checked as #rrggbb by package label.
func (s *Server) levelsCSS(w http.ResponseWriter, r *http.Request) {
	reg := s.n.Registry()
	var b strings.Builder
	b.WriteString(".lvl-unknown{background:#555555;color:#fff}\n")
	for _, pol := range reg.Policies() {
		pc, _ := reg.Policy(pol)
		for _, lv := range pc.Levels {
			fmt.Fprintf(&b, ".%s{background:%s;color:#fff;fill:%s}\n", levelClass(pol, lv.Name), reg.Colour(pol, lv.Name), reg.Colour(pol, lv.Name))
		}
	}
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	io.WriteString(w, b.String())
}

// --- sign in and out

type loginData struct {
	LoginCSRF string
	Message   string
}

// loginForm sets a fresh login token in a cookie and the form (a
// double-submitted token: a page of another site cannot read the cookie,
// so it cannot sign a victim into the attacker's account).
func (s *Server) loginForm(w http.ResponseWriter, r *http.Request) {
	s.showLogin(w, r, http.StatusOK, "")
}

func (s *Server) showLogin(w http.ResponseWriter, r *http.Request, code int, msg string) {
	tok := randomToken()
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: tok, Path: "/", HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode, MaxAge: 3600})
	s.Render(w, code, "login", "", s.ViewFor(r, "Sign in", s.NewMarks().Banner(), loginData{LoginCSRF: tok, Message: msg}))
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	c, err := r.Cookie(loginCookie)
	form := r.PostFormValue("csrf")
	if err != nil || form == "" || !sameOrigin(r) || subtle.ConstantTimeCompare([]byte(c.Value), []byte(form)) != 1 {
		s.ErrorPage(w, r, nil, http.StatusForbidden, "The sign-in form was not accepted (CSRF check). Load the sign-in page again.")
		return
	}
	tok, _, err := s.n.Users.Login(r.Context(), r.PostFormValue("name"), r.PostFormValue("password"))
	if err != nil {
		if errors.Is(err, node.ErrUnauthenticated) {
			s.showLogin(w, r, http.StatusUnauthorized, "Sign-in failed: name or password not accepted.")
			return
		}
		s.Fail(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: "", Path: "/", HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode, MaxAge: -1})
	// No Max-Age: the cookie ends with the browser; the node ends the
	// session itself (idle timeout, lifetime).
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: tok, Path: "/", HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, Prefix, http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	tok, _ := r.Context().Value(tokenKey{}).(string)
	if err := s.n.Users.Logout(r.Context(), tok); err != nil {
		s.Fail(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode, MaxAge: -1})
	http.Redirect(w, r, Prefix+"login", http.StatusSeeOther)
}

// --- objects

// pageSize is the rows per page: small enough that a page never freezes a
// browser, however large the node.
const pageSize = 50

// stixTypes offered in the type filter; any other type can be typed into
// the URL.
var stixTypes = []string{"attack-pattern", "campaign", "course-of-action", "grouping", "identity", "indicator",
	"infrastructure", "intrusion-set", "location", "malware", "malware-analysis", "note", "observed-data",
	"opinion", "report", "threat-actor", "tool", "vulnerability", "relationship", "sighting",
	"domain-name", "email-addr", "file", "ipv4-addr", "ipv6-addr", "url"}

type Row struct {
	ID, Name, Type, Modified string
	Mark                     ObjectMark
}

type LevelOption struct{ Value, Text string }

type objectsData struct {
	Types       []string
	Levels      []LevelOption
	Type, Class string
	Disc, Topic string
	Rows        []Row
	NextURL     string
	FragmentURL string
}

func (s *Server) LevelOptions() []LevelOption {
	reg := s.n.Registry()
	var out []LevelOption
	for _, pol := range reg.Policies() {
		pc, _ := reg.Policy(pol)
		for _, lv := range pc.Levels {
			out = append(out, LevelOption{Value: pol + ":" + lv.Name, Text: lv.Banner})
		}
	}
	return out
}

// objects lists the objects the user may read, newest last, a page at a
// time (keyset: the sealed cursor of node.List). With fragment=1 (htmx's
// "More") it answers only the next rows, and both banners again, out of
// band, marked with the dominant label of the page so far (m) and the new
// rows: a row is never shown under a lower banner.
func (s *Server) objects(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	d := objectsData{Types: stixTypes, Levels: s.LevelOptions(), Type: q.Get("type"), Class: q.Get("class"), Disc: q.Get("disc"), Topic: q.Get("topic")}
	o := node.ListOptions{Route: "ui/objects", Limit: pageSize, Next: q.Get("next")}
	if d.Type != "" {
		o.Types = []string{d.Type}
	}
	where, key, err := s.labelFilter(d.Class, d.Disc, d.Topic)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	o.Where, o.WhereKey = where, key
	page, err := s.n.List(r.Context(), Principal(r), o)
	if err != nil {
		if errors.Is(err, node.ErrInvalid) || strings.Contains(err.Error(), "cursor") {
			s.ErrorPage(w, r, Principal(r), http.StatusBadRequest, "That page of the listing is no longer valid. Start again from the first page.")
			return
		}
		s.Fail(w, r, err)
		return
	}
	fragment := q.Get("fragment") == "1" && r.Header.Get("HX-Request") == "true"
	m := s.NewMarks()
	if fragment {
		m.Floor(q.Get("m"))
	}
	for _, obj := range page.Objects {
		rw, err := s.Row(r, m, obj)
		if err != nil {
			s.Fail(w, r, err)
			return
		}
		d.Rows = append(d.Rows, rw)
	}
	banner := m.Banner()
	if page.More {
		base := url.Values{}
		if d.Type != "" {
			base.Set("type", d.Type)
		}
		for k, v := range map[string]string{"class": d.Class, "disc": d.Disc, "topic": d.Topic} {
			if v != "" {
				base.Set(k, v)
			}
		}
		base.Set("next", page.Next)
		d.NextURL = Prefix + "objects?" + base.Encode()
		base.Set("fragment", "1")
		base.Set("m", banner.Text)
		d.FragmentURL = Prefix + "objects?" + base.Encode()
	}
	v := s.ViewFor(r, "Objects", banner, d)
	if fragment {
		s.Render(w, http.StatusOK, "objects", "fragment", v)
		return
	}
	s.Render(w, http.StatusOK, "objects", "", v)
}

// labelFilter narrows a listing to the access classes with a label of a
// level ("POLICY:LEVEL"), a discipline and a topic (each "" for any); key
// names the filter in the page cursor.
func (s *Server) labelFilter(class, disc, topic string) (func(policy.Class) bool, string, error) {
	if class == "" && disc == "" && topic == "" {
		return nil, "", nil
	}
	reg := s.n.Registry()
	pol, lvl, ok := strings.Cut(class, ":")
	if _, known := reg.Rank(pol, lvl); class != "" && (!ok || !known) ||
		disc != "" && !slices.Contains(reg.Disciplines(), disc) || topic != "" && !slices.Contains(reg.Topics(), topic) {
		return nil, "", node.ErrInvalid
	}
	has := func(l label.Label) bool {
		return (class == "" || l.Policy == pol && l.Classification == lvl) &&
			(disc == "" || slices.Contains(l.Disciplines, disc)) && (topic == "" || slices.Contains(l.Topics, topic))
	}
	return classHas(has), "class=" + class + ";disc=" + disc + ";topic=" + topic, nil
}

func (s *Server) Row(r *http.Request, m *Marks, o node.Object) (Row, error) {
	mk, err := m.Object(r.Context(), s.n.Node, o)
	if err != nil {
		return Row{}, err
	}
	return Row{ID: o.ID, Name: objectName(o.Raw, o.ID), Type: o.Type, Modified: o.Modified, Mark: mk}, nil
}

// objectName is what a row calls an object: its name, else its value (an
// observable), else its id.
func objectName(raw []byte, id string) string {
	var f struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	}
	if json.Unmarshal(raw, &f) == nil {
		if f.Name != "" {
			return f.Name
		}
		if f.Value != "" {
			return f.Value
		}
	}
	return id
}

type prop struct{ Key, Value string }

type bindingView struct {
	Kind, Node, KeyID, Created, ObjectModified string
}

type versionView struct {
	ID, Modified string
	Revoked      bool
	Mark         ObjectMark
}

// props lays out an object's top-level properties as a readable table:
// strings as they are, everything else as indented JSON.
func Props(raw []byte) []prop {
	var f map[string]json.RawMessage
	if err := json.Unmarshal(raw, &f); err != nil {
		return []prop{{Key: "(raw)", Value: string(raw)}}
	}
	keys := make([]string, 0, len(f))
	for k := range f {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]prop, 0, len(keys))
	for _, k := range keys {
		var str string
		if json.Unmarshal(f[k], &str) == nil {
			out = append(out, prop{Key: k, Value: str})
			continue
		}
		out = append(out, prop{Key: k, Value: indentJSON(f[k])})
	}
	return out
}

// indentJSON shows a JSON value indented, or as it is if it is not JSON.
func indentJSON(v []byte) string {
	var b bytes.Buffer
	if json.Indent(&b, v, "", "  ") != nil {
		return string(v)
	}
	return b.String()
}
