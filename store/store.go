// Package store defines what Tearline keeps and the one interface every
// storage backend implements. Nothing above this package knows SQL.
//
// Every write goes through Update, which runs a function in one transaction:
// the action and the audit entries that record it commit together or not at
// all.
package store

import (
	"context"
	"errors"
	"time"
)

// Errors a backend returns; callers test them with errors.Is.
var (
	ErrNotFound = errors.New("not found")
	ErrExists   = errors.New("already exists")
	// ErrConflict: the same (id, modified) was stored before with other content.
	ErrConflict = errors.New("version exists with different content")
	// ErrRevoked: a later version of an object that was revoked.
	ErrRevoked = errors.New("object is revoked")
	// ErrPurged: a version of an object this store has purged. A purge is
	// forever: a resend, a peer or a restore must not bring it back.
	ErrPurged = errors.New("object was purged")
)

// Store is a Tearline node's storage. Implementations are safe for
// concurrent use.
type Store interface {
	// Update runs fn in one write transaction. If fn returns an error, or the
	// commit fails, nothing fn wrote is kept.
	Update(ctx context.Context, fn func(Tx) error) error
	// CommitAudit appends entries, in order and contiguously, in a write
	// transaction shared with concurrent callers (group commit: one durable
	// sync for the entries of every read that arrived meanwhile), and
	// returns the index of the first once that transaction has committed.
	// If the shared transaction fails, every caller in it gets an error
	// and none of their entries is kept. A caller whose ctx ends first gets
	// its error, and its entries may still be committed.
	CommitAudit(ctx context.Context, entries ...[]byte) (int64, error)
	// CommitRead is CommitAudit for a read that disseminated (a partner's
	// pull): its ledger entries are appended in the same shared
	// transaction, before its audit entries. A ledger entry the backend
	// refuses fails its caller alone, and the others commit without it.
	CommitRead(ctx context.Context, ledger []LedgerEntry, entries ...[]byte) (int64, error)
	Reader
	Outbox    // outbox.go: delivery runs outside Update
	Followups // followups.go: follow-up work runs after the commit
	// Scrub makes rows deleted by committed transactions (a purge's data
	// keys) unrecoverable from the live database files as far as the
	// backend can: SQLite folds and truncates its WAL (deleted cells are
	// zeroed by secure_delete), PostgreSQL vacuums. It runs outside any
	// transaction; see docs/STORAGE.md for what remains.
	Scrub(ctx context.Context) error
	Close() error
}

// Reader holds the read operations; a Tx offers them too, so a read and the
// audit entry that records it can share one transaction.
type Reader interface {
	AgreementReader      // agreements.go
	RecallReader         // recalls.go
	WitnessReader        // witness.go
	NodeKeyReader        // nodekeys.go
	SessionReader        // websessions.go
	AccessMACReader      // accessmacs.go
	InstanceOriginReader // instances.go
	AuditIndexReader     // auditindex.go
	SearchReader         // search.go
	// Versions returns every version of id, oldest first.
	Versions(ctx context.Context, id string) ([]ObjectVersion, error)
	// VersionsOf returns every version of each of ids in one read, as
	// Versions returns them: the versions of one id together, oldest first
	// (ids in no promised order); an id with no version contributes
	// nothing, and an id given twice is read once.
	VersionsOf(ctx context.Context, ids []string) ([]ObjectVersion, error)
	// ProvenanceOf returns the provenance of each of ids that has one, by
	// object id, in one read; ids without provenance are absent.
	ProvenanceOf(ctx context.Context, ids []string) (map[string]Provenance, error)
	// List returns the latest version of each object among those visible
	// under q.Classes, in insertion order after q.After.
	List(ctx context.Context, q ListQuery) ([]ObjectVersion, error)
	// Count counts what List would return with no limit and no cursor,
	// up to q.CountAtMost when it is set.
	Count(ctx context.Context, q ListQuery) (int64, error)
	Label(ctx context.Context, id string) ([]byte, error)
	// AccessClasses returns the classes with id > after, in id order.
	AccessClasses(ctx context.Context, after int64) ([]AccessClass, error)

	User(ctx context.Context, id string) (User, error)
	UserByName(ctx context.Context, name string) (User, error)
	Users(ctx context.Context) ([]User, error)
	Token(ctx context.Context, id string) (Token, error)
	// TokenUser returns token id and the user it belongs to, read together
	// (what authenticating a request needs, on every request);
	// ErrNotFound when there is no such token.
	TokenUser(ctx context.Context, id string) (Token, User, error)
	Tokens(ctx context.Context, userID string) ([]Token, error)

	AuditSize(ctx context.Context) (int64, error)
	// AuditEntries returns entries [start, end).
	AuditEntries(ctx context.Context, start, end int64) ([]AuditEntry, error)
	// AuditHashes returns the stored Merkle tree hashes with ids in
	// [start, end), ids as numbered by golang.org/x/mod/sumdb/tlog
	// (StoredHashIndex), in id order.
	AuditHashes(ctx context.Context, start, end int64) ([]AuditHash, error)
	// ReadAuditHashes returns the stored hashes with these ids, in the
	// order given; ErrNotFound if any is missing.
	ReadAuditHashes(ctx context.Context, ids []int64) ([][]byte, error)
	// LatestAuditCheckpoint returns the signed checkpoint with the largest
	// size; ErrNotFound when there is none.
	LatestAuditCheckpoint(ctx context.Context) (AuditCheckpoint, error)
	// AuditCheckpoints returns up to limit signed checkpoints with
	// size > after, smallest first.
	AuditCheckpoints(ctx context.Context, after int64, limit int) ([]AuditCheckpoint, error)

	// DataKeys returns up to limit stored data keys after after (the last
	// key of the previous page), in the order the store keeps them (Seq);
	// a zero after starts at the beginning.
	DataKeys(ctx context.Context, after DataKey, limit int) ([]DataKey, error)
	TombstoneReader // purge.go
	// Expired returns up to limit versions whose retention ended at or
	// before now, earliest first.
	Expired(ctx context.Context, now time.Time, limit int) ([]Retained, error)
}

// Tx is one write transaction.
type Tx interface {
	Reader
	AgreementWriter      // agreements.go
	OutboxWriter         // outbox.go
	FollowupWriter       // followups.go
	RecallWriter         // recalls.go
	WitnessWriter        // witness.go
	NodeKeyWriter        // nodekeys.go
	SessionWriter        // websessions.go
	AccessMACWriter      // accessmacs.go
	InstanceOriginWriter // instances.go
	AuditIndexWriter     // auditindex.go
	SearchWriter         // search.go
	PurgeWriter          // purge.go
	PutLabel(ctx context.Context, id string, raw []byte) error
	// AccessClass returns the id of the class for exactly this set of label
	// ids (sorted, unique), creating it if needed.
	AccessClass(ctx context.Context, labelIDs []string) (int64, error)
	// PutObject stores one version of (v.ID, v.Instance). It returns false,
	// nil when the same version with the same digest is already stored in
	// that instance (an idempotent resend), ErrConflict when the digest
	// differs, ErrRevoked when an earlier version revoked the instance and
	// ErrPurged when the instance was purged whole, or this version of it
	// was (its tombstone, purge.go). Other instances of the id do not
	// matter.
	// A version with a Key has its data key stored with it.
	PutObject(ctx context.Context, v *ObjectVersion) (bool, error)

	PutUser(ctx context.Context, u User) error
	UpdateUser(ctx context.Context, u User) error
	PutToken(ctx context.Context, t Token) error
	RevokeToken(ctx context.Context, id string, at time.Time) error
	// CapTokenExpiry gives every unrevoked token that never expires, or
	// expires after limit, the expiry limit; it returns how many changed.
	CapTokenExpiry(ctx context.Context, limit time.Time) (int64, error)

	// AppendAudit appends entries in order and returns the index of the
	// first. Indexes are dense from 0: the audit log is a Merkle tree over
	// them, and the tree's stored hashes (see AuditHashes) are written in
	// this same transaction, so leaves and tree never disagree.
	AppendAudit(ctx context.Context, entries ...[]byte) (int64, error)
	// PutAuditCheckpoint stores a signed checkpoint; ErrExists when one is
	// stored for that size already.
	PutAuditCheckpoint(ctx context.Context, c AuditCheckpoint) error

	// UpdateDataKey replaces the wrapped data key of (k.ID, k.ModifiedAt);
	// ErrNotFound if there is none. Key rotation uses it.
	UpdateDataKey(ctx context.Context, k DataKey) error
	// SetRetention records that version r.ModifiedAt of (r.ID, r.Instance)
	// must be purged at r.Until; when a time is recorded already, the
	// earlier one stays. PurgeVersions clears it.
	SetRetention(ctx context.Context, r Retained) error
}

// ObjectVersion is one version of one STIX object as stored.
type ObjectVersion struct {
	Seq int64 // insertion order; assigned by the store
	ID  string
	// Instance is which of the id's instances the version belongs to
	// (polyinstantiation: docs/SECURITY.md). An object's key is (ID,
	// Instance, Modified): a version is a version of its own instance
	// only, which it supersedes, revokes or conflicts with alone. 0 is the
	// default instance, every version stored before instances existed; a
	// submitter who may not read every version of the existing instances
	// starts another, numbered above them.
	Instance   int64
	Type       string
	Modified   string // version key: modified, else created, else ""
	ModifiedAt time.Time
	Created    string
	Revoked    bool
	Digest     string // hex SHA-256 of the object's RFC 8785 form
	Raw        []byte // the object's JSON exactly as received (compacted), or sealed: see Key
	// Key is the wrapped data key Raw is sealed under (package seal), kept
	// in a table of its own so a purge can destroy it; nil when Raw is
	// plain. The store treats both as opaque bytes.
	Key []byte
	// Opened says Raw was opened from sealed content (package seal sets
	// it; stores never do): Raw is then authenticated as bytes this node
	// sealed, which it had parsed as an object first. A Raw that was never
	// sealed (a row older than sealing) is only what the database holds.
	Opened     bool
	Bindings   []byte // JSON array of the binding objects for this version
	Class      int64  // access class: the set of labels a reader must satisfy
	DateAdded  time.Time
	Originator string // node that originated the object
	// MAC is the version's access MAC (accessmacs.go), stored by the node
	// after the row, in the same transaction; nil when the row has none.
	// Reads return it; PutObject ignores it.
	MAC []byte
	// SearchTerms are the keyed hashes of the version's search terms
	// (search.go, package searchindex), made by the node's ingest workers
	// beside sealing; the search index's store wrapper stores them in the
	// same transaction (and computes them when nil). Stores ignore it;
	// reads never fill it.
	SearchTerms []int64
}

// ListQuery selects object versions. Classes is the pushed-down read rule:
// only versions in these access classes exist for the caller.
type ListQuery struct {
	Types          []string
	Classes        []int64
	After          int64 // Seq cursor
	Limit          int
	IncludeRevoked bool
	// CountAtMost, when above 0, lets Count stop once it has counted that
	// many: it returns the smaller of the count and CountAtMost (whether
	// there is any, with 1). List ignores it.
	CountAtMost int64
}

// AccessClass is a distinct set of labels; objects that need the same labels
// to be read share a class, so a read rule is decided once per class, not
// once per object.
type AccessClass struct {
	ID       int64
	LabelIDs []string
}

// User is a person or system with an API token.
type User struct {
	ID           string
	Name         string
	Role         string
	Nationality  string
	Org          string
	Clearances   map[string]string // policy -> level
	Compartments []string
	DefaultLabel string // banner; "" for none
	Created      time.Time
	Disabled     bool
}

// Token is an API token. Only a hash of its secret is kept.
type Token struct {
	ID        string
	UserID    string
	Hash      []byte
	Created   time.Time
	Expires   time.Time // zero: no expiry
	RevokedAt time.Time // zero: live
}

// DataKey is the wrapped data key of one object version.
type DataKey struct {
	Seq        int64 // the object version's Seq
	ID         string
	ModifiedAt time.Time
	Wrapped    []byte
}

// AuditEntry is one leaf of the audit log.
type AuditEntry struct {
	Index int64
	Data  []byte
}

// AuditHash is one stored hash of the audit Merkle tree.
type AuditHash struct {
	ID   int64 // tlog.StoredHashIndex(level, n)
	Hash []byte
}

// AuditCheckpoint is a signed note over the audit tree at one size.
type AuditCheckpoint struct {
	Size    int64
	Note    []byte // C2SP signed-note text of a tlog-checkpoint
	Created time.Time
}
