package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tearline/tearline/node/delivery"
	"github.com/tearline/tearline/node/inbox"
	"github.com/tearline/tearline/node/taxiiview"
	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/taxii"
	"github.com/tearline/tearline/trust"
)

// newCluster builds the scenario cluster, stores on b, with the given
// members' automatic release on, and serves every member; outbox says
// whether the members' outboxes deliver (a pull test runs without, so that
// only the pull moves objects).
func newCluster(t *testing.T, b backend, outbox bool, auto ...string) *Cluster {
	t.Helper()
	ctx := context.Background()
	specs := ScenarioMembers()
	for i := range specs {
		for _, a := range auto {
			if specs[i].Name == a {
				specs[i].AutoRelease = true
			}
		}
	}
	c, err := NewCluster(ctx, t.TempDir(), onBackend(t, b, specs), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.Outbox = delivery.OutboxOptions{BaseBackoff: 20 * time.Millisecond, MaxBackoff: 300 * time.Millisecond}
	docs, err := ScenarioAgreements(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range docs {
		if err := c.Agree(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range c.Members {
		start := c.Serve
		if outbox {
			start = c.Start
		}
		if err := start(m); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

func pull(t *testing.T, m *Member, from string) inbox.PullResult {
	t.Helper()
	res, err := m.Node.Inbox.PullPeer(context.Background(), from, inbox.PullOptions{Limit: 2})
	if err != nil {
		t.Fatalf("%s pulls %s: %v", m.Name, from, err)
	}
	return res
}

// tearlineFor returns the tearline gbr's ledger records for id and party.
func tearlineFor(t *testing.T, m *Member, id, party string) string {
	t.Helper()
	es, err := m.Node.Store().Ledger(context.Background(), store.LedgerQuery{ObjectID: id})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		if e.Party == party && e.Outcome == store.LedgerTearline {
			return e.TearlineID
		}
	}
	return ""
}

// TestFederationPull: each partner pulls exactly what the agreements
// release to it (whole, tearline, nothing); the saved cursor makes a second
// pull fetch nothing, and a later pull only what is new.
func TestFederationPull(t *testing.T) { eachBackend(t, testFederationPull) }

func testFederationPull(t *testing.T, b backend) {
	ctx := context.Background()
	c := newCluster(t, b, false)
	gbr, usa, fra, agency := c.Member("gbr"), c.Member("usa"), c.Member("fra"), c.Member("agency")
	id, err := Publish(ctx, gbr, ScenarioReport())
	if err != nil {
		t.Fatal(err)
	}

	if r := pull(t, usa, "gbr"); r.Created != 1 || r.Refused != 0 || r.Cursor == "" {
		t.Fatalf("usa's pull: %+v, want one object and a cursor", r)
	}
	if vs := versions(t, usa, id); len(vs) != 1 || !bytes.Contains(vs[0].Raw, []byte("ferry operator")) {
		t.Fatalf("usa holds %d versions of the report, want the whole report", len(vs))
	}
	prov, err := usa.Node.Store().Provenance(ctx, id)
	if err != nil || prov.Originator != "gbr" || prov.ReceivedFrom != "gbr" || len(prov.Hops) != 1 || prov.Hops[0].Agreement != "gbr-usa" {
		t.Errorf("usa provenance = %+v %v", prov, err)
	}
	if saved, err := usa.Node.Store().Cursor(ctx, "pull:gbr"); err != nil || saved == "" {
		t.Errorf("usa's saved cursor: %q %v", saved, err)
	}

	if r := pull(t, fra, "gbr"); r.Created != 1 {
		t.Fatalf("fra's pull: %+v, want the tearline", r)
	}
	tl := tearlineFor(t, gbr, id, "fra")
	if tl == "" {
		t.Fatal("gbr's ledger records no tearline for fra")
	}
	if vs := versions(t, fra, tl); len(vs) != 1 || bytes.Contains(vs[0].Raw, []byte("ferry operator")) || !bytes.Contains(vs[0].Raw, []byte("HARBOUR SWIFT")) {
		t.Fatalf("fra's tearline: %d versions, want the name without the description", len(vs))
	}
	if len(versions(t, fra, id)) != 0 {
		t.Error("fra holds the original")
	}

	if r := pull(t, agency, "gbr"); r.Objects != 0 || r.Created != 0 {
		t.Fatalf("agency's pull: %+v, want nothing", r)
	}
	if len(versions(t, agency, id)) != 0 {
		t.Error("the agency holds the report")
	}

	// The cursor: nothing new, then only the new object.
	if r := pull(t, usa, "gbr"); r.Objects != 0 || r.Created != 0 {
		t.Fatalf("usa's second pull: %+v, want nothing new", r)
	}
	var fresh []string
	for i, name := range []string{"QUIET HERON", "GREY HERON", "NIGHT HERON"} {
		obj := Labelled{Object: map[string]any{"type": "threat-actor", "spec_version": "2.1",
			"id":      "threat-actor--9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5" + string(rune('a'+i)),
			"created": "2026-03-03T10:00:00.000Z", "modified": "2026-03-03T10:00:00.000Z", "name": name},
			Banner: "NATO RESTRICTED // DISC OSINT // TOPIC CYBER"}
		nid, err := Publish(ctx, gbr, obj)
		if err != nil {
			t.Fatal(err)
		}
		fresh = append(fresh, nid)
	}
	r := pull(t, usa, "gbr")
	if r.Objects != 3 || r.Created != 3 || r.Pages < 2 {
		t.Fatalf("usa's third pull: %+v, want exactly the 3 new objects over several pages", r)
	}
	for _, nid := range fresh {
		if len(versions(t, usa, nid)) != 1 {
			t.Errorf("usa lacks %s", nid)
		}
	}
	// Every pulled object is in gbr's dissemination ledger.
	es, err := gbr.Node.Store().Ledger(ctx, store.LedgerQuery{ObjectID: fresh[0]})
	if err != nil || len(es) != 1 || es[0].Party != "usa" || es[0].State != taxiiview.LedgerPulled {
		t.Errorf("gbr's ledger for %s: %+v %v", fresh[0], es, err)
	}
	if got := auditActions(t, gbr)["object.read"]; got < 5 {
		t.Errorf("gbr audited %d partner reads, want at least 5", got)
	}
}

// TestPartnerTAXIIView: a partner reads gbr's collection with its client
// certificate; what it may not receive is 404, as a missing object is.
func TestPartnerTAXIIView(t *testing.T) { eachBackend(t, testPartnerTAXIIView) }

func testPartnerTAXIIView(t *testing.T, b backend) {
	ctx := context.Background()
	c := newCluster(t, b, false)
	gbr, usa, agency := c.Member("gbr"), c.Member("usa"), c.Member("agency")
	id, err := Publish(ctx, gbr, ScenarioReport())
	if err != nil {
		t.Fatal(err)
	}
	get := func(m *Member, path string) (int, string) {
		t.Helper()
		cl, err := trust.FederationClient(m.Dir, "gbr")
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest(http.MethodGet, gbr.URL+taxii.Prefix+taxii.DefaultRoot+"/collections/"+gbr.Node.TAXII.HoldingsID()+path, nil)
		req.Header.Set("Accept", taxii.MediaTypeTAXII)
		res, err := cl.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if code, body := get(usa, "/objects/"+id+"/"); code != http.StatusOK || !strings.Contains(body, "ferry operator") || !strings.Contains(body, "tearline-binding") {
		t.Fatalf("usa reads the report: %d %s", code, body)
	}
	// The partner profile of earlier releases, which users no longer get
	// (docs/TAXII.md, "Two profiles"): labels first, once each, then each
	// object followed by its bindings; limit counts the objects only.
	served := 0
	for next, pages := "", 0; ; pages++ {
		path := "/objects/?limit=1"
		if next != "" {
			path += "&next=" + next
		}
		code, body := get(usa, path)
		var env struct {
			More    bool   `json:"more"`
			Next    string `json:"next"`
			Objects []struct {
				Type         string `json:"type"`
				ID           string `json:"id"`
				ObjectRef    string `json:"object_ref"`
				ObjectLabels []struct {
					MarkingRef string `json:"marking_ref"`
				} `json:"object_labels"`
			} `json:"objects"`
		}
		if code != http.StatusOK || json.Unmarshal([]byte(body), &env) != nil {
			t.Fatalf("usa's page: %d %s", code, body)
		}
		labels, named := map[string]bool{}, map[string]bool{}
		objects, last := 0, ""
		for i, o := range env.Objects {
			switch {
			case o.Type == "marking-definition" && objects == 0:
				labels[o.ID] = true
			case o.Type == "tearline-binding":
				if o.ObjectRef != last {
					t.Fatalf("binding %d of %s follows %s", i, o.ObjectRef, last)
				}
				for _, l := range o.ObjectLabels {
					named[l.MarkingRef] = true
				}
			default:
				objects++
				last = o.ID
			}
		}
		if objects > 1 || objects == 1 && (len(labels) == 0 || len(named) == 0) {
			t.Fatalf("usa's page of limit 1: %d objects, labels %v, bindings naming %v", objects, labels, named)
		}
		for l := range named {
			if !labels[l] {
				t.Fatalf("label %s named by a binding is not first in the envelope", l)
			}
		}
		served += objects
		if !env.More || pages > 100 {
			break
		}
		next = env.Next
	}
	if served == 0 {
		t.Fatalf("usa was served %d objects a page at a time", served)
	}
	// Partners see holdings only, not its marked copy.
	ucl, err := trust.FederationClient(usa.Dir, "gbr")
	if err != nil {
		t.Fatal(err)
	}
	creq, _ := http.NewRequest(http.MethodGet, gbr.URL+taxii.Prefix+taxii.DefaultRoot+"/collections/", nil)
	creq.Header.Set("Accept", taxii.MediaTypeTAXII)
	cres, err := ucl.Do(creq)
	if err != nil {
		t.Fatal(err)
	}
	cbody, _ := io.ReadAll(cres.Body)
	cres.Body.Close()
	if cres.StatusCode != http.StatusOK || !strings.Contains(string(cbody), gbr.Node.TAXII.HoldingsID()) || strings.Contains(string(cbody), gbr.Node.TAXII.MarkedID()) {
		t.Fatalf("usa's collections: %d %s", cres.StatusCode, cbody)
	}
	code, body := get(agency, "/objects/"+id+"/")
	missing := "threat-actor--00000000-0000-4000-8000-000000000000"
	mcode, mbody := get(agency, "/objects/"+missing+"/")
	if code != http.StatusNotFound || mcode != http.StatusNotFound || strings.ReplaceAll(body, id, "X") != strings.ReplaceAll(mbody, missing, "X") {
		t.Fatalf("refused and missing differ:\n%d %s\n%d %s", code, body, mcode, mbody)
	}
	if code, body := get(agency, "/objects/"); code != http.StatusOK || strings.Contains(body, id) {
		t.Fatalf("agency's listing: %d %s", code, body)
	}
	// A partner cannot write over TAXII.
	cl, _ := trust.FederationClient(usa.Dir, "gbr")
	req, _ := http.NewRequest(http.MethodPost, gbr.URL+taxii.Prefix+taxii.DefaultRoot+"/collections/"+gbr.Node.TAXII.HoldingsID()+"/objects/",
		strings.NewReader(`{"objects":[]}`))
	req.Header.Set("Accept", taxii.MediaTypeTAXII)
	req.Header.Set("Content-Type", taxii.MediaTypeTAXII)
	res, err := cl.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("partner POST: %d, want 403", res.StatusCode)
	}
}

// TestAutoReleaseOnIngest: with auto_release on, an ingest alone delivers
// to the partner whose agreement releases automatically; nothing is echoed
// back to the partner an object came from; what needs a person is held.
func TestAutoReleaseOnIngest(t *testing.T) { eachBackend(t, testAutoReleaseOnIngest) }

func testAutoReleaseOnIngest(t *testing.T, b backend) {
	ctx := context.Background()
	c := newCluster(t, b, true, "gbr", "usa")
	gbr, usa, fra, agency := c.Member("gbr"), c.Member("usa"), c.Member("fra"), c.Member("agency")
	id, err := Publish(ctx, gbr, ScenarioReport())
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "usa to receive the report without a release call", func() bool { return len(versions(t, usa, id)) == 1 })
	// gbr-fra needs releasers: not automatic, so fra gets nothing; the
	// agency's agreement is automatic but refuses CYBER.
	if q, err := gbr.Node.Releases.ReleaseQueue(ctx, gbr.Admin, store.RequestPending); err != nil || len(q) != 0 {
		t.Errorf("queue after the report: %+v %v", q, err)
	}
	if len(versions(t, fra, id)) != 0 || len(versions(t, agency, id)) != 0 {
		t.Error("auto-release went beyond the automatic, permitting agreement")
	}

	// usa's own object goes to gbr, and gbr does not send it back.
	own := Labelled{Object: map[string]any{"type": "threat-actor", "spec_version": "2.1", "id": "threat-actor--7c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f",
		"created": "2026-03-04T10:00:00.000Z", "modified": "2026-03-04T10:00:00.000Z", "name": "BLUE EGRET"},
		Banner: "NATO RESTRICTED // DISC OSINT // TOPIC CYBER"}
	uid, err := Publish(ctx, usa, own)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "gbr to receive usa's object", func() bool { return len(versions(t, gbr, uid)) == 1 })
	es, err := gbr.Node.Store().Ledger(ctx, store.LedgerQuery{ObjectID: uid})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		if e.Party == "usa" {
			t.Errorf("gbr released usa's object back to usa: %+v", e)
		}
	}
	if got := auditActions(t, usa)["federation.refuse"]; got != 0 {
		t.Errorf("usa refused %d messages: something was echoed", got)
	}

	// Our own ORCON material waits for a releaser, even under automatic terms.
	orcon := Labelled{Object: map[string]any{"type": "threat-actor", "spec_version": "2.1", "id": "threat-actor--1d2e3f4a-5b6c-4d7e-8f9a-0b1c2d3e4f5a",
		"created": "2026-03-05T10:00:00.000Z", "modified": "2026-03-05T10:00:00.000Z", "name": "RED KITE"},
		Banner: "NATO CONFIDENTIAL // ORCON // DISC SIGINT // TOPIC CYBER"}
	oid, err := Publish(ctx, gbr, orcon)
	if err != nil {
		t.Fatal(err)
	}
	q, err := gbr.Node.Releases.ReleaseQueue(ctx, gbr.Admin, store.RequestPending)
	if err != nil || len(q) != 1 || q[0].ObjectID != oid || q[0].Party != "usa" {
		t.Fatalf("queue after ORCON: %+v %v, want one request for usa", q, err)
	}
	if r, err := gbr.Node.Releases.ApproveRelease(ctx, gbr.Releaser1, q[0].ID); err != nil || r.Outcome != "release" {
		t.Fatalf("approval: %+v %v", r, err)
	}
	waitFor(t, "usa to receive the approved ORCON object", func() bool { return len(versions(t, usa, oid)) == 1 })
}
