package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/store"
)

// Delivery states (docs/FEDERATION.md, "Delivery states"). Each release or
// tearline to a peer is one outbox message; its state is the message's:
// queued, retrying (attempts, next attempt, last error), delivered (the
// partner holds it) or failed (the reason code of federation's table).

// Delivery is the state of one ledger entry's delivery to its party.
type Delivery struct {
	Outbox      int64      `json:"outbox,omitempty"` // to those who read the ledger (mayCount)
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
// unless p reads the ledger (mayCount).
func deliveryFor(p *Principal, it store.OutboxItem) Delivery {
	d := deliveryOf(it)
	if !mayCount(p) {
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
func (n *Node) Deliveries(ctx context.Context, p *Principal, es []store.LedgerEntry) (map[int64]Delivery, error) {
	if err := authorize(p, ActLedgerRead); err != nil {
		return nil, fmt.Errorf("deliveries: %w", err)
	}
	seqs := make([]int64, 0, len(es))
	for _, e := range es {
		if e.State == store.LedgerReady {
			seqs = append(seqs, e.Seq)
		}
	}
	items, err := n.st.OutboxOfLedger(ctx, seqs)
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
func (n *Node) RetryDelivery(ctx context.Context, p *Principal, seq int64) (Delivery, error) {
	if err := authorize(p, ActDeliveryRetry); err != nil {
		return Delivery{}, fmt.Errorf("retry delivery %d: %w", seq, err)
	}
	items, err := n.st.OutboxOfLedger(ctx, []int64{seq})
	if err != nil {
		return Delivery{}, fmt.Errorf("retry delivery %d: %w", seq, err)
	}
	it, found := items[seq]
	var ref objectsRef
	if found {
		if err := json.Unmarshal(it.Payload, &ref); err != nil {
			return Delivery{}, fmt.Errorf("retry delivery %d: outbox %d: %w", seq, it.ID, err)
		}
	}
	readable := false
	err = n.st.Update(ctx, func(tx store.Tx) error {
		readable = false
		ev := audit.Event{Actor: p.Actor(), Action: audit.ActionDeliveryRetry, Object: ref.Object, Modified: ref.Modified,
			Subject: "party:" + it.Peer, Detail: fmt.Sprintf("ledger=%d outbox=%d", seq, it.ID)}
		if !found {
			ev.Decision, ev.Reasons, ev.Subject, ev.Detail = audit.Deny, []string{"not-found-or-not-readable"}, "", fmt.Sprintf("ledger=%d", seq)
			return n.appendAudit(ctx, tx, ev)
		}
		if err := n.authorizeObject(ctx, tx, p, ActDeliveryRetry, ref.Object, ref.Modified, ErrNotFound); errors.Is(err, ErrNotFound) {
			ev.Decision, ev.Reasons, ev.Modified = audit.Deny, []string{"not-found-or-not-readable"}, ""
			return n.appendAudit(ctx, tx, ev)
		} else if err != nil {
			return err
		}
		readable = true
		if it.State() != store.DeliveryFailed {
			ev.Decision, ev.Reasons = audit.Deny, []string{"not-failed"}
			return n.appendAudit(ctx, tx, ev)
		}
		ev.Decision, ev.Reasons = audit.Allow, []string{it.Reason}
		return n.appendAudit(ctx, tx, ev)
	})
	if err != nil {
		return Delivery{}, fmt.Errorf("retry delivery %d: %w", seq, err)
	}
	if !readable {
		return Delivery{}, fmt.Errorf("retry delivery %d: %w", seq, ErrNotFound)
	}
	if it.State() != store.DeliveryFailed {
		return deliveryFor(p, it), fmt.Errorf("retry delivery %d: %w (it is %s)", seq, ErrNotFailed, it.State())
	}
	if err := n.st.RetryOutbox(ctx, it.ID, n.now()); err != nil {
		return Delivery{}, fmt.Errorf("retry delivery %d: %w", seq, err)
	}
	n.wakeOutbox()
	items, err = n.st.OutboxOfLedger(ctx, []int64{seq})
	if err != nil {
		return Delivery{}, fmt.Errorf("retry delivery %d: %w", seq, err)
	}
	return deliveryFor(p, items[seq]), nil
}
