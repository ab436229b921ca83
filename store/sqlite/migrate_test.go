package sqlite

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tearline/tearline/store/sqlite/internal/schema"
	"github.com/tearline/tearline/store/storetest"
	"github.com/tearline/tearline/store/storetest/recordstest"
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
	if err := schema.MigrateTo(ctx, db, 6); err != nil {
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

	// Migration 8 rebuilt the table without its (id, modified_us) index,
	// with seqs that are never reused, and indexed every row in object_ids.
	var indexed, merged, autoindexes int64
	var schema string
	if err := s.r.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM object_ids), (SELECT merged FROM object_ids_merged),
		(SELECT COUNT(*) FROM sqlite_master WHERE tbl_name = 'objects' AND name LIKE 'sqlite_autoindex%'),
		(SELECT sql FROM sqlite_master WHERE name = 'objects')`).Scan(&indexed, &merged, &autoindexes, &schema); err != nil {
		t.Fatal(err)
	}
	if rows := len(storetest.ListingMigrationRows()); indexed != int64(rows) || merged != int64(rows) {
		t.Errorf("object_ids: %d rows, watermark %d; want %d and %d", indexed, merged, rows, rows)
	}
	if autoindexes != 0 || !strings.Contains(schema, "AUTOINCREMENT") {
		t.Errorf("objects after migration 8: %d automatic indexes (want 0), schema %s", autoindexes, schema)
	}
}

// TestMigrateTree opens a database whose audit tree is in audit_hashes, as
// the binaries before migration 9 left it, and checks the hashes moved into
// the leaves' rows; a tree out of step with its leaves stops the migration
// and leaves the database as it was.
func TestMigrateTree(t *testing.T) {
	ctx := t.Context()
	for _, broken := range []bool{false, true} {
		path := filepath.Join(t.TempDir(), "tearline.db")
		db, err := sql.Open("sqlite", "file:"+path)
		if err != nil {
			t.Fatal(err)
		}
		if err := schema.MigrateTo(ctx, db, 8); err != nil {
			t.Fatal(err)
		}
		leaves, hashes := storetest.TreeMigrationLog(t)
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i, l := range leaves {
			if _, err := tx.ExecContext(ctx, `INSERT INTO audit (idx, data) VALUES (?, ?)`, i, l); err != nil {
				t.Fatal(err)
			}
		}
		for id, h := range hashes {
			if broken && id == 700 {
				continue
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO audit_hashes (id, hash) VALUES (?, ?)`, id, h[:]); err != nil {
				t.Fatal(err)
			}
		}
		// A checkpoint, as a node that had a tree would have signed: with
		// one, opening does not hash the leaves again, so the hashes the
		// test reads back are the ones the migration moved.
		if _, err := tx.ExecContext(ctx, `INSERT INTO audit_checkpoints (size, note, created_us) VALUES (?, ?, 0)`, len(leaves), []byte("note")); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		db.Close()
		s, err := Open(ctx, path)
		if broken {
			if err == nil || !strings.Contains(err.Error(), "audit tree") {
				t.Fatalf("Open with a hash missing from the old tree = %v, want the migration refused", err)
			}
			db, _ := sql.Open("sqlite", "file:"+path)
			var v int
			if err := db.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&v); err != nil || v != 8 {
				t.Errorf("schema version after the refused migration = %d, %v; want 8", v, err)
			}
			db.Close()
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		storetest.CheckTreeMigration(t, s)
		var tables int
		if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_schema WHERE name = 'audit_hashes'`).Scan(&tables); err != nil || tables != 0 {
			t.Errorf("audit_hashes still there (%d, %v)", tables, err)
		}
		s.Close()
	}
}

// TestBackfillTree opens a log written before the audit tree existed
// (schema version 1: leaves only) and checks that opening hashes it.
func TestBackfillTree(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "tearline.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if err := schema.MigrateTo(ctx, db, 1); err != nil {
		t.Fatal(err)
	}
	leaves, _ := storetest.TreeMigrationLog(t)
	for i, l := range leaves {
		if _, err := db.ExecContext(ctx, `INSERT INTO audit (idx, data) VALUES (?, ?)`, i, l); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	s := openAt(t, path)
	storetest.CheckTreeMigration(t, s)
}

// Migration 11 gives each outbox row a delivery state: a message refused
// for good before it (marked delivered, the refusal kept) is failed.
func TestMigrateDeliveryStates(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "tearline.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if err := schema.MigrateTo(ctx, db, 10); err != nil {
		t.Fatal(err)
	}
	for _, r := range recordstest.DeliveryMigrationRows() {
		if _, err := db.ExecContext(ctx, `INSERT INTO outbox (peer, kind, payload, created_us, delivered_us, last_error) VALUES ('usa', ?, ?, ?, ?, ?)`,
			r.Kind, r.Payload, r.CreatedUS, r.DeliveredUS, r.LastError); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	recordstest.CheckDeliveryMigration(t, s)
}
