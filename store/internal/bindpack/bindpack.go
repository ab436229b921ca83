// Package bindpack is how both SQL stores keep a version's bindings (the
// JSON array of tearline-binding objects, docs/BINDING.md) in the database.
//
// Bindings are about 1 KB per version, most of it the same property names,
// extension id and algorithm names in every row. A listing page reads a
// thousand rows, from disk when they are not cached, so the stores keep
// bindings compressed with S2 (github.com/klauspost/compress/s2) against a
// fixed dictionary: about half their size. The store interface still
// carries plain JSON: packing is the stores' business alone.
//
// Stored form: plain JSON (it starts with '['; rows written before packing
// existed, or bindings that do not compress) or tagS2 followed by an S2
// block encoded with the dictionary. The dictionary is part of the stored
// format: changing it would make packed rows undecodable, so a new one
// needs a new tag.
package bindpack

import (
	"bytes"
	"fmt"
	"sync"

	"github.com/klauspost/compress/s2"
)

// tagS2 starts a packed value. Plain JSON never starts with it.
const tagS2 = 0x01

// MaxBindings bounds what unpacking one row may allocate: the stored bytes
// are not authenticated, so a length read from them is not trusted.
const MaxBindings = 4 << 20

// dictionary is a typical originator binding followed by an alternative
// one. Its values are made up; only its shape matters. Never edit it (see
// the package comment).
const dictionary = `[{"created":"2026-01-01T00:00:00.000Z","created_by_ref":"identity--00000000-0000-4000-8000-000000000000",` +
	`"extensions":{"extension-definition--bc9e1672-e3d1-4ebf-ac20-b0b3000ccdbb":{"extension_type":"new-sdo"}},"format_version":"1",` +
	`"id":"tearline-binding--00000000-0000-5000-8000-000000000000","kind":"originator","modified":"2026-01-01T00:00:00.000Z","node":"node",` +
	`"object_digest":{"algorithm":"SHA-256","canonicalization":"RFC8785","value":"0000000000000000000000000000000000000000000000000000000000000000"},` +
	`"object_labels":[{"digest":"0000000000000000000000000000000000000000000000000000000000000000","marking_ref":"marking-definition--00000000-0000-5000-8000-000000000000"}],` +
	`"object_modified":"2026-01-01T00:00:00.000Z","object_ref":"indicator--00000000-0000-4000-8000-000000000000",` +
	`"signature":{"algorithm":"Ed25519","canonicalization":"RFC8785","key_id":"ed25519:00000000000000000000000000000000",` +
	`"value":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=="},"spec_version":"2.1","type":"tearline-binding"},` +
	`{"created":"2026-01-01T00:00:00.000Z","created_by_ref":"identity--00000000-0000-4000-8000-000000000000","derived_from_ref":"tearline-binding--00000000-0000-5000-8000-000000000000",` +
	`"extensions":{"extension-definition--bc9e1672-e3d1-4ebf-ac20-b0b3000ccdbb":{"extension_type":"new-sdo"}},"format_version":"1",` +
	`"id":"tearline-binding--00000000-0000-5000-8000-000000000000","kind":"alternative","modified":"2026-01-01T00:00:00.000Z","node":"node",` +
	`"object_digest":{"algorithm":"SHA-256","canonicalization":"RFC8785","value":"0000000000000000000000000000000000000000000000000000000000000000"},` +
	`"object_labels":[{"digest":"0000000000000000000000000000000000000000000000000000000000000000","marking_ref":"marking-definition--00000000-0000-5000-8000-000000000000"}],` +
	`"object_modified":"2026-01-01T00:00:00.000Z","object_ref":"report--00000000-0000-4000-8000-000000000000",` +
	`"signature":{"algorithm":"Ed25519","canonicalization":"RFC8785","key_id":"ed25519:00000000000000000000000000000000",` +
	`"value":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=="},"spec_version":"2.1","type":"tearline-binding"}]`

// dict is built once, on first use; s2.Dict is safe for concurrent use. Its
// first repeat offset (0) is part of the format too, so it is set by hand.
var dict = sync.OnceValue(func() *s2.Dict { return s2.MakeDictManual([]byte(dictionary), 0) })

// Pack returns the stored form of bindings: packed when that is smaller,
// else bindings itself.
func Pack(bindings []byte) []byte {
	if len(bindings) == 0 || len(bindings) > MaxBindings {
		return bindings
	}
	// Encode writes from the start of the slice it is given, and within
	// its capacity: the block lands right after the tag.
	buf := make([]byte, 1+s2.MaxEncodedLen(len(bindings)))
	buf[0] = tagS2
	n := 1 + len(dict().Encode(buf[1:], bindings))
	if n >= len(bindings) {
		return bindings
	}
	return buf[:n:n]
}

// Unpack returns the bindings JSON a stored value holds, in memory of its
// own: stored may be a driver's buffer that its next row overwrites, so the
// stores scan the column without the driver copying it first.
func Unpack(stored []byte) ([]byte, error) {
	if len(stored) == 0 || stored[0] != tagS2 {
		return bytes.Clone(stored), nil
	}
	n, err := s2.DecodedLen(stored[1:])
	if err != nil {
		return nil, fmt.Errorf("unpack bindings: %w", err)
	}
	if n > MaxBindings {
		return nil, fmt.Errorf("unpack bindings: %d bytes is over %d", n, MaxBindings)
	}
	out, err := dict().Decode(make([]byte, 0, n), stored[1:])
	if err != nil {
		return nil, fmt.Errorf("unpack bindings: %w", err)
	}
	return out, nil
}
