package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/nodetest"
	"github.com/tearline/tearline/node/stack"
	"github.com/tearline/tearline/node/users"
	"github.com/tearline/tearline/web/site"
)

const password = "a long enough password"

// fixture is a node with objects at three markings, users cleared
// differently, and the web interface served over TLS.
type fixture struct {
	n        *stack.Node
	srv      *httptest.Server
	secret   string // NATO SECRET // REL TO GBR, USA
	open     string // NATO UNCLASSIFIED
	national string // GBR SECRET
	admin    *node.Principal
	ids      []string // every object landed, for walks that look for what must not show
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	n := nodetest.New(t, "gbr", "GBR")
	admin, _ := nodetest.AddUser(t, n, nodetest.AdminSpec())
	f := &fixture{n: n, admin: admin}
	for _, o := range []struct {
		id     *string
		name   string
		banner string
	}{
		{&f.open, "open actor", "NATO UNCLASSIFIED"},
		{&f.secret, "secret actor", "NATO SECRET // REL TO GBR, USA"},
		{&f.national, "national actor", "GBR SECRET"},
	} {
		*o.id = nodetest.NewID("threat-actor")
		f.land(t, o.banner, nodetest.SDO(*o.id, nodetest.T0, nodetest.T0, map[string]any{"name": o.name}))
	}
	f.addUser(t, users.UserSpec{Name: "ana", Role: node.RoleAnalyst, Nationality: "GBR",
		Clearances: map[string]string{"NATO": "SECRET", "NATIONAL": "SECRET"}})
	f.addUser(t, users.UserSpec{Name: "rita", Role: node.RoleAnalyst, Nationality: "GBR",
		Clearances: map[string]string{"NATO": "RESTRICTED"}})
	ui, err := site.New(n, slog.New(slog.NewTextHandler(os.Stderr, nil)))
	if err != nil {
		t.Fatal(err)
	}
	f.srv = httptest.NewTLSServer(ui)
	t.Cleanup(f.srv.Close)
	return f
}

// land ingests objects as the node's administrator under banner and
// records their ids.
func (f *fixture) land(t *testing.T, banner string, objs ...[]byte) {
	t.Helper()
	res := nodetest.MustLand(t, f.n, f.admin, nodetest.Bundle(objs...), banner)
	for _, l := range res.Landed {
		f.ids = append(f.ids, l.ID)
	}
}

// obj makes a STIX object of id's type with the given properties (no
// name unless given).
func obj(id string, props map[string]any) []byte {
	m := map[string]any{"name": nil}
	for k, v := range props {
		m[k] = v
	}
	return nodetest.SDO(id, nodetest.T0, nodetest.T0, m)
}

// readable says which of the fixture's objects user may read, as the node
// decides (the oracle of the walks: the pages must show no more).
func (f *fixture) readable(t *testing.T, user string) map[string]bool {
	t.Helper()
	p, err := f.n.PrincipalByName(context.Background(), user)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, id := range f.ids {
		if _, err := f.n.Get(context.Background(), p, id); err == nil {
			out[id] = true
		} else if !nodetest.IsNotFound(err) {
			t.Fatal(err)
		}
	}
	return out
}

func (f *fixture) addUser(t *testing.T, s users.UserSpec) {
	t.Helper()
	nodetest.AddUser(t, f.n, s)
	if err := f.n.Users.SetPassword(context.Background(), node.ConsoleAdmin(), s.Name, password); err != nil {
		t.Fatal(err)
	}
}

// client is a browser without JavaScript: cookies, no redirects followed
// unless asked.
type client struct {
	t   *testing.T
	f   *fixture
	c   *http.Client
	url string
}

func (f *fixture) client(t *testing.T) *client {
	jar, _ := cookiejar.New(nil)
	c := *f.srv.Client() // a copy: each client has its own cookies
	c.Jar = jar
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &client{t: t, f: f, c: &c, url: f.srv.URL}
}

type page struct {
	code int
	body string
	hdr  http.Header
}

func (c *client) do(req *http.Request) page {
	c.t.Helper()
	resp, err := c.c.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return page{code: resp.StatusCode, body: string(b), hdr: resp.Header}
}

func (c *client) get(path string, hdr ...string) page {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, c.url+path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return c.do(req)
}

func (c *client) post(path string, form url.Values) page {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, c.url+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrfOf(t *testing.T, body string) string {
	t.Helper()
	m := csrfInput.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no csrf input in page:\n%s", body)
	}
	return m[1]
}

// login signs in through the form and returns the answer to the POST.
func (c *client) login(name, pw string) page {
	c.t.Helper()
	form := c.get("/ui/login")
	return c.post("/ui/login", url.Values{"csrf": {csrfOf(c.t, form.body)}, "name": {name}, "password": {pw}})
}

func (c *client) mustLogin(name string) {
	c.t.Helper()
	if p := c.login(name, password); p.code != http.StatusSeeOther || p.hdr.Get("Location") != "/ui/" {
		c.t.Fatalf("login %s: %d %s\n%s", name, p.code, p.hdr.Get("Location"), p.body)
	}
}

var bannerRE = regexp.MustCompile(`<div id="banner-(top|bottom)" class="[^"]*" data-banner="(top|bottom)"[^>]*>([^<]*)</div>`)

// banners returns the text of the top and bottom banners, failing unless a
// page has exactly those two data-banner elements.
func banners(t *testing.T, body string) string {
	t.Helper()
	if n := strings.Count(body, "data-banner="); n != 2 {
		t.Fatalf("page has %d data-banner elements, want 2:\n%s", n, body)
	}
	m := bannerRE.FindAllStringSubmatch(body, -1)
	if len(m) != 2 || m[0][2] != "top" || m[1][2] != "bottom" || m[0][3] != m[1][3] {
		t.Fatalf("banners = %q, want top and bottom alike", m)
	}
	return unescape(m[0][3])
}

func unescape(s string) string {
	return strings.NewReplacer("&#43;", "+", "&amp;", "&", "&#39;", "'", "&#34;", `"`, "&lt;", "<", "&gt;", ">").Replace(s)
}

func usersChangeNATO(level string) users.UserChange {
	return users.UserChange{AddClearances: map[string]string{"NATO": level}}
}

func nodeAdmin(t *testing.T, f *fixture) *node.Principal {
	t.Helper()
	p, err := f.n.PrincipalByName(context.Background(), "admin")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func usersSpec(name, role string) users.UserSpec {
	return users.UserSpec{Name: name, Role: role, Nationality: "GBR", Clearances: map[string]string{"NATO": "RESTRICTED"}}
}

func usersSpecNATO(name string) users.UserSpec {
	return users.UserSpec{Name: name, Role: node.RoleReleaser, Nationality: "GBR", Clearances: map[string]string{"NATO": "SECRET"}}
}
