package node

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/taxii"
)

// taxiiDelete sends DELETE for id to f's holdings collection with tok, as a
// stock client does, and returns the status.
func taxiiDelete(t *testing.T, f *fedNode, tok, id string) int {
	t.Helper()
	h := taxii.New(f.n.TAXII(), taxii.Options{Title: "test"})
	req := httptest.NewRequest(http.MethodDelete, taxii.Prefix+taxii.DefaultRoot+"/collections/"+f.n.HoldingsID()+"/objects/"+id+"/", nil)
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
	gbr, fra := newFedPair(t, "analysis")
	clr := gbr.admin.User.Clearances
	analyst, analystTok := addUser(t, gbr.n, UserSpec{Name: "poster", Role: RoleAnalyst, Nationality: "GBR", Clearances: clr,
		Compartments: gbr.admin.User.Compartments})
	_, releaserTok := addUser(t, gbr.n, UserSpec{Name: "rel", Role: RoleReleaser, Nationality: "GBR", Clearances: clr,
		Compartments: gbr.admin.User.Compartments})

	l := mustLabel(t, gbr.n, okBanner)
	obj := actor(newID("threat-actor"), nil)
	obj["object_marking_refs"] = []any{l.ID()}
	id := obj["id"].(string)
	raw, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	mustLand(t, gbr.n, analyst, bundle(gbr.n.reg.MarkingDefinition(l), raw), "")
	mustRelease(t, gbr.n, gbr.admin, id, "fra")
	eventually(t, "fra holds it", func() bool { return held(fra.n, id) })

	if code := taxiiDelete(t, gbr, analystTok, id); code != http.StatusForbidden {
		t.Fatalf("its poster deleting a released object: %d, want 403", code)
	}
	if !held(gbr.n, id) {
		t.Fatal("purged by a refused delete")
	}
	if code := taxiiDelete(t, gbr, releaserTok, id); code != http.StatusOK {
		t.Fatalf("a releaser deleting what gbr originated: %d, want 200", code)
	}
	if held(gbr.n, id) {
		t.Fatal("gbr still holds the deleted object")
	}
	eventually(t, "fra purges it and acknowledges", func() bool {
		rs, err := gbr.n.RecallStatus(ctx, gbr.admin, store.RecallQuery{ObjectID: id})
		if err != nil {
			t.Fatal(err)
		}
		return len(rs) == 1 && rs[0].Party == "fra" && rs[0].State == store.RecallAcknowledged && !held(fra.n, id)
	})
	rs, _ := gbr.n.RecallStatus(ctx, gbr.admin, store.RecallQuery{ObjectID: id})
	if rs[0].Reason != "deleted over TAXII" || rs[0].By != "user:rel" {
		t.Fatalf("recall %+v", rs[0])
	}
	var accepted, refused []string
	size, err := gbr.n.st.AuditSize(ctx)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := gbr.n.st.AuditEntries(ctx, 0, size)
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
	n := newTestNode(t, "gbr", "GBR")
	admin, _ := addUser(t, n, adminSpec())
	const banner = "NATO RESTRICTED"
	x, y := newID("threat-actor"), newID("threat-actor")
	mustLand(t, n, admin, bundle(sdo(x, t0, t0, nil)), banner)
	mustLand(t, n, admin, bundle(sdo(y, t0, t0, nil)), banner)
	l := mustLabel(t, n, banner).ID()
	served := n.TAXII() // remembers places across calls, as api's does
	place := func(b *TAXII) (label, next taxii.Item) {
		t.Helper()
		page, err := b.Objects(ctx, admin, n.HoldingsID(), taxii.Query{Manifest: true, Limit: 1000})
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
		{"x has a later version", func() { mustLand(t, n, admin, bundle(sdo(x, t0, t1, nil)), banner) }, y},
		{"y is purged", func() {
			if _, err := n.Purge(ctx, admin, y, PurgeAdmin); err != nil {
				t.Fatal(err)
			}
		}, x},
	} {
		step.do()
		lab, next := place(served)
		freshLab, freshNext := place(n.TAXII())
		if next.ID != step.first || freshNext.ID != step.first {
			t.Fatalf("%s: the label precedes %s (fresh backend: %s), want %s", step.what, next.ID, freshNext.ID, step.first)
		}
		// Added a microsecond before the object it precedes.
		if !lab.DateAdded.Equal(freshLab.DateAdded) || !lab.DateAdded.Equal(next.DateAdded.Add(-time.Microsecond)) {
			t.Fatalf("%s: the label added %v (fresh backend: %v), the object it precedes %v", step.what, lab.DateAdded, freshLab.DateAdded, next.DateAdded)
		}
	}
}
