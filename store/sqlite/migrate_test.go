package sqlite

import (
	"database/sql"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tearline/tearline/store/sqlite/internal/schema"
	"github.com/tearline/tearline/store/storetest"
	"github.com/tearline/tearline/store/storetest/audittest"
	"github.com/tearline/tearline/store/storetest/recordstest"
)

// TestMigrateListing opens a database as the binaries before the listing
// migration (7) left it and checks what the migration did.
func TestMigrateListing(t *testing.T) {
	ctx := t.Context()
	path, db, exec := oldSchema(t, 6)
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
		leaves, hashes := audittest.TreeMigrationLog(t)
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
		audittest.CheckTreeMigration(t, s)
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
	leaves, _ := audittest.TreeMigrationLog(t)
	for i, l := range leaves {
		if _, err := db.ExecContext(ctx, `INSERT INTO audit (idx, data) VALUES (?, ?)`, i, l); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	s := openAt(t, path)
	audittest.CheckTreeMigration(t, s)
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

// TestMigrateInstances opens a database as the binaries before instances
// (migration 14) left it: every version becomes one of the default
// instance, still found, listed and superseded as before, and an older
// tombstone, whose classes are unknown, keeps refusing its id.
// TEARLINE_MIGRATE_ROWS=2000000 times the migration over that many rows of
// object_ids, the only table it copies (docs/STORAGE.md).
func TestMigrateInstances(t *testing.T) {
	ctx := t.Context()
	path, db, exec := oldSchema(t, 13)
	exec(`INSERT INTO access_classes (id, key) VALUES (1, 'marking-definition--a')`)
	id := storetest.MigID1
	for i, mod := range []int64{1000, 2000} {
		exec(`INSERT INTO objects (seq, id, type, modified, modified_us, created, revoked, digest, class, date_added_us, originator, newer, raw, bindings)
			VALUES (?, ?, 'threat-actor', ?, ?, '2026-01-01T00:00:00Z', 0, ?, 1, 1, 'gbr', ?, '{}', '[]')`,
			i+1, id, time.UnixMicro(mod).UTC().Format(time.RFC3339Nano), mod, "d"+strconv.Itoa(i), 1-i)
		exec(`INSERT INTO object_ids (id, modified_us, seq, class) VALUES (?, ?, ?, 1)`, id, mod, i+1)
	}
	exec(`INSERT INTO object_ids_merged (merged) VALUES (2)`)
	purged := storetest.MigID2
	exec(`INSERT INTO tombstones (id, versions, purged_us, reason) VALUES (?, '["x"]', 1, 'admin')`, purged)
	rows := storetest.MigrateRows()
	if rows > 0 {
		// Random UUID-shaped ids, made in SQL and inserted in key order.
		exec(`INSERT INTO object_ids (id, modified_us, seq, class)
			SELECT id, x * 1000, x + 10, 1 FROM (
				WITH RECURSIVE c(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM c WHERE x < ? - 1)
				SELECT x, 'indicator--' || lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' ||
					substr(lower(hex(randomblob(2))), 2) || '-8' || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6))) AS id
				FROM c) ORDER BY id`, rows)
	}
	storetest.TimeMigration(t, 14, rows, "rows of object_ids", func() error { return schema.MigrateTo(ctx, db, 14) })
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	storetest.CheckInstancesMigration(t, openAt(t, path))
}

// TestMigrateTombstonesByInstance: migration 20 turns a tombstone per id
// into one per instance, whole, each with the old row's classes and
// versions; a purged id stays refused in each instance it counted and a
// new instance above is stored. TEARLINE_MIGRATE_ROWS=2000000 times it over
// that many tombstones (docs/STORAGE.md).
func TestMigrateTombstonesByInstance(t *testing.T) {
	ctx := t.Context()
	path, db, exec := oldSchema(t, 19)
	exec(`INSERT INTO access_classes (id, key) VALUES (1, 'marking-definition--a'), (2, 'marking-definition--b')`)
	one, two := storetest.MigID1, storetest.MigID2
	exec(`INSERT INTO tombstones (id, versions, purged_us, reason, classes, instances) VALUES (?, '["a"]', 1, 'admin', '1', 1), (?, '["b","c"]', 2, 'recall', '1,2', 2)`, one, two)
	rows := storetest.MigrateRows()
	if rows > 0 {
		exec(`INSERT INTO tombstones (id, versions, purged_us, reason, classes, instances)
			WITH RECURSIVE c(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM c WHERE x < ? - 1)
			SELECT 'indicator--' || lower(hex(randomblob(16))), '["2026-01-01T00:00:00Z"]', x, 'retention', '1', 1 FROM c`, rows)
	}
	storetest.TimeMigration(t, 20, rows, "tombstones", func() error { return schema.MigrateTo(ctx, db, 20) })
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	storetest.CheckTombstonesByInstanceMigration(t, openAt(t, path))
}

// TestMigrateRetentionByVersion: migration 21 gives a retention time
// recorded per id to every version of it (merged into object_ids, and in
// the tail above the watermark), keyed by version from then on.
// TEARLINE_MIGRATE_ROWS=2000000 times it over that many versions, each
// with a retention time (docs/STORAGE.md).
func TestMigrateRetentionByVersion(t *testing.T) {
	ctx := t.Context()
	path, db, exec := oldSchema(t, 20)
	exec(`INSERT INTO access_classes (id, key) VALUES (1, 'marking-definition--a')`)
	id, other := storetest.MigID1, storetest.MigID2
	// id: one version merged into object_ids (seq 1), one in the tail (seq 3,
	// above the watermark 2), of another instance; other: no retention.
	for _, r := range []struct {
		seq  int
		id   string
		mod  int64
		inst int
	}{{1, id, 1000, 0}, {2, other, 1000, 0}, {3, id, 2000, 1}} {
		exec(`INSERT INTO objects (seq, id, type, modified, modified_us, created, revoked, digest, class, date_added_us, originator, newer, raw, bindings, instance)
			VALUES (?, ?, 'threat-actor', ?, ?, '2026-01-01T00:00:00Z', 0, 'd', 1, 1, 'gbr', 0, '{}', '[]', ?)`,
			r.seq, r.id, time.UnixMicro(r.mod).UTC().Format(time.RFC3339Nano), r.mod, r.inst)
		if r.seq <= 2 {
			exec(`INSERT INTO object_ids (id, instance, modified_us, seq, class) VALUES (?, ?, ?, ?, 1)`, r.id, r.inst, r.mod, r.seq)
		}
	}
	exec(`UPDATE object_ids_merged SET merged = 2`)
	exec(`INSERT INTO retention (id, until_us) VALUES (?, 5000)`, id)
	rows := storetest.MigrateRows()
	if rows > 0 {
		exec(`INSERT INTO object_ids (id, instance, modified_us, seq, class)
			SELECT id, 0, x * 1000, x + 10, 1 FROM (
				WITH RECURSIVE c(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM c WHERE x < ? - 1)
				SELECT x, 'indicator--' || lower(hex(randomblob(16))) AS id FROM c) ORDER BY id`, rows)
		exec(`INSERT INTO retention (id, until_us) SELECT id, 7000 FROM object_ids WHERE seq >= 10`)
	}
	storetest.TimeMigration(t, 21, rows, "versions with a retention time", func() error { return schema.MigrateTo(ctx, db, 21) })
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	storetest.CheckRetentionByVersionMigration(t, openAt(t, path))
}

// oldSchema makes a database as the binaries of schema version v left it,
// foreign keys on; exec writes it as they would have.
func oldSchema(t *testing.T, v int) (path string, db *sql.DB, exec func(q string, args ...any)) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "tearline.db")
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=foreign_keys(1)")
	if err != nil {
		t.Fatal(err)
	}
	if err := schema.MigrateTo(t.Context(), db, v); err != nil {
		t.Fatal(err)
	}
	return path, db, func(q string, args ...any) {
		t.Helper()
		if _, err := db.ExecContext(t.Context(), q, args...); err != nil {
			t.Fatal(err)
		}
	}
}
