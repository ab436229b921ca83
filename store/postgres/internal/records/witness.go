package records

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/store/internal/scan"
)

// WitnessReader and WitnessWriter read and write the witness records: the
// logs this node witnesses, their rollbacks and split views, and the
// cosignatures and rollbacks of this node's own log. (The store's write
// transaction reads WitnessedLog under its writer lock.)
type WitnessReader struct{ q Querier }

// NewWitnessReader returns the witness records' reader over q.
func NewWitnessReader(q Querier) WitnessReader { return WitnessReader{q} }

type WitnessWriter struct {
	t    pgx.Tx
	lock func(context.Context) error // takes the store's writer lock
}

// NewWitnessWriter returns the witness records' writer in t; lock takes
// the store's writer lock once per transaction.
func NewWitnessWriter(t pgx.Tx, lock func(context.Context) error) WitnessWriter {
	return WitnessWriter{t, lock}
}

// Witnessing (migration 9, WitnessSchema): the SQLite store's migration 10
// says what each table is for.
const WitnessSchema = `
CREATE TABLE witnessed_logs (
	origin     text   PRIMARY KEY,
	size       bigint NOT NULL,
	root       bytea  NOT NULL,
	note       bytea  NOT NULL,
	updated_us bigint NOT NULL
);
CREATE TABLE witness_rollbacks (
	origin    text   NOT NULL,
	old_size  bigint NOT NULL,
	old_root  bytea  NOT NULL,
	new_size  bigint NOT NULL,
	new_root  bytea  NOT NULL,
	statement bytea  NOT NULL,
	at_us     bigint NOT NULL,
	PRIMARY KEY (origin, old_size, new_size, new_root)
);
CREATE TABLE split_views (
	id          bigserial PRIMARY KEY,
	origin      text   NOT NULL,
	peer        text   NOT NULL,
	size        bigint NOT NULL,
	ours        bytea  NOT NULL,
	theirs      bytea  NOT NULL,
	ours_root   bytea  NOT NULL,
	their_root  bytea  NOT NULL,
	reporter    text   NOT NULL,
	detected_us bigint NOT NULL,
	acked_us    bigint NOT NULL DEFAULT 0,
	acked_by    text   NOT NULL DEFAULT '',
	UNIQUE (origin, size, ours_root, their_root)
);
CREATE TABLE audit_cosignatures (
	witness    text   NOT NULL,
	size       bigint NOT NULL,
	line       bytea  NOT NULL,
	created_us bigint NOT NULL,
	PRIMARY KEY (witness, size)
);
CREATE INDEX audit_cosignatures_size ON audit_cosignatures (size);
CREATE TABLE audit_rollbacks (
	seq        bigserial PRIMARY KEY,
	old_size   bigint NOT NULL,
	new_size   bigint NOT NULL,
	statement  bytea  NOT NULL,
	created_us bigint NOT NULL
);
`

func (r WitnessReader) WitnessedLog(ctx context.Context, origin string) (store.WitnessedLog, error) {
	l, err := scan.WitnessedLog(r.q.QueryRow(ctx, `SELECT `+scan.WitnessedLogCols+` FROM witnessed_logs WHERE origin = $1`, origin))
	if errors.Is(err, pgx.ErrNoRows) {
		return l, fmt.Errorf("witnessed log %q: %w", origin, store.ErrNotFound)
	}
	if err != nil {
		return l, fmt.Errorf("witnessed log %q: %w", origin, err)
	}
	return l, nil
}

func (r WitnessReader) WitnessedLogs(ctx context.Context) ([]store.WitnessedLog, error) {
	rows, err := r.q.Query(ctx, `SELECT `+scan.WitnessedLogCols+` FROM witnessed_logs ORDER BY origin`)
	if err != nil {
		return nil, fmt.Errorf("witnessed logs: %w", err)
	}
	defer rows.Close()
	return scan.Collect(rows, scan.WitnessedLog)
}

func (r WitnessReader) WitnessRollbacks(ctx context.Context, origin string) ([]store.WitnessRollback, error) {
	rows, err := r.q.Query(ctx, `SELECT `+scan.WitnessRollbackCols+` FROM witness_rollbacks WHERE origin = $1 ORDER BY at_us, old_size`, origin)
	if err != nil {
		return nil, fmt.Errorf("witness rollbacks of %q: %w", origin, err)
	}
	defer rows.Close()
	return scan.Collect(rows, scan.WitnessRollback)
}

func (r WitnessReader) SplitViews(ctx context.Context, origin string, open bool) ([]store.SplitView, error) {
	rows, err := r.q.Query(ctx, `SELECT `+scan.SplitViewCols+` FROM split_views
		WHERE ($1 = '' OR origin = $1) AND (NOT $2 OR acked_us = 0) ORDER BY id`, origin, open)
	if err != nil {
		return nil, fmt.Errorf("split views: %w", err)
	}
	defer rows.Close()
	return scan.Collect(rows, scan.SplitView)
}

func (r WitnessReader) AuditCosignatures(ctx context.Context, size int64) ([]store.AuditCosignature, error) {
	rows, err := r.q.Query(ctx, `SELECT `+scan.AuditCosignatureCols+` FROM audit_cosignatures WHERE size = $1 ORDER BY witness`, size)
	if err != nil {
		return nil, fmt.Errorf("cosignatures at %d: %w", size, err)
	}
	defer rows.Close()
	return scan.Collect(rows, scan.AuditCosignature)
}

func (r WitnessReader) LatestAuditCosignature(ctx context.Context, witness string) (store.AuditCosignature, error) {
	c, err := scan.AuditCosignature(r.q.QueryRow(ctx, `SELECT `+scan.AuditCosignatureCols+` FROM audit_cosignatures
		WHERE witness = $1 ORDER BY size DESC LIMIT 1`, witness))
	if errors.Is(err, pgx.ErrNoRows) {
		return c, fmt.Errorf("cosignature by %s: %w", witness, store.ErrNotFound)
	}
	if err != nil {
		return c, fmt.Errorf("cosignature by %s: %w", witness, err)
	}
	return c, nil
}

func (r WitnessReader) AuditRollbacks(ctx context.Context) ([]store.AuditRollback, error) {
	rows, err := r.q.Query(ctx, `SELECT `+scan.AuditRollbackCols+` FROM audit_rollbacks ORDER BY seq`)
	if err != nil {
		return nil, fmt.Errorf("audit rollbacks: %w", err)
	}
	defer rows.Close()
	return scan.Collect(rows, scan.AuditRollback)
}

func (t WitnessWriter) PutWitnessedLog(ctx context.Context, l store.WitnessedLog) error {
	if err := t.lock(ctx); err != nil {
		return err
	}
	if _, err := t.t.Exec(ctx, `INSERT INTO witnessed_logs (`+scan.WitnessedLogCols+`) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (origin) DO UPDATE SET size = excluded.size, root = excluded.root, note = excluded.note, updated_us = excluded.updated_us`,
		l.Origin, l.Size, nz(l.Root), nz(l.Note), l.Updated.UnixMicro()); err != nil {
		return fmt.Errorf("witnessed log %q at %d: %w", l.Origin, l.Size, err)
	}
	return nil
}

func (t WitnessWriter) PutWitnessRollback(ctx context.Context, r store.WitnessRollback) (bool, error) {
	if err := t.lock(ctx); err != nil {
		return false, err
	}
	tag, err := t.t.Exec(ctx, `INSERT INTO witness_rollbacks (`+scan.WitnessRollbackCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT DO NOTHING`, r.Origin, r.OldSize, nz(r.OldRoot), r.NewSize, nz(r.NewRoot), nz(r.Statement), r.At.UnixMicro())
	if err != nil {
		return false, fmt.Errorf("witness rollback of %q: %w", r.Origin, err)
	}
	return tag.RowsAffected() > 0, nil
}

func (t WitnessWriter) PutSplitView(ctx context.Context, s store.SplitView) (bool, error) {
	if err := t.lock(ctx); err != nil {
		return false, err
	}
	tag, err := t.t.Exec(ctx, `INSERT INTO split_views (origin, peer, size, ours, theirs, ours_root, their_root, reporter, detected_us)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING`,
		s.Origin, s.Peer, s.Size, nz(s.Ours), nz(s.Theirs), nz(s.OursRoot), nz(s.TheirRoot), s.Reporter, s.Detected.UnixMicro())
	if err != nil {
		return false, fmt.Errorf("split view of %q: %w", s.Origin, err)
	}
	return tag.RowsAffected() > 0, nil
}

func (t WitnessWriter) AckSplitViews(ctx context.Context, origin, by string, at time.Time) (int, error) {
	if err := t.lock(ctx); err != nil {
		return 0, err
	}
	tag, err := t.t.Exec(ctx, `UPDATE split_views SET acked_us = $1, acked_by = $2 WHERE origin = $3 AND acked_us = 0`,
		max(at.UnixMicro(), 1), by, origin)
	if err != nil {
		return 0, fmt.Errorf("acknowledge split views of %q: %w", origin, err)
	}
	return int(tag.RowsAffected()), nil
}

func (t WitnessWriter) PutAuditCosignature(ctx context.Context, c store.AuditCosignature) error {
	if err := t.lock(ctx); err != nil {
		return err
	}
	if _, err := t.t.Exec(ctx, `INSERT INTO audit_cosignatures (`+scan.AuditCosignatureCols+`) VALUES ($1, $2, $3, $4)
		ON CONFLICT (witness, size) DO UPDATE SET line = excluded.line, created_us = excluded.created_us`,
		c.Size, c.Witness, nz(c.Line), c.Created.UnixMicro()); err != nil {
		return fmt.Errorf("cosignature by %s at %d: %w", c.Witness, c.Size, err)
	}
	return nil
}

func (t WitnessWriter) PutAuditRollback(ctx context.Context, r store.AuditRollback) error {
	if err := t.lock(ctx); err != nil {
		return err
	}
	if _, err := t.t.Exec(ctx, `INSERT INTO audit_rollbacks (old_size, new_size, statement, created_us) VALUES ($1, $2, $3, $4)`,
		r.OldSize, r.NewSize, nz(r.Statement), r.Created.UnixMicro()); err != nil {
		return fmt.Errorf("audit rollback %d to %d: %w", r.OldSize, r.NewSize, err)
	}
	return nil
}
