package taxiiview_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/nodetest"
	"github.com/tearline/tearline/node/stack"
	"github.com/tearline/tearline/node/users"
	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/taxii"
)

// answerOf sends method to path (under the holdings collection's objects)
// with tok and returns the whole answer, status, headers but Date and body,
// with id written as ID: the answer for another id must be the same bytes.
// The date_added headers are the times of the versions served, which are
// the two ids' own; they are kept as present or not.
func answerOf(t *testing.T, n *stack.Node, tok, method, id, rest string) string {
	t.Helper()
	h := taxii.New(n.TAXII, taxii.Options{Title: "test"})
	req := httptest.NewRequest(method, taxii.Prefix+taxii.DefaultRoot+"/collections/"+n.TAXII.HoldingsID()+"/objects/"+id+"/"+rest, nil)
	req.Header.Set("Accept", taxii.MediaTypeTAXII)
	req.Header.Set("Authorization", "Bearer "+tok)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	w.Header().Del("Date")
	var hs []string
	for k, v := range w.Header() {
		if strings.HasPrefix(k, "X-Taxii-Date-Added") {
			v = []string{"(a time)"}
		}
		hs = append(hs, k+": "+strings.Join(v, ","))
	}
	slices.Sort(hs)
	return strings.ReplaceAll(fmt.Sprintf("%d\n%s\n%s", w.Code, strings.Join(hs, "\n"), w.Body.String()), id, "ID")
}

// versionsOf returns the modified of each version of id p reads, with its
// instance.
func versionsOf(t *testing.T, n *stack.Node, p *node.Principal, id string) []string {
	t.Helper()
	vs, err := n.Versions(context.Background(), p, id)
	if err != nil && !nodetest.IsNotFound(err) {
		t.Fatal(err)
	}
	var out []string
	for _, v := range vs {
		out = append(out, fmt.Sprintf("%d@%s", v.Instance, v.Modified))
	}
	return out
}

// TestTAXIIDeleteHiddenInstance, from the attacker's side: rita, cleared
// to NATO RESTRICTED, posted a low instance of an id that also has sam's
// NATO SECRET instance. Every DELETE she (or another RESTRICTED user)
// sends for it answers byte for byte as for an id she posted alone, with
// no hidden instance; it purges exactly the versions of hers it names; and
// sam's instance is never touched.
func TestTAXIIDeleteHiddenInstance(t *testing.T) {
	n := nodetest.New(t, "gbr", "GBR")
	sam, _ := nodetest.AddUser(t, n, users.UserSpec{Name: "sam", Role: node.RoleAnalyst, Nationality: "GBR", Clearances: map[string]string{"NATO": "SECRET"}})
	rita, ritaTok := nodetest.AddUser(t, n, users.UserSpec{Name: "rita", Role: node.RoleAnalyst, Nationality: "GBR", Clearances: map[string]string{"NATO": "RESTRICTED"}})
	_, otherTok := nodetest.AddUser(t, n, users.UserSpec{Name: "rob", Role: node.RoleAnalyst, Nationality: "GBR", Clearances: map[string]string{"NATO": "RESTRICTED"}})
	const secret, restricted = "NATO SECRET", "NATO RESTRICTED"

	hidden, plain := nodetest.NewID("threat-actor"), nodetest.NewID("threat-actor")
	// sam's instance: two versions, one with the modified of one of rita's.
	for _, m := range []string{nodetest.T0, nodetest.T1} {
		nodetest.MustLand(t, n, sam, nodetest.Bundle(nodetest.SDO(hidden, nodetest.T0, m, map[string]any{"name": "sam's"})), secret)
	}
	samsBefore := versionsOf(t, n, sam, hidden)
	// rita's three versions of each id.
	for _, id := range []string{hidden, plain} {
		for _, m := range []string{nodetest.T1, nodetest.T2, nodetest.T3} {
			nodetest.MustLand(t, n, rita, nodetest.Bundle(nodetest.SDO(id, nodetest.T0, m, map[string]any{"name": "rita's"})), restricted)
		}
	}
	if h, p := versionsOf(t, n, rita, hidden), versionsOf(t, n, rita, plain); len(h) != 3 || len(p) != 3 {
		t.Fatalf("rita's versions: %v and %v, want three of each", h, p)
	}
	steps := []struct {
		what, tok, rest string
	}{
		{"another analyst (not the poster)", otherTok, ""},
		{"a version that is not stored", ritaTok, "?match[version]=" + url.QueryEscape("2026-01-10T10:00:00.000Z")},
		{"match[spec_version]=2.0", ritaTok, "?match[spec_version]=2.0"},
		{"her first version (T1, which sam's instance also has)", ritaTok, "?match[version]=first"},
		{"the versions listing after", ritaTok, "versions/"},
		{"a version already purged", ritaTok, "?match[version]=" + url.QueryEscape(nodetest.T1)},
		{"her latest version", ritaTok, "?match[version]=last"},
		{"the object after", ritaTok, ""},
		{"the rest", ritaTok, ""},
		{"again", ritaTok, ""},
	}
	for _, s := range steps {
		method := http.MethodDelete
		if strings.HasPrefix(s.what, "the ") && s.what != "the rest" {
			method = http.MethodGet
		}
		got, want := answerOf(t, n, s.tok, method, hidden, s.rest), answerOf(t, n, s.tok, method, plain, s.rest)
		if got != want {
			t.Fatalf("%s: the answer tells the id with a hidden instance from one without:\n hidden %q\n plain  %q", s.what, got, want)
		}
		t.Logf("%s %s: %s", method, s.what, strings.SplitN(got, "\n", 2)[0])
	}
	for _, id := range []string{hidden, plain} {
		if vs := versionsOf(t, n, rita, id); len(vs) != 0 {
			t.Errorf("rita's versions of %s after her deletes: %v", id, vs)
		}
	}
	// sam's instance is untouched: every version, his GET.
	if got := versionsOf(t, n, sam, hidden); !slices.Equal(got, samsBefore) {
		t.Errorf("sam's versions after rita's deletes: %v, want %v", got, samsBefore)
	}
	o, err := n.Get(context.Background(), sam, hidden)
	if err != nil || o.Modified != nodetest.T1 || o.Instance != 0 {
		t.Fatalf("sam's GET after rita's deletes: %s instance %d, %v", o.Modified, o.Instance, err)
	}
	// rita's purges are per version of her instance: what she deleted
	// stays refused to her, as for the plain id.
	for _, id := range []string{hidden, plain} {
		res := nodetest.MustIngest(t, n, rita, nodetest.Bundle(nodetest.SDO(id, nodetest.T0, nodetest.T2, map[string]any{"name": "rita's"})), restricted)
		b, _ := json.Marshal(res)
		if len(res.Refused) != 1 || !strings.Contains(res.Refused[0].Reason, "purged") {
			t.Errorf("rita republishing a version she deleted of %s: %s, want refused as purged", id, b)
		}
	}
}

// TestTAXIIDeleteSomeVersions: match[version] purges exactly the versions
// it names; the others stay readable (the latest left is the object's
// latest again), and a version purged is refused when sent again while a
// new one is stored.
func TestTAXIIDeleteSomeVersions(t *testing.T) {
	ctx := context.Background()
	n := nodetest.New(t, "gbr", "GBR")
	rita, ritaTok := nodetest.AddUser(t, n, users.UserSpec{Name: "rita", Role: node.RoleAnalyst, Nationality: "GBR", Clearances: map[string]string{"NATO": "RESTRICTED"}})
	const restricted = "NATO RESTRICTED"
	id := nodetest.NewID("threat-actor")
	for _, m := range []string{nodetest.T0, nodetest.T1, nodetest.T2} {
		nodetest.MustLand(t, n, rita, nodetest.Bundle(nodetest.SDO(id, nodetest.T0, m, map[string]any{"name": "v " + m})), restricted)
	}
	got := answerOf(t, n, ritaTok, http.MethodDelete, id, "?match[version]="+url.QueryEscape(nodetest.T0+","+nodetest.T2))
	if !strings.HasPrefix(got, "200\n") {
		t.Fatalf("DELETE of two versions: %q, want 200", got)
	}
	if vs := versionsOf(t, n, rita, id); !slices.Equal(vs, []string{"0@" + nodetest.T1}) {
		t.Fatalf("versions after: %v, want T1 only", vs)
	}
	if o, err := n.Get(ctx, rita, id); err != nil || o.Modified != nodetest.T1 {
		t.Fatalf("GET after: %s, %v; want T1", o.Modified, err)
	}
	page, err := n.List(ctx, rita, node.ListOptions{Route: "objects", Limit: 100})
	if err != nil || len(page.Objects) != 1 || page.Objects[0].Modified != nodetest.T1 {
		t.Fatalf("listing after: %+v, %v; want T1", page.Objects, err)
	}
	res := nodetest.MustIngest(t, n, rita, nodetest.Bundle(
		nodetest.SDO(id, nodetest.T0, nodetest.T2, map[string]any{"name": "v " + nodetest.T2}),
		nodetest.SDO(id, nodetest.T0, nodetest.T3, map[string]any{"name": "v " + nodetest.T3})), restricted)
	if len(res.Refused) != 1 || res.Refused[0].ID != id || !strings.Contains(res.Refused[0].Reason, "purged") || len(res.Landed) != 1 || res.Landed[0].Modified != nodetest.T3 {
		t.Fatalf("sending T2 (purged) and T3 (new): %+v", res)
	}
	ts, err := n.Store().TombstonesOf(ctx, []string{id})
	if err != nil || len(ts[id]) != 1 || ts[id][0].Whole || !slices.Equal(ts[id][0].Versions, []string{nodetest.T0, nodetest.T2}) || ts[id][0].Reason != "delete" {
		t.Fatalf("tombstone: %+v, %v; want T0 and T2 of instance 0, not whole", ts[id], err)
	}
	_ = store.AllInstances
}

// TestTAXIIDeleteRecallsVersions: a delete of some versions recalls exactly
// those: the notice to the partner that received both names only the
// version deleted, and the other version stays here.
func TestTAXIIDeleteRecallsVersions(t *testing.T) {
	ctx := context.Background()
	gbr, fra := nodetest.NewFedPair(t, "analysis")
	clr := gbr.Admin.User.Clearances
	_, releaserTok := nodetest.AddUser(t, gbr.N, users.UserSpec{Name: "rel", Role: node.RoleReleaser, Nationality: "GBR", Clearances: clr,
		Compartments: gbr.Admin.User.Compartments})
	l := nodetest.MustLabel(t, gbr.N, nodetest.OKBanner)
	id := nodetest.NewID("threat-actor")
	for _, m := range []string{nodetest.T0, nodetest.T1} {
		obj := nodetest.Actor(id, map[string]any{"modified": m})
		obj["object_marking_refs"] = []any{l.ID()}
		raw, err := json.Marshal(obj)
		if err != nil {
			t.Fatal(err)
		}
		nodetest.MustLand(t, gbr.N, gbr.Admin, nodetest.Bundle(gbr.N.Registry().MarkingDefinition(l), raw), "")
		nodetest.MustRelease(t, gbr.N, gbr.Admin, id, "fra")
	}
	nodetest.Eventually(t, "fra holds it", func() bool { return nodetest.Held(fra.N, id) })
	if got := answerOf(t, gbr.N, releaserTok, http.MethodDelete, id, "?match[version]="+url.QueryEscape(nodetest.T1)); !strings.HasPrefix(got, "200\n") {
		t.Fatalf("a releaser deleting T1: %q, want 200", got)
	}
	if vs := versionsOf(t, gbr.N, gbr.Admin, id); !slices.Equal(vs, []string{"0@" + nodetest.T0}) {
		t.Fatalf("gbr's versions after: %v, want T0", vs)
	}
	rs, err := gbr.N.Recalls.RecallStatus(ctx, gbr.Admin, store.RecallQuery{ObjectID: id})
	if err != nil || len(rs) != 1 || rs[0].Party != "fra" {
		t.Fatalf("recalls: %+v, %v; want one, to fra", rs, err)
	}
	var notice struct {
		Versions []string `json:"versions"`
	}
	if err := json.Unmarshal(rs[0].Notice, &notice); err != nil || !slices.Equal(notice.Versions, []string{nodetest.T1}) {
		t.Fatalf("the notice names versions %v (%v), want only T1, the version deleted", notice.Versions, err)
	}
}
