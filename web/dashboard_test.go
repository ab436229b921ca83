package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/nodetest"
	"github.com/tearline/tearline/web/site"
)

var facet = regexp.MustCompile(`<a href="/ui/objects\?(disc|topic)=([A-Z-]+)">[A-Z-]+</a> <span class="count">([0-9,]+(?:&#43;)?)</span>`)

// TestDashboardCounts: the start page counts, by discipline and by topic,
// only what the user may read; each count leads to the listing it counts.
func TestDashboardCounts(t *testing.T) {
	f := newFixture(t)
	sig, osint := nodetest.NewID("indicator"), nodetest.NewID("campaign")
	f.land(t, "NATO SECRET // DISC SIGINT // TOPIC CYBER", obj(sig, map[string]any{"name": "sigint finding", "pattern": "[url:value = 'http://x.example/']",
		"pattern_type": "stix", "valid_from": nodetest.T0}))
	f.land(t, "NATO RESTRICTED // DISC OSINT // TOPIC CYBER", obj(osint, map[string]any{"name": "osint finding"}))
	for _, c := range []struct {
		user  string
		want  map[string]string
		total string
	}{
		{"ana", map[string]string{"disc=SIGINT": "1", "disc=OSINT": "1", "topic=CYBER": "2"}, "5"},
		{"rita", map[string]string{"disc=OSINT": "1", "topic=CYBER": "1"}, "2"},
	} {
		cl := f.client(t)
		cl.mustLogin(c.user)
		p := cl.get("/ui/")
		if p.code != http.StatusOK {
			t.Fatalf("%s: dashboard %d", c.user, p.code)
		}
		got := map[string]string{}
		for _, m := range facet.FindAllStringSubmatch(p.body, -1) {
			got[m[1]+"="+m[2]] = m[3]
		}
		if len(got) != len(c.want) {
			t.Errorf("%s: facets %v, want %v", c.user, got, c.want)
		}
		for k, v := range c.want {
			if got[k] != v {
				t.Errorf("%s: %s counts %q, want %s", c.user, k, got[k], v)
			}
		}
		if !strings.Contains(p.body, "You may read <strong>"+c.total+"</strong> objects") {
			t.Errorf("%s: total is not %s", c.user, c.total)
		}
		if c.user == "ana" {
			l := cl.get("/ui/objects?disc=SIGINT")
			if !strings.Contains(l.body, `data-object-id="`+sig+`"`) || strings.Contains(l.body, osint) || strings.Contains(l.body, f.open) {
				t.Errorf("the SIGINT listing does not hold exactly the SIGINT object")
			}
		}
	}
	if p := f.client(t); true {
		p.mustLogin("rita")
		if q := p.get("/ui/objects?disc=NOPE"); q.code != http.StatusBadRequest {
			t.Errorf("an unknown discipline: %d, want 400", q.code)
		}
	}
}

// TestDashboardRequests: the requester finds their release request, with
// its portion mark and state, on the start page.
func TestDashboardRequests(t *testing.T) {
	rf := nodetest.NewRelFixture(t)
	id := rf.IngestLabelled(t, nodetest.Actor(nodetest.NewID("threat-actor"), nil), nodetest.OKBanner, nil)
	res := nodetest.MustRelease(t, rf.N, rf.Rob, id, "fra")
	if err := rf.N.Users.SetPassword(context.Background(), node.ConsoleAdmin(), "rob", password); err != nil {
		t.Fatal(err)
	}
	ui, err := site.New(rf.N, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(ui)
	t.Cleanup(srv.Close)
	f := &fixture{n: rf.N, srv: srv}
	c := f.client(t)
	c.mustLogin("rob")
	p := c.get("/ui/")
	if !regexp.MustCompile(`data-object-id="` + id + `" data-request="` + res.Request + `"><td><span class="portion [^"]+" data-portion title="NATO SECRET // DISC SIGINT // TOPIC CYBER">`).MatchString(p.body) {
		t.Fatalf("rob's dashboard lacks the request:\n%s", p.body)
	}
	if !strings.Contains(p.body, "<td>pending</td>") {
		t.Error("the request's state is not shown")
	}
	if b := banners(t, p.body); b != "NATO SECRET // DISC SIGINT // TOPIC CYBER" {
		t.Errorf("banner %q", b)
	}
	if !strings.Contains(p.body, "No delivery of a recent release has failed.") {
		t.Error("a releaser's dashboard lacks the failed deliveries")
	}
	// Released by two other releasers: the request shows so.
	nodetest.AddUser(t, rf.N, usersSpecNATO("ray"))
	ray, _ := rf.N.PrincipalByName(context.Background(), "ray")
	for _, p := range []*node.Principal{rf.Rita, ray} {
		if _, err := rf.N.Releases.ApproveRelease(context.Background(), p, res.Request); err != nil {
			t.Fatal(err)
		}
	}
	p = c.get("/ui/")
	if !strings.Contains(p.body, "<td>released</td>") || !strings.Contains(p.body, "No delivery of a recent release has failed.") {
		t.Errorf("after release, rob's dashboard:\n%s", p.body)
	}
	// Delivery states: node shows them to releasers and admins for what
	// they may read, to auditors of every level, and so does the
	// dashboard.
	if err := rf.N.Users.SetPassword(context.Background(), node.ConsoleAdmin(), "audrey", password); err != nil {
		t.Fatal(err)
	}
	a := f.client(t)
	a.mustLogin("audrey")
	if p := a.get("/ui/"); !strings.Contains(p.body, "No delivery of a recent release has failed.") || strings.Contains(p.body, "Your release requests</h2>\n  \n  <table") {
		t.Errorf("the auditor's dashboard:\n%s", p.body)
	}
}

// TestDashboardCountsCapped: past 1,000 the dashboard's counts read
// "1,000+" (the node stops counting there: each row counted is read and
// checked, so an exact count over millions would cost seconds of CPU).
func TestDashboardCountsCapped(t *testing.T) {
	f := newFixture(t)
	var objs [][]byte
	for i := 0; i < 1000; i++ {
		objs = append(objs, obj(nodetest.NewID("campaign"), map[string]any{"name": "osint bulk"}))
	}
	f.land(t, "NATO RESTRICTED // DISC OSINT", objs...)
	cl := f.client(t)
	cl.mustLogin("rita")
	p := cl.get("/ui/")
	if p.code != http.StatusOK {
		t.Fatalf("dashboard %d", p.code)
	}
	// html/template writes the "+" as "&#43;".
	if !strings.Contains(p.body, "You may read <strong>1,000&#43;</strong> objects") {
		t.Errorf("total is not capped at 1,000+")
	}
	got := ""
	for _, m := range facet.FindAllStringSubmatch(p.body, -1) {
		if m[1]+"="+m[2] == "disc=OSINT" {
			got = m[3]
		}
	}
	if got != "1,000&#43;" {
		t.Errorf("disc=OSINT counts %q, want 1,000+", got)
	}
}

// TestDashboardRecentWork: the dashboard lists the user's own recent work
// (what they published), and nobody else's: rita, who published nothing,
// sees none, and the admin does not see ana's.
func TestDashboardRecentWork(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	ana, err := f.n.PrincipalByName(ctx, "ana")
	if err != nil {
		t.Fatal(err)
	}
	mine := nodetest.NewID("campaign")
	nodetest.MustLand(t, f.n, ana, nodetest.Bundle(obj(mine, map[string]any{"name": "ana's campaign"})), "NATO SECRET // REL TO GBR, USA")
	c := f.client(t)
	c.mustLogin("ana")
	p := c.get("/ui/")
	if !regexp.MustCompile(`data-object-id="` + mine + `" data-work="published"`).MatchString(p.body) {
		t.Fatalf("ana's dashboard lacks her publish:\n%s", p.body)
	}
	if strings.Contains(p.body, `data-object-id="`+f.open+`" data-work=`) {
		t.Error("ana's recent work shows the admin's publish")
	}
	r := f.client(t)
	r.mustLogin("rita")
	if p := r.get("/ui/"); strings.Contains(p.body, "data-work=") || !strings.Contains(p.body, "Nothing yet") {
		t.Error("rita, who did nothing, has recent work")
	}
}
