package postgres

import (
	"context"
	"fmt"

	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/store/internal/scan"
)

// followupsSchema (migration 12): follow-up work written in the transaction
// of the ingest or receipt that causes it, deleted by the transaction that
// carries it out (store/followups.go). A row is taken under the writer
// lock, so two replicas never both carry it out.
const followupsSchema = `
CREATE TABLE followups (
	id         bigserial PRIMARY KEY,
	kind       text    NOT NULL,
	actor      text    NOT NULL,
	source     text    NOT NULL DEFAULT '',
	payload    bytea   NOT NULL,
	created_us bigint  NOT NULL,
	attempts   integer NOT NULL DEFAULT 0,
	last_error text    NOT NULL DEFAULT ''
);
`

func (t queueWriter) AddFollowup(ctx context.Context, f *store.Followup) error {
	if err := t.lock(ctx); err != nil {
		return fmt.Errorf("followup: %w", err)
	}
	if f.Payload == nil {
		f.Payload = []byte{}
	}
	err := t.t.QueryRow(ctx, `INSERT INTO followups (kind, actor, source, payload, created_us) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
		f.Kind, f.Actor, f.Source, f.Payload, f.Created.UnixMicro()).Scan(&f.ID)
	if err != nil {
		return fmt.Errorf("followup: %w", err)
	}
	return nil
}

func (t queueWriter) TakeFollowup(ctx context.Context, id int64) (bool, error) {
	if err := t.lock(ctx); err != nil {
		return false, fmt.Errorf("followup %d: %w", id, err)
	}
	tag, err := t.t.Exec(ctx, `DELETE FROM followups WHERE id = $1`, id)
	if err != nil {
		return false, fmt.Errorf("followup %d: %w", id, err)
	}
	return tag.RowsAffected() > 0, nil
}

func (r queueReader) PendingFollowups(ctx context.Context, after int64, limit int) ([]store.Followup, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := r.q.Query(ctx, `SELECT id, kind, actor, source, payload, created_us, attempts, last_error FROM followups WHERE id > $1 ORDER BY id LIMIT $2`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("followups: %w", err)
	}
	defer rows.Close()
	return scan.Collect(rows, scan.WrapErrors("followups", scan.Followup))
}

func (s *Store) FollowupFailed(ctx context.Context, id int64, reason string) error {
	if _, err := s.w.Exec(ctx, `UPDATE followups SET attempts = attempts + 1, last_error = $1 WHERE id = $2`, reason, id); err != nil {
		return fmt.Errorf("followup %d: %w", id, err)
	}
	return nil
}
