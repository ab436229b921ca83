// Package suite holds what the parts of the store conformance suite share:
// the shape of a test, its clock and ids, and running a transaction that
// must succeed.
package suite

import (
	"fmt"
	"testing"
	"time"

	"github.com/tearline/tearline/store"
)

// Test is one conformance test: it gets a new, empty store.
type Test struct {
	Name string
	Fn   func(t *testing.T, s store.Store)
}

// Base is the time every test object's versions are counted from. Times in
// the suite are whole microseconds: every backend must keep that much.
var Base = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// At returns Base plus n milliseconds.
func At(n int) time.Time { return Base.Add(time.Duration(n) * time.Millisecond) }

// ObjectID returns a STIX id for object number n.
func ObjectID(typ string, n int) string {
	return fmt.Sprintf("%s--00000000-0000-4000-8000-%012d", typ, n)
}

// Update runs fn in s.Update and fails the test on error.
func Update(t *testing.T, s store.Store, fn func(tx store.Tx) error) {
	t.Helper()
	if err := s.Update(t.Context(), fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}
