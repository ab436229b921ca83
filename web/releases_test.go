package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/nodetest"
	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/web/site"
)

// TestTwoReleasersApproveInTheUI: a release to a partner that needs two
// approvals is approved by two releasers through the page; the requester's
// own approval is refused by node; each row carries its portion mark.
func TestTwoReleasersApproveInTheUI(t *testing.T) {
	ctx := context.Background()
	rf := nodetest.NewRelFixture(t)
	n := rf.N
	id := rf.IngestLabelled(t, nodetest.Actor(nodetest.NewID("threat-actor"), nil), nodetest.OKBanner, nil)
	res := nodetest.MustRelease(t, n, rf.Rob, id, "fra")
	if res.Outcome != "hold" || res.Request == "" {
		t.Fatalf("request: %+v", res)
	}
	nodetest.AddUser(t, n, usersSpecNATO("ray"))
	for _, name := range []string{"rob", "rita", "ray"} {
		if err := n.Users.SetPassword(ctx, node.ConsoleAdmin(), name, password); err != nil {
			t.Fatal(err)
		}
	}
	ui, err := site.New(n, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(ui)
	t.Cleanup(srv.Close)
	f := &fixture{n: n, srv: srv}

	approve := func(name string) page {
		c := f.client(t)
		c.mustLogin(name)
		q := c.get("/ui/releases")
		if q.code != http.StatusOK || !strings.Contains(q.body, `data-request="`+res.Request+`"`) {
			t.Fatalf("%s's queue lacks the request: %d", name, q.code)
		}
		if !regexp.MustCompile(`data-object-id="` + id + `" data-request="[^"]+">\s*<td><span class="portion [^"]+" data-portion title="[^"]+">`).MatchString(q.body) {
			t.Errorf("the request's row has no portion mark")
		}
		return c.post("/ui/releases/"+res.Request+"/approve", url.Values{"csrf": {csrfOf(t, q.body)}})
	}
	if p := approve("rob"); p.code != http.StatusForbidden {
		t.Fatalf("the requester approves: %d, want 403", p.code)
	}
	if p := approve("rita"); p.code != http.StatusOK || !strings.Contains(p.body, "outcome hold") {
		t.Fatalf("first approval: %d\n%s", p.code, p.body)
	}
	q, _ := n.Store().ReleaseRequest(ctx, res.Request)
	if q.State != store.RequestPending || len(q.Approvals) != 1 {
		t.Fatalf("after one approval: %+v", q)
	}
	if p := approve("ray"); p.code != http.StatusOK || !strings.Contains(p.body, "outcome release") {
		t.Fatalf("second approval: %d\n%s", p.code, p.body)
	}
	q, _ = n.Store().ReleaseRequest(ctx, res.Request)
	if q.State != store.RequestReleased || len(q.Approvals) != 2 {
		t.Fatalf("after two approvals: %+v", q)
	}
}
