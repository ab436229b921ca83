package storetest

import (
	"bytes"
	"testing"
	"time"

	"github.com/tearline/tearline/store"
)

// ListingMigrationRow is one object version a backend's listing-migration
// test writes with its old schema, newest version first, before opening the
// store with the current one. Access class 1 is the only class.
type ListingMigrationRow struct {
	ID, Type string
	Modified time.Time
	Digest   string // also names the version's content ("raw "+Digest) and key ("key "+Digest)
}

// Listing migration fixtures: object a has two versions, the newer stored
// first; b has one.
const (
	migA = "indicator--00000000-0000-4000-8000-00000000000a"
	migB = "malware--00000000-0000-4000-8000-00000000000b"
)

// ListingMigrationRows returns the rows, in the order to store them.
func ListingMigrationRows() []ListingMigrationRow {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return []ListingMigrationRow{
		{migA, "indicator", base.Add(20 * time.Millisecond), "a2"},
		{migB, "malware", base, "b1"},
		{migA, "indicator", base.Add(10 * time.Millisecond), "a1"}, // older, received later
	}
}

// CheckListingMigration checks a store opened on ListingMigrationRows
// after the listing migration: newer lists the digests of the versions the
// backend marked as having a newer version; every data key must have
// followed its own version; listings and DataKeys answer as before.
func CheckListingMigration(t *testing.T, s store.Store, newer []string) {
	t.Helper()
	ctx := t.Context()
	if len(newer) != 1 || newer[0] != "a1" {
		t.Errorf("versions marked newer: %q, want [a1]", newer)
	}
	for _, id := range []string{migA, migB} {
		vs, err := s.Versions(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range vs {
			if want := "key " + v.Digest; !bytes.Equal(v.Key, []byte(want)) {
				t.Errorf("%s %s: key %q, want %q", id, v.Modified, v.Key, want)
			}
		}
	}
	for _, q := range []store.ListQuery{{Classes: []int64{1}}, {Classes: []int64{1}, Types: []string{"indicator", "malware"}}} {
		vs, err := s.List(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, v := range vs {
			got = append(got, v.Digest)
		}
		if len(got) != 2 || got[0] != "a2" || got[1] != "b1" {
			t.Errorf("List %+v: %q, want [a2 b1]", q, got)
		}
	}
	keys, err := s.DataKeys(ctx, store.DataKey{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 3 || keys[0].ID != migA || !bytes.Equal(keys[0].Wrapped, []byte("key a2")) || !bytes.Equal(keys[1].Wrapped, []byte("key b1")) ||
		!bytes.Equal(keys[2].Wrapped, []byte("key a1")) || keys[2].Seq != 3 {
		t.Errorf("DataKeys after the migration: %+v", keys)
	}
}
