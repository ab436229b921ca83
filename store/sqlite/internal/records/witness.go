package records

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/store/internal/scan"
)

// WitnessReader and WitnessWriter read and write the witness records: the
// logs this node witnesses, their rollbacks and split views, and the
// cosignatures and rollbacks of this node's own log.
type WitnessReader struct{ q Querier }

// NewWitnessReader returns the witness records' reader over q.
func NewWitnessReader(q Querier) WitnessReader { return WitnessReader{q} }

type WitnessWriter struct{ t *sql.Tx }

// NewWitnessWriter returns the witness records' writer in t.
func NewWitnessWriter(t *sql.Tx) WitnessWriter { return WitnessWriter{t} }

func (r WitnessReader) WitnessedLog(ctx context.Context, origin string) (store.WitnessedLog, error) {
	l, err := scan.WitnessedLog(r.q.QueryRowContext(ctx, `SELECT `+scan.WitnessedLogCols+` FROM witnessed_logs WHERE origin = ?`, origin))
	if errors.Is(err, sql.ErrNoRows) {
		return l, fmt.Errorf("witnessed log %q: %w", origin, store.ErrNotFound)
	}
	if err != nil {
		return l, fmt.Errorf("witnessed log %q: %w", origin, err)
	}
	return l, nil
}

func (r WitnessReader) WitnessedLogs(ctx context.Context) ([]store.WitnessedLog, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT `+scan.WitnessedLogCols+` FROM witnessed_logs ORDER BY origin`)
	if err != nil {
		return nil, fmt.Errorf("witnessed logs: %w", err)
	}
	defer rows.Close()
	return scan.Collect(rows, scan.WitnessedLog)
}

func (r WitnessReader) WitnessRollbacks(ctx context.Context, origin string) ([]store.WitnessRollback, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT `+scan.WitnessRollbackCols+` FROM witness_rollbacks WHERE origin = ? ORDER BY at_us, old_size`, origin)
	if err != nil {
		return nil, fmt.Errorf("witness rollbacks of %q: %w", origin, err)
	}
	defer rows.Close()
	return scan.Collect(rows, scan.WitnessRollback)
}

func (r WitnessReader) SplitViews(ctx context.Context, origin string, open bool) ([]store.SplitView, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT `+scan.SplitViewCols+` FROM split_views
		WHERE (? = '' OR origin = ?) AND (? = 0 OR acked_us = 0) ORDER BY id`, origin, origin, open)
	if err != nil {
		return nil, fmt.Errorf("split views: %w", err)
	}
	defer rows.Close()
	return scan.Collect(rows, scan.SplitView)
}

func (r WitnessReader) AuditCosignatures(ctx context.Context, size int64) ([]store.AuditCosignature, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT `+scan.AuditCosignatureCols+` FROM audit_cosignatures WHERE size = ? ORDER BY witness`, size)
	if err != nil {
		return nil, fmt.Errorf("cosignatures at %d: %w", size, err)
	}
	defer rows.Close()
	return scan.Collect(rows, scan.AuditCosignature)
}

func (r WitnessReader) LatestAuditCosignature(ctx context.Context, witness string) (store.AuditCosignature, error) {
	c, err := scan.AuditCosignature(r.q.QueryRowContext(ctx, `SELECT `+scan.AuditCosignatureCols+` FROM audit_cosignatures
		WHERE witness = ? ORDER BY size DESC LIMIT 1`, witness))
	if errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("cosignature by %s: %w", witness, store.ErrNotFound)
	}
	if err != nil {
		return c, fmt.Errorf("cosignature by %s: %w", witness, err)
	}
	return c, nil
}

func (r WitnessReader) AuditRollbacks(ctx context.Context) ([]store.AuditRollback, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT `+scan.AuditRollbackCols+` FROM audit_rollbacks ORDER BY seq`)
	if err != nil {
		return nil, fmt.Errorf("audit rollbacks: %w", err)
	}
	defer rows.Close()
	return scan.Collect(rows, scan.AuditRollback)
}

func (t WitnessWriter) PutWitnessedLog(ctx context.Context, l store.WitnessedLog) error {
	if _, err := t.t.ExecContext(ctx, `INSERT INTO witnessed_logs (`+scan.WitnessedLogCols+`) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (origin) DO UPDATE SET size = excluded.size, root = excluded.root, note = excluded.note, updated_us = excluded.updated_us`,
		l.Origin, l.Size, l.Root, l.Note, l.Updated.UnixMicro()); err != nil {
		return fmt.Errorf("witnessed log %q at %d: %w", l.Origin, l.Size, err)
	}
	return nil
}

func (t WitnessWriter) PutWitnessRollback(ctx context.Context, r store.WitnessRollback) (bool, error) {
	res, err := t.t.ExecContext(ctx, `INSERT INTO witness_rollbacks (`+scan.WitnessRollbackCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT DO NOTHING`, r.Origin, r.OldSize, r.OldRoot, r.NewSize, r.NewRoot, r.Statement, r.At.UnixMicro())
	if err != nil {
		return false, fmt.Errorf("witness rollback of %q: %w", r.Origin, err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

func (t WitnessWriter) PutSplitView(ctx context.Context, s store.SplitView) (bool, error) {
	res, err := t.t.ExecContext(ctx, `INSERT INTO split_views (origin, peer, size, ours, theirs, ours_root, their_root, reporter, detected_us)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		s.Origin, s.Peer, s.Size, s.Ours, s.Theirs, s.OursRoot, s.TheirRoot, s.Reporter, s.Detected.UnixMicro())
	if err != nil {
		return false, fmt.Errorf("split view of %q: %w", s.Origin, err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

func (t WitnessWriter) AckSplitViews(ctx context.Context, origin, by string, at time.Time) (int, error) {
	res, err := t.t.ExecContext(ctx, `UPDATE split_views SET acked_us = ?, acked_by = ? WHERE origin = ? AND acked_us = 0`,
		max(at.UnixMicro(), 1), by, origin)
	if err != nil {
		return 0, fmt.Errorf("acknowledge split views of %q: %w", origin, err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

func (t WitnessWriter) PutAuditCosignature(ctx context.Context, c store.AuditCosignature) error {
	if _, err := t.t.ExecContext(ctx, `INSERT INTO audit_cosignatures (`+scan.AuditCosignatureCols+`) VALUES (?, ?, ?, ?)
		ON CONFLICT (witness, size) DO UPDATE SET line = excluded.line, created_us = excluded.created_us`,
		c.Size, c.Witness, c.Line, c.Created.UnixMicro()); err != nil {
		return fmt.Errorf("cosignature by %s at %d: %w", c.Witness, c.Size, err)
	}
	return nil
}

func (t WitnessWriter) PutAuditRollback(ctx context.Context, r store.AuditRollback) error {
	if _, err := t.t.ExecContext(ctx, `INSERT INTO audit_rollbacks (old_size, new_size, statement, created_us) VALUES (?, ?, ?, ?)`,
		r.OldSize, r.NewSize, r.Statement, r.Created.UnixMicro()); err != nil {
		return fmt.Errorf("audit rollback %d to %d: %w", r.OldSize, r.NewSize, err)
	}
	return nil
}
