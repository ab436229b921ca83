// Package delivery is the sending side of federation on this node: the
// delivery loop over the outbox (package federation's Outbox, with this
// node as its Sender: batches built from the store, outcomes audited), the
// delivery state of each release (queued, retrying, delivered, failed),
// retrying a failed one, and holding deliveries to a partner whose log
// showed a split view. Services queue messages with node's
// Node.EnqueueOutbox and Node.QueueRelease.
package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/federation"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/store"
)

// Delivery states (docs/FEDERATION.md, "Delivery states"). Each release or
// tearline to a peer is one outbox message; its state is the message's:
// queued, retrying (attempts, next attempt, last error), delivered (the
// partner holds it) or failed (the reason code of federation's table).

// Service delivers what this node queued for its partners.
type Service struct {
	n *node.Node

	metricsOnce sync.Once
	metrics     *federation.Metrics
}

// New returns the deliveries of n.
func New(n *node.Node) *Service { return &Service{n: n} }

// Delivery is the state of one ledger entry's delivery to its party.
type Delivery struct {
	Outbox      int64      `json:"outbox,omitempty"` // to those who read the ledger (node.MayCount)
	State       string     `json:"state"`            // store.DeliveryQueued, ...Retrying, ...Delivered, ...Failed
	Attempts    int        `json:"attempts"`
	NextAttempt *time.Time `json:"next_attempt,omitempty"` // retrying: not before
	Reason      string     `json:"reason,omitempty"`       // retrying or failed: the reason code
	LastError   string     `json:"last_error,omitempty"`
	Queued      time.Time  `json:"queued_at"`
	DeliveredAt *time.Time `json:"delivered_at,omitempty"`
	FailedAt    *time.Time `json:"failed_at,omitempty"`
}

// deliveryFor is it's delivery as p may see it: without the outbox id
// unless p reads the ledger (node.MayCount).
func deliveryFor(p *node.Principal, it store.OutboxItem) Delivery {
	d := deliveryOf(it)
	if !node.MayCount(p) {
		d.Outbox = 0
	}
	return d
}

func deliveryOf(it store.OutboxItem) Delivery {
	d := Delivery{Outbox: it.ID, State: it.State(), Attempts: it.Attempts, Reason: it.Reason, LastError: it.LastError, Queued: it.Queued}
	switch d.State {
	case store.DeliveryRetrying:
		if !it.NextAttempt.IsZero() {
			t := it.NextAttempt
			d.NextAttempt = &t
		}
	case store.DeliveryDelivered:
		t := it.Delivered
		d.DeliveredAt, d.Reason = &t, ""
	case store.DeliveryFailed:
		t := it.Failed
		d.FailedAt = &t
	case store.DeliveryQueued:
		d.Reason, d.LastError = "", ""
	}
	return d
}

// Deliveries returns the delivery state of each ledger entry of es that
// was queued for a peer, by ledger sequence number. Like the ledger, it is
// for auditors and administrators.
func (d *Service) Deliveries(ctx context.Context, p *node.Principal, es []store.LedgerEntry) (map[int64]Delivery, error) {
	if err := node.Authorize(p, node.ActLedgerRead); err != nil {
		return nil, fmt.Errorf("deliveries: %w", err)
	}
	seqs := make([]int64, 0, len(es))
	for _, e := range es {
		if e.State == store.LedgerReady {
			seqs = append(seqs, e.Seq)
		}
	}
	items, err := d.n.Store().OutboxOfLedger(ctx, seqs)
	if err != nil {
		return nil, fmt.Errorf("deliveries: %w", err)
	}
	out := make(map[int64]Delivery, len(items))
	for seq, it := range items {
		out[seq] = deliveryOf(it)
	}
	return out, nil
}

// RetryDelivery makes the failed delivery of ledger entry seq due again: it
// is queued anew (its maximum age runs from now) and the delivery loop is
// woken. It is an action on the object delivered: a caller who may not
// read it is answered as for a ledger entry that does not exist
// (ErrNotFound), and the denial is audited. Who may retry is authority's
// (ActDeliveryRetry: releasers and administrators); a delivery that has
// not failed is ErrNotFailed.
func (d *Service) RetryDelivery(ctx context.Context, p *node.Principal, seq int64) (Delivery, error) {
	what := fmt.Sprintf("retry delivery %d", seq)
	if err := node.Authorize(p, node.ActDeliveryRetry); err != nil {
		return Delivery{}, fmt.Errorf("%s: %w", what, err)
	}
	return d.retry(ctx, p, seq, what)
}

// retry is RetryDelivery and Retry once the role is checked; what names
// the request in errors as the caller named it.
func (d *Service) retry(ctx context.Context, p *node.Principal, seq int64, what string) (Delivery, error) {
	items, err := d.n.Store().OutboxOfLedger(ctx, []int64{seq})
	if err != nil {
		return Delivery{}, fmt.Errorf("%s: %w", what, err)
	}
	it, found := items[seq]
	var ref node.ObjectsRef
	if found {
		if err := json.Unmarshal(it.Payload, &ref); err != nil {
			return Delivery{}, fmt.Errorf("%s: outbox %d: %w", what, it.ID, err)
		}
	}
	readable := false
	err = d.n.Store().Update(ctx, func(tx store.Tx) error {
		readable = false
		ev := audit.Event{Actor: p.Actor(), Action: audit.ActionDeliveryRetry, Object: ref.Object, Modified: ref.Modified,
			Subject: "party:" + it.Peer, Detail: fmt.Sprintf("ledger=%d outbox=%d", seq, it.ID)}
		if !found {
			ev.Decision, ev.Reasons, ev.Subject, ev.Detail = audit.Deny, []string{"not-found-or-not-readable"}, "", fmt.Sprintf("ledger=%d", seq)
			return d.n.AppendAudit(ctx, tx, ev)
		}
		if err := d.n.AuthorizeObject(ctx, tx, p, node.ActDeliveryRetry, ref.Object, []node.VersionKey{{Instance: ref.Instance, Modified: ref.Modified}}, node.ErrNotFound); errors.Is(err, node.ErrNotFound) {
			ev.Decision, ev.Reasons, ev.Modified = audit.Deny, []string{"not-found-or-not-readable"}, ""
			return d.n.AppendAudit(ctx, tx, ev)
		} else if err != nil {
			return err
		}
		readable = true
		if it.State() != store.DeliveryFailed {
			ev.Decision, ev.Reasons = audit.Deny, []string{"not-failed"}
			return d.n.AppendAudit(ctx, tx, ev)
		}
		ev.Decision, ev.Reasons = audit.Allow, []string{it.Reason}
		return d.n.AppendAudit(ctx, tx, ev)
	})
	if err != nil {
		return Delivery{}, fmt.Errorf("%s: %w", what, err)
	}
	if !readable {
		return Delivery{}, fmt.Errorf("%s: %w", what, node.ErrNotFound)
	}
	if it.State() != store.DeliveryFailed {
		return deliveryFor(p, it), fmt.Errorf("%s: %w (it is %s)", what, node.ErrNotFailed, it.State())
	}
	if err := d.n.Store().RetryOutbox(ctx, it.ID, d.n.Now()); err != nil {
		return Delivery{}, fmt.Errorf("%s: %w", what, err)
	}
	// The answer is the state the retry made (queued), read before the
	// delivery loop is woken: once woken it may deliver before we read.
	items, err = d.n.Store().OutboxOfLedger(ctx, []int64{seq})
	d.n.Outbox().Wake()
	if err != nil {
		return Delivery{}, fmt.Errorf("%s: %w", what, err)
	}
	return deliveryFor(p, items[seq]), nil
}

// DeliveriesPaused says whether deliveries to peer are paused by a split
// view of its log that no admin has acknowledged yet, and why.
func (d *Service) DeliveriesPaused(ctx context.Context, peer string) (string, bool, error) {
	p, err := d.n.Peer(peer)
	if err != nil || p == nil {
		return "", false, err
	}
	origin := node.PeerOrigin(p)
	if origin == "" {
		return "", false, nil
	}
	open, err := d.n.Store().SplitViews(ctx, origin, true)
	if err != nil || len(open) == 0 {
		return "", false, err
	}
	return fmt.Sprintf("split view of %s's audit log at size %d (reported by %s); an admin must run `tearline peer ack-split %s`",
		peer, open[0].Size, open[0].Reporter, peer), true, nil
}
