// Package scan turns table rows into store records for both SQL backends,
// store/sqlite (database/sql) and store/postgres (pgx).
//
// The two backends keep the same tables and select the same columns, so
// reading a row is the same code whichever driver delivers it: it lives
// here once instead of once per backend. What differs stays in the
// backends: SQL text, placeholders, closing rows (*sql.Rows and pgx.Rows
// close differently), and mapping a missing row (sql.ErrNoRows,
// pgx.ErrNoRows) to store.ErrNotFound.
//
// Each record reader (Agreement, User, OutboxItem, ...) reads one row whose
// columns are the ones its comment lists, in that order. A reader returns
// the driver's Scan error as it is, so callers can test it for a missing
// row and wrap it with their own context, unless its comment says it adds
// the context itself. JSONList writes the list columns the readers decode.
package scan

import (
	"encoding/json"
	"fmt"
	"time"
)

// Scanner is one row: *sql.Row, *sql.Rows, pgx.Row and pgx.Rows have it.
type Scanner interface {
	Scan(dest ...any) error
}

// Rows is a result set being read: *sql.Rows and pgx.Rows have it. Closing
// is left to the caller.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

// Collect reads every row of rows with one and returns them in order. The
// first error from one ends it: Collect returns nil and that error as it
// is. Otherwise it returns what it read and rows.Err().
func Collect[T any](rows Rows, one func(Scanner) (T, error)) ([]T, error) {
	return CollectN(rows, 0, one)
}

// CollectN is Collect for about n rows, room for which (up to maxReserve)
// is made at once: a page of 1,000 versions is ≈ 250 KB of structs, which
// growing by doubling would copy and allocate twice over. No rows is nil,
// as with Collect.
func CollectN[T any](rows Rows, n int, one func(Scanner) (T, error)) ([]T, error) {
	var out []T
	if n > 0 {
		out = make([]T, 0, min(n, maxReserve))
	}
	for rows.Next() {
		v, err := one(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if len(out) == 0 {
		out = nil
	}
	return out, rows.Err()
}

// maxReserve bounds what CollectN reserves for a hint: a caller's limit
// may be far above what a query returns.
const maxReserve = 4096

// WrapErrors returns one with the errors it returns wrapped as
// fmt.Errorf(context+": %w", err) would wrap them.
func WrapErrors[T any](context string, one func(Scanner) (T, error)) func(Scanner) (T, error) {
	return func(sc Scanner) (T, error) {
		v, err := one(sc)
		if err != nil {
			return v, fmt.Errorf("%s: %w", context, err)
		}
		return v, nil
	}
}

// String reads a row of one text column.
func String(sc Scanner) (string, error) {
	var s string
	err := sc.Scan(&s)
	return s, err
}

// FromUS is the UTC time of a *_us column: microseconds since the Unix
// epoch.
func FromUS(us int64) time.Time { return time.UnixMicro(us).UTC() }

// fromOptionalUS is FromUS, except that 0 stands for the zero time.
func fromOptionalUS(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return FromUS(us)
}

// JSONList is s as JSON text, the form list columns (hops, approvals,
// labels, objects, ...) are kept in; a nil list is written [], not null.
func JSONList[T any](s []T) (string, error) {
	if s == nil {
		s = []T{}
	}
	b, err := json.Marshal(s)
	return string(b), err
}
