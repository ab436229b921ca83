package web_test

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/nodetest"
)

// TestRootAndHeaders: / redirects into /ui/; every page forbids framing,
// inline script and caching.
func TestRootAndHeaders(t *testing.T) {
	f := newFixture(t)
	c := f.client(t)
	if p := c.get("/"); p.code != http.StatusSeeOther || p.hdr.Get("Location") != "/ui/" {
		t.Fatalf("GET / = %d %s", p.code, p.hdr.Get("Location"))
	}
	if p := c.get("/ui/"); p.code != http.StatusSeeOther || p.hdr.Get("Location") != "/ui/login" {
		t.Fatalf("GET /ui/ signed out = %d %s", p.code, p.hdr.Get("Location"))
	}
	c.mustLogin("ana")
	for _, path := range []string{"/ui/login", "/ui/", "/ui/objects", "/ui/objects/" + f.secret, "/ui/publish", "/ui/nowhere"} {
		p := c.get(path)
		csp := p.hdr.Get("Content-Security-Policy")
		for _, want := range []string{"script-src 'self'", "frame-ancestors 'none'", "default-src 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %q", path, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
			t.Errorf("%s: CSP allows inline or eval: %q", path, csp)
		}
		if p.hdr.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: Cache-Control %q", path, p.hdr.Get("Cache-Control"))
		}
		if strings.Contains(p.body, "<script>") || strings.Contains(p.body, " style=") || strings.Contains(p.body, " onclick") {
			t.Errorf("%s: inline script or style in the page", path)
		}
		banners(t, p.body)
	}
	if p := c.get("/ui/static/htmx.min.js"); p.code != http.StatusOK || !strings.Contains(p.body, "htmx") {
		t.Errorf("htmx: %d", p.code)
	}
}

// TestLogin: a good login sets an HttpOnly, Secure, SameSite=Strict cookie
// and redirects into /ui/; a bad one does neither; the header names the
// user, role, clearance and nationality; logout ends the session.
func TestLogin(t *testing.T) {
	f := newFixture(t)
	c := f.client(t)
	p := c.login("ana", "not the password")
	if p.code != http.StatusUnauthorized || p.hdr.Get("Location") != "" || strings.Contains(strings.Join(p.hdr.Values("Set-Cookie"), ";"), "tearline-session") {
		t.Fatalf("bad login: %d %v", p.code, p.hdr)
	}
	if banners(t, p.body) != f.n.Registry().SystemLow() {
		t.Errorf("login page banner is not system-low")
	}
	form := c.get("/ui/login")
	req, _ := http.NewRequest(http.MethodPost, c.url+"/ui/login", strings.NewReader(url.Values{"csrf": {csrfOf(t, form.body)}, "name": {"ana"}, "password": {password}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var session *http.Cookie
	for _, k := range resp.Cookies() {
		if k.Name == "__Host-tearline-session" {
			session = k
		}
	}
	if resp.StatusCode != http.StatusSeeOther || session == nil || !session.HttpOnly || !session.Secure || session.SameSite != http.SameSiteStrictMode {
		t.Fatalf("login: %d, cookie %+v", resp.StatusCode, session)
	}
	home := c.get("/ui/")
	for _, want := range []string{`data-user="ana"`, ">analyst<", "NATO SECRET", ">GBR<"} {
		if !strings.Contains(home.body, want) {
			t.Errorf("header lacks %q", want)
		}
	}
	out := c.post("/ui/logout", url.Values{"csrf": {csrfOf(t, home.body)}})
	if out.code != http.StatusSeeOther || out.hdr.Get("Location") != "/ui/login" {
		t.Fatalf("logout: %d %s", out.code, out.hdr.Get("Location"))
	}
	if p := c.get("/ui/objects"); p.code != http.StatusSeeOther {
		t.Fatalf("after logout: %d, want a redirect to sign in", p.code)
	}
	// The old session cookie, replayed, is dead too.
	c2 := f.client(t)
	u, _ := url.Parse(c.url)
	c2.c.Jar.SetCookies(u, []*http.Cookie{{Name: session.Name, Value: session.Value, Path: "/", Secure: true}})
	if p := c2.get("/ui/objects"); p.code != http.StatusSeeOther {
		t.Fatalf("replayed cookie after logout: %d", p.code)
	}
	log := nodetest.AuditLog(t, f.n.Store())
	for _, a := range []string{audit.ActionLogin, audit.ActionLoginRefuse, audit.ActionLogout} {
		if len(nodetest.FindEvents(log, func(e audit.Event) bool { return e.Action == a })) == 0 {
			t.Errorf("no %s audited", a)
		}
	}
}

// TestLockoutThroughForm: five wrong passwords lock the account; the right
// one is then refused as any other.
func TestLockoutThroughForm(t *testing.T) {
	f := newFixture(t)
	c := f.client(t)
	for range f.n.Config().UI.LockoutFailures {
		if p := c.login("ana", "wrong wrong wrong"); p.code != http.StatusUnauthorized {
			t.Fatalf("wrong password: %d", p.code)
		}
	}
	if p := c.login("ana", password); p.code != http.StatusUnauthorized {
		t.Fatalf("right password while locked: %d", p.code)
	}
	if len(nodetest.FindEvents(nodetest.AuditLog(t, f.n.Store()), func(e audit.Event) bool { return e.Action == audit.ActionLockout })) != 1 {
		t.Fatal("lockout not audited once")
	}
}

// TestCSRF: state-changing posts without the token answer 403 and change
// nothing: login, logout, publish.
func TestCSRF(t *testing.T) {
	f := newFixture(t)
	c := f.client(t)
	c.get("/ui/login")
	if p := c.post("/ui/login", url.Values{"name": {"ana"}, "password": {password}}); p.code != http.StatusForbidden {
		t.Fatalf("login without csrf: %d", p.code)
	}
	c.mustLogin("ana")
	before, _ := f.n.Count(context.Background(), f.admin, node.ListOptions{IncludeRevoked: true})
	bundle := string(nodetest.Bundle(nodetest.SDO(nodetest.NewID("threat-actor"), nodetest.T0, nodetest.T0, nil)))
	for _, form := range []url.Values{
		{"bundle": {bundle}, "label": {"NATO UNCLASSIFIED"}},
		{"bundle": {bundle}, "label": {"NATO UNCLASSIFIED"}, "csrf": {"forged"}},
	} {
		if p := c.post("/ui/publish", form); p.code != http.StatusForbidden {
			t.Fatalf("publish without a valid csrf token: %d", p.code)
		}
	}
	if p := c.post("/ui/logout", nil); p.code != http.StatusForbidden {
		t.Fatalf("logout without csrf: %d", p.code)
	}
	// A valid token from another origin is refused too.
	home := c.get("/ui/")
	req, _ := http.NewRequest(http.MethodPost, c.url+"/ui/publish", strings.NewReader(url.Values{"bundle": {bundle}, "csrf": {csrfOf(t, home.body)}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	if p := c.do(req); p.code != http.StatusForbidden {
		t.Fatalf("cross-origin publish: %d", p.code)
	}
	after, _ := f.n.Count(context.Background(), f.admin, node.ListOptions{IncludeRevoked: true})
	if after != before {
		t.Fatalf("objects %d -> %d after refused posts", before, after)
	}
	if p := c.get("/ui/objects"); p.code != http.StatusOK {
		t.Fatalf("session ended by a refused logout: %d", p.code)
	}
}

var objectIDs = regexp.MustCompile(`data-object-id="([^"]+)"`)

func idsOn(body string) []string {
	var out []string
	for _, m := range objectIDs.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

// TestMarkingsAndVisibility: each user's list shows what they may read and
// nothing else; each object row carries its portion mark; the banner is
// the dominant label, system-high where labels of two policies meet; an
// object a user may not read answers exactly as one that does not exist.
func TestMarkingsAndVisibility(t *testing.T) {
	f := newFixture(t)
	ana, rita := f.client(t), f.client(t)
	ana.mustLogin("ana")
	rita.mustLogin("rita")

	p := ana.get("/ui/objects")
	if got := idsOn(p.body); len(got) != 3 {
		t.Fatalf("ana sees %v, want 3 objects\n%s", got, p.body)
	}
	if b := banners(t, p.body); b != f.n.Registry().SystemHigh() {
		t.Errorf("ana's mixed-policy page banner = %q, want system-high", b)
	}
	if !strings.Contains(p.body, `data-object-id="`+f.secret+`"><span role="cell"><span class="portion lvl-nato--secret" data-portion title="NATO SECRET // REL TO GBR, USA">(NS//REL GBR,USA)</span>`) {
		t.Errorf("secret row lacks its portion mark:\n%s", p.body)
	}
	p = ana.get("/ui/objects?class=NATO:SECRET")
	if got := idsOn(p.body); !slices.Equal(got, []string{f.secret}) {
		t.Fatalf("ana filtered by NATO SECRET sees %v", got)
	}
	if b := banners(t, p.body); b != "NATO SECRET // REL TO GBR, USA" {
		t.Errorf("filtered banner = %q", b)
	}
	p = ana.get("/ui/objects/" + f.secret)
	if p.code != http.StatusOK || banners(t, p.body) != "NATO SECRET // REL TO GBR, USA" || !strings.Contains(p.body, "secret actor") {
		t.Fatalf("ana's object page: %d %s", p.code, p.body)
	}

	p = rita.get("/ui/objects")
	if got := idsOn(p.body); !slices.Equal(got, []string{f.open}) {
		t.Fatalf("rita sees %v, want only %s", got, f.open)
	}
	if b := banners(t, p.body); b != "NATO UNCLASSIFIED" {
		t.Errorf("rita's banner = %q", b)
	}
	for _, id := range []string{f.secret, f.national} {
		if strings.Contains(p.body, id) {
			t.Errorf("rita's list mentions %s", id)
		}
	}
	hidden := rita.get("/ui/objects/" + f.secret)
	missing := rita.get("/ui/objects/" + nodetest.NewID("threat-actor"))
	if hidden.code != http.StatusNotFound || missing.code != http.StatusNotFound {
		t.Fatalf("hidden %d, missing %d; want 404 both", hidden.code, missing.code)
	}
	if hidden.body != missing.body {
		t.Errorf("a hidden object's page differs from a missing one's")
	}
	if strings.Contains(hidden.body, f.secret) || strings.Contains(hidden.body, "secret actor") {
		t.Errorf("the not-found page echoes what was asked")
	}
	if banners(t, hidden.body) != f.n.Registry().SystemLow() {
		t.Errorf("not-found page is not system-low")
	}

	// A clearance lowered applies to the open session at its next request.
	if _, err := f.n.Users.UpdateUser(context.Background(), node.ConsoleAdmin(), "ana", usersChangeNATO("RESTRICTED")); err != nil {
		t.Fatal(err)
	}
	if p := ana.get("/ui/objects/" + f.secret); p.code != http.StatusNotFound {
		t.Fatalf("ana after her clearance was lowered: %d", p.code)
	}
}

// TestFragmentRaisesBanner: htmx's "More" adds the next rows and replaces
// both banners out of band with the dominant label of the page so far and
// the new rows, so a SECRET row never sits under a lower banner.
func TestFragmentRaisesBanner(t *testing.T) {
	f := newFixture(t)
	admin, _ := f.n.PrincipalByName(context.Background(), "admin")
	var objs [][]byte
	for range 60 {
		objs = append(objs, nodetest.SDO(nodetest.NewID("campaign"), nodetest.T0, nodetest.T0, nil))
	}
	nodetest.MustLand(t, f.n, admin, nodetest.Bundle(objs...), "NATO RESTRICTED")
	later := nodetest.NewID("campaign")
	nodetest.MustLand(t, f.n, admin, nodetest.SDO(later, nodetest.T0, nodetest.T0, map[string]any{"name": "later secret"}), "NATO SECRET")

	c := f.client(t)
	c.mustLogin("ana")
	// Page 1: 50 restricted campaigns; page 2: 10 more and a secret one.
	first := c.get("/ui/objects?type=campaign")
	frag := regexp.MustCompile(`hx-get="([^"]+)"`).FindStringSubmatch(first.body)
	if frag == nil {
		t.Fatal("no More link on page 1")
	}
	if b := banners(t, first.body); b != "NATO RESTRICTED" {
		t.Fatalf("page 1 banner = %q, want NATO RESTRICTED", b)
	}
	p := c.get(unescape(frag[1]), "HX-Request", "true")
	if p.code != http.StatusOK || !strings.Contains(p.body, later) {
		t.Fatalf("fragment: %d, lacks %s", p.code, later)
	}
	if strings.Contains(p.body, "<html") {
		t.Fatal("the fragment is a whole page")
	}
	m := bannerRE.FindAllStringSubmatch(p.body, -1)
	if len(m) != 2 || !strings.Contains(p.body, `hx-swap-oob="true"`) {
		t.Fatalf("fragment banners = %q", m)
	}
	if got := unescape(m[0][3]); got != "NATO SECRET" || unescape(m[1][3]) != got {
		t.Errorf("fragment banners = %q, want NATO SECRET", m)
	}
	// Without JavaScript the same link is a page of its own, marked for
	// what it shows.
	next := regexp.MustCompile(`<a href="([^"]+)" hx-get`).FindStringSubmatch(first.body)
	whole := c.get(unescape(next[1]))
	if b := banners(t, whole.body); b != "NATO SECRET" {
		t.Errorf("page 2 banner = %q, want NATO SECRET", b)
	}
}

// TestPublish: a bundle uploaded with the form lands, and its rows come
// back marked.
func TestPublish(t *testing.T) {
	f := newFixture(t)
	c := f.client(t)
	c.mustLogin("ana")
	form := c.get("/ui/publish")
	id := nodetest.NewID("threat-actor")
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("csrf", csrfOf(t, form.body))
	mw.WriteField("label", "NATO RESTRICTED")
	fw, _ := mw.CreateFormFile("file", "bundle.json")
	fw.Write(nodetest.Bundle(nodetest.SDO(id, nodetest.T0, nodetest.T0, map[string]any{"name": "uploaded"})))
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, c.url+"/ui/publish", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	p := c.do(req)
	if p.code != http.StatusOK || !strings.Contains(p.body, `data-object-id="`+id+`"`) {
		t.Fatalf("publish: %d\n%s", p.code, p.body)
	}
	if b := banners(t, p.body); b != "NATO RESTRICTED" {
		t.Errorf("publish result banner = %q", b)
	}
	if _, err := f.n.Get(context.Background(), nodeAdmin(t, f), id); err != nil {
		t.Fatalf("published object not stored: %v", err)
	}
}

// TestAuditAndUsersPages: the audit log is for auditors and admins, marked
// system-high; the users page for admins; node refuses everyone else.
func TestAuditAndUsersPages(t *testing.T) {
	f := newFixture(t)
	f.addUser(t, usersSpec("otto", node.RoleAuditor))
	f.addUser(t, usersSpec("adam", node.RoleAdmin))
	ana, otto, adam := f.client(t), f.client(t), f.client(t)
	ana.mustLogin("ana")
	otto.mustLogin("otto")
	adam.mustLogin("adam")
	for _, path := range []string{"/ui/audit", "/ui/admin/users"} {
		if p := ana.get(path); p.code != http.StatusForbidden {
			t.Errorf("analyst GET %s = %d, want 403", path, p.code)
		}
	}
	if p := otto.get("/ui/admin/users"); p.code != http.StatusForbidden {
		t.Errorf("auditor GET /ui/admin/users = %d", p.code)
	}
	for _, c := range []*client{otto, adam} {
		p := c.get("/ui/audit")
		if p.code != http.StatusOK || !strings.Contains(p.body, audit.ActionLogin) {
			t.Fatalf("audit page: %d", p.code)
		}
		if b := banners(t, p.body); b != f.n.Registry().SystemHigh() {
			t.Errorf("audit page banner %q, want system-high", b)
		}
	}
	p := adam.get("/ui/admin/users")
	if p.code != http.StatusOK || !strings.Contains(p.body, `data-user-row="ana"`) || banners(t, p.body) != f.n.Registry().SystemLow() {
		t.Fatalf("users page: %d", p.code)
	}
}

// TestReleasesPage: every role gets the release queue node gives it; a
// decision posted without the CSRF token is refused and changes nothing.
func TestReleasesPage(t *testing.T) {
	f := newFixture(t)
	f.addUser(t, usersSpec("otto", node.RoleAuditor))
	f.addUser(t, usersSpec("rel", node.RoleReleaser))
	for _, name := range []string{"ana", "otto", "rel"} {
		c := f.client(t)
		c.mustLogin(name)
		p := c.get("/ui/releases")
		if p.code != http.StatusOK {
			t.Fatalf("%s GET /ui/releases = %d", name, p.code)
		}
		if b := banners(t, p.body); b != f.n.Registry().SystemLow() {
			t.Errorf("%s: empty queue banner %q, want system-low", name, b)
		}
		if p := c.post("/ui/releases/nosuch/approve", nil); p.code != http.StatusForbidden {
			t.Errorf("%s: approve without csrf = %d, want 403", name, p.code)
		}
	}
}
