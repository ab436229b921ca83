package store

import (
	"context"
	"time"
)

// Follow-up work: what an ingest or a receipt causes after it commits
// (automatic releases, sightings back to a partner). A row is written in
// the transaction of the ingest or receipt, so the work exists exactly when
// what causes it does; it is carried out after the commit, each row in a
// transaction of its own that also takes (deletes) the row. A crash between
// the commit and the work leaves the row, and the next run resumes it; a
// row is taken once, whichever process or replica gets to it first.

// Follow-up kinds.
const (
	FollowupAutoRelease = "auto-release" // decide the automatic releases of the versions created
	FollowupSighting    = "sighting"     // send a sighting back to the originator of what it sights
)

// Followup is one piece of follow-up work.
type Followup struct {
	ID        int64     // assigned by the store, increasing
	Kind      string    // FollowupAutoRelease, FollowupSighting
	Actor     string    // the user name on whose behalf it runs
	Source    string    // the partner a receipt came from ("" for an ingest here)
	Payload   []byte    // kind-specific, opaque to the store
	Created   time.Time //
	Attempts  int       // failed runs so far
	LastError string    // why the last run failed
}

// FollowupWriter adds and takes follow-up rows. Tx embeds it.
type FollowupWriter interface {
	// AddFollowup appends f and sets its ID.
	AddFollowup(ctx context.Context, f *Followup) error
	// TakeFollowup deletes row id, reporting whether it was there: the
	// transaction that takes it does its work; a false means another
	// transaction already did.
	TakeFollowup(ctx context.Context, id int64) (bool, error)
}

// Followups reads and annotates pending follow-up rows, outside any
// transaction.
type Followups interface {
	// PendingFollowups returns up to limit rows, oldest first, with ID > after.
	PendingFollowups(ctx context.Context, after int64, limit int) ([]Followup, error)
	// FollowupFailed records a failed run of row id.
	FollowupFailed(ctx context.Context, id int64, reason string) error
}
