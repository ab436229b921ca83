package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/store/internal/scan"
)

// The outbox and saved cursors (migration 4). Several replicas may run a
// delivery loop on one database: a claim locks the rows it takes
// (FOR UPDATE SKIP LOCKED) and sets a lease, so each row is sent by one
// replica at a time, and a replica that dies leaves its rows due again when
// the lease ends.

const outboxSchema = `
-- Messages to partner nodes, written with the action that causes them and
-- kept after delivery (delivered_us > 0) as a record of what went.
-- lease_us: a claimer is sending the row until then.
CREATE TABLE outbox (
	id              bigserial PRIMARY KEY,
	peer            text    NOT NULL,
	kind            text    NOT NULL,
	payload         bytea   NOT NULL,
	created_us      bigint  NOT NULL,
	attempts        integer NOT NULL DEFAULT 0,
	next_attempt_us bigint  NOT NULL DEFAULT 0,
	lease_us        bigint  NOT NULL DEFAULT 0,
	delivered_us    bigint  NOT NULL DEFAULT 0,
	last_error      text    NOT NULL DEFAULT ''
);
CREATE INDEX outbox_pending ON outbox (peer, id) WHERE delivered_us = 0;

-- Named positions, such as a pull's added_after per peer.
CREATE TABLE cursors (
	name       text   PRIMARY KEY,
	value      text   NOT NULL,
	updated_us bigint NOT NULL
);
`

// deliveryStatesSchema (migration 11) gives each message a delivery state
// of its own (docs/FEDERATION.md, "Delivery states"): the ledger entry it
// delivers, when it was queued (the maximum age runs from there), when it
// failed for good and the reason code. A message refused for good used to
// be marked delivered with the refusal as its last error: it is failed now.
// Failed rows keep delivered_us = 0, so outbox_pending still finds them;
// a claim passes over them.
const deliveryStatesSchema = `
ALTER TABLE outbox
	ADD COLUMN ledger    bigint NOT NULL DEFAULT 0,
	ADD COLUMN queued_us bigint NOT NULL DEFAULT 0,
	ADD COLUMN failed_us bigint NOT NULL DEFAULT 0,
	ADD COLUMN reason    text   NOT NULL DEFAULT '';
UPDATE outbox SET queued_us = created_us;
UPDATE outbox SET failed_us = delivered_us, delivered_us = 0, reason = 'refused'
	WHERE delivered_us > 0 AND last_error LIKE 'refused by %';
UPDATE outbox SET ledger = COALESCE((convert_from(payload, 'UTF8')::jsonb ->> 'ledger')::bigint, 0)
	WHERE kind = 'objects';
CREATE INDEX outbox_ledger ON outbox (ledger) WHERE ledger > 0;
`

// queueReader and queueWriter read and write the node's work queues: the
// outbox, the pull cursors and the follow-up rows (followups.go).
type queueReader struct{ q querier }

type queueWriter struct{ *txConn }

const outboxCols = `id, peer, kind, payload, created_us, attempts, next_attempt_us, delivered_us, last_error, ledger, queued_us, failed_us, reason`

func (t queueWriter) EnqueueOutbox(ctx context.Context, items ...*store.OutboxItem) error {
	// Under the writer lock, ids become visible in the order they are
	// assigned, so a claim never passes over a row that commits later.
	if err := t.lock(ctx); err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	for _, it := range items {
		if it.Payload == nil {
			it.Payload = []byte{}
		}
		err := t.t.QueryRow(ctx, `INSERT INTO outbox (peer, kind, payload, created_us, queued_us, ledger) VALUES ($1, $2, $3, $4, $4, $5) RETURNING id`,
			it.Peer, it.Kind, it.Payload, it.Created.UnixMicro(), it.Ledger).Scan(&it.ID)
		if err != nil {
			return fmt.Errorf("outbox: %w", err)
		}
	}
	return nil
}

// write runs fn in one short transaction that takes no writer lock: outbox
// bookkeeping writes no audit and touches only outbox and cursor rows.
func (s *Store) write(ctx context.Context, fn func(pgx.Tx) error) error {
	return pgx.BeginTxFunc(ctx, s.w, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, fn)
}

func (s *Store) ClaimOutbox(ctx context.Context, peer string, now time.Time, limit int, lease time.Duration) ([]store.OutboxItem, error) {
	if limit <= 0 {
		return nil, nil
	}
	var out []store.OutboxItem
	err := s.write(ctx, func(t pgx.Tx) error {
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
		ids := make([]int64, len(out))
		for i, it := range out {
			ids[i] = it.ID
		}
		if len(ids) > 0 {
			if _, err := t.Exec(ctx, `UPDATE outbox SET lease_us = $1 WHERE id = ANY($2)`, now.Add(lease).UnixMicro(), ids); err != nil {
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
	rows, err := q.Query(ctx, `SELECT DISTINCT peer FROM outbox WHERE delivered_us = 0 AND failed_us = 0 ORDER BY peer`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// claimPeer returns the due prefix of peer's undelivered items: it stops at
// the first that is waiting for a retry or leased, so that nothing of one
// peer overtakes an earlier item. Rows another replica is claiming right
// now are locked and skipped; if that leaves out the peer's first pending
// row, the other replica has the peer and this claim takes nothing of it.
func claimPeer(ctx context.Context, q querier, peer string, nowUS int64, limit int) ([]store.OutboxItem, error) {
	var first int64
	err := q.QueryRow(ctx, `SELECT id FROM outbox WHERE peer = $1 AND delivered_us = 0 AND failed_us = 0 ORDER BY id LIMIT 1`, peer).Scan(&first)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	rows, err := q.Query(ctx, `SELECT `+outboxCols+`, lease_us FROM outbox WHERE peer = $1 AND delivered_us = 0 AND failed_us = 0 ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED`, peer, limit)
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
		if (len(out) == 0 && it.ID != first) || due > nowUS {
			break
		}
		out = append(out, it)
	}
	rows.Close()
	return out, rows.Err()
}

func (s *Store) MarkDelivered(ctx context.Context, at time.Time, ids ...int64) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := s.w.Exec(ctx, `UPDATE outbox SET delivered_us = $1, lease_us = 0 WHERE id = ANY($2)`, max(at.UnixMicro(), 1), ids)
	if err != nil {
		return fmt.Errorf("outbox delivered: %w", err)
	}
	return nil
}

func (s *Store) MarkRetry(ctx context.Context, next time.Time, code, reason string, ids ...int64) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := s.w.Exec(ctx, `UPDATE outbox SET attempts = attempts + 1, next_attempt_us = $1, lease_us = 0, reason = $2, last_error = $3
		WHERE id = ANY($4) AND delivered_us = 0 AND failed_us = 0`, next.UnixMicro(), code, reason, ids)
	if err != nil {
		return fmt.Errorf("outbox retry: %w", err)
	}
	return nil
}

func (s *Store) MarkFailed(ctx context.Context, at time.Time, code, reason string, ids ...int64) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := s.w.Exec(ctx, `UPDATE outbox SET failed_us = $1, lease_us = 0, reason = $2, last_error = $3 WHERE id = ANY($4) AND delivered_us = 0`,
		max(at.UnixMicro(), 1), code, reason, ids)
	if err != nil {
		return fmt.Errorf("outbox failed: %w", err)
	}
	return nil
}

func (s *Store) RetryOutbox(ctx context.Context, id int64, now time.Time) error {
	tag, err := s.w.Exec(ctx, `UPDATE outbox SET failed_us = 0, attempts = 0, next_attempt_us = 0, lease_us = 0, queued_us = $1, reason = ''
		WHERE id = $2 AND failed_us > 0 AND delivered_us = 0`, now.UnixMicro(), id)
	if err != nil {
		return fmt.Errorf("outbox retry %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("outbox retry %d: %w", id, store.ErrNotFound)
	}
	return nil
}

func (r queueReader) OutboxOfLedger(ctx context.Context, seqs []int64) (map[int64]store.OutboxItem, error) {
	out := make(map[int64]store.OutboxItem, len(seqs))
	if len(seqs) == 0 {
		return out, nil
	}
	rows, err := r.q.Query(ctx, `SELECT `+outboxCols+` FROM outbox WHERE ledger = ANY($1) ORDER BY id`, seqs)
	if err != nil {
		return nil, fmt.Errorf("outbox of ledger: %w", err)
	}
	defer rows.Close()
	its, err := scan.Collect(rows, scan.WrapErrors("outbox", scan.OutboxItem))
	if err != nil {
		return nil, err
	}
	for _, it := range its { // by id: the latest item of an entry wins
		if it.Ledger > 0 {
			out[it.Ledger] = it
		}
	}
	return out, nil
}

func (r queueReader) OutboxCounts(ctx context.Context) (map[string]int, error) {
	var queued, retrying, failed int
	err := r.q.QueryRow(ctx, `SELECT
		count(*) FILTER (WHERE failed_us = 0 AND attempts = 0), count(*) FILTER (WHERE failed_us = 0 AND attempts > 0), count(*) FILTER (WHERE failed_us > 0)
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
	rows, err := r.q.Query(ctx, `SELECT `+outboxCols+` FROM outbox WHERE ($1 = '' OR peer = $1) AND id > $2 ORDER BY id LIMIT $3`, peer, after, limit)
	if err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	defer rows.Close()
	return scan.Collect(rows, scan.WrapErrors("outbox", scan.OutboxItem))
}

func (r queueReader) NextOutboxDue(ctx context.Context) (time.Time, bool, error) {
	var due *int64
	err := r.q.QueryRow(ctx, `SELECT MIN(GREATEST(next_attempt_us, lease_us)) FROM outbox WHERE delivered_us = 0 AND failed_us = 0`).Scan(&due)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("outbox due: %w", err)
	}
	if due == nil {
		return time.Time{}, false, nil
	}
	return scan.FromUS(*due), true, nil
}

func (r queueReader) Cursor(ctx context.Context, name string) (string, error) {
	var v string
	err := r.q.QueryRow(ctx, `SELECT value FROM cursors WHERE name = $1`, name).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("cursor %s: %w", name, err)
	}
	return v, nil
}

func (s *Store) SetCursor(ctx context.Context, name, value string) error {
	_, err := s.w.Exec(ctx, `INSERT INTO cursors (name, value, updated_us) VALUES ($1, $2, $3)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_us = excluded.updated_us`, name, value, time.Now().UnixMicro())
	if err != nil {
		return fmt.Errorf("cursor %s: %w", name, err)
	}
	return nil
}
