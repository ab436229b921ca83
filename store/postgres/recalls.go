package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/store/internal/scan"
)

// Recalls (migration 5): one row per (recall, party).

const recallCols = `id, party, object_id, originator, inbound, objects, reason, notice, state, issued_us, actor, acked_us, ack`

func (r sharingReader) Recalls(ctx context.Context, q store.RecallQuery) ([]store.Recall, error) {
	rows, err := r.q.Query(ctx, `SELECT `+recallCols+` FROM recalls
		WHERE ($1 = '' OR id = $1) AND ($2 = '' OR object_id = $2) ORDER BY issued_us, id, party`, q.ID, q.ObjectID)
	if err != nil {
		return nil, fmt.Errorf("recalls: %w", err)
	}
	defer rows.Close()
	return scan.Collect(rows, scan.Recall)
}

func (t sharingWriter) PutRecall(ctx context.Context, c store.Recall) error {
	if err := t.lock(ctx); err != nil {
		return err
	}
	oj, err := scan.JSONList(c.Objects)
	if err != nil {
		return fmt.Errorf("recall %s: %w", c.ID, err)
	}
	var acked int64
	if !c.AckedAt.IsZero() {
		acked = c.AckedAt.UnixMicro()
	}
	ack := c.Ack
	if ack == nil {
		ack = []byte{}
	}
	res, err := t.t.Exec(ctx, `INSERT INTO recalls (`+recallCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
		ON CONFLICT (id, party) DO NOTHING`,
		c.ID, c.Party, c.ObjectID, c.Originator, c.Inbound, oj, c.Reason, c.Notice, c.State, c.Issued.UnixMicro(), c.By, acked, ack)
	if err != nil {
		return fmt.Errorf("recall %s for %s: %w", c.ID, c.Party, err)
	}
	if res.RowsAffected() == 0 {
		return fmt.Errorf("recall %s for %s: %w", c.ID, c.Party, store.ErrExists)
	}
	return nil
}

func (t sharingWriter) AckRecall(ctx context.Context, id, party string, at time.Time, ack []byte) error {
	if err := t.lock(ctx); err != nil {
		return err
	}
	res, err := t.t.Exec(ctx, `UPDATE recalls SET state = $1, acked_us = $2, ack = $3 WHERE id = $4 AND party = $5 AND state <> $1`,
		store.RecallAcknowledged, at.UnixMicro(), ack, id, party)
	if err != nil {
		return fmt.Errorf("recall %s ack from %s: %w", id, party, err)
	}
	if res.RowsAffected() > 0 {
		return nil
	}
	var one int
	if err := t.t.QueryRow(ctx, `SELECT 1 FROM recalls WHERE id = $1 AND party = $2`, id, party).Scan(&one); err != nil {
		return fmt.Errorf("recall %s for %s: %w", id, party, store.ErrNotFound)
	}
	return nil
}

// recallsSchema is migration 5.
const recallsSchema = `
-- Recalls: one row per (recall, party), with the signed notice and, once
-- it came (or for an inbound recall, once it was sent), the signed
-- acknowledgement. Ids and parties only: no content.
CREATE TABLE recalls (
	id         text    COLLATE "C" NOT NULL,
	party      text    NOT NULL,
	object_id  text    COLLATE "C" NOT NULL,
	originator text    NOT NULL,
	inbound    boolean NOT NULL,
	objects    text    NOT NULL,
	reason     text    NOT NULL,
	notice     bytea   NOT NULL,
	state      text    NOT NULL,
	issued_us  bigint  NOT NULL,
	actor      text    NOT NULL,
	acked_us   bigint  NOT NULL,
	ack        bytea   NOT NULL,
	PRIMARY KEY (id, party)
);
CREATE INDEX recalls_object ON recalls (object_id);
`
