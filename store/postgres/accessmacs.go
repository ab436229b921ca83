package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/tearline/tearline/store"
)

// accessMACsSchema (migration 16): the SQLite store's migration 16 says
// what it keeps. It creates two tables and reads one index entry
// (MAX(seq)): instant at any size; the node's backfill does the work.
const accessMACsSchema = `
CREATE TABLE access_macs (
	seq bigint PRIMARY KEY,
	mac bytea  NOT NULL
);
CREATE TABLE access_mac_backfill (
	one     integer PRIMARY KEY CHECK (one = 1),
	upto    bigint  NOT NULL,
	done_us bigint  NOT NULL
);
INSERT INTO access_mac_backfill (one, upto, done_us) SELECT 1, COALESCE(MAX(seq), 0), 0 FROM objects;
`

// pendingCols are objectCols without raw and the data key: the facts an
// access MAC covers.
const pendingCols = `o.seq, o.id, o.type, o.modified, o.modified_us, o.created, o.revoked, o.digest, o.bindings, o.class, o.date_added_us, o.originator, o.instance`

func (r reader) PendingAccessMACs(ctx context.Context, after int64, limit int) ([]store.ObjectVersion, error) {
	// The state first, on its own, so the row query is a plain range scan.
	var upto, done int64
	if err := r.q.QueryRow(ctx, `SELECT upto, done_us FROM access_mac_backfill`).Scan(&upto, &done); err != nil {
		return nil, fmt.Errorf("pending access MACs: %w", err)
	}
	if done != 0 || after >= upto {
		return nil, nil
	}
	rows, err := r.q.Query(ctx, `SELECT `+pendingCols+` FROM objects o
		WHERE o.seq > $1 AND o.seq <= $2 AND NOT EXISTS (SELECT 1 FROM access_macs m WHERE m.seq = o.seq)
		ORDER BY o.seq LIMIT $3`, after, upto, limit)
	if err != nil {
		return nil, fmt.Errorf("pending access MACs: %w", err)
	}
	vs, err := collectPending(rows, limit)
	if err != nil {
		return nil, fmt.Errorf("pending access MACs: %w", err)
	}
	return vs, nil
}

func (t *tx) PutAccessMACs(ctx context.Context, macs []store.AccessMAC) error {
	if len(macs) == 0 {
		return nil
	}
	if err := t.lock(ctx); err != nil {
		return err
	}
	seqs := make([]int64, len(macs))
	bs := make([][]byte, len(macs))
	for i, m := range macs {
		seqs[i], bs[i] = m.Seq, m.MAC
	}
	if _, err := t.t.Exec(ctx, `INSERT INTO access_macs (seq, mac) SELECT * FROM unnest($1::bigint[], $2::bytea[]) ON CONFLICT (seq) DO NOTHING`, seqs, bs); err != nil {
		return fmt.Errorf("put access MACs: %w", err)
	}
	return nil
}

func (t *tx) FinishAccessMACs(ctx context.Context) error {
	if err := t.lock(ctx); err != nil {
		return err
	}
	if _, err := t.t.Exec(ctx, `UPDATE access_mac_backfill SET done_us = $1 WHERE done_us = 0`, time.Now().UnixMicro()); err != nil {
		return fmt.Errorf("finish access MACs: %w", err)
	}
	return nil
}
