package taxiiview_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/nodetest"
	"github.com/tearline/tearline/node/taxiiview"
	"github.com/tearline/tearline/node/users"
	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/taxii"
)

// taxiiDelete sends DELETE for id to f's holdings collection with tok, as a
// stock client does, and returns the status.
func taxiiDelete(t *testing.T, f *nodetest.FedNode, tok, id string) int {
	t.Helper()
	h := taxii.New(f.N.TAXII, taxii.Options{Title: "test"})
	req := httptest.NewRequest(http.MethodDelete, taxii.Prefix+taxii.DefaultRoot+"/collections/"+f.N.TAXII.HoldingsID()+"/objects/"+id+"/", nil)
	req.Header.Set("Accept", taxii.MediaTypeTAXII)
	req.Header.Set("Authorization", "Bearer "+tok)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w.Code
}

// TestTAXIIDeleteRecalls: an object gbr released to fra, deleted over
// TAXII at gbr, is purged at gbr and recalled from fra, which purges it
// and acknowledges; its poster, an analyst, may not delete it once it was
// released (403), a releaser may (this node originated it).
func TestTAXIIDeleteRecalls(t *testing.T) {
	ctx := context.Background()
	gbr, fra := nodetest.NewFedPair(t, "analysis")
	clr := gbr.Admin.User.Clearances
	analyst, analystTok := nodetest.AddUser(t, gbr.N, users.UserSpec{Name: "poster", Role: node.RoleAnalyst, Nationality: "GBR", Clearances: clr,
		Compartments: gbr.Admin.User.Compartments})
	_, releaserTok := nodetest.AddUser(t, gbr.N, users.UserSpec{Name: "rel", Role: node.RoleReleaser, Nationality: "GBR", Clearances: clr,
		Compartments: gbr.Admin.User.Compartments})

	l := nodetest.MustLabel(t, gbr.N, nodetest.OKBanner)
	obj := nodetest.Actor(nodetest.NewID("threat-actor"), nil)
	obj["object_marking_refs"] = []any{l.ID()}
	id := obj["id"].(string)
	raw, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	nodetest.MustLand(t, gbr.N, analyst, nodetest.Bundle(gbr.N.Registry().MarkingDefinition(l), raw), "")
	nodetest.MustRelease(t, gbr.N, gbr.Admin, id, "fra")
	nodetest.Eventually(t, "fra holds it", func() bool { return nodetest.Held(fra.N, id) })

	if code := taxiiDelete(t, gbr, analystTok, id); code != http.StatusForbidden {
		t.Fatalf("its poster deleting a released object: %d, want 403", code)
	}
	if !nodetest.Held(gbr.N, id) {
		t.Fatal("purged by a refused delete")
	}
	if code := taxiiDelete(t, gbr, releaserTok, id); code != http.StatusOK {
		t.Fatalf("a releaser deleting what gbr originated: %d, want 200", code)
	}
	if nodetest.Held(gbr.N, id) {
		t.Fatal("gbr still holds the deleted object")
	}
	nodetest.Eventually(t, "fra purges it and acknowledges", func() bool {
		rs, err := gbr.N.Recalls.RecallStatus(ctx, gbr.Admin, store.RecallQuery{ObjectID: id})
		if err != nil {
			t.Fatal(err)
		}
		return len(rs) == 1 && rs[0].Party == "fra" && rs[0].State == store.RecallAcknowledged && !nodetest.Held(fra.N, id)
	})
	rs, _ := gbr.N.Recalls.RecallStatus(ctx, gbr.Admin, store.RecallQuery{ObjectID: id})
	if rs[0].Reason != "deleted over TAXII" || rs[0].By != "user:rel" {
		t.Fatalf("recall %+v", rs[0])
	}
	var accepted, refused []string
	size, err := gbr.N.Store().AuditSize(ctx)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := gbr.N.Store().AuditEntries(ctx, 0, size)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		ev, err := audit.Parse(e.Data)
		if err != nil {
			t.Fatal(err)
		}
		if ev.Action != audit.ActionDelete || ev.Object != id {
			continue
		}
		if ev.Decision == audit.Accept {
			accepted = append(accepted, ev.Actor+": "+ev.Reasons[0])
		} else {
			refused = append(refused, ev.Actor+": "+ev.Reasons[0])
		}
	}
	if !slices.Equal(accepted, []string{"user:rel: deleted over TAXII by rel"}) || !slices.Equal(refused, []string{"user:poster: released"}) {
		t.Fatalf("audited deletes: accepted %v, refused %v", accepted, refused)
	}
}

// TestLabelPlacesFollowChanges: a label item goes right before the first
// listed object bearing it, and the backend that remembers where (a
// serving node's) places it where a fresh one does, after what moves or
// removes that object: a later version, a purge.
func TestLabelPlacesFollowChanges(t *testing.T) {
	ctx := context.Background()
	n := nodetest.New(t, "gbr", "GBR")
	admin, _ := nodetest.AddUser(t, n, nodetest.AdminSpec())
	const banner = "NATO RESTRICTED"
	x, y := nodetest.NewID("threat-actor"), nodetest.NewID("threat-actor")
	nodetest.MustLand(t, n, admin, nodetest.Bundle(nodetest.SDO(x, nodetest.T0, nodetest.T0, nil)), banner)
	nodetest.MustLand(t, n, admin, nodetest.Bundle(nodetest.SDO(y, nodetest.T0, nodetest.T0, nil)), banner)
	l := nodetest.MustLabel(t, n, banner).ID()
	served := taxiiview.New(n.Node, n.Releases, n.Recalls) // remembers places across calls, as api's does
	place := func(b *taxiiview.TAXII) (label, next taxii.Item) {
		t.Helper()
		page, err := b.Objects(ctx, admin, n.TAXII.HoldingsID(), taxii.Query{Manifest: true, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		for i, it := range page.Items {
			if it.ID == l {
				if i+1 == len(page.Items) {
					t.Fatalf("label %s is the last item", l)
				}
				return it, page.Items[i+1]
			}
		}
		t.Fatalf("label %s is not an item", l)
		return
	}
	for _, step := range []struct {
		what  string
		do    func()
		first string
	}{
		{"at first", func() {}, x},
		{"x has a later version", func() {
			nodetest.MustLand(t, n, admin, nodetest.Bundle(nodetest.SDO(x, nodetest.T0, nodetest.T1, nil)), banner)
		}, y},
		{"y is purged", func() {
			if _, err := n.Purge(ctx, admin, node.PurgeTarget{ID: y, Reason: node.PurgeAdmin}); err != nil {
				t.Fatal(err)
			}
		}, x},
	} {
		step.do()
		lab, next := place(served)
		freshLab, freshNext := place(taxiiview.New(n.Node, n.Releases, n.Recalls))
		if next.ID != step.first || freshNext.ID != step.first {
			t.Fatalf("%s: the label precedes %s (fresh backend: %s), want %s", step.what, next.ID, freshNext.ID, step.first)
		}
		// Added a microsecond before the object it precedes.
		if !lab.DateAdded.Equal(freshLab.DateAdded) || !lab.DateAdded.Equal(next.DateAdded.Add(-time.Microsecond)) {
			t.Fatalf("%s: the label added %v (fresh backend: %v), the object it precedes %v", step.what, lab.DateAdded, freshLab.DateAdded, next.DateAdded)
		}
	}
}
