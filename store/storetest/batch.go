package storetest

import (
	"errors"
	"fmt"
	"math/rand"
	"testing"
	"time"

	"github.com/tearline/tearline/store"
)

// testPutObjectsMatchesPutObject feeds the same random batches (resends,
// conflicts, revocations, duplicates inside a batch, purged objects) to
// PutObjects on one store and to PutObject one by one on another, and
// compares every outcome and the stored rows: a batch must decide each
// version as if the versions before it in the batch were stored already.
// A backend without PutObjects has nothing to compare.
func testPutObjectsMatchesPutObject(t *testing.T, batchStore, oneStore store.Store) {
	ctx := t.Context()
	var class int64
	update(t, batchStore, func(tx store.Tx) error {
		if _, ok := tx.(store.BatchPutter); !ok {
			t.Skip("no PutObjects")
		}
		var err error
		class, err = tx.AccessClass(ctx, []string{"l"})
		return err
	})
	update(t, oneStore, func(tx store.Tx) error { _, err := tx.AccessClass(ctx, []string{"l"}); return err })
	rng := rand.New(rand.NewSource(7))
	id := func(n int) string { return fmt.Sprintf("indicator--00000000-0000-4000-8000-%012d", n) }
	mk := func() *store.ObjectVersion {
		m := base.Add(time.Duration(rng.Intn(4)) * time.Second)
		return &store.ObjectVersion{ID: id(rng.Intn(30)), Type: "indicator", Modified: m.Format(time.RFC3339), ModifiedAt: m,
			Revoked: rng.Intn(10) == 0, Digest: fmt.Sprint(rng.Intn(2)), Raw: []byte(`{}`), Bindings: []byte(`[]`), Class: class,
			DateAdded: base}
	}
	for round := range 20 {
		if round%7 == 6 {
			// Purge an object on both: later versions of it are refused.
			gone := id(rng.Intn(30))
			for _, s := range []store.Store{batchStore, oneStore} {
				update(t, s, func(tx store.Tx) error {
					_, err := tx.PurgeVersions(ctx, store.WholeObject(gone, base, "admin"))
					return err
				})
			}
		}
		var vs, copies []*store.ObjectVersion
		for range 40 {
			v := mk()
			c := *v
			vs, copies = append(vs, v), append(copies, &c)
		}
		var created []bool
		var errs []error
		update(t, batchStore, func(tx store.Tx) error {
			var err error
			created, errs, err = tx.(store.BatchPutter).PutObjects(ctx, vs)
			return err
		})
		update(t, oneStore, func(tx store.Tx) error {
			for i, v := range copies {
				c, err := tx.PutObject(ctx, v)
				if c != created[i] || !sameRefusal(err, errs[i]) {
					t.Errorf("round %d object %d (%s %s): PutObject (%v, %v), PutObjects (%v, %v)", round, i, v.ID, v.Modified, c, err, created[i], errs[i])
				}
			}
			return nil
		})
		for i, v := range vs {
			if created[i] && v.Seq == 0 {
				t.Errorf("round %d object %d: created without a seq", round, i)
			}
		}
	}
	for n := range 30 {
		a, err := batchStore.Versions(ctx, id(n))
		if err != nil {
			t.Fatal(err)
		}
		b, err := oneStore.Versions(ctx, id(n))
		if err != nil {
			t.Fatal(err)
		}
		if len(a) != len(b) {
			t.Fatalf("%s: %d versions stored by PutObjects, %d by PutObject", id(n), len(a), len(b))
		}
		for j := range a {
			if a[j].Digest != b[j].Digest || a[j].Revoked != b[j].Revoked || !a[j].ModifiedAt.Equal(b[j].ModifiedAt) {
				t.Errorf("%s version %d differs: %+v vs %+v", id(n), j, a[j], b[j])
			}
		}
	}
	// The latest-version marks agree too: the same listing on both.
	q := store.ListQuery{Classes: []int64{class}, IncludeRevoked: true, Limit: 1000}
	la, err := batchStore.List(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	lb, err := oneStore.List(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if len(la) != len(lb) {
		t.Fatalf("List: %d versions after PutObjects, %d after PutObject", len(la), len(lb))
	}
	seen := map[string]string{}
	for _, v := range la {
		seen[v.ID] = v.Modified + v.Digest
	}
	for _, v := range lb {
		if seen[v.ID] != v.Modified+v.Digest {
			t.Errorf("List: %s is %q after PutObject, %q after PutObjects", v.ID, v.Modified+v.Digest, seen[v.ID])
		}
	}
}

// sameRefusal reports whether a and b are both nil or the same refusal.
func sameRefusal(a, b error) bool {
	for _, e := range []error{store.ErrConflict, store.ErrRevoked, store.ErrPurged} {
		if errors.Is(a, e) {
			return errors.Is(b, e)
		}
	}
	return a == nil && b == nil
}
