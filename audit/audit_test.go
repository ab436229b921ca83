package audit_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/internal/pgtest"
	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/store/postgres"
	"github.com/tearline/tearline/store/sqlite"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// A backend is a store the log lives in, and a way to write straight into
// its tables, as an intruder with access to the database would.
type backend struct {
	name string
	// open returns a new, empty store (closed when t ends) and a function
	// running SQL on its tables with ? placeholders, outside the store.
	open func(t testing.TB) (store.Store, func(t testing.TB, q string, args ...any))
}

var (
	sqliteBackend   = backend{"sqlite", openSQLite}
	postgresBackend = backend{"postgres", openPostgres}
)

// eachBackend runs f as the subtests sqlite and postgres (which skips
// without a server, except in CI: see pgtest).
func eachBackend(t *testing.T, f func(t *testing.T, b backend)) {
	t.Helper()
	for _, b := range []backend{sqliteBackend, postgresBackend} {
		t.Run(b.name, func(t *testing.T) { f(t, b) })
	}
}

func openSQLite(t testing.TB) (store.Store, func(testing.TB, string, ...any)) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "tearline.db")
	st, err := sqlite.Open(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st, func(t testing.TB, q string, args ...any) {
		t.Helper()
		db, err := sql.Open("sqlite", "file:"+p+"?_pragma=busy_timeout(10000)")
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.Exec(q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

func openPostgres(t testing.TB) (store.Store, func(testing.TB, string, ...any)) {
	t.Helper()
	dsn := pgtest.DSN(t)
	st, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st, func(t testing.TB, q string, args ...any) {
		t.Helper()
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, dollarParams(q), args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// dollarParams numbers q's ? placeholders $1, $2, ... as PostgreSQL wants.
func dollarParams(q string) string {
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// testLog is a real store with a log key.
type testLog struct {
	pg     bool // PostgreSQL: SQL that needs types says so
	st     store.Store
	sql    func(t testing.TB, q string, args ...any)
	signer note.Signer
	v      note.Verifier
	vkey   string
}

func newTestLog(t testing.TB, b backend) *testLog {
	t.Helper()
	st, exec := b.open(t)
	skey, vkey, err := audit.GenerateLogKey("test.example/audit")
	if err != nil {
		t.Fatal(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	return &testLog{pg: b.name == postgresBackend.name, st: st, sql: exec, signer: s, v: v, vkey: vkey}
}

// leaf returns a realistic leaf for index i; tag lets two logs diverge.
func leaf(t testing.TB, i int64, tag string) []byte {
	t.Helper()
	b, err := audit.Event{Time: time.Unix(1700000000+i, 0), Node: "test", Actor: "user:alice", Action: audit.ActionRead,
		Object: fmt.Sprintf("indicator--%08d-0000-4000-8000-000000000000", i), Decision: audit.Allow, Detail: tag}.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// appendN appends n leaves in transactions of batch.
func (l *testLog) appendN(t testing.TB, n, batch int, tag string) {
	t.Helper()
	ctx := context.Background()
	for done := 0; done < n; {
		k := min(batch, n-done)
		err := l.st.Update(ctx, func(tx store.Tx) error {
			first, err := tx.AuditSize(ctx)
			if err != nil {
				return err
			}
			es := make([][]byte, k)
			for i := range es {
				es[i] = leaf(t, first+int64(i), tag)
			}
			_, err = tx.AppendAudit(ctx, es...)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		done += k
	}
}

func (l *testLog) checkpoint(t testing.TB) store.AuditCheckpoint {
	t.Helper()
	c, err := audit.Checkpoint(context.Background(), l.st, l.signer, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// exec runs SQL on the store's tables directly, as an intruder would.
func (l *testLog) exec(t testing.TB, q string, args ...any) {
	t.Helper()
	l.sql(t, q, args...)
}

func TestVerifyIntact(t *testing.T) { eachBackend(t, testVerifyIntact) }

func testVerifyIntact(t *testing.T, b backend) {
	l := newTestLog(t, b)
	l.appendN(t, 1000, 7, "")
	l.checkpoint(t)
	l.appendN(t, 2100, 1024, "")
	l.checkpoint(t)
	l.checkpoint(t) // same size: no second note
	r, err := audit.Verify(t.Context(), l.st, l.v)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if r.Size != 3100 || r.Checkpoints != 2 {
		t.Errorf("Verify = size %d, %d checkpoints; want 3100, 2", r.Size, r.Checkpoints)
	}
	root, err := audit.TreeHash(t.Context(), l.st, 3100)
	if err != nil || string(root) != string(r.Root) {
		t.Errorf("TreeHash = %x, %v; Verify root %x", root, err, r.Root)
	}
}

func TestVerifyTamper(t *testing.T) { eachBackend(t, testVerifyTamper) }

func testVerifyTamper(t *testing.T, b backend) {
	// The tampering SQL runs on both backends: rows are moved aside to
	// indexes beyond the log rather than to negative ones, which
	// PostgreSQL's schema refuses (CHECK idx >= 0).
	const n, aside = 3000, 1_000_000
	tests := []struct {
		name   string
		tamper func(t *testing.T, l *testLog)
		want   int64
	}{
		{"change", func(t *testing.T, l *testLog) {
			l.exec(t, `UPDATE audit SET data = ? WHERE idx = 1234`, leaf(t, 1234, "forged"))
		}, 1234},
		{"change first", func(t *testing.T, l *testLog) {
			l.exec(t, `UPDATE audit SET data = ? WHERE idx = 0`, []byte("x"))
		}, 0},
		{"delete", func(t *testing.T, l *testLog) { l.exec(t, `DELETE FROM audit WHERE idx = 777`) }, 777},
		{"delete run", func(t *testing.T, l *testLog) { l.exec(t, `DELETE FROM audit WHERE idx >= 100 AND idx < 20000`) }, 100},
		{"delete last", func(t *testing.T, l *testLog) { l.exec(t, `DELETE FROM audit WHERE idx = ?`, n-1) }, n - 1},
		{"truncate with tree", func(t *testing.T, l *testLog) {
			// Each leaf's row holds the tree hashes it added: they go too.
			l.exec(t, `DELETE FROM audit WHERE idx >= 2990`)
		}, 2990},
		{"reorder", func(t *testing.T, l *testLog) {
			l.exec(t, `UPDATE audit SET idx = ? WHERE idx = 500`, aside)
			l.exec(t, `UPDATE audit SET idx = 500 WHERE idx = 501`)
			l.exec(t, `UPDATE audit SET idx = 501 WHERE idx = ?`, aside)
		}, 500},
		{"insert", func(t *testing.T, l *testLog) {
			// Out of the way and back one further: no step collides on
			// the primary key, whichever order rows are updated in.
			l.exec(t, `UPDATE audit SET idx = idx + ? WHERE idx >= 2000`, aside)
			l.exec(t, `UPDATE audit SET idx = idx - ? + 1 WHERE idx >= ?`, aside, aside)
			l.exec(t, `INSERT INTO audit (idx, data) VALUES (2000, ?)`, leaf(t, 2000, "planted"))
		}, 2000},
		{"insert at end", func(t *testing.T, l *testLog) {
			l.exec(t, `INSERT INTO audit (idx, data) VALUES (?, ?)`, n, leaf(t, n, "planted"))
		}, n},
		{"tree hash", func(t *testing.T, l *testLog) {
			// The subtree over entries 320..327 is the fourth hash in the
			// row of leaf 327, which completed it.
			l.setTree(t, 327, func(tree []byte) { clear(tree[3*32 : 4*32]) })
		}, 40 << 3},
		{"tree shortened", func(t *testing.T, l *testLog) {
			l.setTree(t, 327, func(tree []byte) {}, 3)
		}, 40 << 3},
		{"rewrite leaf and tree", func(t *testing.T, l *testLog) {
			// The intruder rehashes the tree after the change; only the
			// signed checkpoint at 2048 still disagrees.
			l.exec(t, `UPDATE audit SET data = ? WHERE idx = 2500`, leaf(t, 2500, "forged"))
			l.rehash(t, 2048)
		}, 2048},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newTestLog(t, b)
			l.appendN(t, 2048, 1024, "")
			l.checkpoint(t)
			l.appendN(t, n-2048, 100, "")
			l.checkpoint(t)
			if _, err := audit.Verify(t.Context(), l.st, l.v); err != nil {
				t.Fatalf("before tampering: %v", err)
			}
			tt.tamper(t, l)
			_, err := audit.Verify(t.Context(), l.st, l.v)
			te, ok := audit.IsTamper(err)
			if !ok {
				t.Fatalf("Verify after tampering = %v, want a TamperError", err)
			}
			if te.Index != tt.want {
				t.Errorf("Verify named entry %d (%v), want %d", te.Index, err, tt.want)
			}
		})
	}
}

// rehash recomputes the stored tree from leaf start on, as an intruder
// covering their tracks would, writing straight into the table.
func (l *testLog) rehash(t *testing.T, start int64) {
	ctx := t.Context()
	n, err := l.st.AuditSize(ctx)
	if err != nil {
		t.Fatal(err)
	}
	es, err := l.st.AuditEntries(ctx, start, n)
	if err != nil {
		t.Fatal(err)
	}
	mem := map[int64]tlog.Hash{}
	hr := tlog.HashReaderFunc(func(ids []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(ids))
		for i, id := range ids {
			if h, ok := mem[id]; ok {
				out[i] = h
				continue
			}
			bs, err := l.st.ReadAuditHashes(ctx, []int64{id})
			if err != nil {
				return nil, err
			}
			copy(out[i][:], bs[0])
		}
		return out, nil
	})
	// One statement: a statement per row costs seconds on PostgreSQL.
	var rows []string
	var args []any
	for _, e := range es {
		hs, err := tlog.StoredHashes(e.Index, e.Data, hr)
		if err != nil {
			t.Fatal(err)
		}
		var tree []byte
		for j, h := range hs {
			mem[tlog.StoredHashIndex(0, e.Index)+int64(j)] = h
			tree = append(tree, h[:]...)
		}
		row := "(?, ?)"
		if l.pg {
			row = "(?::bigint, ?::bytea)"
		}
		rows = append(rows, row)
		args = append(args, e.Index, tree)
	}
	if len(rows) > 0 {
		l.exec(t, `UPDATE audit SET tree = v.column2 FROM (VALUES `+strings.Join(rows, ", ")+`) AS v WHERE audit.idx = v.column1`, args...)
	}
}

// setTree rewrites the tree hashes stored in leaf's row: edit changes them
// in place, and keep, when given, cuts them to that many hashes.
func (l *testLog) setTree(t *testing.T, leaf int64, edit func(tree []byte), keep ...int) {
	t.Helper()
	ctx := t.Context()
	var tree []byte
	for id := tlog.StoredHashIndex(0, leaf); id < tlog.StoredHashIndex(0, leaf+1); id++ {
		bs, err := l.st.ReadAuditHashes(ctx, []int64{id})
		if err != nil {
			t.Fatal(err)
		}
		tree = append(tree, bs[0]...)
	}
	edit(tree)
	if len(keep) > 0 {
		tree = tree[:keep[0]*32]
	}
	l.exec(t, `UPDATE audit SET tree = ? WHERE idx = ?`, tree, leaf)
}

func TestCheckpointBadSignature(t *testing.T) { eachBackend(t, testCheckpointBadSignature) }

func testCheckpointBadSignature(t *testing.T, b backend) {
	l := newTestLog(t, b)
	l.appendN(t, 10, 10, "")
	c := l.checkpoint(t)
	if _, err := audit.OpenCheckpoint(c.Note, l.v); err != nil {
		t.Fatalf("OpenCheckpoint: %v", err)
	}
	// Same origin, another key: an impostor's checkpoint.
	skey, _, _ := audit.GenerateLogKey("test.example/audit")
	other, _ := note.NewSigner(skey)
	forged, err := audit.SignCheckpoint(other, 10, make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := audit.OpenCheckpoint(forged, l.v); !errors.Is(err, audit.ErrBadSignature) {
		t.Errorf("OpenCheckpoint(other key) = %v, want ErrBadSignature", err)
	}
	// The log's own note with its root changed.
	altered := []byte(string(c.Note[:len("test.example/audit\n10\n")]) + "AAAA" + string(c.Note[len("test.example/audit\n10\n")+4:]))
	if _, err := audit.OpenCheckpoint(altered, l.v); !errors.Is(err, audit.ErrBadSignature) {
		t.Errorf("OpenCheckpoint(altered) = %v, want ErrBadSignature", err)
	}
	// A forged checkpoint planted in the table is refused by Verify.
	l.appendN(t, 5, 5, "")
	l.exec(t, `INSERT INTO audit_checkpoints (size, note, created_us) VALUES (15, ?, 0)`, forged)
	if _, err := audit.Verify(t.Context(), l.st, l.v); !errors.Is(err, audit.ErrBadSignature) {
		t.Errorf("Verify with a forged checkpoint = %v, want ErrBadSignature", err)
	}
}

func TestProofs(t *testing.T) { eachBackend(t, testProofs) }

func testProofs(t *testing.T, b backend) {
	l := newTestLog(t, b)
	const n = 1100
	l.appendN(t, n, 333, "")
	ctx := t.Context()
	// Reference roots from the field's compact range, independent of tlog.
	f := &compact.RangeFactory{Hash: rfc6962.DefaultHasher.HashChildren}
	rng := f.NewEmptyRange(0)
	roots := [][]byte{rfc6962.DefaultHasher.EmptyRoot()}
	es, err := l.st.AuditEntries(ctx, 0, n)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		if err := rng.Append(rfc6962.DefaultHasher.HashLeaf(e.Data), nil); err != nil {
			t.Fatal(err)
		}
		r, _ := rng.GetRootHash(nil)
		roots = append(roots, r)
	}
	for _, size := range []int64{1, 2, 3, 7, 8, 9, 64, 1000, 1023, 1024, 1025, n} {
		root, err := audit.TreeHash(ctx, l.st, size)
		if err != nil || string(root) != string(roots[size]) {
			t.Fatalf("TreeHash(%d) = %x, %v; want %x", size, root, err, roots[size])
		}
		for _, idx := range []int64{0, 1, size / 2, size - 1} {
			if idx >= size {
				continue
			}
			p, err := audit.InclusionProof(ctx, l.st, idx, size)
			if err != nil {
				t.Fatalf("InclusionProof(%d, %d): %v", idx, size, err)
			}
			lh := rfc6962.DefaultHasher.HashLeaf(es[idx].Data)
			if err := proof.VerifyInclusion(rfc6962.DefaultHasher, uint64(idx), uint64(size), lh, p, roots[size]); err != nil {
				t.Errorf("VerifyInclusion(%d, %d): %v", idx, size, err)
			}
			if idx+1 < size {
				wrong := rfc6962.DefaultHasher.HashLeaf(es[idx+1].Data)
				if proof.VerifyInclusion(rfc6962.DefaultHasher, uint64(idx), uint64(size), wrong, p, roots[size]) == nil {
					t.Errorf("VerifyInclusion(%d, %d) accepted the wrong leaf", idx, size)
				}
			}
		}
		for _, from := range []int64{1, 2, 5, size / 2, size - 1, size} {
			if from < 1 || from > size {
				continue
			}
			p, err := audit.ConsistencyProof(ctx, l.st, from, size)
			if err != nil {
				t.Fatalf("ConsistencyProof(%d, %d): %v", from, size, err)
			}
			if err := proof.VerifyConsistency(rfc6962.DefaultHasher, uint64(from), uint64(size), p, roots[from], roots[size]); err != nil {
				t.Errorf("VerifyConsistency(%d, %d): %v", from, size, err)
			}
		}
	}
	if _, err := audit.InclusionProof(ctx, l.st, 5, n+1); !errors.Is(err, audit.ErrRange) {
		t.Errorf("InclusionProof beyond the log = %v, want ErrRange", err)
	}
	if _, err := audit.ConsistencyProof(ctx, l.st, 0, 5); !errors.Is(err, audit.ErrRange) {
		t.Errorf("ConsistencyProof from 0 = %v, want ErrRange", err)
	}
}

func TestFailedTransactionLeavesNoTree(t *testing.T) {
	eachBackend(t, testFailedTransactionLeavesNoTree)
}

func testFailedTransactionLeavesNoTree(t *testing.T, b backend) {
	l := newTestLog(t, b)
	l.appendN(t, 3, 3, "")
	ctx := t.Context()
	boom := errors.New("action failed")
	err := l.st.Update(ctx, func(tx store.Tx) error {
		if _, err := tx.AppendAudit(ctx, leaf(t, 3, ""), leaf(t, 4, "")); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update = %v", err)
	}
	if n, err := l.st.AuditSize(ctx); err != nil || n != 3 {
		t.Errorf("AuditSize = %d, %v; want 3", n, err)
	}
	if hs, err := l.st.AuditHashes(ctx, 0, 1000); err != nil || int64(len(hs)) != tlog.StoredHashCount(3) {
		t.Errorf("AuditHashes = %d, %v; want %d", len(hs), err, tlog.StoredHashCount(3))
	}
	l.appendN(t, 2, 2, "")
	if _, err := audit.Verify(ctx, l.st, l.v); err != nil {
		t.Errorf("Verify after a failed transaction: %v", err)
	}
}
