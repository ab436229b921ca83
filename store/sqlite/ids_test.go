package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/store/sqlite/internal/idindex"
)

// idObject returns version v (1, 2, ...) of object n in class.
func idObject(n, v int, class int64) store.ObjectVersion {
	mod := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC).Add(time.Duration(v) * time.Second)
	return store.ObjectVersion{
		ID: fmt.Sprintf("indicator--%08x-0000-4000-8000-000000000000", n), Type: "indicator",
		Modified: mod.Format(time.RFC3339Nano), ModifiedAt: mod, Created: "2025-03-01T12:00:00Z",
		Digest: fmt.Sprintf("d%d.%d", n, v), Raw: []byte(fmt.Sprintf(`{"n":%d,"v":%d}`, n, v)), Bindings: []byte(`[]`),
		Class: class, Originator: "node-a",
	}
}

func put(t *testing.T, s *Store, vs ...store.ObjectVersion) []error {
	t.Helper()
	ptrs := make([]*store.ObjectVersion, len(vs))
	for i := range vs {
		ptrs[i] = &vs[i]
	}
	var errs []error
	err := s.Update(t.Context(), func(stx store.Tx) error {
		var err error
		_, errs, err = stx.(*tx).PutObjects(t.Context(), ptrs)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return errs
}

func digests(vs []store.ObjectVersion) []string {
	var out []string
	for _, v := range vs {
		out = append(out, v.Digest)
	}
	return out
}

func merge(t *testing.T, s *Store) {
	t.Helper()
	if err := s.ids.Merge(t.Context(), s.write); err != nil {
		t.Fatal(err)
	}
	if n := s.ids.TailSize(); n != 0 {
		t.Fatalf("tail holds %d entries after a merge", n)
	}
}

// TestIDIndexMergeStates checks lookups by id, resends, conflicts and the
// listing's latest-visible-version test with the versions of an object in
// every place the id index keeps them: the tail, object_ids, one in each,
// and after a restart that rebuilt the tail.
func TestIDIndexMergeStates(t *testing.T) {
	for _, tc := range []struct {
		name                      string
		mergeFirst, mergeSecond   bool
		reopenFirst, reopenSecond bool
	}{
		{name: "tail"},
		{name: "first merged", mergeFirst: true},
		{name: "all merged", mergeFirst: true, mergeSecond: true},
		{name: "second merged", mergeSecond: true},
		{name: "tail rebuilt", reopenSecond: true},
		{name: "first merged then rebuilt", mergeFirst: true, reopenFirst: true, reopenSecond: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			path := filepath.Join(t.TempDir(), "tearline.db")
			s := openAt(t, path)
			// reopen opens the file again without closing s, as a restart
			// after a crash finds it: the tail must be read back.
			reopen := func() {
				s = openAt(t, path)
			}
			seen := benchClass(t, s, "marking-definition--a")
			hidden := benchClass(t, s, "marking-definition--b")

			put(t, s, idObject(1, 1, seen), idObject(2, 1, seen), idObject(3, 1, seen))
			if tc.mergeFirst {
				merge(t, s)
			}
			if tc.reopenFirst {
				reopen()
			}
			put(t, s, idObject(1, 2, seen), idObject(2, 2, hidden))
			if tc.mergeSecond {
				merge(t, s)
			}
			if tc.reopenSecond {
				reopen()
			}

			vs, err := s.Versions(ctx, idObject(1, 1, 0).ID)
			if err != nil {
				t.Fatal(err)
			}
			if got := digests(vs); !slices.Equal(got, []string{"d1.1", "d1.2"}) {
				t.Errorf("Versions(1) = %q, want [d1.1 d1.2]", got)
			}
			vs, err = s.VersionsOf(ctx, []string{idObject(3, 1, 0).ID, idObject(2, 1, 0).ID, "indicator--unknown"})
			if err != nil {
				t.Fatal(err)
			}
			if got := digests(vs); !slices.Equal(got, []string{"d2.1", "d2.2", "d3.1"}) {
				t.Errorf("VersionsOf(3, 2, unknown) = %q, want [d2.1 d2.2 d3.1]", got)
			}

			list := func(classes ...int64) []string {
				vs, err := s.List(ctx, store.ListQuery{Classes: classes, Limit: 100})
				if err != nil {
					t.Fatal(err)
				}
				got := digests(vs)
				slices.Sort(got)
				return got
			}
			// Object 2's second version is hidden: its first is the latest
			// the reader may see.
			if got := list(seen); !slices.Equal(got, []string{"d1.2", "d2.1", "d3.1"}) {
				t.Errorf("List(seen) = %q, want [d1.2 d2.1 d3.1]", got)
			}
			if got := list(seen, hidden); !slices.Equal(got, []string{"d1.2", "d2.2", "d3.1"}) {
				t.Errorf("List(seen, hidden) = %q, want [d1.2 d2.2 d3.1]", got)
			}

			// A resend stores nothing; the same version with other content
			// is a conflict: both need the stored versions found by id.
			resend := idObject(3, 1, seen)
			conflict := idObject(1, 2, seen)
			conflict.Digest = "other"
			errs := put(t, s, resend, conflict)
			if errs[0] != nil || !errors.Is(errs[1], store.ErrConflict) {
				t.Errorf("resend, conflicting version: %v, %v; want nil, ErrConflict", errs[0], errs[1])
			}
			var rows int
			if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM objects`).Scan(&rows); err != nil {
				t.Fatal(err)
			}
			if rows != 5 {
				t.Errorf("%d rows stored, want 5", rows)
			}
		})
	}
}

// TestIDIndexTwoProcesses opens the file twice, as `tearline purge` does
// beside a running node: each store must see what the other stored and
// purged, and never store a version twice.
func TestIDIndexTwoProcesses(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "tearline.db")
	a := openAt(t, path)
	b := openAt(t, path)
	class := benchClass(t, a, "marking-definition--a")

	put(t, a, idObject(1, 1, class), idObject(2, 1, class))
	// b's write transaction learns a's rows before deciding: a resend is
	// not stored again.
	created := true
	err := b.Update(ctx, func(tx store.Tx) error {
		v := idObject(2, 1, class)
		var err error
		created, err = tx.PutObject(ctx, &v)
		return err
	})
	if err != nil || created {
		t.Fatalf("b: resend of a's object: created %v, %v; want not created", created, err)
	}
	// b's reads learn a's new rows too.
	put(t, a, idObject(1, 2, class), idObject(4, 1, class))
	vs, err := b.VersionsOf(ctx, []string{idObject(1, 1, 0).ID, idObject(4, 1, 0).ID})
	if got := digests(vs); err != nil || !slices.Equal(got, []string{"d1.1", "d1.2", "d4.1"}) {
		t.Fatalf("b: VersionsOf(1, 4) = %q, %v; want what a stored: [d1.1 d1.2 d4.1]", got, err)
	}
	put(t, b, idObject(2, 2, class))

	// a purges object 2, whose second version only b stored; b merges
	// afterwards with the entries it holds for it.
	err = a.Update(ctx, func(tx store.Tx) error {
		_, err := tx.PurgeVersions(ctx, store.WholeObject(idObject(2, 1, 0).ID, time.Now(), "admin"))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	merge(t, b)
	for name, s := range map[string]*Store{"a": a, "b": b} {
		vs, err := s.Versions(ctx, idObject(2, 1, 0).ID)
		if err != nil || len(vs) != 0 {
			t.Errorf("%s: Versions(purged) = %q, %v; want none", name, digests(vs), err)
		}
		got, err := s.List(ctx, store.ListQuery{Classes: []int64{class}})
		if err != nil || !slices.Equal(digests(got), []string{"d1.2", "d4.1"}) {
			t.Errorf("%s: List = %q, %v; want [d1.2 d4.1]", name, digests(got), err)
		}
	}
	if errs := put(t, b, idObject(2, 3, class)); !errors.Is(errs[0], store.ErrPurged) {
		t.Errorf("b: new version of a purged object: %v, want ErrPurged", errs[0])
	}
}

// TestSeqNotReused: purging the newest row must not free its seq for the
// next object (the id index treats a seq as naming one row forever).
func TestSeqNotReused(t *testing.T) {
	ctx := t.Context()
	s := openAt(t, filepath.Join(t.TempDir(), "tearline.db"))
	class := benchClass(t, s, "marking-definition--a")
	first, last := idObject(1, 1, class), idObject(2, 1, class)
	put(t, s, first)
	put(t, s, last)
	vs, _ := s.Versions(ctx, last.ID)
	if len(vs) != 1 {
		t.Fatalf("Versions = %d", len(vs))
	}
	purgedSeq := vs[0].Seq
	err := s.Update(ctx, func(tx store.Tx) error {
		_, err := tx.PurgeVersions(ctx, store.WholeObject(last.ID, time.Now(), "admin"))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	next := idObject(3, 1, class)
	err = s.Update(ctx, func(tx store.Tx) error {
		_, err := tx.PutObject(ctx, &next)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if next.Seq <= purgedSeq {
		t.Errorf("new object got seq %d, not above the purged %d", next.Seq, purgedSeq)
	}
}

// TestCloseMerges: a clean close leaves nothing for the next start to read
// back, and everything in object_ids.
func TestCloseMerges(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "tearline.db")
	s := openAt(t, path)
	class := benchClass(t, s, "marking-definition--a")
	put(t, s, idObject(1, 1, class), idObject(2, 1, class), idObject(2, 2, class))
	// A store that only read (a command beside the node) leaves the
	// merging to the one that stored.
	r := openAt(t, path)
	if vs, err := r.Versions(ctx, idObject(1, 1, 0).ID); err != nil || len(vs) != 1 {
		t.Fatalf("Versions(1) = %d versions, %v; want 1", len(vs), err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	var w int64
	if err := s.r.QueryRowContext(ctx, `SELECT merged FROM object_ids_merged`).Scan(&w); err != nil || w != 0 {
		t.Fatalf("watermark after a reading store closed: %d, %v; want 0", w, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openAt(t, path)
	// The first lookup reads back into the tail what is above the watermark.
	if vs, err := s.Versions(ctx, idObject(2, 1, 0).ID); err != nil || len(vs) != 2 {
		t.Fatalf("Versions(2) = %d versions, %v; want 2", len(vs), err)
	}
	if n := s.ids.TailSize(); n != 0 {
		t.Errorf("tail after a clean close and open: %d entries, want 0", n)
	}
	var indexed, merged, maxSeq int64
	if err := s.r.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM object_ids), (SELECT merged FROM object_ids_merged), (SELECT MAX(seq) FROM objects)`).Scan(&indexed, &merged, &maxSeq); err != nil {
		t.Fatal(err)
	}
	if indexed != 3 || merged != maxSeq {
		t.Errorf("object_ids holds %d rows, watermark %d; want 3, %d", indexed, merged, maxSeq)
	}
}

// TestIDIndexBackgroundMerges lowers the merge threshold so that the
// background merger runs between ingests, then checks every lookup.
func TestIDIndexBackgroundMerges(t *testing.T) {
	ctx := t.Context()
	s := openAt(t, filepath.Join(t.TempDir(), "tearline.db"))
	s.ids.SetMinMerge(40)
	class := benchClass(t, s, "marking-definition--a")
	const objects = 400
	for start := 0; start < objects; start += 10 {
		var batch []store.ObjectVersion
		for n := start; n < start+10; n++ {
			batch = append(batch, idObject(n, 1, class))
			if n%7 == 0 {
				batch = append(batch, idObject(n, 2, class))
			}
		}
		put(t, s, batch...)
	}
	// The merger runs behind the ingest; wait until it has caught up.
	deadline := time.Now().Add(10 * time.Second)
	for s.ids.TailSize() >= 40 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	var merged, indexed int64
	if err := s.r.QueryRowContext(ctx, `SELECT (SELECT merged FROM object_ids_merged), (SELECT COUNT(*) FROM object_ids)`).Scan(&merged, &indexed); err != nil {
		t.Fatal(err)
	}
	if merged == 0 || indexed < 360 {
		t.Fatalf("after the ingest: watermark %d, %d rows in object_ids; want merges to have run", merged, indexed)
	}
	for n := range objects {
		want := 1
		if n%7 == 0 {
			want = 2
		}
		vs, err := s.Versions(ctx, idObject(n, 1, 0).ID)
		if err != nil || len(vs) != want {
			t.Fatalf("Versions(%d) = %d versions, %v; want %d", n, len(vs), err, want)
		}
	}
	got, err := s.List(ctx, store.ListQuery{Classes: []int64{class}, Limit: 1000})
	if err != nil || len(got) != objects {
		t.Fatalf("List: %d versions, %v; want the latest of each of %d objects", len(got), err, objects)
	}
}

// TestIDIndexInterruptedMerge: a merge that wrote some chunks but died
// before moving the watermark leaves rows both in object_ids and above the
// watermark. The next start reads them back into the tail, and lookups,
// resends and the next merge work.
func TestIDIndexInterruptedMerge(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "tearline.db")
	s := openAt(t, path)
	class := benchClass(t, s, "marking-definition--a")
	put(t, s, idObject(1, 1, class), idObject(2, 1, class), idObject(3, 1, class))
	rows, _ := s.ids.Snapshot()
	if err := s.write(ctx, func(tx *sql.Tx) error { return idindex.InsertRows(ctx, tx, rows[:2]) }); err != nil {
		t.Fatal(err)
	}
	// A restart: another store on the file, the first never closed.
	s = openAt(t, path)
	vs, err := s.VersionsOf(ctx, []string{idObject(1, 1, 0).ID, idObject(2, 1, 0).ID, idObject(3, 1, 0).ID})
	if got := digests(vs); err != nil || !slices.Equal(got, []string{"d1.1", "d2.1", "d3.1"}) {
		t.Fatalf("VersionsOf = %q, %v; want each version once", got, err)
	}
	if errs := put(t, s, idObject(1, 1, class), idObject(2, 2, class)); errs[0] != nil || errs[1] != nil {
		t.Fatalf("resend and new version: %v", errs)
	}
	merge(t, s)
	got, err := s.List(ctx, store.ListQuery{Classes: []int64{class}})
	if d := digests(got); err != nil || !slices.Equal(d, []string{"d1.1", "d3.1", "d2.2"}) {
		t.Fatalf("List after the merge = %q, %v; want [d1.1 d3.1 d2.2]", d, err)
	}
}

// TestIDIndexModel runs random operations on two stores open on one file
// (as two processes would be) and checks, after each, what both report
// against a model: versions by id, and the latest version of each object
// in a listing. Operations: batches of new versions, resends and
// conflicts; purges; merges; a crash (a store replaced by a new one on the
// file, the old one never closed) and a clean close.
func TestIDIndexModel(t *testing.T) {
	for seed := range int64(8) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { idIndexModel(t, seed) })
	}
}

func idIndexModel(t *testing.T, seed int64) {
	ctx := t.Context()
	rng := rand.New(rand.NewSource(seed))
	path := filepath.Join(t.TempDir(), "tearline.db")
	stores := []*Store{openAt(t, path), openAt(t, path)}
	class := benchClass(t, stores[0], "marking-definition--a")
	const objects = 25
	model := map[int]map[int]string{} // object → version → digest
	purged := map[int]bool{}
	for step := range 120 {
		s := stores[rng.Intn(2)]
		switch op := rng.Intn(10); {
		case op < 6:
			var batch []store.ObjectVersion
			for range 1 + rng.Intn(8) {
				n, v := rng.Intn(objects), 1+rng.Intn(4)
				o := idObject(n, v, class)
				if rng.Intn(4) == 0 {
					o.Digest = "other" // a conflict unless it is new
				}
				batch = append(batch, o)
			}
			errs := put(t, s, batch...)
			for i, o := range batch {
				n, v := idNumber(t, o.ID), idVersion(o)
				want := error(nil)
				switch d, ok := model[n][v]; {
				case purged[n]:
					want = store.ErrPurged
				case ok && d != o.Digest:
					want = store.ErrConflict
				case !ok:
					if model[n] == nil {
						model[n] = map[int]string{}
					}
					model[n][v] = o.Digest
				}
				if !errors.Is(errs[i], want) || (want == nil && errs[i] != nil) {
					t.Fatalf("step %d: put %d@%d: %v, want %v", step, n, v, errs[i], want)
				}
			}
		case op == 6:
			n := rng.Intn(objects)
			err := s.Update(ctx, func(tx store.Tx) error {
				_, err := tx.PurgeVersions(ctx, store.WholeObject(idObject(n, 1, 0).ID, time.Now(), "admin"))
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			purged[n] = true
			delete(model, n)
		case op == 7:
			if err := s.ids.Merge(ctx, s.write); err != nil {
				t.Fatal(err)
			}
		case op == 8:
			i := rng.Intn(2)
			stores[i] = openAt(t, path) // the old one is never closed: a crash
		default:
			i := rng.Intn(2)
			if err := stores[i].Close(); err != nil {
				t.Fatal(err)
			}
			stores[i] = openAt(t, path)
		}
		// Not after every step: a check reads through both stores, which
		// catches their tails up, and a write must catch up by itself.
		if rng.Intn(3) == 0 {
			checkModel(t, step, stores[rng.Intn(2)], class, model)
		}
	}
	for _, s := range stores {
		checkModel(t, -1, s, class, model)
	}
}

func checkModel(t *testing.T, step int, s *Store, class int64, model map[int]map[int]string) {
	t.Helper()
	ctx := t.Context()
	ids := make([]string, 0, 25)
	for n := range 25 {
		ids = append(ids, idObject(n, 1, 0).ID)
	}
	vs, err := s.VersionsOf(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	got := map[int]map[int]string{}
	for _, v := range vs {
		n := idNumber(t, v.ID)
		if got[n] == nil {
			got[n] = map[int]string{}
		}
		if _, dup := got[n][idVersion(v)]; dup {
			t.Fatalf("step %d: %s version %s stored twice", step, v.ID, v.Modified)
		}
		got[n][idVersion(v)] = v.Digest
	}
	if fmt.Sprint(got) != fmt.Sprint(model) {
		t.Fatalf("step %d: versions %v, model %v", step, got, model)
	}
	latest, err := s.List(ctx, store.ListQuery{Classes: []int64{class}, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(latest) != len(model) {
		t.Fatalf("step %d: List has %d objects, model %d", step, len(latest), len(model))
	}
	for _, v := range latest {
		n, top := idNumber(t, v.ID), 0
		for ver := range model[n] {
			top = max(top, ver)
		}
		if idVersion(v) != top {
			t.Fatalf("step %d: List has %s version %d, latest is %d", step, v.ID, idVersion(v), top)
		}
	}
}

func idNumber(t *testing.T, id string) int {
	t.Helper()
	var n int
	if _, err := fmt.Sscanf(id, "indicator--%08x-", &n); err != nil {
		t.Fatalf("id %s: %v", id, err)
	}
	return n
}

func idVersion(v store.ObjectVersion) int {
	return int(v.ModifiedAt.Sub(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)) / time.Second)
}

// A read by id sees every version committed before it, whichever process
// stored it and whether or not its tail has caught up (pointVersions finds
// rows above what the tail has seen by their seq), and versions already in
// its tail or merged into object_ids.
func TestPointReadSeesOtherProcess(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "tearline.db")
	a := openAt(t, path)
	b := openAt(t, path)
	class := benchClass(t, a, "marking-definition--a")
	id := idObject(1, 1, 0).ID

	put(t, b, idObject(1, 1, class))
	if vs, err := a.Versions(ctx, id); err != nil || !slices.Equal(digests(vs), []string{"d1.1"}) {
		t.Fatalf("a: Versions = %q, %v; want [d1.1]", digests(vs), err)
	}
	// a has caught up just now, so the next catch-up is not due: b's next
	// version is found above what a's tail has seen.
	if a.ids.CatchUpDue() {
		t.Fatal("a: catch-up due right after one")
	}
	put(t, b, idObject(1, 2, class))
	if vs, err := a.Versions(ctx, id); err != nil || !slices.Equal(digests(vs), []string{"d1.1", "d1.2"}) {
		t.Fatalf("a: Versions after b's new version = %q, %v; want [d1.1 d1.2]", digests(vs), err)
	}
	// a's own version is in its tail; after a merge, in object_ids.
	put(t, a, idObject(1, 3, class))
	want := []string{"d1.1", "d1.2", "d1.3"}
	if vs, err := a.Versions(ctx, id); err != nil || !slices.Equal(digests(vs), want) {
		t.Fatalf("a: Versions with its own version = %q, %v; want %q", digests(vs), err, want)
	}
	merge(t, a)
	for name, s := range map[string]*Store{"a": a, "b": b} {
		if vs, err := s.Versions(ctx, id); err != nil || !slices.Equal(digests(vs), want) {
			t.Errorf("%s: Versions after the merge = %q, %v; want %q", name, digests(vs), err, want)
		}
	}
}

// The point read's statement finds rows by seq through indexes: no table is
// scanned, whatever the tail holds.
func TestPointReadPlan(t *testing.T) {
	s := openAt(t, filepath.Join(t.TempDir(), "tearline.db"))
	for tail := range 3 {
		args := []any{"indicator--x", int64(0)}
		for i := range tail {
			args = append(args, int64(i+1))
		}
		rows, err := s.r.QueryContext(t.Context(), `EXPLAIN QUERY PLAN `+pointVersionsSQL(tail), args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, notused int
			var detail string
			if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		t.Logf("tail %d: %q", tail, plan)
		for _, step := range plan {
			if strings.HasPrefix(step, "SCAN ") && !strings.Contains(step, "CONSTANT ROW") {
				t.Errorf("tail %d: plan scans: %q (whole plan %q)", tail, step, plan)
			}
		}
	}
}
