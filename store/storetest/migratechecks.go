package storetest

import (
	"errors"
	"os"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/tearline/tearline/store"
)

// What both backends' migration tests check once the store is opened on
// the rows each wrote with its old schema, in its own SQL: the checks are
// written once, here, the rows in each backend's test.

// Ids the migration tests store under their old schemas.
const (
	MigID1 = "threat-actor--00000000-0000-4000-8000-000000000001"
	MigID2 = "threat-actor--00000000-0000-4000-8000-000000000002"
)

// MigrateRows is TEARLINE_MIGRATE_ROWS: how many rows a migration test
// adds to time its migration over (0: none, the test only checks).
func MigrateRows() int {
	n, _ := strconv.Atoi(os.Getenv("TEARLINE_MIGRATE_ROWS"))
	return n
}

// TimeMigration runs migrate, and logs how long it took when rows were
// added (what names them, e.g. "object rows").
func TimeMigration(t *testing.T, version, rows int, what string, migrate func() error) {
	t.Helper()
	start := time.Now()
	if err := migrate(); err != nil {
		t.Fatal(err)
	}
	if rows > 0 {
		t.Logf("migration %d over %d %s: %v", version, rows, what, time.Since(start))
	}
}

// putIn stores a version of id in instance inst, class 1.
func putIn(t *testing.T, s store.Store, id string, inst int64) error {
	t.Helper()
	return s.Update(t.Context(), func(tx store.Tx) error {
		_, err := tx.PutObject(t.Context(), &store.ObjectVersion{ID: id, Instance: inst, Type: "threat-actor", Modified: "m", ModifiedAt: time.UnixMicro(5),
			Digest: "x", Raw: []byte("{}"), Bindings: []byte("[]"), Class: 1})
		return err
	})
}

// CheckInstancesMigration checks a store after instances (migration 14),
// opened on MigID1 with two versions (modified at 1,000 and 2,000 µs,
// seqs 1 and 2, class 1) and an older tombstone of MigID2: both versions
// are of the default instance and the listing holds the latest alone; the
// tombstone, whose classes are unknown, is whole, of instance 0, and
// keeps refusing its id.
func CheckInstancesMigration(t *testing.T, s store.Store) {
	t.Helper()
	ctx := t.Context()
	vs, err := s.Versions(ctx, MigID1)
	if err != nil || len(vs) != 2 || vs[0].Instance != 0 || vs[1].Instance != 0 {
		t.Fatalf("Versions after the migration: %+v, %v", vs, err)
	}
	page, err := s.List(ctx, store.ListQuery{Types: []string{"threat-actor"}, Classes: []int64{1}, Limit: 10})
	if err != nil || len(page) != 1 || page[0].Seq != 2 {
		t.Fatalf("List after the migration: %+v, %v; want the latest version only", page, err)
	}
	ts, err := s.TombstonesOf(ctx, []string{MigID2})
	if err != nil || len(ts[MigID2]) != 1 || ts[MigID2][0].Classes != nil || !ts[MigID2][0].Whole || ts[MigID2][0].Instance != 0 {
		t.Fatalf("old tombstone after the migrations: %+v, %v; want one, instance 0, whole, no classes", ts, err)
	}
	if err := putIn(t, s, MigID2, 0); !errors.Is(err, store.ErrPurged) {
		t.Fatalf("put into the purged id after the migration: %v, want ErrPurged", err)
	}
}

// CheckTombstonesByInstanceMigration checks a store after tombstones by
// instance (migration 20), opened on two tombstones per id: MigID1
// (versions ["a"], purged at 1 µs, admin, classes 1, one instance) and
// MigID2 (["b","c"], 2 µs, recall, classes 1 and 2, two instances). Each
// becomes one tombstone per instance, whole, with the old row's classes
// and versions; the purged id stays refused in each instance it counted
// and a new instance above is stored.
func CheckTombstonesByInstanceMigration(t *testing.T, s store.Store) {
	t.Helper()
	one, two := MigID1, MigID2
	ts, err := s.TombstonesOf(t.Context(), []string{one, two})
	if err != nil {
		t.Fatal(err)
	}
	if got := ts[one]; len(got) != 1 || got[0].Instance != 0 || !got[0].Whole || got[0].Reason != "admin" || !slices.Equal(got[0].Classes, []int64{1}) {
		t.Errorf("tombstones of %s: %+v", one, got)
	}
	if got := ts[two]; len(got) != 2 || got[1].Instance != 1 || !got[0].Whole || !got[1].Whole || !slices.Equal(got[1].Versions, []string{"b", "c"}) ||
		!slices.Equal(got[1].Classes, []int64{1, 2}) || got[1].Reason != "recall" {
		t.Errorf("tombstones of %s: %+v", two, got)
	}
	for _, inst := range []int64{0, 1} {
		if err := putIn(t, s, two, inst); !errors.Is(err, store.ErrPurged) {
			t.Errorf("put into instance %d of the purged id: %v, want ErrPurged", inst, err)
		}
	}
	if err := putIn(t, s, two, 2); err != nil {
		t.Errorf("put into a new instance: %v", err)
	}
}

// CheckRetentionByVersionMigration checks a store after retention by
// version (migration 21), opened on MigID1 with versions at 1,000 µs
// (instance 0) and 2,000 µs (instance 1), retained until 5,000 µs by id,
// and MigID2 without retention: each version of MigID1 is due at 5,000.
func CheckRetentionByVersionMigration(t *testing.T, s store.Store) {
	t.Helper()
	got, err := s.Expired(t.Context(), time.UnixMicro(6000), 10)
	if err != nil {
		t.Fatal(err)
	}
	want := []store.Retained{{ID: MigID1, Instance: 0, ModifiedAt: time.UnixMicro(1000).UTC(), Until: time.UnixMicro(5000).UTC()},
		{ID: MigID1, Instance: 1, ModifiedAt: time.UnixMicro(2000).UTC(), Until: time.UnixMicro(5000).UTC()}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Expired after the migration: %+v, want %+v", got, want)
	}
}
