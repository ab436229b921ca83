package storetest

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/tearline/tearline/store"
)

// StoredBindings reads and writes the bindings column of object rows as
// the database holds it, bypassing the store: a backend test's window on
// its own physical format.
type StoredBindings interface {
	Get(t *testing.T, id string) []byte
	Set(t *testing.T, id string, stored []byte)
}

// bindingsAtRest is a binding as the node writes one, about 1 KB.
const bindingsAtRest = `[{"created":"2026-11-23T02:22:47.263Z","created_by_ref":"identity--b0e60c46-d567-4921-84b3-1229792e5816",` +
	`"extensions":{"extension-definition--bc9e1672-e3d1-4ebf-ac20-b0b3000ccdbb":{"extension_type":"new-sdo"}},"format_version":"1",` +
	`"id":"tearline-binding--113a8504-53a3-5f6a-b1fb-d2d290566e07","kind":"originator","modified":"2026-11-23T02:22:47.263Z","node":"scale",` +
	`"object_digest":{"algorithm":"SHA-256","canonicalization":"RFC8785","value":"20ccc1563de2c1bac4909863cab5abdfde34976f0e269b92ef5af8063f43f193"},` +
	`"object_labels":[{"digest":"1d85a9f6fcc47692b5575fd5a5ab53c8547a2702edfb192abe751e8fd28d0e17","marking_ref":"marking-definition--3feb6714-050e-5f53-870b-5d7a6046c9f8"}],` +
	`"object_modified":"2026-01-01T00:00:00.015Z","object_ref":"indicator--00000000-0000-4000-8000-0000000000b1",` +
	`"signature":{"algorithm":"Ed25519","canonicalization":"RFC8785","key_id":"ed25519:d90d8a5206b5f82653e86fac8aec6c46",` +
	`"value":"qC34RyWKKD4AySaJTHxV9CynhTPsGJtmmoAMl/Ca8gR45ExmZIjGU5fCrxIxIQWG0Ut/SL2nBP6fflYbLPTxCw=="},"spec_version":"2.1","type":"tearline-binding"}]`

// CheckBindingsAtRest checks that s keeps bindings packed in the database
// (less than half their JSON) while every read returns the JSON, and that
// a row holding plain JSON, as rows written before packing do, reads the
// same.
func CheckBindingsAtRest(t *testing.T, s store.Store, raw StoredBindings) {
	t.Helper()
	ctx := t.Context()
	const id = "indicator--00000000-0000-4000-8000-0000000000b1"
	var class int64
	update(t, s, func(tx store.Tx) error {
		var err error
		if class, err = tx.AccessClass(ctx, []string{"l"}); err != nil {
			return err
		}
		_, err = tx.PutObject(ctx, &store.ObjectVersion{ID: id, Type: "indicator", Modified: base.Format(time.RFC3339), ModifiedAt: base,
			Digest: "d", Raw: []byte(`{}`), Bindings: []byte(bindingsAtRest), Class: class, DateAdded: base})
		return err
	})
	read := func(when string) {
		t.Helper()
		vs, err := s.Versions(ctx, id)
		if err != nil || len(vs) != 1 || string(vs[0].Bindings) != bindingsAtRest {
			t.Fatalf("%s: Versions = %d versions, %v", when, len(vs), err)
		}
		ls, err := s.List(ctx, store.ListQuery{Classes: []int64{class}, Types: []string{"indicator"}})
		if err != nil || len(ls) != 1 || string(ls[0].Bindings) != bindingsAtRest {
			t.Fatalf("%s: List = %d versions, %v", when, len(ls), err)
		}
	}
	read("packed")
	stored := raw.Get(t, id)
	if len(stored) > len(bindingsAtRest)/2 || bytes.Contains(stored, []byte(`"signature"`)) {
		t.Errorf("bindings stored as %d bytes of %d: %q", len(stored), len(bindingsAtRest), stored)
	}
	raw.Set(t, id, []byte(bindingsAtRest))
	read("plain")
	raw.Set(t, id, append([]byte{1}, strings.Repeat("\xff", 8)...))
	if _, err := s.Versions(ctx, id); err == nil || !strings.Contains(err.Error(), id) {
		t.Errorf("Versions of a row with corrupt bindings = %v, want an error naming %s", err, id)
	}
}
