// Package purgetest is the part of the store conformance suite (package
// storetest, which runs it) for purges by instance and by version
// (store.PurgeWriter) and the tombstones they keep.
package purgetest

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/store/storetest/internal/suite"
)

// Tests are the purge conformance tests.
var Tests = []suite.Test{
	{Name: "PurgeEveryInstance", Fn: testPurgeEveryInstance},
	{Name: "PurgeOneInstance", Fn: testPurgeOneInstance},
	{Name: "PurgeVersions", Fn: testPurgeVersions},
	{Name: "PurgeVersionsNotStored", Fn: testPurgeVersionsNotStored},
}

// version is version ms of id in instance inst, in class.
func version(id string, inst int64, ms int, class int64, note string) *store.ObjectVersion {
	mod := suite.At(ms)
	modified := mod.Format("2006-01-02T15:04:05.000Z")
	raw := fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":%q,"created":"2025-03-01T12:00:00.000Z","modified":%q,"x_note":%q}`, id, modified, note)
	sum := sha256.Sum256([]byte(raw))
	return &store.ObjectVersion{ID: id, Instance: inst, Type: "indicator", Modified: modified, ModifiedAt: mod, Created: "2025-03-01T12:00:00.000Z",
		Digest: hex.EncodeToString(sum[:]), Raw: []byte(raw), Key: []byte("key:" + note), Bindings: []byte(`[]`), Class: class,
		DateAdded: suite.At(100000 + ms), Originator: "gbr"}
}

func put(t *testing.T, s store.Store, v *store.ObjectVersion) error {
	t.Helper()
	return s.Update(t.Context(), func(tx store.Tx) error {
		_, err := tx.PutObject(t.Context(), v)
		return err
	})
}

func mustPut(t *testing.T, s store.Store, vs ...*store.ObjectVersion) {
	t.Helper()
	for _, v := range vs {
		if err := put(t, s, v); err != nil {
			t.Fatalf("PutObject(%s instance %d @ %s): %v", v.ID, v.Instance, v.Modified, err)
		}
	}
}

func class(t *testing.T, s store.Store, label string) int64 {
	t.Helper()
	var c int64
	suite.Update(t, s, func(tx store.Tx) error {
		var err error
		c, err = tx.AccessClass(t.Context(), []string{label})
		return err
	})
	return c
}

func purge(t *testing.T, s store.Store, p store.Purge) []store.Tombstone {
	t.Helper()
	var out []store.Tombstone
	suite.Update(t, s, func(tx store.Tx) error {
		var err error
		out, err = tx.PurgeVersions(t.Context(), p)
		return err
	})
	return out
}

// held returns "instance@modified" of every stored version of id.
func held(t *testing.T, s store.Store, id string) []string {
	t.Helper()
	vs, err := s.Versions(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, v := range vs {
		out = append(out, fmt.Sprintf("%d@%s", v.Instance, v.Modified))
	}
	slices.Sort(out)
	return out
}

// listed returns "instance@modified" of what a listing over classes holds
// of id: the latest version of each instance.
func listed(t *testing.T, s store.Store, id string, classes ...int64) []string {
	t.Helper()
	vs, err := s.List(t.Context(), store.ListQuery{Classes: classes, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, v := range vs {
		if v.ID == id {
			out = append(out, fmt.Sprintf("%d@%s", v.Instance, v.Modified))
		}
	}
	slices.Sort(out)
	return out
}

func tombstones(t *testing.T, s store.Store, id string) []store.Tombstone {
	t.Helper()
	ts, err := s.TombstonesOf(t.Context(), []string{id})
	if err != nil {
		t.Fatal(err)
	}
	return ts[id]
}

// A purge of every instance keeps a whole tombstone per instance, with
// that instance's classes; every version submitted into a purged instance
// is refused, and an instance numbered above them is new.
func testPurgeEveryInstance(t *testing.T, s store.Store) {
	high, low := class(t, s, "label-high"), class(t, s, "label-low")
	id := suite.ObjectID("indicator", 1)
	mustPut(t, s, version(id, 0, 0, high, "high"), version(id, 1, 0, low, "low"))
	got := purge(t, s, store.WholeObject(id, suite.At(5), "admin"))
	if len(got) != 2 || got[0].Instance != 0 || got[1].Instance != 1 || !got[0].Whole || !slices.Equal(got[0].Classes, []int64{high}) ||
		!slices.Equal(got[1].Classes, []int64{low}) || len(got[0].Versions) != 1 {
		t.Fatalf("PurgeVersions = %+v, want instances 0 (high) and 1 (low), whole, one version each", got)
	}
	if h := held(t, s, id); len(h) != 0 {
		t.Errorf("versions after the purge: %v", h)
	}
	ts := tombstones(t, s, id)
	if len(ts) != 2 || !ts[0].Whole || !ts[1].Whole || ts[0].Reason != "admin" || !ts[0].PurgedAt.Equal(suite.At(5)) {
		t.Fatalf("tombstones = %+v, want two whole ones", ts)
	}
	for _, inst := range []int64{0, 1} {
		if err := put(t, s, version(id, inst, 50, low, "again")); !errors.Is(err, store.ErrPurged) {
			t.Errorf("a new version into purged instance %d = %v, want ErrPurged", inst, err)
		}
	}
	mustPut(t, s, version(id, 2, 50, low, "a new instance"))
	// Purging again keeps the first tombstones' time and reason.
	purge(t, s, store.WholeObject(id, suite.At(6), "retention"))
	ts = tombstones(t, s, id)
	if len(ts) != 3 || ts[0].Reason != "admin" || ts[2].Reason != "retention" || !ts[2].Whole {
		t.Errorf("tombstones after a second purge = %+v, want instances 0 and 1 as before and 2 whole (retention)", ts)
	}
}

// A purge of one instance leaves the others as they were: their versions,
// listing and submissions.
func testPurgeOneInstance(t *testing.T, s store.Store) {
	high, low := class(t, s, "label-high"), class(t, s, "label-low")
	id := suite.ObjectID("indicator", 1)
	mustPut(t, s, version(id, 0, 0, high, "high"), version(id, 0, 10, high, "high 2"), version(id, 1, 5, low, "low"))
	got := purge(t, s, store.Purge{ID: id, Instance: 1, PurgedAt: suite.At(20), Reason: "delete"})
	if len(got) != 1 || got[0].Instance != 1 || !slices.Equal(got[0].Versions, []string{"2025-03-01T12:00:00.005Z"}) {
		t.Fatalf("PurgeVersions(instance 1) = %+v", got)
	}
	if h, want := held(t, s, id), []string{"0@2025-03-01T12:00:00.000Z", "0@2025-03-01T12:00:00.010Z"}; !slices.Equal(h, want) {
		t.Errorf("versions after purging instance 1 = %v, want %v", h, want)
	}
	if l, want := listed(t, s, id, high, low), []string{"0@2025-03-01T12:00:00.010Z"}; !slices.Equal(l, want) {
		t.Errorf("listing = %v, want %v", l, want)
	}
	ts := tombstones(t, s, id)
	if len(ts) != 1 || ts[0].Instance != 1 || !ts[0].Whole || !slices.Equal(ts[0].Classes, []int64{low}) {
		t.Fatalf("tombstones = %+v, want instance 1 only, whole, class low", ts)
	}
	mustPut(t, s, version(id, 0, 30, high, "high 3"))
	if err := put(t, s, version(id, 1, 30, low, "low again")); !errors.Is(err, store.ErrPurged) {
		t.Errorf("into purged instance 1 = %v, want ErrPurged", err)
	}
	keys, err := s.DataKeys(t.Context(), store.DataKey{}, 100)
	if err != nil || len(keys) != 3 {
		t.Errorf("data keys after purging instance 1: %d, %v; want the 3 of instance 0", len(keys), err)
	}
}

// A purge of some versions of an instance leaves its other versions: the
// latest left is listed again, the purged versions are refused when
// submitted again and new ones are stored; purging the last version left
// makes the tombstone whole.
func testPurgeVersions(t *testing.T, s store.Store) {
	c := class(t, s, "label")
	id := suite.ObjectID("indicator", 1)
	v1, v2, v3 := version(id, 0, 0, c, "one"), version(id, 0, 10, c, "two"), version(id, 0, 20, c, "three")
	other := version(id, 1, 20, c, "other instance")
	mustPut(t, s, v1, v2, v3, other)
	got := purge(t, s, store.Purge{ID: id, Instance: 0, Versions: []time.Time{v3.ModifiedAt, v1.ModifiedAt}, PurgedAt: suite.At(30), Reason: "delete"})
	if len(got) != 1 || !slices.Equal(got[0].Versions, []string{v1.Modified, v3.Modified}) || got[0].Whole {
		t.Fatalf("PurgeVersions(v1, v3) = %+v, want v1 and v3 of instance 0, not whole", got)
	}
	if h, want := held(t, s, id), []string{"0@" + v2.Modified, "1@" + other.Modified}; !slices.Equal(h, want) {
		t.Errorf("versions = %v, want %v", h, want)
	}
	// v2 is the latest of instance 0 again.
	if l, want := listed(t, s, id, c), []string{"0@" + v2.Modified, "1@" + other.Modified}; !slices.Equal(l, want) {
		t.Errorf("listing = %v, want %v", l, want)
	}
	if n, err := s.Count(t.Context(), store.ListQuery{Classes: []int64{c}}); err != nil || n != 2 {
		t.Errorf("Count = %d, %v; want 2", n, err)
	}
	for _, v := range []*store.ObjectVersion{v1, v3} {
		if err := put(t, s, version(id, 0, int(v.ModifiedAt.Sub(suite.Base)/time.Millisecond), c, "again")); !errors.Is(err, store.ErrPurged) {
			t.Errorf("purged version %s again = %v, want ErrPurged", v.Modified, err)
		}
	}
	v4 := version(id, 0, 40, c, "four")
	mustPut(t, s, v4)
	if l, want := listed(t, s, id, c), []string{"0@" + v4.Modified, "1@" + other.Modified}; !slices.Equal(l, want) {
		t.Errorf("listing after a new version = %v, want %v", l, want)
	}
	ts := tombstones(t, s, id)
	if len(ts) != 1 || ts[0].Whole || len(ts[0].VersionsAt) != 2 || !slices.Equal(ts[0].Classes, []int64{c}) {
		t.Fatalf("tombstones = %+v, want instance 0's, two versions, not whole", ts)
	}
	// The rest of the instance: the tombstone keeps every version and
	// becomes whole; the first purge's time and reason stay.
	got = purge(t, s, store.Purge{ID: id, Instance: 0, Versions: []time.Time{v2.ModifiedAt, v4.ModifiedAt}, PurgedAt: suite.At(50), Reason: "retention"})
	if len(got) != 1 || !got[0].Whole || len(got[0].Versions) != 2 {
		t.Fatalf("PurgeVersions(the rest) = %+v, want two versions, whole", got)
	}
	ts = tombstones(t, s, id)
	if len(ts) != 1 || !ts[0].Whole || len(ts[0].Versions) != 4 || ts[0].Reason != "delete" || !ts[0].PurgedAt.Equal(suite.At(30)) {
		t.Fatalf("tombstones = %+v, want one whole, four versions, reason delete", ts)
	}
	if err := put(t, s, version(id, 0, 60, c, "five")); !errors.Is(err, store.ErrPurged) {
		t.Errorf("a new version after the last one was purged = %v, want ErrPurged", err)
	}
	if h, want := held(t, s, id), []string{"1@" + other.Modified}; !slices.Equal(h, want) {
		t.Errorf("versions = %v, want %v", h, want)
	}
	// Naming versions that match nothing changes nothing.
	if got := purge(t, s, store.Purge{ID: id, Instance: 1, Versions: []time.Time{}, PurgedAt: suite.At(70), Reason: "admin"}); len(got) != 0 {
		t.Errorf("PurgeVersions of no version = %+v", got)
	}
	if ts := tombstones(t, s, id); len(ts) != 1 {
		t.Errorf("tombstones after purging no version = %+v", ts)
	}
}

// Versions named but not stored are recorded when the purge says so (a
// restore replaying its journal into an older database), and refused
// later; the instance's other versions stay.
func testPurgeVersionsNotStored(t *testing.T, s store.Store) {
	c := class(t, s, "label")
	id := suite.ObjectID("indicator", 1)
	v1 := version(id, 0, 0, c, "one")
	mustPut(t, s, v1)
	later := suite.At(10)
	if got := purge(t, s, store.Purge{ID: id, Instance: 0, Versions: []time.Time{later}, PurgedAt: suite.At(20), Reason: "restore", Record: true}); len(got) != 0 {
		t.Errorf("PurgeVersions of a version not stored = %+v, want nothing deleted", got)
	}
	if h := held(t, s, id); len(h) != 1 {
		t.Errorf("versions = %v, want v1", h)
	}
	if err := put(t, s, version(id, 0, 10, c, "late")); !errors.Is(err, store.ErrPurged) {
		t.Errorf("the recorded version arriving = %v, want ErrPurged", err)
	}
	ts := tombstones(t, s, id)
	if len(ts) != 1 || ts[0].Whole || ts[0].Classes != nil {
		t.Errorf("tombstones = %+v, want one, not whole, classes unknown", ts)
	}
}
