package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/tearline/tearline/api"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/nodetest"
	"github.com/tearline/tearline/store"
)

// adminGets are the administrator's pages (GET).
var adminGets = []string{"/ui/admin/users", "/ui/admin/users/ana"}

var tokenShown = regexp.MustCompile(`data-new-token>[^<]*<code>([^<]+)</code>`)

func (f *fixture) user(t *testing.T, name string) store.User {
	t.Helper()
	u, err := f.n.Store().UserByName(context.Background(), name)
	if err != nil {
		t.Fatalf("user %s: %v", name, err)
	}
	return u
}

// apiStatus answers GET /api/v1/whoami with token against the node's API.
func apiStatus(t *testing.T, f *fixture, token string) int {
	t.Helper()
	srv := httptest.NewTLSServer(api.New(f.n, nil, nil))
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/v1/whoami", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestAdminUsersRoles: every admin page and form answers 403 to every role
// but admin, and a refused form changes nothing.
func TestAdminUsersRoles(t *testing.T) {
	f := newFixture(t)
	f.addUser(t, usersSpec("otto", node.RoleAuditor))
	f.addUser(t, usersSpec("rel", node.RoleReleaser))
	f.addUser(t, usersSpec("adam", node.RoleAdmin))
	before := f.user(t, "rita")
	for _, name := range []string{"ana", "otto", "rel"} {
		c := f.client(t)
		c.mustLogin(name)
		for _, path := range adminGets {
			if p := c.get(path); p.code != http.StatusForbidden {
				t.Errorf("%s GET %s = %d, want 403", name, path, p.code)
			}
		}
		csrf := csrfOf(t, c.get("/ui/publish").body)
		for path, form := range map[string]url.Values{
			"/ui/admin/users":                      {"name": {"mallory"}, "role": {"admin"}, "nationality": {"GBR"}},
			"/ui/admin/users/rita":                 {"what": {"role"}, "value": {"admin"}},
			"/ui/admin/users/rita/password":        {"password": {"another long password"}},
			"/ui/admin/users/rita/tokens":          {},
			"/ui/admin/users/rita/tokens/x/revoke": {},
		} {
			form.Set("csrf", csrf)
			if p := c.post(path, form); p.code != http.StatusForbidden {
				t.Errorf("%s POST %s = %d, want 403", name, path, p.code)
			}
		}
	}
	if _, err := f.n.Store().UserByName(context.Background(), "mallory"); err == nil {
		t.Error("a non-admin added a user")
	}
	after := f.user(t, "rita")
	if after.Role != before.Role {
		t.Errorf("a non-admin changed rita's role to %s", after.Role)
	}
	toks, _ := f.n.Store().Tokens(context.Background(), after.ID)
	if len(toks) != 1 {
		t.Errorf("rita has %d tokens, want the one she was made with", len(toks))
	}
	if c := f.client(t); c.login("rita", "another long password").code == http.StatusSeeOther {
		t.Error("a non-admin set rita's password")
	}

	// An admin's form without the CSRF token: 403, nothing changed.
	adam := f.client(t)
	adam.mustLogin("adam")
	for path, form := range map[string]url.Values{
		"/ui/admin/users":               {"name": {"mallory"}, "role": {"admin"}, "nationality": {"GBR"}},
		"/ui/admin/users/rita":          {"what": {"disable"}},
		"/ui/admin/users/rita/password": {"password": {"another long password"}},
		"/ui/admin/users/rita/tokens":   {},
	} {
		if p := adam.post(path, form); p.code != http.StatusForbidden {
			t.Errorf("admin POST %s without csrf = %d, want 403", path, p.code)
		}
	}
	if _, err := f.n.Store().UserByName(context.Background(), "mallory"); err == nil {
		t.Error("a CSRF-less post added a user")
	}
	if f.user(t, "rita").Disabled {
		t.Error("a CSRF-less post disabled rita")
	}
	toks, _ = f.n.Store().Tokens(context.Background(), after.ID)
	if len(toks) != 1 {
		t.Errorf("a CSRF-less post issued a token: rita has %d", len(toks))
	}
}

// TestAdminUsersActions: each form takes effect through node: a user added
// can sign in, changes apply, a disabled user's open session ends at the
// next request, a revoked token is refused by the API, and node's refusals
// (a default label the user could not read) are shown and change nothing.
func TestAdminUsersActions(t *testing.T) {
	f := newFixture(t)
	f.addUser(t, usersSpec("adam", node.RoleAdmin))
	adam := f.client(t)
	adam.mustLogin("adam")
	csrf := csrfOf(t, adam.get("/ui/admin/users").body)
	post := func(path string, form url.Values) page {
		t.Helper()
		form.Set("csrf", csrf)
		return adam.post(path, form)
	}

	// Add: a token shown once, and the password signs in.
	p := post("/ui/admin/users", url.Values{"name": {"newbie"}, "role": {"analyst"}, "nationality": {"gbr"},
		"clearances": {"NATO:RESTRICTED"}, "compartments": {"blue"}, "default_label": {"NATO RESTRICTED"}, "password": {password}})
	if p.code != http.StatusOK || !strings.Contains(p.body, `data-user-row="newbie"`) {
		t.Fatalf("add user: %d\n%s", p.code, p.body)
	}
	if b := banners(t, p.body); b != f.n.Registry().SystemLow() {
		t.Errorf("users page banner %q, want system-low", b)
	}
	m := tokenShown.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no token shown:\n%s", p.body)
	}
	if code := apiStatus(t, f, m[1]); code != http.StatusOK {
		t.Errorf("the new user's token: API answers %d", code)
	}
	u := f.user(t, "newbie")
	if u.Nationality != "GBR" || u.Clearances["NATO"] != "RESTRICTED" || len(u.Compartments) != 1 || u.Compartments[0] != "BLUE" || u.DefaultLabel == "" {
		t.Errorf("newbie = %+v", u)
	}
	newbie := f.client(t)
	newbie.mustLogin("newbie")
	if strings.Contains(adam.get("/ui/admin/users").body, m[1]) {
		t.Error("the token is shown again")
	}

	// Node's refusals are shown on the form and change nothing.
	p = post("/ui/admin/users/newbie", url.Values{"what": {"default-label"}, "value": {"NATO SECRET"}})
	if p.code != http.StatusBadRequest || !strings.Contains(p.body, "could not read") {
		t.Errorf("unreadable default label: %d\n%s", p.code, p.body)
	}
	if f.user(t, "newbie").DefaultLabel != u.DefaultLabel {
		t.Error("a refused default label was stored")
	}
	p = post("/ui/admin/users", url.Values{"name": {"bad"}, "role": {"analyst"}, "nationality": {"GB1"}})
	if p.code != http.StatusBadRequest || !strings.Contains(p.body, "nationality") {
		t.Errorf("bad nationality: %d", p.code)
	}
	if p := post("/ui/admin/users/nosuch", url.Values{"what": {"disable"}}); p.code != http.StatusNotFound {
		t.Errorf("update of an unknown user = %d, want 404", p.code)
	}

	// Changes apply: clearance added as --add-clearance does, removed,
	// compartments, role.
	for _, c := range []url.Values{
		{"what": {"add-clearance"}, "value": {"NATO:SECRET"}},
		{"what": {"add-clearance"}, "value": {"NATIONAL:SECRET"}},
		{"what": {"remove-compartment"}, "value": {"BLUE"}},
		{"what": {"add-compartment"}, "value": {"red"}},
		{"what": {"role"}, "value": {"releaser"}},
	} {
		if p := post("/ui/admin/users/newbie", c); p.code != http.StatusOK {
			t.Fatalf("%v: %d\n%s", c, p.code, p.body)
		}
	}
	if p := post("/ui/admin/users/newbie", url.Values{"what": {"remove-clearance"}, "value": {"NATIONAL:SECRET"}}); p.code != http.StatusOK {
		t.Fatalf("remove clearance: %d", p.code)
	}
	u = f.user(t, "newbie")
	if u.Role != node.RoleReleaser || u.Clearances["NATO"] != "SECRET" || u.Clearances["NATIONAL"] != "" || len(u.Compartments) != 1 || u.Compartments[0] != "RED" {
		t.Errorf("after changes newbie = %+v", u)
	}
	// The open session sees the new clearance: the SECRET object now shows.
	if p := newbie.get("/ui/objects/" + f.secret); p.code != http.StatusOK {
		t.Errorf("raised clearance: object page %d", p.code)
	}

	// Tokens: issue (shown once), revoke (the API refuses it at once).
	p = post("/ui/admin/users/newbie/tokens", url.Values{"ttl": {"24h"}})
	m = tokenShown.FindStringSubmatch(p.body)
	if p.code != http.StatusOK || m == nil {
		t.Fatalf("issue token: %d", p.code)
	}
	tok := m[1]
	if code := apiStatus(t, f, tok); code != http.StatusOK {
		t.Fatalf("issued token: API %d", code)
	}
	id := strings.SplitN(strings.TrimPrefix(tok, node.TokenPrefix), "_", 2)[0]
	if p := post("/ui/admin/users/newbie/tokens/"+id+"/revoke", url.Values{}); p.code != http.StatusOK {
		t.Fatalf("revoke: %d\n%s", p.code, p.body)
	}
	if code := apiStatus(t, f, tok); code != http.StatusUnauthorized {
		t.Errorf("revoked token: API %d, want 401", code)
	}
	// A token id of another user is not found under this one.
	ana := f.user(t, "ana")
	anaToks, _ := f.n.Store().Tokens(context.Background(), ana.ID)
	if p := post("/ui/admin/users/newbie/tokens/"+anaToks[0].ID+"/revoke", url.Values{}); p.code != http.StatusNotFound {
		t.Errorf("revoking ana's token under newbie = %d, want 404", p.code)
	}
	if toks, _ := f.n.Store().Tokens(context.Background(), ana.ID); !toks[0].RevokedAt.IsZero() {
		t.Error("ana's token was revoked through another user's page")
	}

	// Password: too short refused; set ends the user's sessions.
	if p := post("/ui/admin/users/newbie/password", url.Values{"password": {"short"}}); p.code != http.StatusBadRequest {
		t.Errorf("short password = %d", p.code)
	}
	if p := newbie.get("/ui/objects"); p.code != http.StatusOK {
		t.Fatalf("newbie's session ended by a refused password: %d", p.code)
	}

	// Disable: the open session ends at the next request; enable lets
	// them sign in again.
	if p := post("/ui/admin/users/newbie", url.Values{"what": {"disable"}}); p.code != http.StatusOK || !f.user(t, "newbie").Disabled {
		t.Fatalf("disable: %d", p.code)
	}
	if p := newbie.get("/ui/objects"); p.code != http.StatusSeeOther {
		t.Errorf("disabled user's session: %d, want a redirect to sign in", p.code)
	}
	if p := newbie.login("newbie", password); p.code == http.StatusSeeOther {
		t.Error("a disabled user signed in")
	}
	if p := post("/ui/admin/users/newbie", url.Values{"what": {"enable"}}); p.code != http.StatusOK || f.user(t, "newbie").Disabled {
		t.Fatalf("enable: %d", p.code)
	}
	newbie.mustLogin("newbie")
	if p := post("/ui/admin/users/newbie/password", url.Values{"password": {"another long password"}}); p.code != http.StatusOK {
		t.Fatalf("set password: %d", p.code)
	}
	if p := newbie.get("/ui/objects"); p.code != http.StatusSeeOther {
		t.Errorf("session after a new password: %d, want it ended", p.code)
	}
	if p := newbie.login("newbie", "another long password"); p.code != http.StatusSeeOther {
		t.Errorf("new password: %d", p.code)
	}
}

// TestAdminOpsPages: peers, agreements' lifecycle, split views and health
// are the admin's (403 to every other role, a refused post changes
// nothing); a lifecycle move takes effect through node, and node's refusal
// of a move is shown.
func TestAdminOpsPages(t *testing.T) {
	f := newFixture(t)
	f.addUser(t, usersSpec("otto", node.RoleAuditor))
	f.addUser(t, usersSpec("rel", node.RoleReleaser))
	f.addUser(t, usersSpec("adam", node.RoleAdmin))
	ctx := context.Background()
	d := nodetest.RelDoc(f.n, "gbr-usa", []string{"usa"}, nodetest.RelTable("GBR", "USA"),
		nodetest.RelTerms([]string{"gbr"}, []string{"usa"}))
	if _, err := f.n.Agreements.ImportAgreement(ctx, f.admin, nodetest.DocJSON(t, d)); err != nil {
		t.Fatal(err)
	}
	state := func() string {
		t.Helper()
		ai, _, err := f.n.Agreements.Agreement(ctx, f.admin, "gbr-usa", 1)
		if err != nil {
			t.Fatal(err)
		}
		return ai.State
	}
	gets := []string{"/ui/admin/peers", "/ui/admin/agreements", "/ui/admin/health"}
	for _, name := range []string{"ana", "otto", "rel"} {
		c := f.client(t)
		c.mustLogin(name)
		for _, path := range gets {
			if p := c.get(path); p.code != http.StatusForbidden {
				t.Errorf("%s GET %s = %d, want 403", name, path, p.code)
			}
		}
		csrf := csrfOf(t, c.get("/ui/publish").body)
		if p := c.post("/ui/admin/agreements/gbr-usa/transition", url.Values{"csrf": {csrf}, "version": {"1"}, "to": {"proposed"}}); p.code != http.StatusForbidden {
			t.Errorf("%s transition = %d, want 403", name, p.code)
		}
		if p := c.post("/ui/admin/peers/usa/ack-split", url.Values{"csrf": {csrf}}); p.code != http.StatusForbidden {
			t.Errorf("%s ack-split = %d, want 403", name, p.code)
		}
	}
	if s := state(); s != "draft" {
		t.Fatalf("after refused posts the agreement is %s", s)
	}
	adam := f.client(t)
	adam.mustLogin("adam")
	if p := adam.post("/ui/admin/agreements/gbr-usa/transition", url.Values{"version": {"1"}, "to": {"proposed"}}); p.code != http.StatusForbidden || state() != "draft" {
		t.Errorf("CSRF-less transition = %d, state %s", p.code, state())
	}
	for _, path := range gets {
		p := adam.get(path)
		if p.code != http.StatusOK {
			t.Fatalf("admin GET %s = %d", path, p.code)
		}
		if b := banners(t, p.body); b != f.n.Registry().SystemLow() {
			t.Errorf("%s banner %q, want system-low", path, b)
		}
	}
	h := adam.get("/ui/admin/health").body
	for _, want := range []string{`data-health="backend">SQLite<`, `data-health="failed">0<`, `data-health="disk">`} {
		if !strings.Contains(h, want) {
			t.Errorf("health page lacks %s", want)
		}
	}
	if strings.Contains(h, `data-health="disk">0.0 MiB (0 bytes)`) {
		t.Error("health page: data directory measured empty")
	}
	p := adam.get("/ui/admin/agreements")
	if !strings.Contains(p.body, `data-agreement="gbr-usa"`) || !strings.Contains(p.body, `data-state="draft"`) {
		t.Fatalf("agreements page lacks the draft:\n%s", p.body)
	}
	csrf := csrfOf(t, p.body)
	move := func(to string) page {
		return adam.post("/ui/admin/agreements/gbr-usa/transition", url.Values{"csrf": {csrf}, "version": {"1"}, "to": {to}, "note": {"test"}})
	}
	if p := move("proposed"); p.code != http.StatusOK || state() != "proposed" {
		t.Fatalf("propose: %d, state %s\n%s", p.code, state(), p.body)
	}
	// Unsigned: node refuses activation, and the page says why.
	if p := move("active"); p.code != http.StatusBadRequest || state() != "proposed" || !strings.Contains(p.body, `data-outcome="error"`) {
		t.Errorf("activate unsigned: %d, state %s", p.code, state())
	}
	if _, err := f.n.Agreements.SignAgreement(ctx, f.admin, "gbr-usa", 1); err != nil {
		t.Fatal(err)
	}
	if _, err := f.n.Agreements.AddAgreementSignatures(ctx, f.admin, "gbr-usa", 1, nodetest.PartnerSigned(t, f.n, f.admin, "gbr-usa", 1, "usa")); err != nil {
		t.Fatal(err)
	}
	for _, to := range []string{"active", "suspended", "active", "terminated"} {
		if p := move(to); p.code != http.StatusOK || state() != to {
			t.Fatalf("move to %s: %d, state %s\n%s", to, p.code, state(), p.body)
		}
	}
	_, hist, err := f.n.Agreements.Agreement(ctx, f.admin, "gbr-usa", 1)
	if err != nil || len(hist) < 5 {
		t.Errorf("history: %d moves, %v", len(hist), err)
	}
	// Split views: none open; a peer this node does not have is not found.
	if p := adam.post("/ui/admin/peers/nosuch/ack-split", url.Values{"csrf": {csrf}}); p.code != http.StatusNotFound {
		t.Errorf("ack-split of an unknown peer = %d, want 404", p.code)
	}
}
