package sqlite

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/store/internal/scan"
)

// The access_macs and access_mac_backfill tables are made by migration
// 16 (internal/schema).

// pendingCols are objectCols without raw and the data key: the facts an
// access MAC covers.
const pendingCols = `o.seq, o.id, o.type, o.modified, o.modified_us, o.created, o.revoked, o.digest, o.bindings, o.class, o.date_added_us, o.originator, o.instance`

func (r reader) PendingAccessMACs(ctx context.Context, after int64, limit int) ([]store.ObjectVersion, error) {
	// The state first, on its own: joined into the row query, the planner
	// may walk objects and test it on every row.
	var upto, done int64
	if err := r.q.QueryRowContext(ctx, `SELECT upto, done_us FROM access_mac_backfill`).Scan(&upto, &done); err != nil {
		return nil, fmt.Errorf("pending access MACs: %w", err)
	}
	if done != 0 || after >= upto {
		return nil, nil
	}
	rows, err := r.q.QueryContext(ctx, `SELECT `+pendingCols+` FROM objects o
		WHERE o.seq > ? AND o.seq <= ? AND NOT EXISTS (SELECT 1 FROM access_macs m WHERE m.seq = o.seq)
		ORDER BY o.seq LIMIT ?`, after, upto, limit)
	if err != nil {
		return nil, fmt.Errorf("pending access MACs: %w", err)
	}
	defer rows.Close()
	vs, err := scan.CollectN(rows, limit, scanPending)
	if err != nil {
		return nil, fmt.Errorf("pending access MACs: %w", err)
	}
	return vs, nil
}

func (t *tx) PutAccessMACs(ctx context.Context, macs []store.AccessMAC) error {
	const perInsert = 256
	for start := 0; start < len(macs); start += perInsert {
		part := macs[start:min(start+perInsert, len(macs))]
		args := make([]any, 0, 2*len(part))
		for _, m := range part {
			args = append(args, m.Seq, m.MAC)
		}
		q := `INSERT INTO access_macs (seq, mac) VALUES ` + strings.TrimSuffix(strings.Repeat("(?,?),", len(part)), ",") + ` ON CONFLICT (seq) DO NOTHING`
		if _, err := t.t.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("put access MACs: %w", err)
		}
	}
	return nil
}

func (t *tx) FinishAccessMACs(ctx context.Context) error {
	if _, err := t.t.ExecContext(ctx, `UPDATE access_mac_backfill SET done_us = ? WHERE done_us = 0`, time.Now().UnixMicro()); err != nil {
		return fmt.Errorf("finish access MACs: %w", err)
	}
	return nil
}
