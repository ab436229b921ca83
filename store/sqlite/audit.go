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

// appendAudit inserts the leaves, each with the tree hashes it adds
// (store/internal/treehash: the row of leaf n holds them in its tree
// column), in the caller's transaction. The single writer connection makes
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
	trees, err := auditTrees(ctx, t.q, first, entries)
	if err != nil {
		t.audit.err = err
		return 0, err
	}
	rows := make([]any, 0, 3*len(entries))
	for i, e := range entries {
		rows = append(rows, first+int64(i), e, trees[i])
	}
	if err := insertRows(ctx, t.t, t.rows, auditRows, rows); err != nil {
		t.audit.err = err
		return 0, fmt.Errorf("append audit at %d: %w", first, err)
	}
	t.audit.next += int64(len(entries))
	return first, nil
}

// auditTrees computes the tree values of leaves first, first+1, ... whose
// data is entries, reading the frontier they build on once.
func auditTrees(ctx context.Context, q querier, first int64, entries [][]byte) ([][]byte, error) {
	_, hashes, err := treehash.Append(first, entries, func(ids []int64) ([][]byte, error) {
		return readHashes(ctx, q, ids)
	})
	if err != nil {
		return nil, err
	}
	return treehash.Trees(first, len(entries), hashes)
}

// auditStart reads the log's size once per transaction and refuses to
// extend a tree whose last leaf does not hold the hashes it should.
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
	if n > 0 {
		var tree []byte
		if err := t.q.QueryRowContext(ctx, auditTreeSQL, n-1).Scan(&tree); err != nil {
			return fmt.Errorf("append audit: tree of leaf %d: %w", n-1, err)
		}
		if want := treehash.Count(n-1) * tlog.HashSize; len(tree) != want {
			return fmt.Errorf("append audit: leaf %d holds %d bytes of tree hashes, want %d (run `tearline audit verify`)", n-1, len(tree), want)
		}
	}
	t.audit = auditState{read: true, next: n}
	return nil
}

// rowTable is a table insertRows writes, with how many columns it takes.
type rowTable struct {
	into string // "table (col, ...)"
	cols int
}

// auditRows are the audit log's leaves with their tree hashes.
var auditRows = rowTable{"audit (idx, data, tree)", 3}

// rowTables are the tables insertRows writes.
var rowTables = [...]rowTable{auditRows}

// insertRows inserts rows (flattened into args) in chunks of a power of
// two, at most insertChunk rows. With rs, each chunk runs a statement the
// writer connection prepared when the store was opened: parsing a VALUES
// list of 256 rows anew for each chunk cost as much as inserting the rows
// (a page of 1,000 audited reads is a few chunks).
func insertRows(ctx context.Context, t *sql.Tx, rs *rowStmts, tbl rowTable, args []any) error {
	for len(args) > 0 {
		n := min(len(args)/tbl.cols, insertChunk)
		n = 1 << (bits.Len(uint(n)) - 1) // the largest power of two ≤ n
		var err error
		if st := rs.stmt(tbl, n); st != nil {
			_, err = t.StmtContext(ctx, st).ExecContext(ctx, args[:tbl.cols*n]...)
		} else {
			_, err = t.ExecContext(ctx, insertSQL(tbl, n), args[:tbl.cols*n]...)
		}
		if err != nil {
			return err
		}
		args = args[tbl.cols*n:]
	}
	return nil
}

func insertSQL(tbl rowTable, rows int) string {
	one := "(?" + strings.Repeat(",?", tbl.cols-1) + ")"
	return "INSERT INTO " + tbl.into + " VALUES " + one + strings.Repeat(","+one, rows-1)
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

func prepareRowStmts(ctx context.Context, db *sql.DB) (*rowStmts, error) {
	rs := &rowStmts{m: map[rowStmtKey]*sql.Stmt{}}
	for _, tbl := range rowTables {
		for n := 1; n <= insertChunk; n *= 2 {
			st, err := db.PrepareContext(ctx, insertSQL(tbl, n))
			if err != nil {
				rs.close()
				return nil, fmt.Errorf("prepare insert into %s: %w", tbl.into, err)
			}
			rs.m[rowStmtKey{tbl.into, n}] = st
		}
	}
	return rs, nil
}

// stmt is the prepared statement for rows rows into tbl; nil when rs is
// nil (a store not yet open) or tbl is not one of rowTables.
func (rs *rowStmts) stmt(tbl rowTable, rows int) *sql.Stmt {
	if rs == nil {
		return nil
	}
	return rs.m[rowStmtKey{tbl.into, rows}]
}

func (rs *rowStmts) close() error {
	var errs []error
	for _, st := range rs.m {
		errs = append(errs, st.Close())
	}
	return errors.Join(errs...)
}

// Queries of the audit log the writer prepares (writerQueries).
const (
	auditSizeSQL = `SELECT COALESCE(MAX(idx) + 1, 0) FROM audit`
	auditTreeSQL = `SELECT tree FROM audit WHERE idx = ?`
)

// readHashesSQL reads the tree column of n leaves.
func readHashesSQL(n int) string {
	return `SELECT idx, tree FROM audit WHERE idx IN (?` + strings.Repeat(",?", n-1) + `)`
}

// readHashes returns the stored hashes with these ids in the order given,
// each from the tree column of the leaf that added it.
func readHashes(ctx context.Context, q querier, ids []int64) ([][]byte, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	leaves := treehash.LeavesOf(ids)
	args := make([]any, len(leaves))
	for i, l := range leaves {
		args[i] = l
	}
	rows, err := q.QueryContext(ctx, readHashesSQL(len(leaves)), args...)
	if err != nil {
		return nil, fmt.Errorf("read audit hashes: %w", err)
	}
	defer rows.Close()
	hs, err := treehash.ReadPicked(rows, ids)
	if err != nil {
		return nil, fmt.Errorf("read audit hashes: %w", err)
	}
	return hs, nil
}

func (r reader) AuditHashes(ctx context.Context, start, end int64) ([]store.AuditHash, error) {
	if start >= end {
		return nil, nil
	}
	lo, hi := treehash.Leaves(start, end)
	rows, err := r.q.QueryContext(ctx, `SELECT idx, tree FROM audit WHERE idx >= ? AND idx <= ? ORDER BY idx`, lo, hi)
	if err != nil {
		return nil, fmt.Errorf("audit hashes [%d,%d): %w", start, end, err)
	}
	defer rows.Close()
	hs, err := treehash.ReadRange(rows, start, end)
	if err != nil {
		return nil, fmt.Errorf("audit hashes [%d,%d): %w", start, end, err)
	}
	return hs, nil
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
	var trees, cps bool
	err := db.QueryRowContext(ctx, `SELECT
		(SELECT COALESCE(MAX(idx) + 1, 0) FROM audit),
		EXISTS (SELECT 1 FROM audit WHERE tree IS NOT NULL),
		EXISTS (SELECT 1 FROM audit_checkpoints)`).Scan(&n, &trees, &cps)
	// A log that has signed checkpoints had a tree: its hashes going
	// missing is tampering for verify to report, not an upgrade to repair.
	if err != nil || n == 0 || trees || cps {
		return err
	}
	sqlTx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer sqlTx.Rollback()
	t := newTx(sqlTx, txQuerier{t: sqlTx})
	t.reader = newReader(sqlTx, nil)
	for start := int64(0); start < n; start += 4096 {
		es, err := t.AuditEntries(ctx, start, min(start+4096, n))
		if err != nil {
			return err
		}
		data := make([][]byte, len(es))
		for i, e := range es {
			if e.Index != start+int64(i) {
				// Not dense: no tree over these; verify reports where.
				return nil
			}
			data[i] = e.Data
		}
		trees, err := auditTrees(ctx, sqlTx, start, data)
		if err != nil {
			return err
		}
		for i, tree := range trees {
			if _, err := sqlTx.ExecContext(ctx, `UPDATE audit SET tree = ? WHERE idx = ?`, tree, start+int64(i)); err != nil {
				return err
			}
		}
	}
	return sqlTx.Commit()
}
