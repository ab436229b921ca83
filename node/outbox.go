package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/tearline/tearline/store"
)

// Federation messages: what one node sends another. A service writes a
// message to the outbox (EnqueueOutbox, QueueRelease) inside the
// transaction of the action that causes it, and wakes the delivery loop
// once it commits (UpdateOutbox does both). The loop itself (package
// node/delivery) POSTs each peer's due messages, in order and batched, to
// the peer's inbox route, which dispatches each on its kind (package
// node/inbox).
//
// Kinds are the store's: store.OutboxObjects, OutboxRecall, OutboxAck,
// OutboxSighting.

// Enqueue queues a message of kind for peer in tx. The delivery loop
// must be woken after tx commits: call wakeOutbox after Update returns (it is
// fine: a wake-up for nothing costs one empty claim; updateOutbox does
// both). Use it inside the
// store transaction of the action that causes the message, so the message
// exists exactly when the action does.
func (ob *Outbox) Enqueue(ctx context.Context, tx store.Tx, peer, kind string, payload []byte) error {
	n := ob.n
	if peer == "" || kind == "" {
		return errors.New("outbox: peer and kind are required")
	}
	if err := tx.EnqueueOutbox(ctx, &store.OutboxItem{Peer: peer, Kind: kind, Payload: payload, Created: n.now()}); err != nil {
		return fmt.Errorf("outbox: enqueue %s for %s: %w", kind, peer, err)
	}
	return nil
}

// Update runs fn in one store transaction, like n.st.Update, and
// wakes the delivery loop once it commits: use it for any transaction that
// may call enqueueOutbox. (A wake-up for a transaction that enqueued nothing
// costs one empty claim.)
func (ob *Outbox) Update(ctx context.Context, fn func(tx store.Tx) error) error {
	n := ob.n
	if err := n.st.Update(ctx, fn); err != nil {
		return err
	}
	ob.Wake()
	return nil
}

// Wake signals the delivery loop that something was committed to the
// outbox. It never blocks: one pending signal is enough. The loop is woken,
// not polling; its only timer is for a retry's backoff.
func (ob *Outbox) Wake() {
	select {
	case ob.WakeChan() <- struct{}{}:
	default:
	}
}

// Outbox is where services queue what goes to partners, and the delivery
// loop's wake-up (one pending signal).
type Outbox struct {
	n    *Node
	once sync.Once
	wake chan struct{}
}

// Outbox returns the node's outbox.
func (n *Node) Outbox() *Outbox { return &n.out }

// WakeChan is the channel the delivery loop (federation.Outbox) waits on.
func (ob *Outbox) WakeChan() chan struct{} {
	ob.once.Do(func() { ob.wake = make(chan struct{}, 1) })
	return ob.wake
}

// ObjectsRef is the outbox payload of kind "objects": a reference to one
// released object version, not its content. Content stays sealed in the
// object store; it is read and assembled into a bundle when the message is
// sent, so the outbox never holds plaintext and a version purged before
// delivery is not sent.
type ObjectsRef struct {
	Ledger    int64  `json:"ledger"`
	Object    string `json:"object"` // the released object, or the tearline made for the party
	Modified  string `json:"modified"`
	Agreement string `json:"agreement"`
	Version   int    `json:"agreement_version"`
	// Instance is the released version's instance (docs/SECURITY.md):
	// another instance may share its id and modified, and must not be
	// sent in its place. Absent (0) in payloads older than instances.
	Instance int64 `json:"instance,omitempty"`
}

// QueueRelease queues the delivery of a ledger entry that is ready, when
// the party is a peer of this node. It runs in the transaction that writes
// the entry. A party that is not (yet) a peer gets nothing queued: the
// ledger still records the release, and `peer add` does not replay it.
func (ob *Outbox) QueueRelease(ctx context.Context, tx store.Tx, e store.LedgerEntry, seq int64) (queued bool, err error) {
	n := ob.n
	if e.State != store.LedgerReady {
		return false, nil
	}
	peers, err := n.Peers()
	if err != nil {
		return false, err
	}
	if !slices.ContainsFunc(peers, func(p Peer) bool { return p.Name == e.Party }) {
		return false, nil
	}
	ref := ObjectsRef{Ledger: seq, Object: e.ObjectID, Modified: e.Modified, Agreement: e.Agreement, Version: e.AgreementVersion, Instance: e.Instance}
	if e.TearlineID != "" {
		ref.Object, ref.Instance = e.TearlineID, 0
	}
	payload, err := json.Marshal(ref)
	if err != nil {
		return false, err
	}
	it := &store.OutboxItem{Peer: e.Party, Kind: store.OutboxObjects, Payload: payload, Created: n.now(), Ledger: seq}
	if err := tx.EnqueueOutbox(ctx, it); err != nil {
		return false, fmt.Errorf("outbox: enqueue release %d for %s: %w", seq, e.Party, err)
	}
	return true, nil
}
