package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/tearline/tearline/store"
)

// manyTests cover the reads of many ids at once.
var manyTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"VersionsOf", testVersionsOf},
	{"ProvenanceOf", testProvenanceOf},
	{"LargeRows", testLargeRows},
}

// testLargeRows reads back versions whose rows are larger than a backend's
// read buffer (PostgreSQL's is 64 KiB), mixed with small ones, byte for
// byte: a row split across reads, or one read holding the end of one row
// and the start of the next, must come back whole.
func testLargeRows(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := class(t, s)
	want := map[string][]byte{}
	var ids []string
	update(t, s, func(tx store.Tx) error {
		for i, size := range []int{300 << 10, 10, 65 << 10, 64<<10 - 1, 1 << 20, 100} {
			id := objectID("note", i+1)
			note := make([]byte, size)
			for k := range note {
				note[k] = "0123456789abcdef"[(k*7+i)%16]
			}
			v := version(id, "note", 10, c, false, string(note))
			if _, err := tx.PutObject(ctx, &v); err != nil {
				return err
			}
			ids = append(ids, id)
			want[id] = v.Raw
		}
		return nil
	})
	got, err := s.VersionsOf(ctx, ids)
	if err != nil {
		t.Fatalf("VersionsOf: %v", err)
	}
	if len(got) != len(want) {
		t.Fatalf("VersionsOf returned %d versions, want %d", len(got), len(want))
	}
	for _, v := range got {
		if !bytes.Equal(v.Raw, want[v.ID]) {
			t.Errorf("%s: raw of %d bytes read back as %d bytes, not the same", v.ID, len(want[v.ID]), len(v.Raw))
		}
	}
}

// testVersionsOf checks that VersionsOf returns, for every id, exactly what
// Versions returns, inside a transaction and out, for more ids than one
// statement of a backend may bind.
func testVersionsOf(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := class(t, s)
	const n = 1203
	var ids []string
	update(t, s, func(tx store.Tx) error {
		for i := range n {
			id := objectID("campaign", i+1)
			ids = append(ids, id)
			versions := 1 + i%3
			for k := range versions {
				// Out of order: the read must order by time.
				ms := (versions - k) * 10
				if _, err := tx.PutObject(ctx, ptr(version(id, "campaign", ms, c, false, fmt.Sprint(i)))); err != nil {
					return err
				}
			}
		}
		return nil
	})
	absent := objectID("campaign", n+100)
	// Repeats, an unknown id and a reversed order.
	ask := []string{absent}
	for i := len(ids) - 1; i >= 0; i-- {
		ask = append(ask, ids[i])
	}
	ask = append(ask, ids[0], ids[1])
	check := func(what string, r store.Reader) {
		t.Helper()
		got, err := r.VersionsOf(ctx, ask)
		if err != nil {
			t.Fatalf("%s VersionsOf: %v", what, err)
		}
		byID := map[string][]store.ObjectVersion{}
		last := ""
		for _, v := range got {
			if v.ID != last && byID[v.ID] != nil {
				t.Fatalf("%s VersionsOf: versions of %s not together", what, v.ID)
			}
			last = v.ID
			byID[v.ID] = append(byID[v.ID], v)
		}
		if len(byID) != n {
			t.Fatalf("%s VersionsOf: %d ids, want %d", what, len(byID), n)
		}
		for _, id := range ids {
			want, err := r.Versions(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(byID[id], want) {
				t.Fatalf("%s VersionsOf(%s) = %+v, Versions = %+v", what, id, byID[id], want)
			}
		}
	}
	check("store", s)
	update(t, s, func(tx store.Tx) error { check("tx", tx); return nil })
	for _, q := range [][]string{nil, {}, {absent}} {
		got, err := s.VersionsOf(ctx, q)
		if err != nil || len(got) != 0 {
			t.Fatalf("VersionsOf(%q) = %d versions, %v", q, len(got), err)
		}
	}
}

// testProvenanceOf checks that ProvenanceOf returns what Provenance returns
// for each id that has provenance, and leaves out those that have none.
func testProvenanceOf(t *testing.T, s store.Store) {
	ctx := t.Context()
	const n = 1100
	var ids []string
	update(t, s, func(tx store.Tx) error {
		for i := range n {
			id := objectID("indicator", i+1)
			ids = append(ids, id)
			if i%4 == 3 {
				continue // no provenance
			}
			p := store.Provenance{ObjectID: id, Originator: "fra", ReceivedFrom: "usa", ReceivedAt: at(i)}
			if i%2 == 0 {
				p.Hops = []store.Hop{{Agreement: "fra-usa", Version: 1 + i%5, From: "fra", To: "usa"}}
			} else {
				p.DerivedFrom = objectID("report", i) + "@x"
			}
			if err := tx.PutProvenance(ctx, p); err != nil {
				return err
			}
		}
		return nil
	})
	ask := append(append([]string{}, ids...), ids[:10]...)
	check := func(what string, r store.Reader) {
		t.Helper()
		got, err := r.ProvenanceOf(ctx, ask)
		if err != nil {
			t.Fatalf("%s ProvenanceOf: %v", what, err)
		}
		held := 0
		for _, id := range ids {
			want, err := r.Provenance(ctx, id)
			p, ok := got[id]
			switch {
			case errors.Is(err, store.ErrNotFound):
				if ok {
					t.Fatalf("%s ProvenanceOf(%s) = %+v, want none", what, id, p)
				}
			case err != nil:
				t.Fatal(err)
			default:
				held++
				if !ok || !reflect.DeepEqual(p, want) {
					t.Fatalf("%s ProvenanceOf(%s) = %+v, %t; Provenance = %+v", what, id, p, ok, want)
				}
			}
		}
		if len(got) != held || held != n-n/4 {
			t.Fatalf("%s ProvenanceOf: %d entries, %d held, want %d", what, len(got), held, n-n/4)
		}
	}
	check("store", s)
	update(t, s, func(tx store.Tx) error { check("tx", tx); return nil })
	if got, err := s.ProvenanceOf(ctx, nil); err != nil || len(got) != 0 {
		t.Fatalf("ProvenanceOf(nil) = %v, %v", got, err)
	}
}
