package sqlite

import (
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/tearline/tearline/store/storetest"
)

// TestMigrateListing opens a database as the binaries before the listing
// migration (7) left it and checks what the migration did.
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
	for _, r := range storetest.ListingMigrationRows() {
		exec(`INSERT INTO objects (id, type, modified, modified_us, created, revoked, digest, class, date_added_us, originator, raw, bindings)
			VALUES (?, ?, ?, ?, '2026-01-01T00:00:00Z', 0, ?, 1, ?, 'GBR', ?, '[]')`,
			r.ID, r.Type, r.Modified.Format(time.RFC3339Nano), r.Modified.UnixMicro(), r.Digest, time.Now().UnixMicro(), []byte("raw "+r.Digest))
		exec(`INSERT INTO data_keys (id, modified_us, wrapped) VALUES (?, ?, ?)`, r.ID, r.Modified.UnixMicro(), []byte("key "+r.Digest))
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rows, err := s.r.QueryContext(ctx, `SELECT digest FROM objects WHERE newer = 1 ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	var newer []string
	for rows.Next() {
		var d string
		if err := rows.Scan(&d); err != nil {
			t.Fatal(err)
		}
		newer = append(newer, d)
	}
	rows.Close()
	storetest.CheckListingMigration(t, s, newer)
}
