package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/bits"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/store/internal/scan"
	"github.com/tearline/tearline/store/internal/treehash"
)

// auditState is what one write transaction knows about the audit tree.
type auditState struct {
	read bool
	next int64 // next leaf index
	err  error // a failed append poisons the rest of the transaction
}

// insertChunk is how many rows one INSERT statement carries: one statement
// per row costs more than hashing the row.
const insertChunk = 256

// appendAudit inserts the leaves and, in the same transaction, the tree
// hashes tlog.StoredHashes says they add. The single writer connection makes
// this transaction the log's sequencer, so the tree can neither fork nor
// have gaps.
func (t *tx) appendAudit(ctx context.Context, entries [][]byte) (int64, error) {
	if err := t.auditStart(ctx); err != nil {
		return 0, err
	}
	first := t.audit.next
	if len(entries) == 0 {
		return first, nil
	}
	rows := make([]any, 0, 2*len(entries))
	for i, e := range entries {
		rows = append(rows, first+int64(i), e)
	}
	if err := insertRows(ctx, t.t, t.rows, "audit (idx, data)", rows); err != nil {
		t.audit.err = err
		return 0, fmt.Errorf("append audit at %d: %w", first, err)
	}
	if err := t.hashRecords(ctx, first, entries); err != nil {
		t.audit.err = err
		return 0, err
	}
	t.audit.next += int64(len(entries))
	return first, nil
}

// auditStart reads the log's size once per transaction and refuses to
// extend a tree whose stored hashes are out of step with its leaves.
func (t *tx) auditStart(ctx context.Context) error {
	if t.audit.err != nil {
		return fmt.Errorf("append audit: earlier append in this transaction failed: %w", t.audit.err)
	}
	if t.audit.read {
		return nil
	}
	n, err := t.AuditSize(ctx)
	if err != nil {
		return fmt.Errorf("append audit: %w", err)
	}
	h, err := storedHashCount(ctx, t.t)
	if err != nil {
		return fmt.Errorf("append audit: %w", err)
	}
	if want := tlog.StoredHashCount(n); h != want {
		return fmt.Errorf("append audit: tree has %d stored hashes for %d leaves, want %d (run `tearline audit verify`)", h, n, want)
	}
	t.audit = auditState{read: true, next: n}
	return nil
}

// hashRecords computes and inserts the stored hashes for records first,
// first+1, ... whose data is entries.
func (t *tx) hashRecords(ctx context.Context, first int64, entries [][]byte) error {
	ids, hashes, err := treehash.Append(first, entries, func(ids []int64) ([][]byte, error) {
		return readHashes(ctx, t.t, ids)
	})
	if err != nil {
		return err
	}
	rows := make([]any, 0, 2*len(ids))
	for i, id := range ids {
		rows = append(rows, id, hashes[i][:])
	}
	if err := insertRows(ctx, t.t, t.rows, "audit_hashes (id, hash)", rows); err != nil {
		return fmt.Errorf("audit tree hashes from %d: %w", first, err)
	}
	return nil
}

// insertRows inserts two-column rows (flattened into args) in chunks of a
// power of two, at most insertChunk rows. With rs, each chunk runs a
// statement the writer connection prepared when the store was opened:
// parsing a VALUES list of 256 rows anew for each chunk cost as much as
// inserting the rows (a page of 1,000 audited reads is a dozen chunks).
func insertRows(ctx context.Context, t *sql.Tx, rs *rowStmts, into string, args []any) error {
	for len(args) > 0 {
		n := min(len(args)/2, insertChunk)
		n = 1 << (bits.Len(uint(n)) - 1) // the largest power of two ≤ n
		var err error
		if st := rs.stmt(into, n); st != nil {
			_, err = t.StmtContext(ctx, st).ExecContext(ctx, args[:2*n]...)
		} else {
			_, err = t.ExecContext(ctx, insertSQL(into, n), args[:2*n]...)
		}
		if err != nil {
			return err
		}
		args = args[2*n:]
	}
	return nil
}

func insertSQL(into string, rows int) string {
	return "INSERT INTO " + into + " VALUES (?,?)" + strings.Repeat(",(?,?)", rows-1)
}

// rowStmts are insertRows' statements, prepared on the writer connection
// before any transaction (preparing on a *sql.DB needs a free connection,
// and inside Update the only one is taken). tx.StmtContext reuses them on
// that connection; if database/sql ever replaces the connection, it
// prepares them again on the new one.
type rowStmts struct {
	m map[rowStmtKey]*sql.Stmt
}

type rowStmtKey struct {
	into string
	rows int
}

// rowTables are the tables insertRows writes.
var rowTables = [...]string{"audit (idx, data)", "audit_hashes (id, hash)"}

func prepareRowStmts(ctx context.Context, db *sql.DB) (*rowStmts, error) {
	rs := &rowStmts{m: map[rowStmtKey]*sql.Stmt{}}
	for _, into := range rowTables {
		for n := 1; n <= insertChunk; n *= 2 {
			st, err := db.PrepareContext(ctx, insertSQL(into, n))
			if err != nil {
				rs.close()
				return nil, fmt.Errorf("prepare insert into %s: %w", into, err)
			}
			rs.m[rowStmtKey{into, n}] = st
		}
	}
	return rs, nil
}

// stmt is the prepared statement for rows rows into into; nil when rs is
// nil (a store not yet open) or into is not one of rowTables.
func (rs *rowStmts) stmt(into string, rows int) *sql.Stmt {
	if rs == nil {
		return nil
	}
	return rs.m[rowStmtKey{into, rows}]
}

func (rs *rowStmts) close() error {
	var errs []error
	for _, st := range rs.m {
		errs = append(errs, st.Close())
	}
	return errors.Join(errs...)
}

func storedHashCount(ctx context.Context, q querier) (int64, error) {
	var n int64
	err := q.QueryRowContext(ctx, `SELECT COALESCE(MAX(id) + 1, 0) FROM audit_hashes`).Scan(&n)
	return n, err
}

// readHashes returns the hashes with these ids in the order given.
func readHashes(ctx context.Context, q querier, ids []int64) ([][]byte, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := q.QueryContext(ctx, `SELECT id, hash FROM audit_hashes WHERE id IN (?`+strings.Repeat(",?", len(ids)-1)+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("read audit hashes: %w", err)
	}
	defer rows.Close()
	byID := make(map[int64][]byte, len(ids))
	for rows.Next() {
		var id int64
		var h []byte
		if err := rows.Scan(&id, &h); err != nil {
			return nil, err
		}
		byID[id] = h
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([][]byte, len(ids))
	for i, id := range ids {
		h, ok := byID[id]
		if !ok || len(h) != tlog.HashSize {
			return nil, fmt.Errorf("audit hash %d: %w", id, store.ErrNotFound)
		}
		out[i] = h
	}
	return out, nil
}

func (r reader) AuditHashes(ctx context.Context, start, end int64) ([]store.AuditHash, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT id, hash FROM audit_hashes WHERE id >= ? AND id < ? ORDER BY id`, start, end)
	if err != nil {
		return nil, fmt.Errorf("audit hashes [%d,%d): %w", start, end, err)
	}
	defer rows.Close()
	return scan.Collect(rows, scan.AuditHash)
}

func (r reader) ReadAuditHashes(ctx context.Context, ids []int64) ([][]byte, error) {
	return readHashes(ctx, r.q, ids)
}

func (r reader) LatestAuditCheckpoint(ctx context.Context) (store.AuditCheckpoint, error) {
	cs, err := r.checkpoints(ctx, `SELECT size, note, created_us FROM audit_checkpoints ORDER BY size DESC LIMIT 1`)
	if err != nil {
		return store.AuditCheckpoint{}, err
	}
	if len(cs) == 0 {
		return store.AuditCheckpoint{}, fmt.Errorf("audit checkpoint: %w", store.ErrNotFound)
	}
	return cs[0], nil
}

func (r reader) AuditCheckpoints(ctx context.Context, after int64, limit int) ([]store.AuditCheckpoint, error) {
	return r.checkpoints(ctx, `SELECT size, note, created_us FROM audit_checkpoints WHERE size > ? ORDER BY size LIMIT ?`, after, limit)
}

func (r reader) checkpoints(ctx context.Context, q string, args ...any) ([]store.AuditCheckpoint, error) {
	rows, err := r.q.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("audit checkpoints: %w", err)
	}
	defer rows.Close()
	return scan.Collect(rows, scan.AuditCheckpoint)
}

func (t *tx) PutAuditCheckpoint(ctx context.Context, c store.AuditCheckpoint) error {
	if c.Created.IsZero() {
		c.Created = time.Now()
	}
	_, err := t.t.ExecContext(ctx, `INSERT INTO audit_checkpoints (size, note, created_us) VALUES (?, ?, ?)`, c.Size, c.Note, c.Created.UnixMicro())
	if err != nil {
		if strings.Contains(err.Error(), "UNIQUE") {
			return fmt.Errorf("audit checkpoint at size %d: %w", c.Size, store.ErrExists)
		}
		return fmt.Errorf("audit checkpoint at size %d: %w", c.Size, err)
	}
	return nil
}

// backfillAuditHashes hashes leaves written before the tree existed (by a
// binary without migration 2), so older nodes get a tree on upgrade. A
// tree that is present but out of step is left alone for verify to report.
func backfillAuditHashes(ctx context.Context, db *sql.DB) error {
	var n int64
	if err := db.QueryRowContext(ctx, `SELECT COALESCE(MAX(idx) + 1, 0) FROM audit`).Scan(&n); err != nil {
		return err
	}
	h, err := storedHashCount(ctx, db)
	if err != nil || h != 0 || n == 0 {
		return err
	}
	// A log that has signed checkpoints had a tree: its rows going missing
	// is tampering for verify to report, not an upgrade to repair.
	var cps int64
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_checkpoints`).Scan(&cps); err != nil || cps > 0 {
		return err
	}
	sqlTx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	t := &tx{t: sqlTx, reader: reader{q: sqlTx}}
	t.audit = auditState{read: true, next: n}
	for start := int64(0); start < n; start += 4096 {
		es, err := t.AuditEntries(ctx, start, min(start+4096, n))
		if err != nil {
			sqlTx.Rollback()
			return err
		}
		data := make([][]byte, len(es))
		for i, e := range es {
			if e.Index != start+int64(i) {
				// Not dense: no tree over these; verify reports where.
				return sqlTx.Rollback()
			}
			data[i] = e.Data
		}
		if err := t.hashRecords(ctx, start, data); err != nil {
			sqlTx.Rollback()
			return err
		}
	}
	return sqlTx.Commit()
}
