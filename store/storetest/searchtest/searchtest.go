// Package searchtest is the store conformance suite's part for the search
// index (store/search.go): postings and their pushed-down visibility,
// filters, pages and capped counts, purges, the backfill's state and
// saved searches. storetest.Run runs Tests.
package searchtest

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

// Tests are the search index's conformance tests.
var Tests = []suite.Test{
	{Name: "SearchVisibility", Fn: testSearchVisibility},
	{Name: "SearchGroups", Fn: testSearchGroups},
	{Name: "SearchFilters", Fn: testSearchFilters},
	{Name: "SearchPagesAndCounts", Fn: testSearchPagesAndCounts},
	{Name: "SearchPurge", Fn: testSearchPurge},
	{Name: "SearchBackfillState", Fn: testSearchBackfillState},
	{Name: "SearchBackfillPostings", Fn: testSearchBackfillPostings},
	{Name: "SavedSearches", Fn: testSavedSearches},
}

// Term hashes the tests use (the store treats them as opaque numbers).
const (
	termA int64 = -7046029254386353131 // negative: the store keeps all 64 bits
	termB int64 = 42
	termC int64 = 1 << 62
)

func class(t *testing.T, s store.Store, labelIDs ...string) int64 {
	t.Helper()
	var id int64
	suite.Update(t, s, func(tx store.Tx) error {
		var err error
		id, err = tx.AccessClass(t.Context(), labelIDs)
		return err
	})
	return id
}

// put stores a version of id at base+ms in class with the given term
// hashes, indexed in the same transaction, and returns its seq.
func put(t *testing.T, s store.Store, id, typ string, ms int, class int64, originator string, terms ...int64) int64 {
	t.Helper()
	mod := suite.At(ms)
	modified := mod.Format("2006-01-02T15:04:05.000Z")
	raw := fmt.Sprintf(`{"type":%q,"spec_version":"2.1","id":%q,"created":"2025-03-01T12:00:00.000Z","modified":%q}`, typ, id, modified)
	sum := sha256.Sum256([]byte(raw))
	v := store.ObjectVersion{ID: id, Type: typ, Modified: modified, ModifiedAt: mod, Created: "2025-03-01T12:00:00.000Z",
		Digest: hex.EncodeToString(sum[:]), Raw: []byte(raw), Bindings: []byte("[]"), Class: class, DateAdded: mod, Originator: originator}
	suite.Update(t, s, func(tx store.Tx) error {
		created, err := tx.PutObject(t.Context(), &v)
		if err != nil || !created {
			return fmt.Errorf("PutObject = %v, %v", created, err)
		}
		return tx.PutSearchDocs(t.Context(), []store.SearchDoc{{Seq: v.Seq, Terms: terms}})
	})
	return v.Seq
}

func search(t *testing.T, s store.Store, q store.SearchQuery) []int64 {
	t.Helper()
	hits, err := s.Search(t.Context(), q)
	if err != nil {
		t.Fatalf("Search(%+v): %v", q, err)
	}
	seqs := make([]int64, len(hits))
	for i, h := range hits {
		seqs[i] = h.Seq
		if i > 0 && h.Seq >= hits[i-1].Seq {
			t.Fatalf("Search(%+v): seqs not newest first: %v", q, hits)
		}
	}
	return seqs
}

func count(t *testing.T, s store.Store, q store.SearchQuery, limit int) int64 {
	t.Helper()
	n, err := s.CountSearch(t.Context(), q, limit)
	if err != nil {
		t.Fatalf("CountSearch: %v", err)
	}
	return n
}

// testSearchVisibility: only versions in the query's classes are hits or
// counted, and of an object only its latest version the caller may see:
// a newer version in a class the caller lacks leaves the older one
// visible, a newer visible version hides the older (even when only the
// older has the term).
func testSearchVisibility(t *testing.T, s store.Store) {
	low, high := class(t, s, "marking-definition--low"), class(t, s, "marking-definition--high")
	a, b := suite.ObjectID("indicator", 1), suite.ObjectID("indicator", 2)
	a1 := put(t, s, a, "indicator", 1, low, "n", termA)
	a2 := put(t, s, a, "indicator", 2, high, "n", termA)
	b1 := put(t, s, b, "indicator", 1, low, "n", termA, termB)
	put(t, s, b, "indicator", 2, low, "n", termB) // b's latest no longer has termA
	q := store.SearchQuery{Groups: [][]int64{{termA}}, Classes: []int64{low}}
	if got := search(t, s, q); !slices.Equal(got, []int64{a1}) {
		t.Errorf("low reader: %v, want [%d] (a's old version; b's latest lacks the term)", got, a1)
	}
	if n := count(t, s, q, 100); n != 1 {
		t.Errorf("low reader's count = %d, want 1", n)
	}
	q.Classes = []int64{low, high}
	if got := search(t, s, q); !slices.Equal(got, []int64{a2}) {
		t.Errorf("cleared reader: %v, want [%d]", got, a2)
	}
	q.Classes = nil
	if got := search(t, s, q); len(got) != 0 || count(t, s, q, 10) != 0 {
		t.Errorf("no classes: %v, want nothing", got)
	}
	q = store.SearchQuery{Groups: [][]int64{{termB}}, Classes: []int64{high}}
	if got := search(t, s, q); len(got) != 0 {
		t.Errorf("high-only reader found b (low): %v", got)
	}
	_ = b1
}

// testSearchGroups: a hit has a term of every group (AND), any term of a
// group (OR); a term no version has finds nothing.
func testSearchGroups(t *testing.T, s store.Store) {
	c := class(t, s, "marking-definition--a")
	x := put(t, s, suite.ObjectID("report", 1), "report", 1, c, "n", termA, termB)
	y := put(t, s, suite.ObjectID("report", 2), "report", 1, c, "n", termB, termC)
	z := put(t, s, suite.ObjectID("report", 3), "report", 1, c, "n", termC)
	for _, tc := range []struct {
		groups [][]int64
		want   []int64
	}{
		{[][]int64{{termB}}, []int64{y, x}},
		{[][]int64{{termA}, {termB}}, []int64{x}},
		{[][]int64{{termB}, {termC}}, []int64{y}},
		{[][]int64{{termA, termC}}, []int64{z, y, x}},
		{[][]int64{{termA, termC}, {termB}}, []int64{y, x}},
		{[][]int64{{99}}, nil},
		{[][]int64{{termA}, {99}}, nil},
	} {
		q := store.SearchQuery{Groups: tc.groups, Classes: []int64{c}}
		if got := search(t, s, q); !slices.Equal(got, tc.want) {
			t.Errorf("groups %v: %v, want %v", tc.groups, got, tc.want)
		}
		if n := count(t, s, q, 100); n != int64(len(tc.want)) {
			t.Errorf("groups %v: count %d, want %d", tc.groups, n, len(tc.want))
		}
	}
}

// testSearchFilters: type, originator and the modified time bounds.
func testSearchFilters(t *testing.T, s store.Store) {
	c := class(t, s, "marking-definition--a")
	i1 := put(t, s, suite.ObjectID("indicator", 1), "indicator", 10, c, "gbr", termA)
	r1 := put(t, s, suite.ObjectID("report", 1), "report", 20, c, "usa", termA)
	m1 := put(t, s, suite.ObjectID("malware", 1), "malware", 30, c, "gbr", termA)
	base := store.SearchQuery{Groups: [][]int64{{termA}}, Classes: []int64{c}}
	for name, tc := range map[string]struct {
		edit func(*store.SearchQuery)
		want []int64
	}{
		"types":      {func(q *store.SearchQuery) { q.Types = []string{"indicator", "malware"} }, []int64{m1, i1}},
		"originator": {func(q *store.SearchQuery) { q.Originator = "usa" }, []int64{r1}},
		"since":      {func(q *store.SearchQuery) { q.Since = suite.At(20) }, []int64{m1, r1}},
		"until":      {func(q *store.SearchQuery) { q.Until = suite.At(20) }, []int64{i1}},
		"both":       {func(q *store.SearchQuery) { q.Since, q.Until = suite.At(15), suite.At(25) }, []int64{r1}},
	} {
		q := base
		tc.edit(&q)
		if got := search(t, s, q); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", name, got, tc.want)
		}
		if n := count(t, s, q, 100); n != int64(len(tc.want)) {
			t.Errorf("%s: count %d, want %d", name, n, len(tc.want))
		}
	}
}

// testSearchPagesAndCounts: pages by Before, newest first, each hit once;
// a count stops at its limit. Also with a group of several terms.
func testSearchPagesAndCounts(t *testing.T, s store.Store) {
	c := class(t, s, "marking-definition--a")
	var all []int64
	for i := 1; i <= 25; i++ {
		term := termA
		if i%2 == 0 {
			term = termB
		}
		all = append(all, put(t, s, suite.ObjectID("indicator", i), "indicator", i, c, "n", term))
	}
	slices.Reverse(all)
	for _, groups := range [][][]int64{{{termA, termB}}} {
		var got []int64
		q := store.SearchQuery{Groups: groups, Classes: []int64{c}, Limit: 7}
		for page := 0; page < 10; page++ {
			seqs := search(t, s, q)
			if len(seqs) > 7 {
				t.Fatalf("page of %d, limit 7", len(seqs))
			}
			got = append(got, seqs...)
			if len(seqs) < 7 {
				break
			}
			q.Before = seqs[len(seqs)-1]
		}
		if !slices.Equal(got, all) {
			t.Errorf("pages: %v, want %v", got, all)
		}
		q.Before = all[3] // the count ignores the cursor
		if n := count(t, s, q, 10); n != 10 {
			t.Errorf("count limited to 10 = %d", n)
		}
		if n := count(t, s, q, 1000); n != 25 {
			t.Errorf("count = %d, want 25", n)
		}
	}
	q := store.SearchQuery{Groups: [][]int64{{termA}}, Classes: []int64{c}, Limit: 5, Before: all[0]}
	if got := search(t, s, q); len(got) != 5 || got[0] != all[1] && got[0] != all[2] {
		t.Errorf("one term after the newest: %v", got)
	}
}

// testSearchPurge: a purge of some versions followed by PruneSearchDocs
// removes the postings of exactly those versions (the version left is a hit
// again); a purge of the rest leaves no hit and no count of the purged
// object; other objects' postings stay, and a second put of a document for
// a seq keeps the first.
func testSearchPurge(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := class(t, s, "marking-definition--a")
	gone, kept := suite.ObjectID("indicator", 1), suite.ObjectID("indicator", 2)
	old := put(t, s, gone, "indicator", 1, c, "n", termA)
	put(t, s, gone, "indicator", 2, c, "n", termA, termC)
	k := put(t, s, kept, "indicator", 1, c, "n", termA)
	suite.Update(t, s, func(tx store.Tx) error { // a second document: the first stays
		return tx.PutSearchDocs(ctx, []store.SearchDoc{{Seq: k, Terms: []int64{termB}}})
	})
	if got := search(t, s, store.SearchQuery{Groups: [][]int64{{termB}}, Classes: []int64{c}}); len(got) != 0 {
		t.Errorf("a second document replaced the first: %v", got)
	}
	purge := func(p store.Purge) {
		t.Helper()
		suite.Update(t, s, func(tx store.Tx) error {
			if _, err := tx.PurgeVersions(ctx, p); err != nil {
				return err
			}
			return tx.PruneSearchDocs(ctx, gone)
		})
	}
	q := store.SearchQuery{Groups: [][]int64{{termA}}, Classes: []int64{c}}
	purge(store.Purge{ID: gone, Instance: 0, Versions: []time.Time{suite.At(2)}, PurgedAt: suite.At(5), Reason: "test"})
	if got := search(t, s, q); !slices.Equal(got, []int64{k, old}) { // newest first
		t.Errorf("after purging the newer version: %v, want [%d %d]", got, k, old)
	}
	if n := count(t, s, store.SearchQuery{Groups: [][]int64{{termC}}, Classes: []int64{c}}, 10); n != 0 {
		t.Errorf("purged version still counted: %d", n)
	}
	purge(store.WholeObject(gone, suite.At(6), "test"))
	if got := search(t, s, q); !slices.Equal(got, []int64{k}) {
		t.Errorf("after the purge: %v, want [%d]", got, k)
	}
	if n := count(t, s, q, 10); n != 1 {
		t.Errorf("purged object still counted: %d of 1", n)
	}
	suite.Update(t, s, func(tx store.Tx) error { return tx.PruneSearchDocs(ctx, kept) }) // nothing of kept is gone
	if got := search(t, s, q); !slices.Equal(got, []int64{k}) {
		t.Errorf("pruning a live object removed it: %v", got)
	}
	// A document for a seq with no version is not stored.
	suite.Update(t, s, func(tx store.Tx) error {
		return tx.PutSearchDocs(ctx, []store.SearchDoc{{Seq: k + 100, Terms: []int64{termB}}})
	})
}

// testSearchBackfillState: a store made new has nothing to backfill, and
// finishing twice is harmless.
func testSearchBackfillState(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := class(t, s, "marking-definition--a")
	v := store.ObjectVersion{ID: suite.ObjectID("indicator", 1), Type: "indicator", Modified: "m", ModifiedAt: suite.At(1),
		Digest: "d", Raw: []byte("{}"), Bindings: []byte("[]"), Class: c, DateAdded: suite.At(1)}
	suite.Update(t, s, func(tx store.Tx) error { _, err := tx.PutObject(ctx, &v); return err })
	vs, err := s.PendingSearchDocs(ctx, 0, 10)
	if err != nil || len(vs) != 0 {
		t.Fatalf("PendingSearchDocs on a new store = %d, %v; want none (it postdates the index)", len(vs), err)
	}
	suite.Update(t, s, func(tx store.Tx) error { return tx.FinishSearchDocs(ctx) })
	suite.Update(t, s, func(tx store.Tx) error { return tx.FinishSearchDocs(ctx) })
	if vs, err := s.PendingSearchDocs(ctx, 0, 10); err != nil || len(vs) != 0 {
		t.Fatalf("PendingSearchDocs once finished = %d, %v", len(vs), err)
	}
}

// testSearchBackfillPostings: the backfill's two passes. A staged
// document makes no posting (the version is not found yet); postings put
// afterwards find it, each stored once; once the backfill is finished,
// postings are no longer taken.
func testSearchBackfillPostings(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := class(t, s, "marking-definition--a")
	var seqs []int64
	for i := range 3 {
		v := store.ObjectVersion{ID: suite.ObjectID("indicator", i), Type: "indicator", Modified: "m", ModifiedAt: suite.At(i),
			Digest: "d", Raw: []byte("{}"), Bindings: []byte("[]"), Class: c, DateAdded: suite.At(i)}
		suite.Update(t, s, func(tx store.Tx) error { _, err := tx.PutObject(ctx, &v); return err })
		seqs = append(seqs, v.Seq)
	}
	suite.Update(t, s, func(tx store.Tx) error {
		return tx.StageSearchDocs(ctx, []store.SearchDoc{{Seq: seqs[0], Terms: []int64{termA, termB}}, {Seq: seqs[1], Terms: []int64{termA}}})
	})
	qa := store.SearchQuery{Groups: [][]int64{{termA}}, Classes: []int64{c}}
	if got := search(t, s, qa); len(got) != 0 {
		t.Fatalf("staged documents were found: %v", got)
	}
	if ds, err := s.BackfilledSearchDocs(ctx, 0, 10); err != nil || len(ds) != 0 {
		t.Fatalf("BackfilledSearchDocs on a new store = %v, %v; want none (its versions postdate the index)", ds, err)
	}
	ps := []store.SearchPosting{{Term: termA, Seq: seqs[0]}, {Term: termA, Seq: seqs[1]}, {Term: termB, Seq: seqs[0]}}
	for range 2 { // twice: stored once
		suite.Update(t, s, func(tx store.Tx) error { return tx.PutSearchPostings(ctx, ps) })
	}
	if got := search(t, s, qa); !slices.Equal(got, []int64{seqs[1], seqs[0]}) {
		t.Fatalf("after the postings: %v, want [%d %d]", got, seqs[1], seqs[0])
	}
	if n := count(t, s, qa, 10); n != 2 {
		t.Fatalf("count after putting the postings twice = %d, want 2", n)
	}
	suite.Update(t, s, func(tx store.Tx) error { return tx.FinishSearchDocs(ctx) })
	suite.Update(t, s, func(tx store.Tx) error {
		return tx.PutSearchPostings(ctx, []store.SearchPosting{{Term: termC, Seq: seqs[2]}})
	})
	if got := search(t, s, store.SearchQuery{Groups: [][]int64{{termC}}, Classes: []int64{c}}); len(got) != 0 {
		t.Fatalf("a posting put after the finish was stored: %v", got)
	}
}

// testSavedSearches: per user, by name, replaced by a save of the same
// name, deleted; deleting a missing one is ErrNotFound.
func testSavedSearches(t *testing.T, s store.Store) {
	ctx := t.Context()
	at := time.Date(2026, 12, 7, 22, 0, 0, 0, time.UTC)
	for _, ss := range []store.SavedSearch{
		{UserID: "u1", Name: "c2", Query: "198.51.100.0/24", Filters: "type=indicator", Created: at},
		{UserID: "u1", Name: "bear", Query: "fancy bear", Created: at},
		{UserID: "u2", Name: "c2", Query: "other", Created: at},
		{UserID: "u1", Name: "c2", Query: "10.0.0.0/8", Created: at.Add(time.Second)},
	} {
		suite.Update(t, s, func(tx store.Tx) error { return tx.SaveSearch(ctx, ss) })
	}
	got, err := s.SavedSearches(ctx, "u1")
	if err != nil || len(got) != 2 || got[0].Name != "bear" || got[1].Name != "c2" || got[1].Query != "10.0.0.0/8" ||
		got[1].Filters != "" || !got[1].Created.Equal(at.Add(time.Second)) {
		t.Fatalf("SavedSearches(u1) = %+v, %v", got, err)
	}
	suite.Update(t, s, func(tx store.Tx) error { return tx.DeleteSavedSearch(ctx, "u1", "c2") })
	err = s.Update(ctx, func(tx store.Tx) error { return tx.DeleteSavedSearch(ctx, "u1", "c2") })
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleting again = %v, want ErrNotFound", err)
	}
	if got, _ := s.SavedSearches(ctx, "u1"); len(got) != 1 {
		t.Errorf("after delete: %+v", got)
	}
	if got, _ := s.SavedSearches(ctx, "u2"); len(got) != 1 || got[0].Query != "other" {
		t.Errorf("u2's searches changed: %+v", got)
	}
}
