package store

import (
	"context"
	"time"
)

// Recalls. An originator's recall of an object is kept as one row per
// partner that received it (the signed notice made for that partner, and
// whether and when the partner acknowledged it with a signed
// acknowledgement). A partner keeps the notices it received the same way,
// with the acknowledgement it sent, so a repeated notice is answered with
// the same acknowledgement.

// RecallReader reads recalls. Reader embeds it.
type RecallReader interface {
	// Recalls returns the rows of recall q.ID, or of every recall of object
	// q.ObjectID, oldest first, then by party; none is not an error.
	Recalls(ctx context.Context, q RecallQuery) ([]Recall, error)
}

// RecallWriter writes recalls. Tx embeds it.
type RecallWriter interface {
	// PutRecall inserts one (recall, party) row; ErrExists if it is there.
	PutRecall(ctx context.Context, r Recall) error
	// AckRecall records party's acknowledgement of recall id (state
	// acknowledged, time, the signed document); ErrNotFound if there is no
	// such row. An acknowledgement recorded before is kept.
	AckRecall(ctx context.Context, id, party string, at time.Time, ack []byte) error
}

// Recall states.
const (
	RecallPending      = "pending"      // notice queued or delivered; no acknowledgement yet
	RecallAcknowledged = "acknowledged" // the partner's signed acknowledgement is recorded
)

// Recall is one recall as it concerns one party: for a recall issued here,
// a partner the object went to; for one received, the originator that sent
// it (Inbound).
type Recall struct {
	ID         string // recall--UUID, shared by every party of one recall
	Party      string
	ObjectID   string
	Originator string
	Inbound    bool     // received from Party, not issued here
	Objects    []string // the ids the party is asked to purge
	Reason     string
	Notice     []byte // the signed notice
	State      string // RecallPending or RecallAcknowledged
	Issued     time.Time
	By         string    // who issued it here ("" for an inbound one)
	AckedAt    time.Time // zero while pending
	Ack        []byte    // the signed acknowledgement (received, or sent for an inbound recall)
}

// RecallQuery selects recalls by id or by object.
type RecallQuery struct {
	ID       string
	ObjectID string
}
