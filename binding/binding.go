// Package binding makes and checks Tearline label bindings: signed STIX 2.1
// objects of type tearline-binding that tie confidentiality labels
// (marking-definitions) to one version of one STIX object, after the model of
// ADatP-4778 (Ed25519 over RFC 8785 canonical JSON, not the 4778.2 XML
// profile). It also holds the keyring of node keys used to verify them.
//
// The wire format is a long-lived contract with partners; docs/BINDING.md
// specifies it, and the golden test in this package pins it.
package binding

import (
	"crypto/sha256"
	"encoding/hex"
	"time"
	"unicode/utf8"
)

// LabelRef is a label bound to the whole object.
type LabelRef struct {
	Ref    string // marking-definition id
	Digest string // lowercase hex SHA-256 of the marking-definition's canonical JSON
}

// PartLabel is a label bound to the parts of the object its selectors name
// (STIX granular-marking selectors). It is meant to be stricter than the
// whole-object labels; the binding records it, the label code judges it.
type PartLabel struct {
	Selectors []string
	Ref       string
	Digest    string
}

// Binding is a parsed or freshly signed tearline-binding object. Its fields
// are a read-only view of Raw: Verify checks what was parsed from Raw, so
// changing a field does not change what verifies.
type Binding struct {
	ID             string
	Created        string // also the object's modified; TimeLayout
	CreatedByRef   string // identity of the node that made the binding
	Node           string // name of that node; selects its keys in the keyring
	Kind           string // KindOriginator or KindAlternative
	DerivedFromRef string // binding this one derives from (alternative only)

	ObjectRef      string // id of the bound object
	ObjectModified string // version of the bound object; "" for unversioned objects (see ObjectVersion)
	ObjectDigest   string // lowercase hex SHA-256 of the object's canonical JSON

	Labels     []LabelRef
	PartLabels []PartLabel

	KeyID     string
	Signature string // standard base64 of the 64-byte Ed25519 signature

	// Raw is the complete binding in RFC 8785 canonical form, including
	// signature.value. Send and store these bytes.
	Raw []byte

	st *state // what Verify checks, captured with Raw
}

// state is the verification-relevant content of a binding, kept apart from
// the exported fields so that Verify never trusts a field a caller changed.
type state struct {
	raw            []byte // the Raw slice this state was made from
	signed         []byte // signing input: Raw without signature.value
	sig            []byte
	created        time.Time
	id             string
	node           string
	kind           string
	derivedFrom    string
	keyID          string
	objectRef      string
	objectModified string
	objectDigest   [sha256.Size]byte
	labels         []labelDigest // distinct labels, whole-object and part
}

type labelDigest struct {
	ref    string
	digest [sha256.Size]byte
}

// matches reports whether st was captured from this very Raw slice.
func (st *state) matches(raw []byte) bool {
	return st != nil && len(raw) > 0 && len(st.raw) == len(raw) && &st.raw[0] == &raw[0]
}

// addLabel records a label digest once; the same label in several entries
// must carry the same digest.
func addLabel(list []labelDigest, ref string, d [sha256.Size]byte) ([]labelDigest, bool) {
	for _, l := range list {
		if l.ref == ref {
			return list, l.digest == d
		}
	}
	return append(list, labelDigest{ref, d}), true
}

func decodeDigest(s string) ([sha256.Size]byte, bool) {
	var d [sha256.Size]byte
	if !isDigestHex(s) {
		return d, false
	}
	_, err := hex.Decode(d[:], []byte(s))
	return d, err == nil
}

// isNodeName accepts 1–256 bytes of UTF-8 without control characters: node
// names appear in logs and configuration.
func isNodeName(s string) bool {
	if s == "" || len(s) > 256 || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return false
		}
	}
	return true
}
