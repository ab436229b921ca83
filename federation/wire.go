package federation

import (
	"encoding/json"

	"github.com/tearline/tearline/store"
)

// InboxPath is the partner route messages are delivered to.
const InboxPath = "/federation/v1/inbox"

// HelloPath is the partner route that answers who the caller is.
const HelloPath = "/federation/v1/hello"

// HoldingsAlias is the alias of the TAXII collection a node serves its
// partners (what it releases to each): the pull client looks for it.
const HoldingsAlias = "holdings"

// Bounds of the inbox protocol. A batch is bounded by count and size on both
// sides, so neither a sender nor a receiver holds more than this in memory.
const (
	MaxInboxBody     = 64 << 20 // bytes of one POST
	MaxInboxMessages = 1024     // messages in one POST
)

// InboxRequest is the body of POST /federation/v1/inbox: messages of one
// sender, in its outbox order.
type InboxRequest struct {
	Messages []InboxMessage `json:"messages"`
}

// InboxMessage is one outbox item on the wire. ID is the sender's outbox
// id, echoed in the result; the receiver's idempotence does not depend on
// it (objects are idempotent by id and modified).
type InboxMessage struct {
	ID      int64           `json:"id"`
	Kind    string          `json:"kind"`
	Payload json.RawMessage `json:"payload"`
}

// InboxResponse answers an InboxRequest, one result per message in order.
type InboxResponse struct {
	Results []InboxMessageResult `json:"results"`
}

// InboxMessageResult is the receiver's answer to one message. Status is
// "accepted", "refused" (for good) or "retry" (a transient failure at the
// receiver). Reason, when present, is a code of the reason table
// (reasons.go) that says which; a receiver of an earlier version sends
// none, and the sender classes its Error text instead (Classify).
type InboxMessageResult struct {
	ID     int64  `json:"id"`
	Status string `json:"status"`
	Reason Reason `json:"reason,omitempty"`
	Error  string `json:"error,omitempty"`
	Result any    `json:"result,omitempty"`
}

// Inbox result statuses.
const (
	InboxAccepted = "accepted"
	InboxRefused  = "refused"
	InboxRetry    = "retry"
)

// ReleaseEnvelope rides along the STIX bundle of an "objects" message as
// the bundle property x_tearline_release: under which agreement the sender
// released and the object's provenance so far. The receiver decides under
// its own copy of the agreements; this is the sender's claim, recorded.
type ReleaseEnvelope struct {
	Agreement  string `json:"agreement"`
	Version    int    `json:"agreement_version"`
	Originator string `json:"originator"`
	// OriginatorInstance is the instance of the bundle's object as its
	// originator numbers it (docs/FEDERATION.md, "Instances on the
	// wire"): the receiver keeps the versions of two origin instances of
	// one id from one originator in two instances of its own. Absent
	// means 0: a sender of an earlier version sends none, and the
	// default instance is sent without it, so an earlier receiver sees
	// the envelope it knows.
	OriginatorInstance int64       `json:"originator_instance,omitempty"`
	Hops               []store.Hop `json:"hops,omitempty"` // before this one
}

// ObjectsBundle is the wire payload of kind "objects": a STIX 2.1 bundle
// holding the sender's label marking-definitions, the object and its
// bindings, as GET /api/v1/export writes them.
type ObjectsBundle struct {
	Type    string            `json:"type"`
	ID      string            `json:"id"`
	Objects []json.RawMessage `json:"objects"`
	Release ReleaseEnvelope   `json:"x_tearline_release"`
}
