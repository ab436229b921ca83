package store

import (
	"context"
	"time"
)

// The outbox holds what this node must deliver to partner nodes: released
// objects, and the recall notices, acknowledgements and sightings that
// travel the same way. A row is written in the same transaction as the
// release (or ingest, recall, ...) that causes it, so a committed release is
// never lost to a crash and a rolled-back one is never sent. Delivery is at
// least once: a row stays due until MarkDelivered, and the receiver is
// idempotent by (id, modified).

// Outbox kinds. Each is a message type the receiving node dispatches on
// (node.RegisterInboxHandler); new kinds need no schema change.
const (
	OutboxObjects  = "objects"  // released objects with their bindings and labels
	OutboxRecall   = "recall"   // a signed recall notice
	OutboxAck      = "ack"      // an acknowledgement of a recall
	OutboxSighting = "sighting" // a sighting sent back to the originator
)

// OutboxItem is one message waiting for (or past) delivery to one peer.
type OutboxItem struct {
	ID          int64     // assigned by the store, increasing: the per-peer delivery order
	Peer        string    // the peer's name (peers.yaml)
	Kind        string    // OutboxObjects, OutboxRecall, ...
	Payload     []byte    // kind-specific, opaque to the store
	Created     time.Time //
	Ledger      int64     // the ledger entry it delivers (0: none)
	Queued      time.Time // when it was queued: Created, or a retry by hand; the maximum age runs from here
	Attempts    int       // failed deliveries so far
	NextAttempt time.Time // not due before this (zero: at once)
	Delivered   time.Time // zero until the partner accepted it
	Failed      time.Time // zero unless it failed for good
	Reason      string    // the reason code of the last failure (federation's table)
	LastError   string    // why the last attempt failed
}

// Delivery states of an outbox item (docs/FEDERATION.md, "Delivery
// states").
const (
	DeliveryQueued    = "queued"    // waiting for its first attempt
	DeliveryRetrying  = "retrying"  // an attempt failed for a transient reason; due again at NextAttempt
	DeliveryDelivered = "delivered" // the partner accepted it (it holds it)
	DeliveryFailed    = "failed"    // failed for good (Reason); later messages to the peer go on
)

// State is the item's delivery state.
func (it OutboxItem) State() string {
	switch {
	case !it.Delivered.IsZero():
		return DeliveryDelivered
	case !it.Failed.IsZero():
		return DeliveryFailed
	case it.Attempts > 0:
		return DeliveryRetrying
	}
	return DeliveryQueued
}

// OutboxWriter enqueues. Tx embeds it, so an item commits with the action
// that caused it or not at all.
type OutboxWriter interface {
	// EnqueueOutbox appends items (ID, Attempts, NextAttempt, Delivered,
	// Failed and Reason are ignored; Queued is Created) and sets their IDs.
	EnqueueOutbox(ctx context.Context, items ...*OutboxItem) error
}

// Outbox is the delivery side of the outbox. Its methods run in their own
// short transactions: delivery happens outside any store transaction, since
// a network call must never hold the writer.
type Outbox interface {
	// ClaimOutbox returns up to limit undelivered items, not failed, that are due at now
	// (NextAttempt <= now) and not leased by another claimer, oldest first,
	// for peer (every peer when ""), and leases them until now+lease: a
	// second claimer (another replica on the same PostgreSQL database) skips
	// them until the lease ends, and a claimer that dies leaves them due
	// again when it does. Per peer, items are returned in ID order and
	// claiming stops at the first item of that peer that is not due, so a
	// peer's messages are delivered in order.
	ClaimOutbox(ctx context.Context, peer string, now time.Time, limit int, lease time.Duration) ([]OutboxItem, error)
	// MarkDelivered records the delivery of items ids at at: the partner
	// holds them. LastError is kept (the last failed attempt's).
	MarkDelivered(ctx context.Context, at time.Time, ids ...int64) error
	// MarkRetry records a failed attempt on items ids not yet delivered or
	// failed: Attempts+1, the reason code and error, and NextAttempt = next
	// (the caller computes the backoff with OutboxBackoff), releasing the
	// lease.
	MarkRetry(ctx context.Context, next time.Time, code, reason string, ids ...int64) error
	// MarkFailed records that items ids (not yet delivered) failed for good
	// at at, with the reason code and error: they are no longer claimed, so
	// they hold nothing of their peer back.
	MarkFailed(ctx context.Context, at time.Time, code, reason string, ids ...int64) error
	// RetryOutbox makes failed item id due again at now, as if queued then
	// (Queued = now, Attempts 0, no failure). ErrNotFound when there is no
	// such item or it has not failed.
	RetryOutbox(ctx context.Context, id int64, now time.Time) error
	// OutboxOfLedger returns the items that deliver ledger entries seqs,
	// by ledger sequence number (an entry with no item is absent).
	OutboxOfLedger(ctx context.Context, seqs []int64) (map[int64]OutboxItem, error)
	// OutboxCounts returns how many items are queued, retrying and failed
	// (keys DeliveryQueued, DeliveryRetrying, DeliveryFailed).
	OutboxCounts(ctx context.Context) (map[string]int, error)
	// OutboxItems returns the items for peer ("" every peer) with ID > after,
	// delivered or not, up to limit, in ID order: for status and tests.
	OutboxItems(ctx context.Context, peer string, after int64, limit int) ([]OutboxItem, error)
	// NextOutboxDue returns the earliest NextAttempt (or lease end) among
	// undelivered items; zero time and false when there are none. The
	// delivery loop sleeps until then when nothing wakes it sooner.
	NextOutboxDue(ctx context.Context) (time.Time, bool, error)
	// Cursor and SetCursor keep a named position (a pull's added_after per
	// peer); Cursor returns "" when none is saved.
	Cursor(ctx context.Context, name string) (string, error)
	SetCursor(ctx context.Context, name, value string) error
}

// OutboxBackoff is the delay before retry number attempts (1 for the first
// retry): exponential from base, capped at max, with jitter in [0.5, 1) of
// the delay taken from r (a value in [0, 1)) so that a partner coming back is
// not hit by every node at the same instant.
func OutboxBackoff(attempts int, base, max time.Duration, r float64) time.Duration {
	d := base
	for i := 1; i < attempts && d < max; i++ {
		d *= 2
	}
	if d > max {
		d = max
	}
	if r < 0 || r >= 1 {
		r = 0
	}
	return time.Duration(float64(d) * (0.5 + r/2))
}
