// Package inbox is the receiving side of federation on this node: the
// handlers of each kind of message a partner delivers (objects, recalls and
// their acknowledgements, sightings back), the checks every received object
// passes (binding, keyring, inbound agreement, label translation), and
// pulling from partners over TAXII. It implements federation.Receiver; the
// wire protocol itself is package federation's.
package inbox

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/store"
)

// InboxHandler handles one message of one kind from peer. It runs once per
// delivery attempt, so it must be idempotent: the sender delivers at least
// once. A returned error refuses the message: the sender is told why and,
// for an node.ErrRefused error, does not retry (the message is marked failed for
// good); any other error is retried with backoff. A handler does its own
// store transaction and audit.
type InboxHandler func(ctx context.Context, peer *node.Peer, payload []byte) error

// InboxResult is a handler's answer to one message: what the receiver
// reports back to the sender (for "objects", per-object results). Handlers
// that have nothing to say return nil.
type InboxResult = any

// InboxHandlerResult is an InboxHandler that also answers the sender with a
// JSON-encodable result. RegisterInboxHandlerResult registers one.
type InboxHandlerResult func(ctx context.Context, peer *node.Peer, payload []byte) (InboxResult, error)

// Service receives what partners send this node.
type Service struct {
	n *node.Node

	mu       sync.RWMutex
	handlers map[string]InboxHandlerResult

	// labels caches the label marking-definitions partners send, parsed
	// (receive.go).
	labels labelParseCache
}

// New returns the inbox of n. It handles objects and sightings itself;
// other kinds (recalls, acknowledgements) are registered by their services
// through RegisterInboxHandler.
func New(n *node.Node) *Service {
	ib := &Service{n: n}
	ib.RegisterInboxHandler(store.OutboxSighting, ib.receiveSighting)
	return ib
}

// RegisterInboxHandler sets the handler of messages of kind, replacing any
// before. Register before serving.
func (ib *Service) RegisterInboxHandler(kind string, h InboxHandler) {
	ib.RegisterInboxHandlerResult(kind, func(ctx context.Context, peer *node.Peer, payload []byte) (InboxResult, error) {
		return nil, h(ctx, peer, payload)
	})
}

// RegisterInboxHandlerResult is RegisterInboxHandler for a handler that
// answers with a result.
func (ib *Service) RegisterInboxHandlerResult(kind string, h InboxHandlerResult) {
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
func (ib *Service) HandleInbox(ctx context.Context, peer *node.Peer, kind string, payload []byte) (InboxResult, error) {
	ib.mu.RLock()
	h := ib.handlers[kind]
	ib.mu.RUnlock()
	if h == nil {
		return nil, fmt.Errorf("%w %q: %w", ErrUnknownKind, kind, node.ErrRefused)
	}
	return h(ctx, peer, payload)
}
