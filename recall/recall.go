// Package recall defines the two signed documents of a recall: the notice an
// originator sends to every partner that received an object, and the
// acknowledgement a partner returns once it has purged what it held.
//
// Both are JSON objects signed like bindings (docs/BINDING.md): Ed25519 with
// the node's signing key over the RFC 8785 form of the document without
// signature.value, with the algorithm, canonicalisation and key id named in
// the signature. They are verified against the same keyring as bindings, so
// a key's validity period and revocation apply to them too. The document's
// type is inside the signed bytes: a notice's signature can never pass for
// an acknowledgement's or a binding's.
package recall

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/tearline/tearline/binding"
	"github.com/tearline/tearline/jcs"
)

// Document types.
const (
	TypeNotice = "tearline-recall"
	TypeAck    = "tearline-recall-ack"
)

// Signature members, as in bindings.
const (
	Algorithm        = "ed25519"
	Canonicalization = "RFC8785"
)

// Limits on what is accepted: a recall is small, and a partner's input must
// not cost unbounded memory.
const (
	MaxSize    = 256 << 10
	MaxObjects = 4096
	MaxReason  = 1024
)

// Errors of Verify; test with errors.Is. Key problems come back as the
// binding package's ErrUnknownKey, ErrKeyNotValid and ErrBadSignature.
var (
	ErrInvalid = errors.New("invalid recall document")
)

// Signature is the signature member of a notice or acknowledgement.
type Signature struct {
	Algorithm        string `json:"algorithm"`
	Canonicalization string `json:"canonicalization"`
	KeyID            string `json:"key_id"`
	Value            string `json:"value,omitempty"`
}

// Notice is a recall notice: the originator asks one partner (To) to purge
// an object and every object it sent that partner in its place (tearlines).
// A notice is made per partner, so it cannot be replayed to another.
type Notice struct {
	Type string `json:"type"`
	ID   string `json:"id"` // recall--UUID, the same for every partner of one recall
	// ObjectRef is the recalled object, as the originator holds it.
	ObjectRef string `json:"object_ref"`
	// Instance is the recalled instance of ObjectRef, as the originator
	// numbers it (docs/FEDERATION.md, "Instances on the wire"): the
	// partner purges the instance it keeps of it, and no other. Absent
	// means 0; a partner of an earlier version ignores it (the signature
	// covers it all the same) and purges the object whole, as it did.
	Instance int64 `json:"instance,omitempty"`
	// Versions are the versions of ObjectRef's instance that went to the
	// partner. The partner purges every version it holds of the instance.
	Versions []string `json:"versions"`
	// Objects are the ids the partner must purge: ObjectRef if it received
	// the object whole, and each tearline it received in its place.
	Objects    []string  `json:"objects"`
	To         string    `json:"to"`
	Reason     string    `json:"reason"`
	Issued     string    `json:"issued"` // binding.TimeLayout
	Originator string    `json:"originator"`
	Signature  Signature `json:"signature"`
}

// Ack is a partner's signed acknowledgement of a notice: what it purged (or
// had purged already), and what it never held.
type Ack struct {
	Type      string    `json:"type"`
	ID        string    `json:"id"` // recall-ack--UUID
	RecallRef string    `json:"recall_ref"`
	ObjectRef string    `json:"object_ref"`
	Purged    []string  `json:"purged"`   // ids now purged here, derived tearlines included
	NotHeld   []string  `json:"not_held"` // ids of the notice this node never held
	Node      string    `json:"node"`
	Time      string    `json:"time"` // binding.TimeLayout
	Signature Signature `json:"signature"`
}

// NewID returns a new recall id.
func NewID() string { return "recall--" + uuid.NewString() }

// SignNotice fills n's type, issued time (if empty), originator and
// signature with s and returns the signed document.
func SignNotice(s *binding.Signer, n *Notice, at time.Time) ([]byte, error) {
	n.Type, n.Originator = TypeNotice, s.Node()
	if n.Issued == "" {
		n.Issued = at.UTC().Format(binding.TimeLayout)
	}
	if n.Versions == nil {
		n.Versions = []string{}
	}
	if err := n.check(); err != nil {
		return nil, err
	}
	return sign(s, n, &n.Signature)
}

// SignAck fills a's type, id (if empty), time (if empty), node and signature
// with s and returns the signed document.
func SignAck(s *binding.Signer, a *Ack, at time.Time) ([]byte, error) {
	a.Type, a.Node = TypeAck, s.Node()
	if a.ID == "" {
		a.ID = "recall-ack--" + uuid.NewString()
	}
	if a.Time == "" {
		a.Time = at.UTC().Format(binding.TimeLayout)
	}
	if a.Purged == nil {
		a.Purged = []string{}
	}
	if a.NotHeld == nil {
		a.NotHeld = []string{}
	}
	if err := a.check(); err != nil {
		return nil, err
	}
	return sign(s, a, &a.Signature)
}

func sign(s *binding.Signer, doc any, sig *Signature) ([]byte, error) {
	*sig = Signature{Algorithm: Algorithm, Canonicalization: Canonicalization, KeyID: s.KeyID()}
	body, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("recall: sign: %w", err)
	}
	input, err := jcs.Canonicalize(body)
	if err != nil {
		return nil, fmt.Errorf("recall: sign: %w", err)
	}
	keyID, value, err := s.SignDetached(input)
	if err != nil {
		return nil, fmt.Errorf("recall: sign: %w", err)
	}
	sig.KeyID, sig.Value = keyID, base64.StdEncoding.EncodeToString(value)
	body, err = json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("recall: sign: %w", err)
	}
	return jcs.Canonicalize(body)
}

// VerifyNotice parses a signed notice and checks it: well formed, signed by
// a key of its originator that was valid at its issued time.
func VerifyNotice(ring *binding.Keyring, raw []byte) (*Notice, error) {
	var n Notice
	input, sig, err := parse(raw, &n, &n.Signature)
	if err != nil {
		return nil, err
	}
	if n.Type != TypeNotice {
		return nil, fmt.Errorf("recall: %w: type %q, want %q", ErrInvalid, n.Type, TypeNotice)
	}
	if err := n.check(); err != nil {
		return nil, err
	}
	at, _ := time.Parse(time.RFC3339Nano, n.Issued) // checked by check
	if err := ring.VerifyDetached(n.Originator, n.Signature.KeyID, at, input, sig); err != nil {
		return nil, fmt.Errorf("recall: notice %s: %w", n.ID, err)
	}
	return &n, nil
}

// VerifyAck parses a signed acknowledgement and checks it: well formed,
// signed by a key of its node that was valid at its time.
func VerifyAck(ring *binding.Keyring, raw []byte) (*Ack, error) {
	var a Ack
	input, sig, err := parse(raw, &a, &a.Signature)
	if err != nil {
		return nil, err
	}
	if a.Type != TypeAck {
		return nil, fmt.Errorf("recall: %w: type %q, want %q", ErrInvalid, a.Type, TypeAck)
	}
	if err := a.check(); err != nil {
		return nil, err
	}
	at, _ := time.Parse(time.RFC3339Nano, a.Time)
	if err := ring.VerifyDetached(a.Node, a.Signature.KeyID, at, input, sig); err != nil {
		return nil, fmt.Errorf("recall: ack %s: %w", a.ID, err)
	}
	return &a, nil
}

// parse decodes raw into doc and returns the signing input (raw without
// signature.value, in RFC 8785 form) and the signature bytes.
func parse(raw []byte, doc any, sig *Signature) ([]byte, []byte, error) {
	if len(raw) > MaxSize {
		return nil, nil, fmt.Errorf("recall: %w: %d bytes, limit %d", ErrInvalid, len(raw), MaxSize)
	}
	if err := json.Unmarshal(raw, doc); err != nil {
		return nil, nil, fmt.Errorf("recall: %w: %v", ErrInvalid, err)
	}
	if sig.Algorithm != Algorithm || sig.Canonicalization != Canonicalization {
		return nil, nil, fmt.Errorf("recall: %w: signature algorithm %q/%q, want %s/%s", ErrInvalid, sig.Algorithm, sig.Canonicalization, Algorithm, Canonicalization)
	}
	value, err := base64.StdEncoding.Strict().DecodeString(sig.Value)
	if err != nil || len(value) != ed25519.SignatureSize {
		return nil, nil, fmt.Errorf("recall: %w: signature value: want %d bytes of base64", ErrInvalid, ed25519.SignatureSize)
	}
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return nil, nil, fmt.Errorf("recall: %w: %v", ErrInvalid, err)
	}
	sm, ok := m["signature"].(map[string]any)
	if !ok {
		return nil, nil, fmt.Errorf("recall: %w: no signature", ErrInvalid)
	}
	delete(sm, "value")
	body, err := json.Marshal(m)
	if err != nil {
		return nil, nil, fmt.Errorf("recall: %w: %v", ErrInvalid, err)
	}
	input, err := jcs.Canonicalize(body)
	if err != nil {
		return nil, nil, fmt.Errorf("recall: %w: %v", ErrInvalid, err)
	}
	return input, value, nil
}

func (n *Notice) check() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("recall: %w: notice %s: %s", ErrInvalid, n.ID, fmt.Sprintf(format, a...))
	}
	switch {
	case !strings.HasPrefix(n.ID, "recall--") || uuid.Validate(strings.TrimPrefix(n.ID, "recall--")) != nil:
		return bad("id: want recall--UUID")
	case !isSTIXID(n.ObjectRef):
		return bad("object_ref %q is not a STIX id", n.ObjectRef)
	case len(n.Objects) == 0 || len(n.Objects) > MaxObjects:
		return bad("objects: want 1 to %d ids", MaxObjects)
	case len(n.Versions) > MaxObjects:
		return bad("versions: more than %d", MaxObjects)
	case n.To == "" || n.Originator == "" || n.To == n.Originator:
		return bad("to and originator: want two different nodes")
	case n.Reason == "" || len(n.Reason) > MaxReason:
		return bad("reason: want 1 to %d bytes", MaxReason)
	}
	for _, id := range n.Objects {
		if !isSTIXID(id) {
			return bad("objects: %q is not a STIX id", id)
		}
	}
	if _, err := time.Parse(time.RFC3339Nano, n.Issued); err != nil {
		return bad("issued: %v", err)
	}
	return nil
}

func (a *Ack) check() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("recall: %w: ack %s: %s", ErrInvalid, a.ID, fmt.Sprintf(format, args...))
	}
	switch {
	case !strings.HasPrefix(a.RecallRef, "recall--"):
		return bad("recall_ref: want recall--UUID")
	case !isSTIXID(a.ObjectRef):
		return bad("object_ref %q is not a STIX id", a.ObjectRef)
	case len(a.Purged)+len(a.NotHeld) > 2*MaxObjects:
		return bad("too many ids")
	case a.Node == "":
		return bad("node is required")
	}
	for _, id := range append(append([]string(nil), a.Purged...), a.NotHeld...) {
		if !isSTIXID(id) {
			return bad("%q is not a STIX id", id)
		}
	}
	if _, err := time.Parse(time.RFC3339Nano, a.Time); err != nil {
		return bad("time: %v", err)
	}
	return nil
}

// isSTIXID reports whether s looks like type--UUID.
func isSTIXID(s string) bool {
	typ, u, ok := strings.Cut(s, "--")
	return ok && typ != "" && len(s) <= 300 && uuid.Validate(u) == nil
}
