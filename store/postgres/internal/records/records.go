// Package records reads and writes the PostgreSQL store's record tables
// that stand apart from the objects: the accounts (users, API tokens, web
// passwords and sessions) and the witness records, and holds their tables'
// migrations (WitnessSchema, WebSessionsSchema). The store embeds the
// readers in its reader and the writers in its write transaction, so their
// methods are the store's (store.Reader, store.Tx).
package records

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Querier is what *pgxpool.Pool and pgx.Tx share.
type Querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// uniqueViolation reports whether err is PostgreSQL's unique_violation.
func uniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// nz returns b, or an empty slice for nil: pgx sends a nil []byte as NULL.
func nz(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
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
