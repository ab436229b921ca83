package postgres

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/tearline/tearline/internal/pgtest"
	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/store/storetest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// openDSN opens the store at dsn and closes it when the test ends.
func openDSN(t testing.TB, dsn string) *Store {
	t.Helper()
	s, err := Open(context.Background(), dsn)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return openDSN(t, pgtest.DSN(t))
	})
}

type migration struct {
	version   int
	appliedUS int64
}

func appliedMigrations(t *testing.T, s *Store) []migration {
	t.Helper()
	rows, err := s.w.Query(t.Context(), `SELECT version, applied_us FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []migration
	for rows.Next() {
		var m migration
		if err := rows.Scan(&m.version, &m.appliedUS); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestMigrationsRecorded(t *testing.T) {
	dsn := pgtest.DSN(t)
	s := openDSN(t, dsn)
	first := appliedMigrations(t, s)
	if len(first) != len(migrations)-1 {
		t.Fatalf("schema_migrations has %d rows, want %d", len(first), len(migrations)-1)
	}
	for i, m := range first {
		if m.version != i+1 || m.appliedUS == 0 {
			t.Errorf("schema_migrations[%d] = %+v, want version %d with a time", i, m, i+1)
		}
	}
	s.Close()

	// Reopening applies nothing again: same rows, same times, and the
	// tables (which a second CREATE TABLE would have refused) are intact.
	for range 2 {
		s = openDSN(t, dsn)
		if again := appliedMigrations(t, s); fmt.Sprint(again) != fmt.Sprint(first) {
			t.Errorf("schema_migrations after reopen = %v, want %v", again, first)
		}
		s.Close()
	}
}

// TestMigrateConcurrently: replicas starting at once against a new database
// apply each migration once; none fails.
func TestMigrateConcurrently(t *testing.T) {
	dsn := pgtest.DSN(t)
	const replicas = 6
	var wg sync.WaitGroup
	stores := make([]*Store, replicas)
	errs := make([]error, replicas)
	for i := range replicas {
		wg.Go(func() { stores[i], errs[i] = Open(t.Context(), dsn) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("replica %d: Open: %v", i, err)
			continue
		}
		defer stores[i].Close()
	}
	if t.Failed() {
		return
	}
	if got := appliedMigrations(t, stores[0]); len(got) != len(migrations)-1 {
		t.Errorf("schema_migrations = %v, want %d rows", got, len(migrations)-1)
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	dsn := pgtest.DSN(t)
	s := openDSN(t, dsn)
	newer := len(migrations) // one past what this binary knows
	if _, err := s.w.Exec(t.Context(), `INSERT INTO schema_migrations (version, applied_us) VALUES ($1, 1)`, newer); err != nil {
		t.Fatal(err)
	}
	s.Close()

	s2, err := Open(t.Context(), dsn)
	if err == nil {
		s2.Close()
		t.Fatal("Open of a database with a newer schema succeeded")
	}
	for _, want := range []string{"newer", fmt.Sprint(newer), fmt.Sprint(len(migrations) - 1)} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Open error %q does not mention %q", err, want)
		}
	}

	// The database was not touched: the newer version is still recorded.
	conn := openDSNNoMigrate(t, dsn)
	var have int
	if err := conn.QueryRow(t.Context(), `SELECT MAX(version) FROM schema_migrations`).Scan(&have); err != nil {
		t.Fatal(err)
	}
	if have != newer {
		t.Errorf("schema version after refused Open = %d, want %d", have, newer)
	}
}

// TestOpenErrorHidesPassword: the DSN may carry a password; errors name the
// server, never the password.
func TestOpenErrorHidesPassword(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 0)
	defer cancel()
	for _, dsn := range []string{
		"postgres://tearline:s3cr3t-pw@127.0.0.1:1/tearline?sslmode=disable&connect_timeout=1",
		"host=127.0.0.1 port=1 user=tearline password=s3cr3t-pw dbname=tearline connect_timeout=1",
	} {
		s, err := Open(ctx, dsn)
		if err == nil {
			s.Close()
			t.Fatalf("Open(%q) succeeded", dsn)
		}
		if strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("Open error shows the password: %v", err)
		}
		if !strings.Contains(err.Error(), "127.0.0.1") {
			t.Errorf("Open error %q does not name the server", err)
		}
	}
}

// TestReplicasAppendAudit: two stores on one database, two pools as two
// replicas would have, append concurrently. The log ends dense, each
// transaction's entries contiguous, and the stored tree is exactly the tree
// recomputed from the leaves.
func TestReplicasAppendAudit(t *testing.T) {
	dsn := pgtest.DSN(t)
	replicas := []*Store{openDSN(t, dsn), openDSN(t, dsn)}
	const (
		writers = 4 // per replica
		updates = 25
		perTx   = 3
	)
	ctx := t.Context()
	var (
		mu     sync.Mutex
		firsts = make(map[int64]string)
		wg     sync.WaitGroup
	)
	for r, s := range replicas {
		for w := range writers {
			wg.Go(func() {
				for u := range updates {
					name := fmt.Sprintf("r%d/w%d/u%d", r, w, u)
					err := s.Update(ctx, func(tx store.Tx) error {
						entries := make([][]byte, perTx)
						for k := range entries {
							entries[k] = fmt.Appendf(nil, "%s/%d", name, k)
						}
						// Two appends in one transaction continue each other.
						first, err := tx.AppendAudit(ctx, entries[:1]...)
						if err != nil {
							return err
						}
						if next, err := tx.AppendAudit(ctx, entries[1:]...); err != nil {
							return err
						} else if next != first+1 {
							return fmt.Errorf("second append at %d, want %d", next, first+1)
						}
						mu.Lock()
						defer mu.Unlock()
						if prev, ok := firsts[first]; ok {
							return fmt.Errorf("index %d given to %s and %s", first, prev, name)
						}
						firsts[first] = name
						return nil
					})
					if err != nil {
						t.Errorf("Update %s: %v", name, err)
						return
					}
				}
			})
		}
	}
	wg.Wait()
	if t.Failed() {
		return
	}

	total := int64(len(replicas) * writers * updates * perTx)
	for i, s := range replicas {
		if n, err := s.AuditSize(ctx); err != nil || n != total {
			t.Fatalf("replica %d: AuditSize = %d, %v; want %d", i, n, err, total)
		}
	}
	es, err := replicas[1].AuditEntries(ctx, 0, total)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(es)) != total {
		t.Fatalf("%d entries, want %d", len(es), total)
	}
	data := make([][]byte, len(es))
	for i, e := range es {
		if e.Index != int64(i) {
			t.Fatalf("entry %d has index %d", i, e.Index)
		}
		data[i] = e.Data
	}
	for first, name := range firsts {
		for k := range int64(perTx) {
			if want := fmt.Sprintf("%s/%d", name, k); string(data[first+k]) != want {
				t.Errorf("entry %d = %q, want %q", first+k, data[first+k], want)
			}
		}
	}

	// Recompute the tree from the leaves alone and compare every hash.
	var want []tlog.Hash
	hr := tlog.HashReaderFunc(func(ids []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(ids))
		for i, id := range ids {
			out[i] = want[id]
		}
		return out, nil
	})
	for n, d := range data {
		hs, err := tlog.StoredHashes(int64(n), d, hr)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, hs...)
	}
	got, err := replicas[0].AuditHashes(ctx, 0, int64(len(want))+10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d stored hashes, want %d", len(got), len(want))
	}
	for i, h := range got {
		if h.ID != int64(i) || string(h.Hash) != string(want[i][:]) {
			t.Fatalf("stored hash %d = id %d %x, want %x", i, h.ID, h.Hash, want[i])
		}
	}
	th, err := tlog.TreeHash(total, tlog.HashReaderFunc(func(ids []int64) ([]tlog.Hash, error) {
		raw, err := replicas[1].ReadAuditHashes(ctx, ids)
		if err != nil {
			return nil, err
		}
		out := make([]tlog.Hash, len(raw))
		for i, h := range raw {
			copy(out[i][:], h)
		}
		return out, nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	if wantTH, _ := tlog.TreeHash(total, hr); th != wantTH {
		t.Errorf("tree hash = %v, want %v", th, wantTH)
	}
}

// TestReplicasListCursor: objects written through two replicas at once are
// listed, page by page by Seq, each exactly once, by a reader that pages
// while they are written: a Seq never becomes visible after a larger one.
func TestReplicasListCursor(t *testing.T) {
	dsn := pgtest.DSN(t)
	replicas := []*Store{openDSN(t, dsn), openDSN(t, dsn)}
	ctx := t.Context()
	var class int64
	if err := replicas[0].Update(ctx, func(tx store.Tx) error {
		var err error
		class, err = tx.AccessClass(ctx, nil)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	const perWriter = 60
	var wg sync.WaitGroup
	for r, s := range replicas {
		for w := range 3 {
			wg.Go(func() {
				for i := range perWriter {
					id := fmt.Sprintf("indicator--00000000-0000-4000-8000-%04d%04d%04d", r, w, i)
					err := s.Update(ctx, func(tx store.Tx) error {
						v := store.ObjectVersion{ID: id, Type: "indicator", Modified: "m", Digest: "d", Raw: []byte("{}"), Bindings: []byte("[]"), Class: class}
						_, err := tx.PutObject(ctx, &v)
						return err
					})
					if err != nil {
						t.Errorf("put %s: %v", id, err)
						return
					}
				}
			})
		}
	}
	seen := make(map[string]int)
	var after int64
	page := func() int {
		vs, err := replicas[1].List(ctx, store.ListQuery{Classes: []int64{class}, After: after, Limit: 7})
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range vs {
			seen[v.ID]++
			after = v.Seq
		}
		return len(vs)
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
			page()
		}
	}
	for page() > 0 {
	}
	if want := len(replicas) * 3 * perWriter; len(seen) != want {
		t.Errorf("listed %d objects, want %d", len(seen), want)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("%s listed %d times", id, n)
		}
	}
}

// openDSNNoMigrate connects to dsn without opening a Store.
func openDSNNoMigrate(t *testing.T, dsn string) interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
} {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

type pgBindings struct{ s *Store }

func (b pgBindings) Get(t *testing.T, id string) []byte {
	var out []byte
	if err := b.s.w.QueryRow(t.Context(), `SELECT bindings FROM objects WHERE id = $1`, id).Scan(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

func (b pgBindings) Set(t *testing.T, id string, stored []byte) {
	if _, err := b.s.w.Exec(t.Context(), `UPDATE objects SET bindings = $1 WHERE id = $2`, stored, id); err != nil {
		t.Fatal(err)
	}
}

func TestBindingsAtRest(t *testing.T) {
	s := openDSN(t, pgtest.DSN(t))
	storetest.CheckBindingsAtRest(t, s, pgBindings{s})
}
