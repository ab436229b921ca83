package demo

import (
	"testing"

	"github.com/tearline/tearline/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// A backend is the store a test cluster's members are opened on.
type backend struct {
	name string
	// url returns a store URL for one member: "" for SQLite in the
	// member's directory, or a new PostgreSQL database, dropped when t ends.
	url func(t testing.TB) string
}

var (
	sqliteBackend   = backend{"sqlite", func(testing.TB) string { return "" }}
	postgresBackend = backend{"postgres", pgtest.DSN}
)

// eachBackend runs f as the subtests sqlite and postgres. Under postgres
// each member has a database of its own; without a server the postgres
// subtest skips, except in CI (see pgtest).
func eachBackend(t *testing.T, f func(t *testing.T, b backend)) {
	t.Helper()
	for _, b := range []backend{sqliteBackend, postgresBackend} {
		t.Run(b.name, func(t *testing.T) { f(t, b) })
	}
}

// onBackend gives each member of specs a store of b.
func onBackend(t testing.TB, b backend, specs []MemberSpec) []MemberSpec {
	t.Helper()
	for i := range specs {
		specs[i].StoreURL = b.url(t)
	}
	return specs
}
