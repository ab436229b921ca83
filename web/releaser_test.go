package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/label"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/nodetest"
	"github.com/tearline/tearline/node/users"
	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/web/site"
)

const cosmic = "COSMIC TOP SECRET // DISC SIGINT // TOPIC CYBER"

// relWeb is the release fixture (nodetest.NewRelFixture: agreements
// gbr-usa and gbr-fra, the latter two-person above NATO CONFIDENTIAL)
// served by the web interface, with passwords for its people and rex, a
// releaser cleared only to NATO RESTRICTED.
func relWeb(t *testing.T) (*nodetest.RelFixture, *fixture) {
	t.Helper()
	rf := nodetest.NewRelFixture(t)
	f := &fixture{n: rf.N, admin: rf.Admin}
	nodetest.AddUser(t, rf.N, users.UserSpec{Name: "rex", Role: node.RoleReleaser, Nationality: "GBR", Clearances: map[string]string{"NATO": "RESTRICTED"}})
	for _, name := range []string{"ann", "rob", "rita", "audrey", "admin", "rex"} {
		if err := rf.N.Users.SetPassword(context.Background(), node.ConsoleAdmin(), name, password); err != nil {
			t.Fatal(err)
		}
	}
	ui, err := site.New(rf.N, nil)
	if err != nil {
		t.Fatal(err)
	}
	f.srv = httptest.NewTLSServer(ui)
	t.Cleanup(f.srv.Close)
	return rf, f
}

// heronReport lands a report whose description is marked COSMIC TOP
// SECRET: to usa it goes as a tearline without the description.
func heronReport(t *testing.T, rf *nodetest.RelFixture) string {
	t.Helper()
	rep := map[string]any{"type": "report", "spec_version": "2.1", "id": nodetest.NewID("report"), "created": nodetest.T0, "modified": nodetest.T1,
		"name": "Operation Heron", "published": nodetest.T1, "description": "source HERON-7 reports the implant", "object_refs": []any{nodetest.NewID("malware")}}
	return rf.IngestLabelled(t, rep, nodetest.OKBanner, map[string]string{"description": cosmic})
}

// TestReleaserNotClearedSeesMissing: a releaser not cleared for an object
// gets, for its preview, its release, its approval, its consents, its
// recall and a retry of its delivery, exactly the answer for an id that
// does not exist; the queue does not show its request.
func TestReleaserNotClearedSeesMissing(t *testing.T) {
	rf, f := relWeb(t)
	secret := rf.IngestLabelled(t, nodetest.Actor(nodetest.NewID("threat-actor"), nil), nodetest.OKBanner, nil)
	held := nodetest.MustRelease(t, rf.N, rf.Rob, secret, "fra")
	sent := nodetest.MustRelease(t, rf.N, rf.Admin, secret, "usa")
	if held.Request == "" || sent.Ledger == 0 {
		t.Fatalf("fixture: %+v %+v", held, sent)
	}
	missing := nodetest.NewID("threat-actor")
	c := f.client(t)
	c.mustLogin("rex")
	q := c.get("/ui/releases?state=")
	if q.code != http.StatusOK || strings.Contains(q.body, secret) || strings.Contains(q.body, held.Request) {
		t.Fatalf("rex's queue: %d, shows the request: %v", q.code, strings.Contains(q.body, secret))
	}
	csrf := csrfOf(t, q.body)
	type probe struct {
		name         string
		hidden, none func() page
	}
	form := func(kv ...string) url.Values {
		v := url.Values{"csrf": {csrf}}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	for _, pr := range []probe{
		{"preview", func() page { return c.get("/ui/objects/" + secret + "/preview?to=usa") }, func() page { return c.get("/ui/objects/" + missing + "/preview?to=usa") }},
		{"page", func() page { return c.get("/ui/objects/" + secret + "/preview") }, func() page { return c.get("/ui/objects/" + missing + "/preview") }},
		{"request", func() page { return c.post("/ui/releases", form("object", secret, "to", "usa", "purpose", "analysis")) },
			func() page {
				return c.post("/ui/releases", form("object", missing, "to", "usa", "purpose", "analysis"))
			}},
		{"approve", func() page { return c.post("/ui/releases/"+held.Request+"/approve", form()) },
			func() page {
				return c.post("/ui/releases/release--00000000-0000-4000-8000-000000000000/approve", form())
			}},
		{"refuse", func() page { return c.post("/ui/releases/"+held.Request+"/refuse", form("reason", "no")) },
			func() page {
				return c.post("/ui/releases/release--00000000-0000-4000-8000-000000000000/refuse", form("reason", "no"))
			}},
		{"consent", func() page { return c.post("/ui/objects/"+secret+"/consents", form("originator", "usa", "to", "fra")) },
			func() page { return c.post("/ui/objects/"+missing+"/consents", form("originator", "usa", "to", "fra")) }},
		{"recall", func() page { return c.post("/ui/objects/"+secret+"/recall", form("reason", "wrong")) },
			func() page { return c.post("/ui/objects/"+missing+"/recall", form("reason", "wrong")) }},
		{"retry", func() page {
			return c.post("/ui/deliveries/retry", form("object", secret, "instance", "0", "modified", nodetest.T0, "party", "usa"))
		},
			func() page {
				return c.post("/ui/deliveries/retry", form("object", missing, "instance", "0", "modified", nodetest.T0, "party", "usa"))
			}},
	} {
		h, n := pr.hidden(), pr.none()
		if h.code != http.StatusNotFound || h.code != n.code || h.body != n.body {
			t.Errorf("%s: hidden %d, missing %d; bodies alike: %v", pr.name, h.code, n.code, h.body == n.body)
		}
		if strings.Contains(h.body, secret) {
			t.Errorf("%s: the answer names the object", pr.name)
		}
	}
	if q, _ := rf.N.Store().ReleaseRequest(context.Background(), held.Request); q.State != store.RequestPending || len(q.Approvals) != 0 {
		t.Fatalf("rex changed the request: %+v", q)
	}
	rcs, _ := rf.N.Recalls.RecallStatus(context.Background(), rf.Admin, store.RecallQuery{ObjectID: secret})
	if len(rcs) != 0 {
		t.Fatalf("rex recalled: %+v", rcs)
	}
}

// TestReleaserPreview: a releaser's preview for usa shows the decision in
// words, the labels as they would be sent and the original beside its
// tearline with the cut description highlighted and absent from the
// tearline; it writes no ledger row and is audited as release explain.
func TestReleaserPreview(t *testing.T) {
	ctx := context.Background()
	rf, f := relWeb(t)
	id := heronReport(t, rf)
	c := f.client(t)
	c.mustLogin("rob")
	p := c.get("/ui/objects/" + id + "/preview?to=usa&purpose=analysis")
	if p.code != http.StatusOK {
		t.Fatalf("preview: %d\n%s", p.code, p.body)
	}
	for _, want := range []string{`data-outcome="tearline"`, `data-side-by-side`, `<tr class="cut gone" data-cut><th>description</th><td class="original">source HERON-7 reports the implant</td><td class="removed">removed</td>`,
		`<li data-sent-label>NATO SECRET // DISC SIGINT // TOPIC CYBER</li>`, `data-object-id="` + id + `"`} {
		if !strings.Contains(p.body, want) {
			t.Errorf("preview lacks %s", want)
		}
	}
	if strings.Count(p.body, "HERON-7") != 1 {
		t.Errorf("the cut description shows %d times, want once (the original's side)", strings.Count(p.body, "HERON-7"))
	}
	if b := banners(t, p.body); b != cosmic {
		t.Errorf("banner %q, want the object's dominant label %q", b, cosmic)
	}
	if es, err := rf.N.Releases.Ledger(ctx, rf.Admin, store.LedgerQuery{ObjectID: id}); err != nil || len(es) != 0 {
		t.Fatalf("a preview wrote to the ledger: %v %v", es, err)
	}
	evs := nodetest.FindEvents(nodetest.AuditLog(t, rf.N.Store()), func(e audit.Event) bool {
		return e.Action == audit.ActionReleaseExplain && e.Object == id && e.Actor == rf.Rob.Actor()
	})
	if len(evs) != 1 {
		t.Fatalf("preview audited %d times, want once as release explain", len(evs))
	}
	// The analyst previews too (node lets analysts explain) but sees no
	// consents, recalls or deliveries; the auditor may not read the
	// content: not found.
	a := f.client(t)
	a.mustLogin("ann")
	if p := a.get("/ui/objects/" + id + "/preview?to=fra"); p.code != http.StatusOK || strings.Contains(p.body, "/recall") || strings.Contains(p.body, "/consents") {
		t.Fatalf("analyst preview: %d", p.code)
	}
	au := f.client(t)
	au.mustLogin("audrey")
	if p := au.get("/ui/objects/" + id + "/preview?to=usa"); p.code != http.StatusNotFound {
		t.Fatalf("auditor preview: %d, want 404", p.code)
	}
}

// TestReleaseQueueInTheUI: an analyst requests a release through the form;
// it is held for two releasers; the analyst sees it as theirs with the
// policy's decision in words; the queue shows who approved first and how
// many are needed; two releasers approve, the requester's own approval is
// refused by node.
func TestReleaseQueueInTheUI(t *testing.T) {
	ctx := context.Background()
	rf, f := relWeb(t)
	id := rf.IngestLabelled(t, nodetest.Actor(nodetest.NewID("threat-actor"), nil), nodetest.OKBanner, nil)
	ann := f.client(t)
	ann.mustLogin("ann")
	q := ann.get("/ui/releases")
	p := ann.post("/ui/releases", url.Values{"csrf": {csrfOf(t, q.body)}, "object": {id}, "to": {"fra"}, "purpose": {"analysis"}})
	if p.code != http.StatusOK || !strings.Contains(p.body, "outcome hold") {
		t.Fatalf("request: %d\n%s", p.code, p.body)
	}
	row := regexp.MustCompile(`(?s)<tr data-object-id="` + id + `" data-request="([^"]+)">.*?</tr>`)
	m := row.FindStringSubmatch(p.body)
	if m == nil || !strings.Contains(m[0], "data-mine") || !strings.Contains(m[0], `data-decision="hold"`) || !strings.Contains(m[0], `data-required="2"`) {
		t.Fatalf("analyst's row: %q", m)
	}
	if !strings.Contains(m[0], "<li>") {
		t.Errorf("no reasons in words in the row: %s", m[0])
	}
	req := m[1]
	approve := func(name string) page {
		c := f.client(t)
		c.mustLogin(name)
		q := c.get("/ui/releases")
		return c.post("/ui/releases/"+req+"/approve", url.Values{"csrf": {csrfOf(t, q.body)}})
	}
	if p := approve("ann"); p.code != http.StatusForbidden {
		t.Fatalf("an analyst approves: %d", p.code)
	}
	p = approve("rob")
	if p.code != http.StatusOK || !strings.Contains(p.body, `data-approvals="1" data-required="2"`) || !strings.Contains(p.body, "<li>user:rob at ") {
		t.Fatalf("first approval: %d\n%s", p.code, p.body)
	}
	if p := approve("rob"); p.code != http.StatusBadRequest {
		t.Fatalf("the same releaser twice: %d", p.code)
	}
	if p := approve("rita"); p.code != http.StatusOK || !strings.Contains(p.body, "outcome release") {
		t.Fatalf("second approval: %d", p.code)
	}
	if q, _ := rf.N.Store().ReleaseRequest(ctx, req); q.State != store.RequestReleased {
		t.Fatalf("after two approvals: %+v", q)
	}
	if q := ann.get("/ui/releases?state=released"); !strings.Contains(q.body, req) {
		t.Fatalf("the analyst does not see their released request")
	}
}

// TestConsentAndRecallInTheUI: a releaser records an originator's consent
// and recalls an object with a reason; the page lists both, the recall per
// partner with its acknowledgement state. An analyst's page has neither
// form.
func TestConsentAndRecallInTheUI(t *testing.T) {
	rf, f := relWeb(t)
	foreign := rf.IngestLabelled(t, nodetest.Actor(nodetest.NewID("threat-actor"), nil), nodetest.OKBanner, nil)
	rf.Foreign(t, foreign, "usa", store.Hop{Agreement: "gbr-usa", Version: 1, From: "usa", To: "gbr"})
	own := rf.IngestLabelled(t, nodetest.Actor(nodetest.NewID("threat-actor"), nil), nodetest.OKBanner, nil)
	nodetest.MustRelease(t, rf.N, rf.Rob, own, "usa")
	c := f.client(t)
	c.mustLogin("rob")
	pg := c.get("/ui/objects/" + foreign + "/preview")
	p := c.post("/ui/objects/"+foreign+"/consents", url.Values{"csrf": {csrfOf(t, pg.body)}, "originator": {"usa"}, "to": {"fra"}})
	if p.code != http.StatusOK || !strings.Contains(p.body, `<tr data-consent="fra"><td>usa</td><td>fra</td><td>user:rob</td>`) {
		t.Fatalf("consent: %d\n%s", p.code, p.body)
	}
	if p := c.post("/ui/objects/"+foreign+"/consents", url.Values{"originator": {"usa"}, "to": {"fra"}}); p.code != http.StatusForbidden {
		t.Fatalf("consent without CSRF: %d", p.code)
	}
	p = c.post("/ui/objects/"+own+"/recall", url.Values{"csrf": {csrfOf(t, pg.body)}, "reason": {"source withdrawn"}})
	if p.code != http.StatusOK || !regexp.MustCompile(`<tr data-recall="[^"]+" data-party="usa" data-recall-state="pending">.*source withdrawn`).MatchString(p.body) {
		t.Fatalf("recall: %d\n%s", p.code, p.body)
	}
	a := f.client(t)
	a.mustLogin("ann")
	if p := a.get("/ui/objects/" + own + "/preview"); p.code != http.StatusOK || strings.Contains(p.body, "/recall") || strings.Contains(p.body, "source withdrawn") {
		t.Fatalf("analyst's page: %d", p.code)
	}
}

// TestAgreementsPages: every role reads the agreements: parties, each
// signature verified with its party's key, terms per direction in words,
// state and history; an unknown agreement is not found.
func TestAgreementsPages(t *testing.T) {
	_, f := relWeb(t)
	for _, user := range []string{"ann", "rob", "audrey", "admin"} {
		c := f.client(t)
		c.mustLogin(user)
		l := c.get("/ui/agreements")
		if l.code != http.StatusOK || !strings.Contains(l.body, `data-agreement="gbr-fra"`) || !strings.Contains(l.body, `data-state="active"`) {
			t.Fatalf("%s: list %d", user, l.code)
		}
		p := c.get("/ui/agreements/gbr-fra")
		for _, want := range []string{`data-party="gbr" data-signature="verified"`, `data-party="fra" data-signature="verified"`,
			`data-terms-from="gbr, fra"`, "two-person rule", `data-state="active"`, "<td>proposed</td><td>active</td>"} {
			if !strings.Contains(p.body, want) {
				t.Errorf("%s: agreement page lacks %s", user, want)
			}
		}
		if p := c.get("/ui/agreements/nowhere"); p.code != http.StatusNotFound {
			t.Errorf("%s: unknown agreement %d", user, p.code)
		}
	}
}

// TestReleaserWalk walks the releaser's pages over the release fixture (an
// object for rex's clearance and one above it, requests, a preview with a
// tearline) as every role: nothing a user may not read appears, not even
// its id, and no banner is lower than a portion shown under it.
func TestReleaserWalk(t *testing.T) {
	rf, f := relWeb(t)
	reg := rf.N.Registry()
	low := rf.IngestLabelled(t, nodetest.Actor(nodetest.NewID("threat-actor"), map[string]any{"name": "low actor"}), "NATO RESTRICTED // DISC SIGINT // TOPIC CYBER", nil)
	high := heronReport(t, rf)
	nodetest.MustRelease(t, rf.N, rf.Rob, high, "fra")
	nodetest.MustRelease(t, rf.N, rf.Rob, low, "fra")
	nodetest.MustRelease(t, rf.N, rf.Rob, high, "usa")
	ids := []string{low, high}
	var paths []string
	for _, id := range ids {
		paths = append(paths, "/ui/objects/"+id+"/preview", "/ui/objects/"+id+"/preview?to=usa", "/ui/objects/"+id+"/preview?to=fra")
	}
	paths = append(paths, "/ui/releases", "/ui/releases?state=", "/ui/agreements", "/ui/agreements/gbr-usa")
	for _, user := range []string{"ann", "rob", "rex", "audrey", "admin"} {
		p, err := rf.N.PrincipalByName(context.Background(), user)
		if err != nil {
			t.Fatal(err)
		}
		c := f.client(t)
		c.mustLogin(user)
		for _, path := range paths {
			pg := c.get(path)
			if pg.code >= 500 {
				t.Fatalf("%s %s: %d", user, path, pg.code)
			}
			// The queue is metadata of every level for auditors (node
			// decides), marked as such; everyone else sees only what they read.
			meta := user == "audrey" && strings.HasPrefix(path, "/ui/releases")
			for _, id := range ids {
				if _, err := rf.N.Get(context.Background(), p, id); err != nil && !meta && strings.Contains(pg.body, id) {
					t.Errorf("%s %s shows %s, which they may not read", user, path, id)
				}
			}
			if user == "rex" && strings.Contains(path, low) && pg.code != http.StatusOK {
				t.Errorf("rex %s: %d, want the page of an object rex may read", path, pg.code)
			}
			if user == "rex" && strings.Contains(pg.body, "Operation Heron") {
				t.Errorf("rex %s shows the report's name", path)
			}
			b := banners(t, pg.body)
			if b == reg.SystemHigh() {
				continue
			}
			bl, err := reg.ParseBanner(b)
			if err != nil {
				t.Fatalf("%s %s: banner %q: %v", user, path, b, err)
			}
			for _, m := range portionTitle.FindAllStringSubmatch(pg.body, -1) {
				pl, err := reg.ParseBanner(unescape(m[1]))
				if err != nil {
					t.Fatalf("%s %s: portion %q: %v", user, path, m[1], err)
				}
				if d, err := label.Dominate(reg, bl, pl); err != nil || !d.Equal(reg.Normalize(bl)) {
					t.Errorf("%s %s: banner %q is lower than a portion %q", user, path, b, m[1])
				}
			}
		}
	}
}

// TestDeliveriesFromTheAttackersSide: rex, a releaser cleared to NATO
// RESTRICTED, lists the deliveries to usa (a peer, where every delivery
// failed) and opens the release pages: the NATO SECRET object's delivery
// is in no row and no count, and its retry answers as a delivery that does
// not exist; his own object's failed delivery shows and he retries it. A
// cleared releaser sees both; an analyst may not read delivery states.
func TestDeliveriesFromTheAttackersSide(t *testing.T) {
	ctx := context.Background()
	rf, f := relWeb(t)
	nodetest.AddPeerNode(t, rf.N, "usa", "USA")
	// gbr-usa is automatic: each goes to usa as it lands.
	secret := rf.IngestLabelled(t, nodetest.Actor(nodetest.NewID("threat-actor"), nil), nodetest.OKBanner, nil)
	low := rf.IngestLabelled(t, nodetest.Actor(nodetest.NewID("threat-actor"), nil), "NATO RESTRICTED // DISC SIGINT // TOPIC CYBER", nil)
	its, err := rf.N.Store().OutboxItems(ctx, "usa", 0, 10)
	if err != nil || len(its) != 2 {
		t.Fatalf("outbox: %d items, %v", len(its), err)
	}
	for _, it := range its {
		if err := rf.N.Store().MarkFailed(ctx, rf.N.Now(), "revoked-key", "refused by usa", it.ID); err != nil {
			t.Fatal(err)
		}
	}
	c := f.client(t)
	c.mustLogin("rex")
	for _, path := range []string{"/ui/deliveries?party=usa&state=failed&days=7", "/ui/deliveries?party=usa", "/ui/objects/" + low + "/preview", "/ui/objects/" + low, "/ui/"} {
		p := c.get(path)
		if p.code != http.StatusOK || !strings.Contains(p.body, low) || strings.Contains(p.body, secret) {
			t.Errorf("rex's %s: %d, shows his object: %v, the secret one: %v", path, p.code, strings.Contains(p.body, low), strings.Contains(p.body, secret))
		}
		if strings.Contains(p.body, "data-ledger-seq") {
			t.Errorf("rex's %s shows ledger numbers", path)
		}
		if b := banners(t, p.body); strings.Contains(b, "SECRET") {
			t.Errorf("rex's %s: banner %q", path, b)
		}
	}
	p := c.get("/ui/deliveries?party=usa&state=failed")
	if n := strings.Count(p.body, `data-delivery="failed (revoked-key)"`); n != 1 {
		t.Errorf("rex sees %d failed deliveries, want 1", n)
	}
	csrf := csrfOf(t, p.body)
	retry := func(id string) page {
		return c.post("/ui/deliveries/retry", url.Values{"csrf": {csrf}, "object": {id}, "instance": {"0"}, "modified": {nodetest.T0}, "party": {"usa"},
			"from": {"deliveries"}, "state": {"failed"}, "days": {"7"}})
	}
	h, m := retry(secret), retry(nodetest.NewID("threat-actor"))
	if h.code != http.StatusNotFound || h.code != m.code || h.body != m.body {
		t.Errorf("retry of the secret delivery: %d; of a missing one: %d; bodies alike %v", h.code, m.code, h.body == m.body)
	}
	if got := rf.N.Store(); got != nil {
		left, _ := got.OutboxItems(ctx, "usa", 0, 10)
		for _, it := range left {
			if it.State() != store.DeliveryFailed {
				t.Fatalf("rex's refused retry changed a delivery: %+v", it)
			}
		}
	}
	if p := retry(low); p.code != http.StatusOK || !strings.Contains(p.body, "queued again: queued") || strings.Contains(p.body, `data-delivery="failed`) {
		t.Errorf("rex's retry of his own: %d\n%s", p.code, p.body)
	}

	rob := f.client(t)
	rob.mustLogin("rob")
	if p := rob.get("/ui/deliveries?party=usa"); !strings.Contains(p.body, secret) || !strings.Contains(p.body, low) {
		t.Errorf("rob's deliveries lack one: secret %v, low %v", strings.Contains(p.body, secret), strings.Contains(p.body, low))
	}
	ann := f.client(t)
	ann.mustLogin("ann")
	if p := ann.get("/ui/deliveries?party=usa"); p.code != http.StatusForbidden || strings.Contains(p.body, low) {
		t.Errorf("an analyst's deliveries: %d", p.code)
	}
}
