package storetest

import (
	"cmp"
	"errors"
	"fmt"
	"math/rand"
	"slices"
	"testing"

	"github.com/tearline/tearline/store"
)

// checkList checks that walking q page by page returns exactly want (in
// order, compared field by field) and that Count agrees.
func checkList(t *testing.T, r store.Reader, q store.ListQuery, want []store.ObjectVersion) {
	t.Helper()
	got := listAll(t, r, q)
	if len(got) != len(want) {
		t.Errorf("List %+v: ids %q, want %q", q, ids(got), ids(want))
	} else {
		for i := range got {
			if d := sameVersion(got[i], want[i]); d != "" {
				t.Errorf("List %+v [%d]: %s", q, i, d)
			}
		}
	}
	n, err := r.Count(t.Context(), q)
	if err != nil {
		t.Fatalf("Count %+v: %v", q, err)
	}
	if n != int64(len(want)) {
		t.Errorf("Count %+v = %d, want %d", q, n, len(want))
	}
}

func testListLatestVisible(t *testing.T, s store.Store) {
	public := class(t, s)
	secret := class(t, s, "marking-definition--secret")
	other := class(t, s, "marking-definition--other")

	id1, id2, id3 := objectID("indicator", 1), objectID("indicator", 2), objectID("indicator", 3)
	a1 := version(id1, "indicator", 0, public, false, "a1")
	b1 := version(id2, "indicator", 0, secret, false, "b1")
	a2 := version(id1, "indicator", 10, secret, false, "a2") // newest of id1 is secret
	c1 := version(id3, "indicator", 0, public, false, "c1")
	c2 := version(id3, "indicator", 10, public, false, "c2")
	a0 := version(id1, "indicator", -10, public, false, "a0") // older, arrives late
	for _, v := range []*store.ObjectVersion{&a1, &b1, &a2, &c1, &c2, &a0} {
		mustPut(t, s, v)
	}

	// Results are in Seq order of the version returned.
	tests := []struct {
		classes []int64
		want    []store.ObjectVersion
	}{
		{[]int64{public}, []store.ObjectVersion{a1, c2}},
		{[]int64{secret}, []store.ObjectVersion{b1, a2}},
		{[]int64{public, secret}, []store.ObjectVersion{b1, a2, c2}},
		{[]int64{secret, public, other}, []store.ObjectVersion{b1, a2, c2}},
		{[]int64{other}, nil},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.classes), func(t *testing.T) {
			for _, limit := range []int{1, 2, 1000} {
				checkList(t, s, store.ListQuery{Classes: tt.classes, Limit: limit}, tt.want)
			}
		})
	}
}

func testListTypes(t *testing.T, s store.Store) {
	c := class(t, s)
	var all []store.ObjectVersion
	types := []string{"indicator", "malware", "report", "indicator", "malware", "indicator"}
	for i, typ := range types {
		v := version(objectID(typ, i), typ, 0, c, false, "x")
		mustPut(t, s, &v)
		all = append(all, v)
	}
	only := func(ts ...string) []store.ObjectVersion {
		var out []store.ObjectVersion
		for _, v := range all {
			if slices.Contains(ts, v.Type) {
				out = append(out, v)
			}
		}
		return out
	}
	tests := []struct {
		types []string
		want  []store.ObjectVersion
	}{
		{nil, all},
		{[]string{"indicator"}, only("indicator")},
		{[]string{"malware", "report"}, only("malware", "report")},
		{[]string{"report", "tool"}, only("report")},
		{[]string{"tool"}, nil},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.types), func(t *testing.T) {
			checkList(t, s, store.ListQuery{Types: tt.types, Classes: []int64{c}, Limit: 2}, tt.want)
		})
	}
}

func testListRevoked(t *testing.T, s store.Store) {
	public := class(t, s)
	secret := class(t, s, "marking-definition--secret")
	id1, id2 := objectID("tool", 1), objectID("tool", 2)
	a1 := version(id1, "tool", 0, public, false, "a1")
	a2 := version(id1, "tool", 10, public, true, "a2 revokes")
	b1 := version(id2, "tool", 0, public, false, "b1")
	b2 := version(id2, "tool", 10, secret, true, "b2 revokes, secret")
	for _, v := range []*store.ObjectVersion{&a1, &a2, &b1, &b2} {
		mustPut(t, s, v)
	}
	tests := []struct {
		name           string
		classes        []int64
		includeRevoked bool
		want           []store.ObjectVersion
	}{
		{"public", []int64{public}, false, []store.ObjectVersion{b1}},
		{"public with revoked", []int64{public}, true, []store.ObjectVersion{a2, b1}},
		{"all", []int64{public, secret}, false, nil},
		{"all with revoked", []int64{public, secret}, true, []store.ObjectVersion{a2, b2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkList(t, s, store.ListQuery{Classes: tt.classes, IncludeRevoked: tt.includeRevoked, Limit: 10}, tt.want)
		})
	}
}

func testListNoClasses(t *testing.T, s store.Store) {
	c := class(t, s)
	mustPut(t, s, ptr(version(objectID("indicator", 1), "indicator", 0, c, false, "x")))
	for _, q := range []store.ListQuery{
		{Limit: 10},
		{Classes: []int64{}, Limit: 10, IncludeRevoked: true},
		{Classes: []int64{}, Types: []string{"indicator"}, Limit: 10},
	} {
		got, err := s.List(t.Context(), q)
		if err != nil || len(got) != 0 {
			t.Errorf("List %+v = %q, %v; want nothing", q, ids(got), err)
		}
		n, err := s.Count(t.Context(), q)
		if err != nil || n != 0 {
			t.Errorf("Count %+v = %d, %v; want 0", q, n, err)
		}
	}
}

func testListPages(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := class(t, s)
	const n = 53
	var want []store.ObjectVersion
	update(t, s, func(tx store.Tx) error {
		for i := range n {
			v := version(objectID("indicator", i), "indicator", i, c, false, "x")
			if _, err := tx.PutObject(ctx, &v); err != nil {
				return err
			}
			want = append(want, v)
		}
		return nil
	})
	for _, limit := range []int{1, 7, 10, 52, 53, 54, 1000} {
		t.Run(fmt.Sprint("limit ", limit), func(t *testing.T) {
			q := store.ListQuery{Classes: []int64{c}, Limit: limit}
			checkList(t, s, q, want)
			// Full pages until the last.
			page, err := s.List(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			if wantLen := min(limit, n); len(page) != wantLen {
				t.Errorf("first page: %d results, want %d", len(page), wantLen)
			}
		})
	}
	// A cursor in the middle starts right after it; Count ignores it.
	q := store.ListQuery{Classes: []int64{c}, After: want[19].Seq, Limit: 5}
	page, err := s.List(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids(page), ids(want[20:25])) {
		t.Errorf("List after seq %d = %q, want %q", q.After, ids(page), ids(want[20:25]))
	}
	if got, err := s.Count(ctx, q); err != nil || got != n {
		t.Errorf("Count with cursor = %d, %v; want %d", got, err, n)
	}
	// CountAtMost caps the count, and only caps it.
	for _, most := range []int64{1, 3, n, n + 10} {
		q := store.ListQuery{Classes: []int64{c}, CountAtMost: most}
		if got, err := s.Count(ctx, q); err != nil || got != min(n, most) {
			t.Errorf("Count at most %d = %d, %v; want %d", most, got, err, min(n, most))
		}
	}
	// Past the end: nothing.
	q.After = want[n-1].Seq
	if page, err := s.List(ctx, q); err != nil || len(page) != 0 {
		t.Errorf("List after the last seq = %q, %v; want nothing", ids(page), err)
	}
}

// testListMatchesReference stores random objects, versions and classes and
// checks List and Count for random queries against a plain in-memory
// computation of "the latest visible version of each object".
func testListMatchesReference(t *testing.T, s store.Store) {
	ctx := t.Context()
	rng := rand.New(rand.NewSource(20250301))
	labels := []string{"marking-definition--a", "marking-definition--b", "marking-definition--c", "marking-definition--d"}
	types := []string{"indicator", "malware", "report"}

	// Classes: random subsets of the labels, some repeated.
	var classes []int64
	update(t, s, func(tx store.Tx) error {
		for range 12 {
			var set []string
			for _, l := range labels {
				if rng.Intn(2) == 0 {
					set = append(set, l)
				}
			}
			c, err := tx.AccessClass(ctx, set)
			if err != nil {
				return err
			}
			if !slices.Contains(classes, c) {
				classes = append(classes, c)
			}
		}
		return nil
	})

	// Objects: each with up to 5 versions at distinct times, inserted in a
	// random order across transactions of random size; some versions
	// revoke. The model predicts what PutObject must answer.
	var queue []store.ObjectVersion
	for i := range 150 {
		typ := types[rng.Intn(len(types))]
		id := objectID(typ, i)
		times := rng.Perm(20)[:1+rng.Intn(5)]
		for _, ms := range times {
			revoked := rng.Intn(8) == 0
			queue = append(queue, version(id, typ, ms*10, classes[rng.Intn(len(classes))], revoked, fmt.Sprint(rng.Int())))
		}
	}
	rng.Shuffle(len(queue), func(i, j int) { queue[i], queue[j] = queue[j], queue[i] })

	var stored []store.ObjectVersion // accepted versions, with Seq
	wantPut := func(v store.ObjectVersion) error {
		for _, o := range stored {
			if o.ID == v.ID && o.Revoked && o.ModifiedAt.Before(v.ModifiedAt) {
				return store.ErrRevoked
			}
		}
		return nil
	}
	var lastSeq int64
	for len(queue) > 0 {
		n := min(len(queue), 1+rng.Intn(20))
		batch := queue[:n]
		queue = queue[n:]
		// Half the transactions go through the batch path where a backend
		// has one: it must mark older versions (also ones earlier in the
		// same batch) exactly as PutObject does.
		viaBatch := rng.Intn(2) == 0
		// Versions the model refuses at their turn are tried again, each in
		// a transaction of its own, after this one.
		type refusal struct {
			v    store.ObjectVersion
			want error
		}
		var refused []refusal
		update(t, s, func(tx store.Tx) error {
			refused = refused[:0]
			if bp, ok := tx.(store.BatchPutter); ok && viaBatch {
				var vs []*store.ObjectVersion
				n := len(stored)
				for i := range batch {
					if want := wantPut(batch[i]); want != nil {
						refused = append(refused, refusal{batch[i], want})
						continue
					}
					vs = append(vs, &batch[i])
					// Later versions in this batch see this one.
					stored = append(stored, batch[i])
				}
				stored = stored[:n]
				created, errs, err := bp.PutObjects(ctx, vs)
				if err != nil {
					return fmt.Errorf("PutObjects: %w", err)
				}
				for i, v := range vs {
					if !created[i] || errs[i] != nil {
						return fmt.Errorf("PutObjects(%s @ %s) = %v, %w; want true, nil", v.ID, v.Modified, created[i], errs[i])
					}
					if v.Seq <= lastSeq {
						t.Errorf("PutObjects: Seq %d after %d", v.Seq, lastSeq)
					}
					lastSeq = v.Seq
					stored = append(stored, *v)
				}
				return nil
			}
			for _, v := range batch {
				if want := wantPut(v); want != nil {
					refused = append(refused, refusal{v, want})
					continue
				}
				ins, err := tx.PutObject(ctx, &v)
				if err != nil || !ins {
					return fmt.Errorf("PutObject(%s @ %s) = %v, %w; want true, nil", v.ID, v.Modified, ins, err)
				}
				if v.Seq <= lastSeq {
					t.Errorf("PutObject: Seq %d after %d", v.Seq, lastSeq)
				}
				lastSeq = v.Seq
				stored = append(stored, v)
			}
			return nil
		})
		for _, r := range refused {
			if ins, err := put(t, s, &r.v); ins || !errors.Is(err, r.want) {
				t.Errorf("PutObject(%s @ %s) = %v, %v; want false, %v", r.v.ID, r.v.Modified, ins, err, r.want)
			}
		}
	}

	reference := func(q store.ListQuery) []store.ObjectVersion {
		latest := make(map[string]store.ObjectVersion)
		for _, v := range stored {
			if !slices.Contains(q.Classes, v.Class) {
				continue
			}
			if cur, ok := latest[v.ID]; !ok || v.ModifiedAt.After(cur.ModifiedAt) {
				latest[v.ID] = v
			}
		}
		var out []store.ObjectVersion
		for _, v := range latest {
			if (len(q.Types) == 0 || slices.Contains(q.Types, v.Type)) && (q.IncludeRevoked || !v.Revoked) {
				out = append(out, v)
			}
		}
		slices.SortFunc(out, func(a, b store.ObjectVersion) int { return cmp.Compare(a.Seq, b.Seq) })
		return out
	}

	multiPage := 0 // queries whose answer spans pages: the check is not vacuous
	for i := range 60 {
		var q store.ListQuery
		for _, c := range classes {
			if rng.Intn(3) != 0 {
				q.Classes = append(q.Classes, c)
			}
		}
		if rng.Intn(3) == 0 {
			q.Types = []string{types[rng.Intn(len(types))]}
			if rng.Intn(2) == 0 {
				q.Types = append(q.Types, types[rng.Intn(len(types))])
			}
		}
		q.IncludeRevoked = rng.Intn(2) == 0
		q.Limit = 1 + rng.Intn(40)
		want := reference(q)
		if len(want) > q.Limit {
			multiPage++
		}
		checkList(t, s, q, want)
		if t.Failed() {
			t.Fatalf("first failing query (#%d): %+v", i, q)
		}
	}

	if multiPage < 20 {
		t.Errorf("only %d of 60 random queries span several pages", multiPage)
	}

	// Everything visible: every object appears, once, at its latest version.
	all := store.ListQuery{Classes: classes, IncludeRevoked: true, Limit: 17}
	want := reference(all)
	if len(want) != 150 {
		t.Fatalf("reference lists %d objects with every class, want 150", len(want))
	}
	checkList(t, s, all, want)
}
