// Package storetest is the conformance suite for store.Store. It is written
// once, against the interface only, and every backend runs it from its own
// tests:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store {
//			s, err := Open(t.Context(), filepath.Join(t.TempDir(), "db"))
//			if err != nil {
//				t.Fatal(err)
//			}
//			t.Cleanup(func() { s.Close() })
//			return s
//		})
//	}
//
// open must return a new, empty store for each call; Run calls it once per
// subtest. The suite relies only on what store.go documents.
//
// Calls expected to fail run in an Update of their own whose function returns
// the error, so that a backend whose transaction is aborted by a failed
// statement (PostgreSQL) runs the suite unchanged.
package storetest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/store/storetest/audittest"
	"github.com/tearline/tearline/store/storetest/internal/suite"
	"github.com/tearline/tearline/store/storetest/purgetest"
	"github.com/tearline/tearline/store/storetest/recordstest"
	"github.com/tearline/tearline/store/storetest/searchtest"
)

// Run runs the conformance suite against the stores open returns.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"PutObject", testPutObject},
		{"PutObjectFields", testPutObjectFields},
		{"PutObjectRevoked", testPutObjectRevoked},
		{"Versions", testVersions},
		{"Labels", testLabels},
		{"AccessClass", testAccessClass},
		{"ListLatestVisible", testListLatestVisible},
		{"ListTypes", testListTypes},
		{"ListRevoked", testListRevoked},
		{"ListNoClasses", testListNoClasses},
		{"ListPages", testListPages},
		{"ListMatchesReference", testListMatchesReference},
		{"ReadInsideTx", testReadInsideTx},
		{"RollbackOnError", testRollbackOnError},
		{"RollbackOnCancel", testRollbackOnCancel},
		{"RollbackOnCancelIgnored", testRollbackOnCancelIgnored},
		{"RollbackOnPanic", testRollbackOnPanic},
		{"Concurrent", testConcurrent},
	}
	tests = append(tests, sealTests...)       // seal.go
	tests = append(tests, manyTests...)       // many.go
	tests = append(tests, instanceTests...)   // instances.go
	tests = append(tests, webSessionTests...) // websessions.go
	tests = append(tests, accessMACTests...)  // accessmacs.go
	// The audit log (audittest), the node's record tables (recordstest):
	// users and tokens, agreements, the ledger, consents, recalls, the
	// outbox, follow-ups, witnessed logs, node keys; the search index
	// (searchtest); and purges by instance and by version (purgetest).
	for _, r := range slices.Concat(audittest.Tests, recordstest.Tests, searchtest.Tests, purgetest.Tests) {
		tests = append(tests, struct {
			name string
			fn   func(t *testing.T, s store.Store)
		}{r.Name, r.Fn})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fn(t, open(t))
		})
	}
	t.Run("PutObjectsMatchesPutObject", func(t *testing.T) { // batch.go
		testPutObjectsMatchesPutObject(t, open(t), open(t))
	})
}

// base, at and objectID are the suite's clock and ids (package suite).
var base = suite.Base

func at(n int) time.Time { return suite.At(n) }

func objectID(typ string, n int) string { return suite.ObjectID(typ, n) }

// version builds a version of object id at time base+ms milliseconds, with a
// raw body that includes note (so two versions can differ in content only).
func version(id, typ string, ms int, class int64, revoked bool, note string) store.ObjectVersion {
	mod := at(ms)
	modified := mod.Format("2006-01-02T15:04:05.000Z")
	raw := fmt.Sprintf(`{"type":%q,"spec_version":"2.1","id":%q,"created":"2025-03-01T12:00:00.000Z","modified":%q,"revoked":%t,"x_note":%q}`,
		typ, id, modified, revoked, note)
	sum := sha256.Sum256([]byte(raw))
	return store.ObjectVersion{
		ID:         id,
		Type:       typ,
		Modified:   modified,
		ModifiedAt: mod,
		Created:    "2025-03-01T12:00:00.000Z",
		Revoked:    revoked,
		Digest:     hex.EncodeToString(sum[:]),
		Raw:        []byte(raw),
		Bindings:   []byte(`[{"type":"binding","object_ref":"` + id + `","note":"` + note + `"}]`),
		Class:      class,
		DateAdded:  base.Add(time.Hour),
		Originator: "node-a",
	}
}

// update runs fn in s.Update and fails the test on error.
func update(t *testing.T, s store.Store, fn func(tx store.Tx) error) {
	t.Helper()
	suite.Update(t, s, fn)
}

// put stores v in a transaction of its own and returns what PutObject
// returned; the transaction fails when PutObject does. On success v.Seq is
// the assigned sequence number.
func put(t *testing.T, s store.Store, v *store.ObjectVersion) (bool, error) {
	t.Helper()
	var inserted bool
	err := s.Update(t.Context(), func(tx store.Tx) error {
		var err error
		inserted, err = tx.PutObject(t.Context(), v)
		return err
	})
	return inserted, err
}

// mustPut stores v, which must be new.
func mustPut(t *testing.T, s store.Store, v *store.ObjectVersion) {
	t.Helper()
	ins, err := put(t, s, v)
	if err != nil || !ins {
		t.Fatalf("PutObject(%s @ %s) = %v, %v; want true, nil", v.ID, v.Modified, ins, err)
	}
}

// class returns the access class for labelIDs.
func class(t *testing.T, s store.Store, labelIDs ...string) int64 {
	t.Helper()
	var id int64
	update(t, s, func(tx store.Tx) error {
		var err error
		id, err = tx.AccessClass(t.Context(), labelIDs)
		return err
	})
	return id
}

// listAll walks every page of q (q.Limit per page) and fails the test if the
// pages break the cursor contract: a page longer than the limit, or Seq not
// strictly increasing across pages.
func listAll(t *testing.T, r store.Reader, q store.ListQuery) []store.ObjectVersion {
	t.Helper()
	ctx := t.Context()
	var all []store.ObjectVersion
	for pages := 0; ; pages++ {
		if pages > 100000 {
			t.Fatalf("List %+v: no end after %d pages", q, pages)
		}
		page, err := r.List(ctx, q)
		if err != nil {
			t.Fatalf("List %+v: %v", q, err)
		}
		if q.Limit > 0 && len(page) > q.Limit {
			t.Fatalf("List %+v: %d results, limit %d", q, len(page), q.Limit)
		}
		if len(page) == 0 {
			return all
		}
		for _, v := range page {
			if v.Seq <= q.After {
				t.Fatalf("List %+v: seq %d not after cursor %d", q, v.Seq, q.After)
			}
			q.After = v.Seq
		}
		all = append(all, page...)
	}
}

// ids returns the ids of vs, in order.
func ids(vs []store.ObjectVersion) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.ID
	}
	return out
}

// sameVersion reports how got differs from want, or "" if it does not.
// Seq is compared only when want.Seq is set.
func sameVersion(got, want store.ObjectVersion) string {
	switch {
	case want.Seq != 0 && got.Seq != want.Seq:
		return fmt.Sprintf("Seq = %d, want %d", got.Seq, want.Seq)
	case got.ID != want.ID:
		return fmt.Sprintf("ID = %q, want %q", got.ID, want.ID)
	case got.Type != want.Type:
		return fmt.Sprintf("Type = %q, want %q", got.Type, want.Type)
	case got.Modified != want.Modified:
		return fmt.Sprintf("Modified = %q, want %q", got.Modified, want.Modified)
	case !got.ModifiedAt.Equal(want.ModifiedAt):
		return fmt.Sprintf("ModifiedAt = %v, want %v", got.ModifiedAt, want.ModifiedAt)
	case got.Created != want.Created:
		return fmt.Sprintf("Created = %q, want %q", got.Created, want.Created)
	case got.Revoked != want.Revoked:
		return fmt.Sprintf("Revoked = %t, want %t", got.Revoked, want.Revoked)
	case got.Digest != want.Digest:
		return fmt.Sprintf("Digest = %q, want %q", got.Digest, want.Digest)
	case string(got.Raw) != string(want.Raw):
		return fmt.Sprintf("Raw = %q, want %q", got.Raw, want.Raw)
	case string(got.Key) != string(want.Key):
		return fmt.Sprintf("Key = %x, want %x", got.Key, want.Key)
	case string(got.Bindings) != string(want.Bindings):
		return fmt.Sprintf("Bindings = %q, want %q", got.Bindings, want.Bindings)
	case got.Class != want.Class:
		return fmt.Sprintf("Class = %d, want %d", got.Class, want.Class)
	case !got.DateAdded.Equal(want.DateAdded):
		return fmt.Sprintf("DateAdded = %v, want %v", got.DateAdded, want.DateAdded)
	case got.Originator != want.Originator:
		return fmt.Sprintf("Originator = %q, want %q", got.Originator, want.Originator)
	}
	return ""
}
