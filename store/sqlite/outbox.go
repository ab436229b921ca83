package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/store/internal/scan"
)

// The outbox and saved cursors (migration 5). SQLite has one writer, so a
// claim is simply an update under it: no other claimer can interleave.

// queueReader and queueWriter read and write the node's work queues: the
// outbox, the pull cursors and the follow-up rows (followups.go).
type queueReader struct{ q querier }

type queueWriter struct{ txConn }

const outboxCols = `id, peer, kind, payload, created_us, attempts, next_attempt_us, delivered_us, last_error, ledger, queued_us, failed_us, reason`

func (t queueWriter) EnqueueOutbox(ctx context.Context, items ...*store.OutboxItem) error {
	for _, it := range items {
		if it.Payload == nil {
			it.Payload = []byte{}
		}
		res, err := t.t.ExecContext(ctx, `INSERT INTO outbox (peer, kind, payload, created_us, queued_us, ledger) VALUES (?, ?, ?, ?, ?, ?)`,
			it.Peer, it.Kind, it.Payload, it.Created.UnixMicro(), it.Created.UnixMicro(), it.Ledger)
		if err != nil {
			return fmt.Errorf("outbox: %w", err)
		}
		if it.ID, err = res.LastInsertId(); err != nil {
			return fmt.Errorf("outbox: %w", err)
		}
	}
	return nil
}

// write runs fn in one transaction on the writer connection, outside
// Update: outbox bookkeeping and the id index's merges write no audit.
func (s *Store) write(ctx context.Context, fn func(*sql.Tx) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.transact(ctx, func(t *tx) error { return fn(t.t) })
}

func (s *Store) ClaimOutbox(ctx context.Context, peer string, now time.Time, limit int, lease time.Duration) ([]store.OutboxItem, error) {
	if limit <= 0 {
		return nil, nil
	}
	var out []store.OutboxItem
	err := s.write(ctx, func(t *sql.Tx) error {
		out = out[:0]
		peers := []string{peer}
		if peer == "" {
			var err error
			if peers, err = pendingPeers(ctx, t); err != nil {
				return err
			}
		}
		nowUS := now.UnixMicro()
		for _, p := range peers {
			if len(out) >= limit {
				break
			}
			got, err := claimPeer(ctx, t, p, nowUS, limit-len(out))
			if err != nil {
				return err
			}
			out = append(out, got...)
		}
		until := now.Add(lease).UnixMicro()
		for _, it := range out {
			if _, err := t.ExecContext(ctx, `UPDATE outbox SET lease_us = ? WHERE id = ?`, until, it.ID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("claim outbox: %w", err)
	}
	return out, nil
}

func pendingPeers(ctx context.Context, q querier) ([]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT DISTINCT peer FROM outbox WHERE delivered_us = 0 AND failed_us = 0 ORDER BY peer`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return scan.Collect(rows, scan.String)
}

// claimPeer returns the due prefix of peer's undelivered items: it stops at
// the first that is waiting for a retry or leased, so that nothing of one
// peer overtakes an earlier item. Failed items are passed over.
func claimPeer(ctx context.Context, q querier, peer string, nowUS int64, limit int) ([]store.OutboxItem, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+outboxCols+`, lease_us FROM outbox WHERE peer = ? AND delivered_us = 0 AND failed_us = 0 ORDER BY id LIMIT ?`, peer, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.OutboxItem
	for rows.Next() {
		it, due, err := scan.ClaimableOutboxItem(rows)
		if err != nil {
			return nil, err
		}
		if due > nowUS {
			break
		}
		out = append(out, it)
	}
	return out, rows.Err()
}

func (s *Store) MarkDelivered(ctx context.Context, at time.Time, ids ...int64) error {
	err := s.write(ctx, func(t *sql.Tx) error {
		for _, id := range ids {
			if _, err := t.ExecContext(ctx, `UPDATE outbox SET delivered_us = ?, lease_us = 0 WHERE id = ?`, max(at.UnixMicro(), 1), id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("outbox delivered: %w", err)
	}
	return nil
}

func (s *Store) MarkRetry(ctx context.Context, next time.Time, code, reason string, ids ...int64) error {
	err := s.write(ctx, func(t *sql.Tx) error {
		for _, id := range ids {
			if _, err := t.ExecContext(ctx, `UPDATE outbox SET attempts = attempts + 1, next_attempt_us = ?, lease_us = 0, reason = ?, last_error = ?
				WHERE id = ? AND delivered_us = 0 AND failed_us = 0`, next.UnixMicro(), code, reason, id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("outbox retry: %w", err)
	}
	return nil
}

func (s *Store) MarkFailed(ctx context.Context, at time.Time, code, reason string, ids ...int64) error {
	err := s.write(ctx, func(t *sql.Tx) error {
		for _, id := range ids {
			if _, err := t.ExecContext(ctx, `UPDATE outbox SET failed_us = ?, lease_us = 0, reason = ?, last_error = ? WHERE id = ? AND delivered_us = 0`,
				max(at.UnixMicro(), 1), code, reason, id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("outbox failed: %w", err)
	}
	return nil
}

func (s *Store) RetryOutbox(ctx context.Context, id int64, now time.Time) error {
	err := s.write(ctx, func(t *sql.Tx) error {
		res, err := t.ExecContext(ctx, `UPDATE outbox SET failed_us = 0, attempts = 0, next_attempt_us = 0, lease_us = 0, queued_us = ?, reason = ''
			WHERE id = ? AND failed_us > 0 AND delivered_us = 0`, now.UnixMicro(), id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return store.ErrNotFound
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("outbox retry %d: %w", id, err)
	}
	return nil
}

func (r queueReader) OutboxOfLedger(ctx context.Context, seqs []int64) (map[int64]store.OutboxItem, error) {
	out := make(map[int64]store.OutboxItem, len(seqs))
	for _, seq := range seqs {
		if seq <= 0 {
			continue
		}
		rows, err := r.q.QueryContext(ctx, `SELECT `+outboxCols+` FROM outbox WHERE ledger = ? ORDER BY id DESC LIMIT 1`, seq)
		if err != nil {
			return nil, fmt.Errorf("outbox of ledger: %w", err)
		}
		its, err := scan.Collect(rows, scan.WrapErrors("outbox", scan.OutboxItem))
		rows.Close()
		if err != nil {
			return nil, err
		}
		if len(its) > 0 {
			out[seq] = its[0]
		}
	}
	return out, nil
}

func (r queueReader) OutboxCounts(ctx context.Context) (map[string]int, error) {
	var queued, retrying, failed int
	err := r.q.QueryRowContext(ctx, `SELECT
		COALESCE(SUM(failed_us = 0 AND attempts = 0), 0), COALESCE(SUM(failed_us = 0 AND attempts > 0), 0), COALESCE(SUM(failed_us > 0), 0)
		FROM outbox WHERE delivered_us = 0`).Scan(&queued, &retrying, &failed)
	if err != nil {
		return nil, fmt.Errorf("outbox counts: %w", err)
	}
	return map[string]int{store.DeliveryQueued: queued, store.DeliveryRetrying: retrying, store.DeliveryFailed: failed}, nil
}

func (r queueReader) OutboxItems(ctx context.Context, peer string, after int64, limit int) ([]store.OutboxItem, error) {
	if limit <= 0 {
		limit = 1000
	}
	rows, err := r.q.QueryContext(ctx, `SELECT `+outboxCols+` FROM outbox WHERE (? = '' OR peer = ?) AND id > ? ORDER BY id LIMIT ?`, peer, peer, after, limit)
	if err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	defer rows.Close()
	return scan.Collect(rows, scan.WrapErrors("outbox", scan.OutboxItem))
}

func (r queueReader) NextOutboxDue(ctx context.Context) (time.Time, bool, error) {
	var due sql.NullInt64
	err := r.q.QueryRowContext(ctx, `SELECT MIN(MAX(next_attempt_us, lease_us)) FROM outbox WHERE delivered_us = 0 AND failed_us = 0`).Scan(&due)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("outbox due: %w", err)
	}
	if !due.Valid {
		return time.Time{}, false, nil
	}
	return scan.FromUS(due.Int64), true, nil
}

func (r queueReader) Cursor(ctx context.Context, name string) (string, error) {
	var v string
	err := r.q.QueryRowContext(ctx, `SELECT value FROM cursors WHERE name = ?`, name).Scan(&v)
	if err == sql.ErrNoRows {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("cursor %s: %w", name, err)
	}
	return v, nil
}

func (s *Store) SetCursor(ctx context.Context, name, value string) error {
	return s.write(ctx, func(t *sql.Tx) error {
		_, err := t.ExecContext(ctx, `INSERT INTO cursors (name, value, updated_us) VALUES (?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_us = excluded.updated_us`, name, value, time.Now().UnixMicro())
		if err != nil {
			return fmt.Errorf("cursor %s: %w", name, err)
		}
		return nil
	})
}
