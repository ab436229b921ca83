package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"path/filepath"
	"testing"
	"time"

	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/store/sqlite"
)

// TestPutObjectsMatchesPutObject feeds the same random batches (resends,
// conflicts, revocations, duplicates inside a batch) to PutObjects on one
// store and to PutObject one by one on another, and compares every outcome
// and the stored rows.
func TestPutObjectsMatchesPutObject(t *testing.T) {
	ctx := context.Background()
	open := func(name string) *sqlite.Store {
		s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), name))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	batchStore, oneStore := open("batch.db"), open("one.db")
	var class int64
	if err := batchStore.Update(ctx, func(tx store.Tx) error { var err error; class, err = tx.AccessClass(ctx, []string{"l"}); return err }); err != nil {
		t.Fatal(err)
	}
	if err := oneStore.Update(ctx, func(tx store.Tx) error { _, err := tx.AccessClass(ctx, []string{"l"}); return err }); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewSource(7))
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	mk := func() *store.ObjectVersion {
		id := fmt.Sprintf("indicator--00000000-0000-4000-8000-%012d", rng.Intn(30))
		m := base.Add(time.Duration(rng.Intn(4)) * time.Second)
		return &store.ObjectVersion{ID: id, Type: "indicator", Modified: m.Format(time.RFC3339), ModifiedAt: m,
			Revoked: rng.Intn(10) == 0, Digest: fmt.Sprint(rng.Intn(2)), Raw: []byte(`{}`), Bindings: []byte(`[]`), Class: class,
			DateAdded: base}
	}
	for round := 0; round < 20; round++ {
		var vs, copies []*store.ObjectVersion
		for range 40 {
			v := mk()
			c := *v
			vs, copies = append(vs, v), append(copies, &c)
		}
		var created []bool
		var errs []error
		if err := batchStore.Update(ctx, func(tx store.Tx) error {
			var err error
			created, errs, err = tx.(interface {
				PutObjects(context.Context, []*store.ObjectVersion) ([]bool, []error, error)
			}).PutObjects(ctx, vs)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if err := oneStore.Update(ctx, func(tx store.Tx) error {
			for i, v := range copies {
				c, err := tx.PutObject(ctx, v)
				if c != created[i] || !sameErr(err, errs[i]) {
					t.Errorf("round %d object %d (%s %s): PutObject (%v, %v), PutObjects (%v, %v)", round, i, v.ID, v.Modified, c, err, created[i], errs[i])
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 30 {
		id := fmt.Sprintf("indicator--00000000-0000-4000-8000-%012d", i)
		a, err := batchStore.Versions(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		b, err := oneStore.Versions(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if len(a) != len(b) {
			t.Fatalf("%s: %d versions stored by PutObjects, %d by PutObject", id, len(a), len(b))
		}
		for j := range a {
			if a[j].Seq != b[j].Seq || a[j].Digest != b[j].Digest || a[j].Revoked != b[j].Revoked || !a[j].ModifiedAt.Equal(b[j].ModifiedAt) {
				t.Errorf("%s version %d differs: %+v vs %+v", id, j, a[j], b[j])
			}
		}
	}
}

func sameErr(a, b error) bool {
	switch {
	case a == nil || b == nil:
		return a == nil && b == nil
	case errors.Is(a, store.ErrConflict):
		return errors.Is(b, store.ErrConflict)
	case errors.Is(a, store.ErrRevoked):
		return errors.Is(b, store.ErrRevoked)
	}
	return false
}
