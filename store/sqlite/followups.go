package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/store/internal/scan"
)

func (t queueWriter) AddFollowup(ctx context.Context, f *store.Followup) error {
	if f.Payload == nil {
		f.Payload = []byte{}
	}
	res, err := t.t.ExecContext(ctx, `INSERT INTO followups (kind, actor, source, payload, created_us) VALUES (?, ?, ?, ?, ?)`,
		f.Kind, f.Actor, f.Source, f.Payload, f.Created.UnixMicro())
	if err != nil {
		return fmt.Errorf("followup: %w", err)
	}
	if f.ID, err = res.LastInsertId(); err != nil {
		return fmt.Errorf("followup: %w", err)
	}
	return nil
}

func (t queueWriter) TakeFollowup(ctx context.Context, id int64) (bool, error) {
	res, err := t.t.ExecContext(ctx, `DELETE FROM followups WHERE id = ?`, id)
	if err != nil {
		return false, fmt.Errorf("followup %d: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("followup %d: %w", id, err)
	}
	return n > 0, nil
}

func (r queueReader) PendingFollowups(ctx context.Context, after int64, limit int) ([]store.Followup, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := r.q.QueryContext(ctx, `SELECT id, kind, actor, source, payload, created_us, attempts, last_error FROM followups WHERE id > ? ORDER BY id LIMIT ?`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("followups: %w", err)
	}
	defer rows.Close()
	return scan.Collect(rows, scan.WrapErrors("followups", scan.Followup))
}

func (s *Store) FollowupFailed(ctx context.Context, id int64, reason string) error {
	return s.write(ctx, func(t *sql.Tx) error {
		if _, err := t.ExecContext(ctx, `UPDATE followups SET attempts = attempts + 1, last_error = ? WHERE id = ?`, reason, id); err != nil {
			return fmt.Errorf("followup %d: %w", id, err)
		}
		return nil
	})
}
