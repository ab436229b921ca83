package node

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/internal/pgtest"
	"github.com/tearline/tearline/store/backend"
)

// TestAccessMACBackfillPostgres: on PostgreSQL, the versions stored
// before access MACs existed get theirs at the next open, once, and read.
// TEARLINE_MIGRATE_ROWS=2000000 times the backfill over that many more
// object rows of a scale-bench object's size (raw about 1.5 KB, bindings
// about 700 bytes), made in the server as the migration timing tests make
// theirs (docs/STORAGE.md, "Access MACs").
func TestAccessMACBackfillPostgres(t *testing.T) {
	ctx := t.Context()
	dsn := pgtest.DSN(t)
	dir := filepath.Join(t.TempDir(), "gbr")
	if err := Init(ctx, dir, InitOptions{Name: "gbr", Country: "GBR", CreateStore: backend.Creator(dsn)}); err != nil {
		t.Fatalf("Init: %v", err)
	}
	n, err := Open(ctx, dir, Options{OpenStore: backend.Opener(dsn)})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	admin, _ := addUser(t, n, adminSpec())
	real := []string{newID("threat-actor"), newID("threat-actor")}
	mustLand(t, n, admin, bundle(sdo(real[0], t0, t0, nil)), bannerSecret)
	mustLand(t, n, admin, bundle(sdo(real[1], t0, t0, nil)), bannerUnclas)
	class := stored(t, n, real[0])[0].Class
	n.Close()

	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := conn.Exec(ctx, q, args...); err != nil {
			t.Fatal(err)
		}
	}
	rows, _ := strconv.Atoi(os.Getenv("TEARLINE_MIGRATE_ROWS"))
	started := time.Now()
	const batch = 100000
	for start := 0; start < rows; start += batch {
		// Bindings start with '[' (0x5b): stored unpacked, as JSON is.
		exec(`INSERT INTO objects (id, type, modified, modified_us, created, revoked, digest, class, date_added_us, originator, newer, instance, raw, bindings)
			SELECT 'indicator--' || gen_random_uuid(), 'indicator', '2026-01-01T00:00:00Z', 1767225600000000, '2026-01-01T00:00:00Z', false,
				encode(sha256(g::text::bytea), 'hex'), $3, g, 'gbr', false, 0,
				decode(repeat(md5(g::text), 96), 'hex'), '\x5b'::bytea || decode(repeat(md5((g+1)::text), 44), 'hex')
			FROM generate_series($1::bigint, $2::bigint) g`, start, min(start+batch, rows)-1, class)
	}
	// As migration 16 leaves a node upgraded from a release without MACs.
	exec(`DELETE FROM access_macs`)
	exec(`UPDATE access_mac_backfill SET upto = (SELECT MAX(seq) FROM objects), done_us = 0`)
	if rows > 0 {
		exec(`VACUUM ANALYZE objects`)
		t.Logf("%d rows made in %v", rows, time.Since(started).Round(time.Second))
	}

	before := cpu()
	started = time.Now()
	n, err = Open(ctx, dir, Options{OpenStore: backend.Opener(dsn)})
	if err != nil {
		t.Fatalf("Open after the upgrade: %v", err)
	}
	took, used := time.Since(started), cpu()-before
	t.Cleanup(func() { n.Close() })
	if rows > 0 {
		t.Logf("open with the backfill of %d MACs: %v wall, %v CPU of this process", rows+len(real), took.Round(time.Millisecond), used.Round(time.Millisecond))
	}
	admin = reauth(t, n, admin)
	for _, id := range real {
		if _, err := n.Get(ctx, admin, id); err != nil {
			t.Errorf("Get %s after the backfill: %v", id, err)
		}
	}
	evs := findEvents(auditLog(t, n.Store()), func(e audit.Event) bool { return e.Action == audit.ActionAccessBackfill })
	if len(evs) != 1 || evs[0].Count != rows+len(real) {
		t.Fatalf("backfill audit = %+v, want one entry counting %d", evs, rows+len(real))
	}
	n.Close()
	started = time.Now()
	if n, err = Open(ctx, dir, Options{OpenStore: backend.Opener(dsn)}); err != nil {
		t.Fatal(err)
	}
	if rows > 0 {
		t.Logf("next open: %v", time.Since(started).Round(time.Millisecond))
	}
}

// cpu is the user and system CPU time this process has used.
func cpu() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
