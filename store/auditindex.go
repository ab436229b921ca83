package store

import (
	"context"
	"time"
)

// The audit index (docs/AUDIT.md, "Finding entries") makes the audit log
// searchable by actor, action, object, partner and time without reading
// it whole. It is derived data: a row per entry, made from the entry's
// own bytes after the entry is durable (node/oversight indexes the log's
// tail before every search), so appending to the log costs nothing more
// and a lost index can be rebuilt from the log.

// AuditIndexRow is the searchable metadata of one audit entry.
type AuditIndexRow struct {
	Index  int64
	Time   time.Time
	Actor  string
	Action string
	// Object is the entry's object id, or when it has none its subject (a
	// user, token or agreement acted upon).
	Object string
	// Partner is the partner the entry concerns (its "party:" subject or
	// its "peer:" actor), "" when none.
	Partner string
}

// AuditFilter selects audit entries. Empty fields select everything; the
// fields given must all match.
type AuditFilter struct {
	Actor, Action, Object, Partner string
	Since, Until                   time.Time // Time >= Since, Time < Until; zero: unbounded
	Before                         int64     // Index < Before; 0: unbounded
	Limit                          int
}

// AuditIndexReader reads the audit index. Reader embeds it.
type AuditIndexReader interface {
	// AuditIndexed returns n: entries [0, n) are indexed.
	AuditIndexed(ctx context.Context) (int64, error)
	// FindAudit returns up to f.Limit indexed entries matching f, newest
	// (largest index) first.
	FindAudit(ctx context.Context, f AuditFilter) ([]AuditEntry, error)
}

// AuditIndexWriter writes the audit index. Tx embeds it.
type AuditIndexWriter interface {
	// IndexAudit stores rows; a row for an index stored before (by
	// another replica) is left as it is.
	IndexAudit(ctx context.Context, rows []AuditIndexRow) error
}
