package postgres

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tearline/tearline/internal/pgtest"
	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/store/storetest"
	"github.com/tearline/tearline/store/storetest/audittest"
	"github.com/tearline/tearline/store/storetest/recordstest"
)

// TestMigrateListing opens a database as the binaries before the listing
// migration (6) left it and checks what the migration did.
func TestMigrateListing(t *testing.T) {
	ctx := t.Context()
	dsn, pool, exec := oldSchema(t, 5)
	exec(`INSERT INTO access_classes (key) VALUES ('marking-definition--a')`)
	for _, r := range storetest.ListingMigrationRows() {
		exec(`INSERT INTO objects (id, type, modified, modified_us, created, revoked, digest, class, date_added_us, originator, raw, bindings)
			VALUES ($1, $2, $3, $4, '2026-01-01T00:00:00Z', false, $5, 1, $6, 'GBR', $7, '[]')`,
			r.ID, r.Type, r.Modified.Format(time.RFC3339Nano), r.Modified.UnixMicro(), r.Digest, time.Now().UnixMicro(), []byte("raw "+r.Digest))
		exec(`INSERT INTO data_keys (id, modified_us, wrapped) VALUES ($1, $2, $3)`, r.ID, r.Modified.UnixMicro(), []byte("key "+r.Digest))
	}
	pool.Close()

	s := openDSN(t, dsn)
	rows, err := s.w.Query(ctx, `SELECT digest FROM objects WHERE newer ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	newer, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	storetest.CheckListingMigration(t, s, newer)
}

// TestMigrateTree opens a database whose audit tree is in audit_hashes, as
// the binaries before migration 7 left it, and checks the hashes moved into
// the leaves' rows; a tree out of step with its leaves stops the migration
// and leaves the database as it was.
func TestMigrateTree(t *testing.T) {
	ctx := t.Context()
	for _, broken := range []bool{false, true} {
		dsn := pgtest.DSN(t)
		pool, err := pgxpool.New(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		if err := migrateTo(ctx, pool, treeMigration-1); err != nil {
			t.Fatal(err)
		}
		leaves, hashes := audittest.TreeMigrationLog(t)
		idx := make([]int64, len(leaves))
		for i := range idx {
			idx[i] = int64(i)
		}
		var ids []int64
		var hs [][]byte
		for id, h := range hashes {
			if broken && id == 700 {
				continue
			}
			ids, hs = append(ids, int64(id)), append(hs, h[:])
		}
		for _, q := range []struct {
			sql  string
			args []any
		}{
			{`INSERT INTO audit (idx, data) SELECT * FROM unnest($1::bigint[], $2::bytea[])`, []any{idx, leaves}},
			{`INSERT INTO audit_hashes (id, hash) SELECT * FROM unnest($1::bigint[], $2::bytea[])`, []any{ids, hs}},
		} {
			if _, err := pool.Exec(ctx, q.sql, q.args...); err != nil {
				t.Fatal(err)
			}
		}
		pool.Close()
		if broken {
			s, err := Open(ctx, dsn)
			if err == nil {
				s.Close()
			}
			if err == nil || !strings.Contains(err.Error(), "audit tree") {
				t.Fatalf("Open with a hash missing from the old tree = %v, want the migration refused", err)
			}
			continue
		}
		s := openDSN(t, dsn)
		audittest.CheckTreeMigration(t, s)
		var gone bool
		if err := s.w.QueryRow(ctx, `SELECT to_regclass('audit_hashes') IS NULL`).Scan(&gone); err != nil || !gone {
			t.Errorf("audit_hashes still there (%v)", err)
		}
	}
}

// TestAuditStatistics checks migration 8: analyzing the audit log samples
// a few thousand rows for the leaf index alone, whatever the log's size.
func TestAuditStatistics(t *testing.T) {
	ctx := t.Context()
	s := openDSN(t, pgtest.DSN(t))
	entries := make([][]byte, 5000)
	for i := range entries {
		entries[i] = []byte(`{"action":"object.read","n":` + strconv.Itoa(i) + `}`)
	}
	if err := s.Update(ctx, func(tx store.Tx) error {
		_, err := tx.AppendAudit(ctx, entries...)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.w.Exec(ctx, `ANALYZE audit`); err != nil {
		t.Fatal(err)
	}
	rows, err := s.w.Query(ctx, `SELECT attname, COALESCE(array_length(histogram_bounds::text::text[], 1), 0) FROM pg_stats WHERE schemaname = current_schema() AND tablename = 'audit' ORDER BY attname`)
	if err != nil {
		t.Fatal(err)
	}
	type stat struct {
		Name   string
		Bounds int
	}
	got, err := pgx.CollectRows(rows, pgx.RowToStructByPos[stat])
	if err != nil {
		t.Fatal(err)
	}
	// Target 10: at most 11 histogram bounds (the default, 100, gives 101
	// for 5,000 distinct indexes); no statistics for data or tree.
	if len(got) != 1 || got[0].Name != "idx" || got[0].Bounds < 2 || got[0].Bounds > 11 {
		t.Fatalf("audit statistics after ANALYZE = %+v, want idx alone with 2–11 histogram bounds", got)
	}
}

// Migration 11 gives each outbox row a delivery state: a message refused
// for good before it (marked delivered, the refusal kept) is failed.
func TestMigrateDeliveryStates(t *testing.T) {
	ctx := t.Context()
	dsn := pgtest.DSN(t)
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	if err := migrateTo(ctx, pool, 10); err != nil {
		t.Fatal(err)
	}
	for _, r := range recordstest.DeliveryMigrationRows() {
		if _, err := pool.Exec(ctx, `INSERT INTO outbox (peer, kind, payload, created_us, delivered_us, last_error) VALUES ('usa', $1, $2, $3, $4, $5)`,
			r.Kind, r.Payload, r.CreatedUS, r.DeliveredUS, r.LastError); err != nil {
			t.Fatal(err)
		}
	}
	pool.Close()
	s := openDSN(t, dsn)
	recordstest.CheckDeliveryMigration(t, s)
}

// TestMigrateInstances opens a database as the binaries before instances
// (migration 14) left it: its versions are of the default instance, an
// older tombstone keeps refusing its id. TEARLINE_MIGRATE_ROWS=2000000
// times the migration over that many object rows of about 1.5 KB (a
// scale-bench object's size), made in the server (docs/STORAGE.md).
func TestMigrateInstances(t *testing.T) {
	ctx := t.Context()
	dsn, pool, exec := oldSchema(t, 13)
	exec(`INSERT INTO access_classes (key) VALUES ('marking-definition--a')`)
	id := storetest.MigID1
	for i, mod := range []int64{1000, 2000} {
		exec(`INSERT INTO objects (id, type, modified, modified_us, created, revoked, digest, class, date_added_us, originator, newer, raw, bindings)
			VALUES ($1, 'threat-actor', $2, $3, '2026-01-01T00:00:00Z', false, $4, 1, 1, 'gbr', $5, '\x7b7d', '\x5b5d')`,
			id, time.UnixMicro(mod).UTC().Format(time.RFC3339Nano), mod, "d"+strconv.Itoa(i), i == 0)
	}
	purged := storetest.MigID2
	exec(`INSERT INTO tombstones (id, versions, purged_us, reason) VALUES ($1, '["x"]', 1, 'admin')`, purged)
	rows := storetest.MigrateRows()
	if rows > 0 {
		const batch = 100000
		for start := 0; start < rows; start += batch {
			exec(`INSERT INTO objects (id, type, modified, modified_us, created, revoked, digest, class, date_added_us, originator, newer, raw, bindings)
				SELECT 'indicator--' || gen_random_uuid(), 'indicator', '2026-01-01T00:00:00Z', g, '2026-01-01T00:00:00Z', false, md5(g::text), 1, g, 'gbr', false,
					decode(repeat(md5(g::text), 96), 'hex'), decode(repeat(md5((g+1)::text), 24), 'hex')
				FROM generate_series($1::bigint, $2::bigint) g`, start, min(start+batch, rows)-1)
		}
		exec(`VACUUM ANALYZE objects`)
	}
	storetest.TimeMigration(t, 14, rows, "object rows", func() error { return migrateTo(ctx, pool, 14) })
	pool.Close()
	storetest.CheckInstancesMigration(t, openDSN(t, dsn))
}

// TestMigrateTombstonesByInstance: migration 20 turns a tombstone per id
// into one per instance, whole, each with the old row's classes and
// versions; a purged id stays refused in each instance it counted and a
// new instance above is stored. TEARLINE_MIGRATE_ROWS=2000000 times it over
// that many tombstones (docs/STORAGE.md).
func TestMigrateTombstonesByInstance(t *testing.T) {
	ctx := t.Context()
	dsn, pool, exec := oldSchema(t, 19)
	exec(`INSERT INTO access_classes (key) VALUES ('marking-definition--a'), ('marking-definition--b')`)
	one, two := storetest.MigID1, storetest.MigID2
	exec(`INSERT INTO tombstones (id, versions, purged_us, reason, classes, instances) VALUES ($1, '["a"]', 1, 'admin', '1', 1), ($2, '["b","c"]', 2, 'recall', '1,2', 2)`, one, two)
	rows := storetest.MigrateRows()
	if rows > 0 {
		exec(`INSERT INTO tombstones (id, versions, purged_us, reason, classes, instances)
			SELECT 'indicator--' || gen_random_uuid(), '["2026-01-01T00:00:00Z"]', g, 'retention', '1', 1 FROM generate_series(1, $1::bigint) g`, rows)
		exec(`VACUUM ANALYZE tombstones`)
	}
	storetest.TimeMigration(t, 20, rows, "tombstones", func() error { return migrateTo(ctx, pool, 20) })
	pool.Close()
	storetest.CheckTombstonesByInstanceMigration(t, openDSN(t, dsn))
}

// TestMigrateRetentionByVersion: migration 21 gives a retention time
// recorded per id to every version of it, keyed by version from then on.
// TEARLINE_MIGRATE_ROWS=2000000 times it over that many versions, each
// with a retention time (docs/STORAGE.md).
func TestMigrateRetentionByVersion(t *testing.T) {
	ctx := t.Context()
	dsn, pool, exec := oldSchema(t, 20)
	exec(`INSERT INTO access_classes (key) VALUES ('marking-definition--a')`)
	id, other := storetest.MigID1, storetest.MigID2
	for _, r := range []struct {
		id   string
		mod  int64
		inst int
	}{{id, 1000, 0}, {other, 1000, 0}, {id, 2000, 1}} {
		exec(`INSERT INTO objects (id, type, modified, modified_us, created, revoked, digest, class, date_added_us, originator, newer, raw, bindings, instance)
			VALUES ($1, 'threat-actor', $2, $3, '2026-01-01T00:00:00Z', false, 'd', 1, 1, 'gbr', false, '\x7b7d', '\x5b5d', $4)`,
			r.id, time.UnixMicro(r.mod).UTC().Format(time.RFC3339Nano), r.mod, r.inst)
	}
	exec(`INSERT INTO retention (id, until_us) VALUES ($1, 5000)`, id)
	rows := storetest.MigrateRows()
	if rows > 0 {
		exec(`INSERT INTO objects (id, type, modified, modified_us, created, revoked, digest, class, date_added_us, originator, newer, raw, bindings)
			SELECT 'indicator--' || gen_random_uuid(), 'indicator', '2026-01-01T00:00:00Z', g, '2026-01-01T00:00:00Z', false, md5(g::text), 1, g, 'gbr', false,
				'\x7b7d', '\x5b5d' FROM generate_series(1, $1::bigint) g`, rows)
		exec(`INSERT INTO retention (id, until_us) SELECT id, 7000 FROM objects WHERE type = 'indicator'`)
		exec(`VACUUM ANALYZE objects, retention`)
	}
	storetest.TimeMigration(t, 21, rows, "versions with a retention time", func() error { return migrateTo(ctx, pool, 21) })
	pool.Close()
	storetest.CheckRetentionByVersionMigration(t, openDSN(t, dsn))
}

// oldSchema makes a database (a throwaway server's) as the binaries of
// schema version v left it; exec writes it as they would have.
func oldSchema(t *testing.T, v int) (dsn string, pool *pgxpool.Pool, exec func(q string, args ...any)) {
	t.Helper()
	dsn = pgtest.DSN(t)
	pool, err := pgxpool.New(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	if err := migrateTo(t.Context(), pool, v); err != nil {
		t.Fatal(err)
	}
	return dsn, pool, func(q string, args ...any) {
		t.Helper()
		if _, err := pool.Exec(t.Context(), q, args...); err != nil {
			t.Fatal(err)
		}
	}
}
