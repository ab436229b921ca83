package store

import "context"

// Access MACs (docs/SECURITY.md, "Stored access rules"): for each object
// version the node keeps a MAC, under a node key the store never sees in
// the clear, over the facts a read decides on (the row's seq, id, version,
// access class and its labels, digest and bindings). The store keeps the
// MACs as opaque bytes beside the rows, in a table of their own keyed by
// seq, and returns each with its version (ObjectVersion.MAC); the node
// checks them. A row with no MAC reads as one whose MAC does not match.

// AccessMAC is the MAC of the version stored at Seq.
type AccessMAC struct {
	Seq int64
	MAC []byte
}

// AccessMACReader reads what the access MACs' backfill still has to do.
// Reader embeds it.
type AccessMACReader interface {
	// PendingAccessMACs returns up to limit versions stored before access
	// MACs existed (seq at most what the schema migration that added them
	// recorded) that have no MAC yet, with seq > after, in seq order, as
	// Versions returns them but without Raw and Key; nothing once
	// FinishAccessMACs has committed. A version stored since the
	// migration is never pending: if its MAC is missing, it was removed.
	PendingAccessMACs(ctx context.Context, after int64, limit int) ([]ObjectVersion, error)
}

// AccessMACWriter writes access MACs. Tx embeds it.
type AccessMACWriter interface {
	// PutAccessMACs stores the MAC of each version; a seq that has one
	// already keeps it (two replicas backfilling at once make the same).
	PutAccessMACs(ctx context.Context, macs []AccessMAC) error
	// FinishAccessMACs records that the backfill is done: from its commit
	// on, PendingAccessMACs returns nothing, so a MAC removed from an old
	// row is never made again.
	FinishAccessMACs(ctx context.Context) error
}
