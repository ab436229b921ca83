package storetest

import (
	"bytes"
	"testing"

	"github.com/tearline/tearline/store"
)

var accessMACTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"AccessMACs", testAccessMACs},
}

// testAccessMACs: a version reads with no MAC until one is put for its
// seq, then every read returns it; a second put for the seq keeps the
// first; a purge removes it; a store made new has no backfill to do.
func testAccessMACs(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := class(t, s, "marking-definition--a")
	a := version(objectID("indicator", 1), "indicator", 1, c, false, "a")
	b := version(objectID("indicator", 2), "indicator", 1, c, false, "b")
	mustPut(t, s, &a)
	mustPut(t, s, &b)
	macOf := func(id string) []byte {
		t.Helper()
		vs, err := s.Versions(ctx, id)
		if err != nil || len(vs) != 1 {
			t.Fatalf("Versions(%s) = %d, %v", id, len(vs), err)
		}
		return vs[0].MAC
	}
	if m := macOf(a.ID); m != nil {
		t.Fatalf("MAC before any put = %x, want nil", m)
	}
	macA, macB := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	update(t, s, func(tx store.Tx) error {
		return tx.PutAccessMACs(ctx, []store.AccessMAC{{Seq: a.Seq, MAC: macA}, {Seq: b.Seq, MAC: macB}})
	})
	update(t, s, func(tx store.Tx) error { // kept: the first stays
		return tx.PutAccessMACs(ctx, []store.AccessMAC{{Seq: a.Seq, MAC: macB}})
	})
	if m := macOf(a.ID); !bytes.Equal(m, macA) {
		t.Errorf("Versions MAC = %x, want %x", m, macA)
	}
	vs, err := s.VersionsOf(ctx, []string{a.ID, b.ID})
	if err != nil || len(vs) != 2 {
		t.Fatalf("VersionsOf = %d, %v", len(vs), err)
	}
	for _, v := range vs {
		want := macA
		if v.ID == b.ID {
			want = macB
		}
		if !bytes.Equal(v.MAC, want) {
			t.Errorf("VersionsOf %s MAC = %x, want %x", v.ID, v.MAC, want)
		}
	}
	ls, err := s.List(ctx, store.ListQuery{Classes: []int64{c}, Limit: 10})
	if err != nil || len(ls) != 2 || !bytes.Equal(ls[0].MAC, macA) || !bytes.Equal(ls[1].MAC, macB) {
		t.Fatalf("List = %+v, %v", ls, err)
	}
	pending, err := s.PendingAccessMACs(ctx, 0, 10)
	if err != nil || len(pending) != 0 {
		t.Fatalf("PendingAccessMACs on a new store = %d, %v", len(pending), err)
	}
	update(t, s, func(tx store.Tx) error { return tx.FinishAccessMACs(ctx) })
}
