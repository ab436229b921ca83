package node

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/seal"
	"github.com/tearline/tearline/store"
)

// TestRotateKEKOverRewrittenRows is written from the side of someone who
// can write the database but holds no key: they rewrite one row's id and
// another's version, whose data keys then no longer open where the rows
// stand. A KEK rotation still completes for every other row (before, it
// failed for the whole node); the two rows are reported, stay absent, and
// nothing else is lost.
func TestRotateKEKOverRewrittenRows(t *testing.T) { onBackends(t, testRotateOverRewrittenRows) }

func testRotateOverRewrittenRows(t *testing.T, on string) {
	ctx := t.Context()
	f := newAccessFixture(t, 3, on)
	all := append(slices.Clone(f.secret), f.unclas...)
	raws := map[string][]byte{}
	for _, id := range all {
		o, err := f.n.Get(ctx, f.top, id)
		if err != nil {
			t.Fatal(err)
		}
		raws[id] = o.Raw
	}
	st := store.Base(f.n.st)
	dataKeys, err := st.DataKeys(ctx, store.DataKey{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	nodeKeys, err := st.NodeKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	oldKEK := f.n.Sealed().Keys().Current().ID()

	renamed, moved := f.secret[0], f.unclas[1]
	f.rawExec(`UPDATE objects SET id = ? WHERE id = ?`, renamedID, renamed)
	f.rawExec(`UPDATE objects SET modified_us = modified_us + 1000, modified = ? WHERE id = ?`, "2026-01-01T00:00:00.001Z", moved)
	f.reopen(t)

	newKEK, count, err := f.n.RotateKEK(ctx, "test")
	if err != nil {
		t.Fatalf("RotateKEK over two rewritten rows: %v", err)
	}
	if want := len(dataKeys) - 2 + len(nodeKeys); count != want {
		t.Errorf("RotateKEK re-wrapped %d keys, want %d (every data key but the two, and the node keys)", count, want)
	}
	evs := findEvents(auditLog(t, f.n.Store()), func(e audit.Event) bool { return e.Action == audit.ActionKeyRotate })
	var reported []string
	for _, e := range evs {
		if e.Decision == audit.Deny {
			reported = append(reported, e.Object)
		}
	}
	slices.Sort(reported)
	want := []string{renamedID, moved}
	slices.Sort(want)
	if !slices.Equal(reported, want) {
		t.Errorf("rotation reported %v, want %v (%+v)", reported, want, evs)
	}

	check := func() {
		t.Helper()
		for _, id := range all {
			o, err := f.n.Get(ctx, f.top, id)
			switch {
			case id == renamed || id == moved:
				if err == nil || !isNotFound(err) {
					t.Errorf("Get %s (rewritten) after the rotation: %v, want not found", id, err)
				}
			case err != nil || !bytes.Equal(o.Raw, raws[id]):
				t.Errorf("Get %s after the rotation: %v (content equal %v)", id, err, err == nil && bytes.Equal(o.Raw, raws[id]))
			}
		}
		if _, err := f.n.Get(ctx, f.top, renamedID); !isNotFound(err) {
			t.Errorf("Get %s (the id the rewritten row claims): %v, want not found", renamedID, err)
		}
		pg, err := f.n.List(ctx, f.top, ListOptions{Route: "objects", Limit: MaxPage})
		if err != nil {
			t.Fatalf("List after the rotation: %v", err)
		}
		if len(pg.Objects) != len(all)-2 {
			t.Errorf("List after the rotation: %d objects, want %d", len(pg.Objects), len(all)-2)
		}
	}
	check()
	f.reopen(t) // the old KEK is gone: the node opens with the new one alone
	if ids := f.n.Sealed().Keys().IDs(); len(ids) != 1 || ids[0] != newKEK {
		t.Fatalf("KEKs after reopening: %v, want [%s]", ids, newKEK)
	}
	check()
	// The two rows' keys are as they were, under the KEK that is gone.
	for _, id := range []string{renamedID, moved} {
		for _, v := range stored(t, f.n, id) {
			if by, err := seal.WrappedBy(v.Key); err != nil || !strings.EqualFold(by, oldKEK) {
				t.Errorf("data key of %s: wrapped by %s, %v; want the old KEK %s, untouched", id, by, err, oldKEK)
			}
		}
	}
}
