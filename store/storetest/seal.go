package storetest

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/tearline/tearline/store"
)

// sealTests cover what encryption at rest needs from a store: data keys
// kept beside their versions, purge (crypto-shred) with tombstones, and
// retention.
var sealTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"DataKeys", testDataKeys},
	{"DataKeysBatch", testDataKeysBatch},
	{"Purge", testPurge},
	{"PurgeUnknown", testPurgeUnknown},
	{"Retention", testRetention},
}

// sealed returns v with an opaque data key: the store must keep it as bytes.
func sealed(v store.ObjectVersion, key string) store.ObjectVersion {
	v.Key = []byte("wrapped:" + key)
	return v
}

func testDataKeys(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := class(t, s, "l1")
	a := objectID("report", 1)
	v1 := sealed(version(a, "report", 0, c, false, "one"), "a1")
	v2 := sealed(version(a, "report", 10, c, false, "two"), "a2")
	plain := version(objectID("report", 2), "report", 0, c, false, "plain")
	for _, v := range []*store.ObjectVersion{&v1, &v2, &plain} {
		mustPut(t, s, v)
	}
	// Reads return each version with its own key; a plain one has none.
	vs, err := s.Versions(ctx, a)
	if err != nil || len(vs) != 2 {
		t.Fatalf("Versions = %d, %v", len(vs), err)
	}
	for i, want := range []store.ObjectVersion{v1, v2} {
		if d := sameVersion(vs[i], want); d != "" {
			t.Errorf("Versions[%d]: %s", i, d)
		}
	}
	got := listAll(t, s, store.ListQuery{Classes: []int64{c}, Limit: 1})
	if len(got) != 2 || sameVersion(got[0], v2) != "" || sameVersion(got[1], plain) != "" {
		t.Errorf("List = %+v", got)
	}
	// A resend carries a fresh key but is the same version: the stored key
	// stays.
	again := sealed(version(a, "report", 0, c, false, "one"), "other")
	if ins, err := put(t, s, &again); err != nil || ins {
		t.Fatalf("resend = %v, %v", ins, err)
	}
	keys, err := s.DataKeys(ctx, store.DataKey{}, 0)
	if err != nil || len(keys) != 2 || string(keys[0].Wrapped) != "wrapped:a1" || string(keys[1].Wrapped) != "wrapped:a2" {
		t.Fatalf("DataKeys = %+v, %v", keys, err)
	}
	// Paging by seq.
	page, err := s.DataKeys(ctx, keys[0], 10)
	if err != nil || len(page) != 1 || !page[0].ModifiedAt.Equal(v2.ModifiedAt) {
		t.Fatalf("DataKeys after first = %+v, %v", page, err)
	}
	// UpdateDataKey re-wraps one key and nothing else.
	update(t, s, func(tx store.Tx) error {
		return tx.UpdateDataKey(ctx, store.DataKey{ID: a, ModifiedAt: v1.ModifiedAt, Wrapped: []byte("rewrapped")})
	})
	vs, _ = s.Versions(ctx, a)
	if string(vs[0].Key) != "rewrapped" || string(vs[1].Key) != "wrapped:a2" || string(vs[0].Raw) != string(v1.Raw) {
		t.Errorf("after UpdateDataKey: keys %q, %q", vs[0].Key, vs[1].Key)
	}
	err = s.Update(ctx, func(tx store.Tx) error {
		return tx.UpdateDataKey(ctx, store.DataKey{ID: plain.ID, ModifiedAt: plain.ModifiedAt, Wrapped: []byte("x")})
	})
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdateDataKey of a plain version = %v, want ErrNotFound", err)
	}
}

// testDataKeysBatch stores sealed versions through the backend's batch
// write, where it has one.
func testDataKeysBatch(t *testing.T, s store.Store) {
	c := class(t, s, "l1")
	var vs []*store.ObjectVersion
	for i := range 300 {
		v := version(objectID("indicator", i), "indicator", 0, c, false, "batch")
		if i%3 != 0 {
			v = sealed(v, objectID("indicator", i))
		}
		vs = append(vs, &v)
	}
	update(t, s, func(tx store.Tx) error {
		if bp, ok := tx.(store.BatchPutter); ok {
			_, _, err := bp.PutObjects(t.Context(), vs)
			return err
		}
		for _, v := range vs {
			if _, err := tx.PutObject(t.Context(), v); err != nil {
				return err
			}
		}
		return nil
	})
	got := listAll(t, s, store.ListQuery{Classes: []int64{c}, Limit: 97})
	if len(got) != len(vs) {
		t.Fatalf("List = %d versions, want %d", len(got), len(vs))
	}
	for i, v := range got {
		if d := sameVersion(v, *vs[i]); d != "" {
			t.Fatalf("List[%d]: %s", i, d)
		}
	}
}

func testPurge(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := class(t, s, "l1")
	a, b := objectID("report", 1), objectID("report", 2)
	va1 := sealed(version(a, "report", 0, c, false, "one"), "a1")
	va2 := sealed(version(a, "report", 10, c, false, "two"), "a2")
	vb := sealed(version(b, "report", 0, c, false, "b"), "b")
	for _, v := range []*store.ObjectVersion{&va1, &va2, &vb} {
		mustPut(t, s, v)
	}
	at := base.Add(48 * time.Hour)
	var versions []string
	update(t, s, func(tx store.Tx) error {
		ts, err := tx.PurgeVersions(ctx, store.WholeObject(a, at, "recall"))
		if err != nil {
			return err
		}
		versions = store.PurgedVersions(ts)
		// Inside the transaction the object is gone already.
		if vs, err := tx.Versions(ctx, a); err != nil || len(vs) != 0 {
			t.Errorf("tx.Versions after purge = %d, %v", len(vs), err)
		}
		return nil
	})
	if !slices.Equal(versions, []string{va1.Modified, va2.Modified}) {
		t.Errorf("PurgeVersions = %v", versions)
	}
	if vs, err := s.Versions(ctx, a); err != nil || len(vs) != 0 {
		t.Errorf("Versions after purge = %d, %v", len(vs), err)
	}
	if got := listAll(t, s, store.ListQuery{Classes: []int64{c}, IncludeRevoked: true}); len(got) != 1 || got[0].ID != b {
		t.Errorf("List after purge = %v", ids(got))
	}
	keys, err := s.DataKeys(ctx, store.DataKey{}, 0)
	if err != nil || len(keys) != 1 || keys[0].ID != b {
		t.Errorf("DataKeys after purge = %+v, %v", keys, err)
	}
	ts, err := s.Tombstones(ctx)
	want := store.Tombstone{ID: a, Versions: versions, PurgedAt: at, Reason: "recall"}
	if err != nil || len(ts) != 1 || ts[0].ID != want.ID || !slices.Equal(ts[0].Versions, want.Versions) || !ts[0].PurgedAt.Equal(at) || ts[0].Reason != want.Reason {
		t.Fatalf("Tombstones = %+v, %v; want [%+v]", ts, err, want)
	}
	// A purged object never comes back: not the same version, not a new one.
	for _, v := range []store.ObjectVersion{va1, sealed(version(a, "report", 20, c, false, "three"), "a3")} {
		if _, err := put(t, s, &v); !errors.Is(err, store.ErrPurged) {
			t.Errorf("PutObject of purged %s @ %s = %v, want ErrPurged", v.ID, v.Modified, err)
		}
	}
	// Purging again keeps the first tombstone.
	update(t, s, func(tx store.Tx) error {
		v, err := tx.PurgeVersions(ctx, store.WholeObject(a, at.Add(time.Hour), "admin"))
		if err == nil && len(v) != 0 {
			t.Errorf("second purge deleted %v", v)
		}
		return err
	})
	if ts, _ := s.Tombstones(ctx); len(ts) != 1 || ts[0].Reason != "recall" {
		t.Errorf("Tombstones after a second purge = %+v", ts)
	}
	if err := s.Scrub(ctx); err != nil {
		t.Errorf("Scrub: %v", err)
	}
}

// testPurgeUnknown: purging an id with nothing stored records the tombstone
// (a restore carrying its shred journal forward), and it then refuses the id.
func testPurgeUnknown(t *testing.T, s store.Store) {
	ctx := t.Context()
	id := objectID("report", 9)
	update(t, s, func(tx store.Tx) error {
		v, err := tx.PurgeVersions(ctx, store.WholeObject(id, base, "admin"))
		if err == nil && len(v) != 0 {
			t.Errorf("PurgeVersions of nothing = %v", v)
		}
		return err
	})
	v := version(id, "report", 0, class(t, s, "l1"), false, "late")
	if _, err := put(t, s, &v); !errors.Is(err, store.ErrPurged) {
		t.Errorf("PutObject after a journal-only purge = %v, want ErrPurged", err)
	}
}

// testRetention: a retention time per version (the earliest asked for
// stays); a purge of a version clears its time, and a time of a version
// not stored is cleared by a purge naming it without a tombstone.
func testRetention(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := class(t, s, "l1")
	a, b, gone := objectID("report", 1), objectID("report", 2), objectID("report", 3)
	a0, a10, b0 := version(a, "report", 0, c, false, "a0"), version(a, "report", 10, c, false, "a10"), version(b, "report", 0, c, false, "b0")
	for _, v := range []*store.ObjectVersion{&a0, &a10, &b0} {
		mustPut(t, s, v)
	}
	ret := func(v store.ObjectVersion, d time.Duration) store.Retained {
		return store.Retained{ID: v.ID, Instance: v.Instance, ModifiedAt: v.ModifiedAt, Until: base.Add(d)}
	}
	update(t, s, func(tx store.Tx) error {
		for _, r := range []store.Retained{ret(a0, 2*time.Hour), ret(a0, time.Hour), ret(a0, 3*time.Hour), ret(a10, 5*time.Hour), ret(b0, 90*time.Minute),
			{ID: gone, ModifiedAt: at(0), Until: base}} {
			if err := tx.SetRetention(ctx, r); err != nil {
				return err
			}
		}
		return nil
	})
	key := func(rs []store.Retained) []string {
		var out []string
		for _, r := range rs {
			out = append(out, fmt.Sprintf("%s@%d@%s@%s", r.ID, r.Instance, r.ModifiedAt.Format(time.RFC3339Nano), r.Until.Sub(base)))
		}
		return out
	}
	expired := func(now time.Duration) []string {
		t.Helper()
		got, err := s.Expired(ctx, base.Add(now), 10)
		if err != nil {
			t.Fatal(err)
		}
		return key(got)
	}
	if got, want := expired(0), key([]store.Retained{{ID: gone, ModifiedAt: at(0), Until: base}}); !slices.Equal(got, want) {
		t.Errorf("Expired(0) = %v, want %v", got, want)
	}
	if got, want := expired(time.Hour), key([]store.Retained{{ID: gone, ModifiedAt: at(0), Until: base}, ret(a0, time.Hour)}); !slices.Equal(got, want) {
		t.Errorf("Expired(1h) = %v, want %v (the earliest time stays)", got, want)
	}
	// Purging the version not stored, by name: its time goes, and no
	// tombstone is kept for it.
	update(t, s, func(tx store.Tx) error {
		_, err := tx.PurgeVersions(ctx, store.Purge{ID: gone, Versions: []time.Time{at(0)}, PurgedAt: base, Reason: "retention"})
		return err
	})
	if ts, err := s.TombstonesOf(ctx, []string{gone}); err != nil || len(ts) != 0 {
		t.Errorf("tombstones of a retention time's id never stored: %+v, %v", ts, err)
	}
	// Purging a0: its time goes; a10's stays.
	update(t, s, func(tx store.Tx) error {
		_, err := tx.PurgeVersions(ctx, store.Purge{ID: a, Versions: []time.Time{a0.ModifiedAt}, PurgedAt: base, Reason: "retention"})
		return err
	})
	if got, want := expired(6*time.Hour), key([]store.Retained{ret(b0, 90*time.Minute), ret(a10, 5*time.Hour)}); !slices.Equal(got, want) {
		t.Errorf("Expired(6h) after purging a0 = %v, want %v", got, want)
	}
	update(t, s, func(tx store.Tx) error {
		_, err := tx.PurgeVersions(ctx, store.WholeObject(a, base, "retention"))
		return err
	})
	if got, want := expired(6*time.Hour), key([]store.Retained{ret(b0, 90*time.Minute)}); !slices.Equal(got, want) {
		t.Errorf("Expired after purging %s = %v, want %v", a, got, want)
	}
}
