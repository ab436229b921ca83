// Package records reads and writes the SQLite store's record tables that
// stand apart from the objects: the accounts (users, API tokens, web
// passwords and sessions) and the witness records. The store embeds the
// readers in its reader and the writers in its write transaction, so their
// methods are the store's (store.Reader, store.Tx).
package records

import (
	"context"
	"database/sql"
	"time"
)

// Querier is what *sql.DB, *sql.Tx and the store's transaction share.
type Querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func usOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func timeOrZero(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}
