package sqlite

import (
	"bytes"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/tearline/tearline/store"
)

// TestMigrateListing opens a database as the binaries before the listing
// migration (7) left it, with an object of two versions stored newest
// first, and checks the migration: the older version is marked as having a
// newer one, every data key follows its own version into the seq-keyed
// table, and listings and reads answer as before.
func TestMigrateListing(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "tearline.db")
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=foreign_keys(1)")
	if err != nil {
		t.Fatal(err)
	}
	if err := migrateTo(ctx, db, 6); err != nil {
		t.Fatal(err)
	}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			t.Fatal(err)
		}
	}
	exec(`INSERT INTO access_classes (id, key) VALUES (1, 'marking-definition--a')`)
	const a, b = "indicator--00000000-0000-4000-8000-00000000000a", "malware--00000000-0000-4000-8000-00000000000b"
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	row := func(id, typ string, ms int, key string) {
		m := base.Add(time.Duration(ms) * time.Millisecond)
		exec(`INSERT INTO objects (id, type, modified, modified_us, created, revoked, digest, class, date_added_us, originator, raw, bindings)
			VALUES (?, ?, ?, ?, '2026-01-01T00:00:00Z', 0, ?, 1, ?, 'GBR', ?, '[]')`,
			id, typ, m.Format(time.RFC3339Nano), m.UnixMicro(), key, time.Now().UnixMicro(), []byte("raw "+key))
		exec(`INSERT INTO data_keys (id, modified_us, wrapped) VALUES (?, ?, ?)`, id, m.UnixMicro(), []byte("key "+key))
	}
	row(a, "indicator", 20, "a2") // newest first
	row(b, "malware", 0, "b1")
	row(a, "indicator", 10, "a1") // an older version, received later
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var newer []string
	rows, err := s.r.QueryContext(ctx, `SELECT digest FROM objects WHERE newer = 1 ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var d string
		if err := rows.Scan(&d); err != nil {
			t.Fatal(err)
		}
		newer = append(newer, d)
	}
	rows.Close()
	if len(newer) != 1 || newer[0] != "a1" {
		t.Errorf("versions marked newer: %q, want [a1]", newer)
	}
	for _, id := range []string{a, b} {
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
	if len(keys) != 3 || keys[0].ID != a || !bytes.Equal(keys[0].Wrapped, []byte("key a2")) || !bytes.Equal(keys[1].Wrapped, []byte("key b1")) ||
		!bytes.Equal(keys[2].Wrapped, []byte("key a1")) || keys[2].Seq != 3 {
		t.Errorf("DataKeys after the migration: %+v", keys)
	}
}
