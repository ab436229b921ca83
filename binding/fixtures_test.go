package binding

import (
	"crypto/ed25519"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/tearline/tearline/jcs"
)

// Fixed inputs shared by the tests and the golden file. Changing any of them
// changes testdata/golden.json and the example in docs/BINDING.md.

const (
	testNode     = "nld-mivd-1"
	testIdentity = "identity--6f1f2c4e-8b1a-4d3e-9c57-2a0f3b4d5e61"
	testObjectID = "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
	labelSecret  = "marking-definition--0b0c3a31-5a2e-5c6f-9f0d-4f1e2a3b4c5d"
	labelPart    = "marking-definition--7d9e1f20-3b4c-5d6e-8f90-a1b2c3d4e5f6"
)

var testTime = time.Date(2026, 3, 14, 9, 26, 53, 589_000_000, time.UTC)

const testObjectJSON = `{
  "type": "indicator",
  "spec_version": "2.1",
  "id": "` + testObjectID + `",
  "created": "2026-03-14T09:20:00.000Z",
  "modified": "2026-03-14T09:25:00.000Z",
  "name": "C2 beacon domain",
  "description": "Beacon seen from a source we protect.",
  "pattern": "[domain-name:value = 'c2.example.net']",
  "pattern_type": "stix",
  "valid_from": "2026-03-14T09:20:00Z",
  "object_marking_refs": ["` + labelSecret + `"],
  "granular_markings": [{"selectors": ["description"], "marking_ref": "` + labelPart + `"}]
}`

const labelSecretJSON = `{
  "type": "marking-definition",
  "spec_version": "2.1",
  "id": "` + labelSecret + `",
  "created": "2026-01-01T00:00:00.000Z",
  "name": "NATO SECRET REL TO NLD, DEU",
  "extensions": {"extension-definition--00000000-0000-4000-8000-000000004774": {
    "extension_type": "property-extension",
    "policy": "NATO", "classification": "SECRET",
    "categories": [{"type": "PERMISSIVE", "tag_name": "Releasable To", "values": ["NLD", "DEU"]}]}}
}`

const labelPartJSON = `{
  "type": "marking-definition",
  "spec_version": "2.1",
  "id": "` + labelPart + `",
  "created": "2026-01-01T00:00:00.000Z",
  "name": "NATO SECRET NLD ONLY",
  "extensions": {"extension-definition--00000000-0000-4000-8000-000000004774": {
    "extension_type": "property-extension",
    "policy": "NATO", "classification": "SECRET",
    "categories": [{"type": "PERMISSIVE", "tag_name": "Only", "values": ["NLD"]}]}}
}`

// seededKey returns a deterministic key, so golden output is stable.
func seededKey(name string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("tearline binding test key: " + name))
	return ed25519.NewKeyFromSeed(seed[:])
}

func canon(t testing.TB, s string) []byte {
	t.Helper()
	c, err := jcs.Canonicalize([]byte(s))
	if err != nil {
		t.Fatalf("canonicalize: %v", err)
	}
	return c
}

type fixture struct {
	signer *Signer
	ring   *Keyring
	obj    []byte
	labels map[string][]byte // id -> canonical
	input  BindInput
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{signer: NewSigner(testNode, testIdentity, seededKey("golden"))}
	f.obj = canon(t, testObjectJSON)
	f.labels = map[string][]byte{labelSecret: canon(t, labelSecretJSON), labelPart: canon(t, labelPartJSON)}
	f.input = BindInput{
		ObjectID:        testObjectID,
		ObjectModified:  "2026-03-14T09:25:00.000Z",
		CanonicalObject: f.obj,
		Labels:          []LabelInput{{ID: labelSecret, Canonical: f.labels[labelSecret]}},
		Parts:           []PartInput{{Selectors: []string{"description"}, Label: LabelInput{ID: labelPart, Canonical: f.labels[labelPart]}}},
	}
	other := NewSigner(testNode, testIdentity, seededKey("second key of the same node"))
	ring, err := NewKeyring(
		Key{Node: testNode, Public: f.signer.PublicKey(), NotBefore: testTime.Add(-24 * time.Hour), NotAfter: testTime.Add(365 * 24 * time.Hour)},
		Key{Node: testNode, Public: other.PublicKey()},
	)
	if err != nil {
		t.Fatal(err)
	}
	f.ring = ring
	return f
}

func (f *fixture) bind(t testing.TB) *Binding {
	t.Helper()
	b, err := f.signer.Bind(f.input, testTime)
	if err != nil {
		t.Fatalf("Bind: %v", err)
	}
	return b
}

// copyLabels returns a fresh map with the fixture's labels, for tests that
// edit it.
func (f *fixture) copyLabels() map[string][]byte {
	m := make(map[string][]byte, len(f.labels))
	for k, v := range f.labels {
		m[k] = v
	}
	return m
}
