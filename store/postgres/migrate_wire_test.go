package postgres

import (
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/tearline/tearline/store"
)

// TestMigrateInstanceWire: migration 17 gives the ledger's and release
// requests' existing rows instance 0 (what they named), and rewrites none.
// TEARLINE_MIGRATE_ROWS=2000000 times it over that many ledger rows
// (docs/STORAGE.md).
func TestMigrateInstanceWire(t *testing.T) {
	ctx := t.Context()
	dsn, pool, exec := oldSchema(t, 16)
	id := "threat-actor--00000000-0000-4000-8000-000000000001"
	exec(`INSERT INTO ledger (object_id, modified, party, agreement, agreement_version, term, outcome, tearline_id, labels, reasons, state, request, actor, at_us)
		VALUES ($1, 'm', 'usa', 'a', 1, 0, 'release', '', '[]', '[]', 'ready', '', 'user:r', 1)`, id)
	exec(`INSERT INTO release_requests (id, object_id, modified, party, agreement, agreement_version, purpose, requester, decision, required, approvals, state, reason, created_us, updated_us)
		VALUES ('release--1', $1, 'm', 'usa', 'a', 1, 'analysis', 'user:r', '{}', 1, '[]', 'pending', '', 1, 1)`, id)
	rows, _ := strconv.Atoi(os.Getenv("TEARLINE_MIGRATE_ROWS"))
	if rows > 0 {
		const batch = 200000
		for start := 0; start < rows; start += batch {
			exec(`INSERT INTO ledger (object_id, modified, party, agreement, agreement_version, term, outcome, tearline_id, labels, reasons, state, request, actor, at_us)
				SELECT 'indicator--' || gen_random_uuid(), '2026-01-01T00:00:00.000Z', 'usa', 'gbr-usa', 1, 0, 'release', '',
					'["marking-definition--00000000-0000-4000-8000-000000000001"]', '[]', 'ready', '', 'user:releaser', g
				FROM generate_series($1::bigint, $2::bigint) g`, start, min(start+batch, rows)-1)
		}
		exec(`VACUUM ANALYZE ledger`)
	}
	start := time.Now()
	if err := migrateTo(ctx, pool, 17); err != nil {
		t.Fatal(err)
	}
	if rows > 0 {
		t.Logf("migration 17 over %d ledger rows: %v", rows, time.Since(start))
	}
	pool.Close()
	s := openDSN(t, dsn)
	es, err := s.Ledger(ctx, store.LedgerQuery{ObjectID: id})
	if err != nil || len(es) != 1 || es[0].Instance != 0 || es[0].Modified != "m" {
		t.Fatalf("ledger after the migration: %+v, %v", es, err)
	}
	q, err := s.ReleaseRequest(ctx, "release--1")
	if err != nil || q.Instance != 0 || q.ObjectID != id {
		t.Fatalf("release request after the migration: %+v, %v", q, err)
	}
	if os, err := s.InstanceOrigins(ctx, []string{id}); err != nil || len(os) != 0 {
		t.Fatalf("instance origins after the migration: %+v, %v", os, err)
	}
}
