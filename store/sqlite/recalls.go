package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/store/internal/scan"
)

// Recalls (migration 6): one row per (recall, party).

const recallCols = `id, party, object_id, originator, inbound, objects, reason, notice, state, issued_us, actor, acked_us, ack`

func (r sharingReader) Recalls(ctx context.Context, q store.RecallQuery) ([]store.Recall, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT `+recallCols+` FROM recalls
		WHERE (? = '' OR id = ?) AND (? = '' OR object_id = ?) ORDER BY issued_us, id, party`, q.ID, q.ID, q.ObjectID, q.ObjectID)
	if err != nil {
		return nil, fmt.Errorf("recalls: %w", err)
	}
	defer rows.Close()
	return scan.Collect(rows, scan.Recall)
}

func (t sharingWriter) PutRecall(ctx context.Context, c store.Recall) error {
	oj, err := scan.JSONList(c.Objects)
	if err != nil {
		return fmt.Errorf("recall %s: %w", c.ID, err)
	}
	inbound := 0
	if c.Inbound {
		inbound = 1
	}
	var acked int64
	if !c.AckedAt.IsZero() {
		acked = c.AckedAt.UnixMicro()
	}
	ack := c.Ack
	if ack == nil {
		ack = []byte{}
	}
	res, err := t.t.ExecContext(ctx, `INSERT INTO recalls (`+recallCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id, party) DO NOTHING`,
		c.ID, c.Party, c.ObjectID, c.Originator, inbound, oj, c.Reason, c.Notice, c.State, c.Issued.UnixMicro(), c.By, acked, ack)
	if err != nil {
		return fmt.Errorf("recall %s for %s: %w", c.ID, c.Party, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return fmt.Errorf("recall %s for %s: %w", c.ID, c.Party, store.ErrExists)
	}
	return nil
}

func (t sharingWriter) AckRecall(ctx context.Context, id, party string, at time.Time, ack []byte) error {
	res, err := t.t.ExecContext(ctx, `UPDATE recalls SET state = ?, acked_us = ?, ack = ? WHERE id = ? AND party = ? AND state <> ?`,
		store.RecallAcknowledged, at.UnixMicro(), ack, id, party, store.RecallAcknowledged)
	if err != nil {
		return fmt.Errorf("recall %s ack from %s: %w", id, party, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("recall %s ack from %s: %w", id, party, err)
	} else if n > 0 {
		return nil
	}
	var one int
	if err := t.t.QueryRowContext(ctx, `SELECT 1 FROM recalls WHERE id = ? AND party = ?`, id, party).Scan(&one); err != nil {
		return fmt.Errorf("recall %s for %s: %w", id, party, store.ErrNotFound)
	}
	return nil
}
