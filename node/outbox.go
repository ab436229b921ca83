package node

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/tearline/tearline/federation"
	"github.com/tearline/tearline/store"
)

// Federation messages: what one node sends another. A node writes a
// message to its outbox (enqueueOutbox) inside the transaction of the action
// that causes it; the delivery loop (RunOutbox) POSTs each peer's due
// messages, in order and batched, to the peer's inbox route
// (POST /federation/v1/inbox, mutual TLS), retrying with backoff until the
// peer answers. The receiving node dispatches each message on its kind to
// the handler registered for it (RegisterInboxHandler).
//
// Kinds are the store's: store.OutboxObjects, OutboxRecall, OutboxAck,
// OutboxSighting. "objects" is handled here (federation_receive.go); the
// others are registered by their features.

// InboxHandler handles one message of one kind from peer. It runs once per
// delivery attempt, so it must be idempotent: the sender delivers at least
// once. A returned error refuses the message: the sender is told why and,
// for an ErrRefused error, does not retry (the message is marked failed for
// good); any other error is retried with backoff. A handler does its own
// store transaction and audit.
type InboxHandler func(ctx context.Context, peer *Peer, payload []byte) error

// InboxResult is a handler's answer to one message: what the receiver
// reports back to the sender (for "objects", per-object results). Handlers
// that have nothing to say return nil.
type InboxResult = any

// InboxHandlerResult is an InboxHandler that also answers the sender with a
// JSON-encodable result. RegisterInboxHandlerResult registers one.
type InboxHandlerResult func(ctx context.Context, peer *Peer, payload []byte) (InboxResult, error)

// ErrRefused marks a message the receiver will never accept (a forged
// binding, no agreement, bad content): retrying cannot help. Wrap it.
var ErrRefused = errors.New("refused")

// inbox maps a message kind to its handler.
type inbox struct {
	mu       sync.RWMutex
	handlers map[string]InboxHandlerResult
}

// RegisterInboxHandler sets the handler of messages of kind, replacing any
// before. Register before serving.
func (n *Node) RegisterInboxHandler(kind string, h InboxHandler) {
	n.RegisterInboxHandlerResult(kind, func(ctx context.Context, peer *Peer, payload []byte) (InboxResult, error) {
		return nil, h(ctx, peer, payload)
	})
}

// RegisterInboxHandlerResult is RegisterInboxHandler for a handler that
// answers with a result.
func (n *Node) RegisterInboxHandlerResult(kind string, h InboxHandlerResult) {
	ib := n.inboxState()
	ib.mu.Lock()
	defer ib.mu.Unlock()
	if ib.handlers == nil {
		ib.handlers = map[string]InboxHandlerResult{}
	}
	ib.handlers[kind] = h
}

// ErrUnknownKind is returned for a message whose kind has no handler.
var ErrUnknownKind = errors.New("unknown message kind")

// HandleInbox dispatches one message from peer to the handler of its kind.
// The API's inbox route calls it once per message of a delivery.
func (n *Node) HandleInbox(ctx context.Context, peer *Peer, kind string, payload []byte) (InboxResult, error) {
	ib := n.inboxState()
	ib.mu.RLock()
	h := ib.handlers[kind]
	ib.mu.RUnlock()
	if h == nil {
		return nil, fmt.Errorf("%w %q: %w", ErrUnknownKind, kind, ErrRefused)
	}
	return h(ctx, peer, payload)
}

// enqueueOutbox queues a message of kind for peer in tx. The delivery loop
// must be woken after tx commits: call wakeOutbox after Update returns (it is
// fine: a wake-up for nothing costs one empty claim; updateOutbox does
// both). Use it inside the
// store transaction of the action that causes the message, so the message
// exists exactly when the action does.
func (n *Node) enqueueOutbox(ctx context.Context, tx store.Tx, peer, kind string, payload []byte) error {
	if peer == "" || kind == "" {
		return errors.New("outbox: peer and kind are required")
	}
	if err := tx.EnqueueOutbox(ctx, &store.OutboxItem{Peer: peer, Kind: kind, Payload: payload, Created: n.now()}); err != nil {
		return fmt.Errorf("outbox: enqueue %s for %s: %w", kind, peer, err)
	}
	return nil
}

// updateOutbox runs fn in one store transaction, like n.st.Update, and
// wakes the delivery loop once it commits: use it for any transaction that
// may call enqueueOutbox. (A wake-up for a transaction that enqueued nothing
// costs one empty claim.)
func (n *Node) updateOutbox(ctx context.Context, fn func(tx store.Tx) error) error {
	if err := n.st.Update(ctx, fn); err != nil {
		return err
	}
	n.wakeOutbox()
	return nil
}

// wakeOutbox signals the delivery loop that something was committed to the
// outbox. It never blocks: one pending signal is enough. The loop is woken,
// not polling; its only timer is for a retry's backoff.
func (n *Node) wakeOutbox() {
	select {
	case n.fed.wakeChan() <- struct{}{}:
	default:
	}
}

// fedState is the node's federation runtime state: the inbox handlers and
// the outbox wake-up. Its zero value is ready.
type fedState struct {
	inbox inbox
	// labels caches the label marking-definitions partners send, parsed
	// (federation_receive.go).
	labels labelParseCache

	once sync.Once
	wake chan struct{}

	metricsOnce sync.Once
	metrics     *federation.Metrics
}

func (f *fedState) wakeChan() chan struct{} {
	f.once.Do(func() { f.wake = make(chan struct{}, 1) })
	return f.wake
}

func (n *Node) inboxState() *inbox { return &n.fed.inbox }
