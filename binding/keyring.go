package binding

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Verification failures. Verify wraps one of these with the binding and
// object it was checking; test with errors.Is.
var (
	// ErrUnknownKey: the binding's key id is not in the keyring.
	ErrUnknownKey = errors.New("unknown key")
	// ErrKeyNotValid: the key exists but may not sign this binding: it
	// belongs to another node, or the binding's created time is outside the
	// key's validity period or not before its revocation.
	ErrKeyNotValid = errors.New("key not valid for this binding")
	// ErrBadSignature: the signature does not verify over the binding.
	ErrBadSignature = errors.New("bad signature")
	// ErrObjectMismatch: the object is not the one bound (id, version or
	// digest differ).
	ErrObjectMismatch = errors.New("object does not match the binding")
	// ErrLabelMismatch: a supplied label's bytes differ from the bound
	// digest, or a label was supplied that the binding does not cover.
	ErrLabelMismatch = errors.New("label does not match the binding")
	// ErrMissingLabel: a bound label was not supplied.
	ErrMissingLabel = errors.New("bound label not supplied")
)

// Key is a node's public key with its validity. Zero times mean "open":
// no start, no end, not revoked.
type Key struct {
	KeyID     string // may be left empty in NewKeyring; it is computed
	Node      string
	Public    ed25519.PublicKey
	NotBefore time.Time
	NotAfter  time.Time
	RevokedAt time.Time
}

// Keyring is an immutable set of keys, safe for concurrent use. To change
// keys, build a new Keyring (With) and swap the pointer.
type Keyring struct {
	keys map[string]Key // never written after construction
}

// NewKeyring checks keys and returns a keyring holding copies of them.
func NewKeyring(keys ...Key) (*Keyring, error) {
	k := &Keyring{keys: make(map[string]Key, len(keys))}
	for i, key := range keys {
		if err := k.add(key); err != nil {
			return nil, fmt.Errorf("binding: keyring: key %d: %w", i, err)
		}
	}
	return k, nil
}

func (k *Keyring) add(key Key) error {
	if len(key.Public) != ed25519.PublicKeySize {
		return fmt.Errorf("public key length %d, want %d", len(key.Public), ed25519.PublicKeySize)
	}
	id := KeyIDOf(key.Public)
	if key.KeyID != "" && key.KeyID != id {
		return fmt.Errorf("key id %s does not match the public key (%s)", key.KeyID, id)
	}
	if !isNodeName(key.Node) {
		return fmt.Errorf("%s: invalid node name %q", id, key.Node)
	}
	if !key.NotBefore.IsZero() && !key.NotAfter.IsZero() && key.NotAfter.Before(key.NotBefore) {
		return fmt.Errorf("%s: not_after is before not_before", id)
	}
	if _, dup := k.keys[id]; dup {
		return fmt.Errorf("%s: listed twice", id)
	}
	key.KeyID = id
	key.Public = bytes.Clone(key.Public)
	k.keys[id] = key
	return nil
}

// With returns a new keyring holding k's keys and keys; k is unchanged. A key
// already in k (same id) is replaced, which is how a revocation is recorded.
func (k *Keyring) With(keys ...Key) (*Keyring, error) {
	n := &Keyring{keys: make(map[string]Key, len(k.keys)+len(keys))}
	for i, key := range keys {
		if err := n.add(key); err != nil {
			return nil, fmt.Errorf("binding: keyring: key %d: %w", i, err)
		}
	}
	for id, key := range k.keys {
		if _, replaced := n.keys[id]; !replaced {
			n.keys[id] = key
		}
	}
	return n, nil
}

// Lookup returns the key with the given id.
func (k *Keyring) Lookup(keyID string) (Key, bool) {
	key, ok := k.keys[keyID]
	if ok {
		key.Public = bytes.Clone(key.Public)
	}
	return key, ok
}

// Keys returns all keys, sorted by node then key id.
func (k *Keyring) Keys() []Key {
	out := make([]Key, 0, len(k.keys))
	for _, key := range k.keys {
		key.Public = bytes.Clone(key.Public)
		out = append(out, key)
	}
	slices.SortFunc(out, func(a, b Key) int {
		if c := strings.Compare(a.Node, b.Node); c != 0 {
			return c
		}
		return strings.Compare(a.KeyID, b.KeyID)
	})
	return out
}

// validAt reports why key may not sign a binding created at t, or nil.
// The period is closed at both ends; revocation applies from RevokedAt on.
func (key *Key) validAt(t time.Time) error {
	switch {
	case !key.NotBefore.IsZero() && t.Before(key.NotBefore):
		return fmt.Errorf("%w: created %s is before the key's not_before %s", ErrKeyNotValid, t.Format(TimeLayout), key.NotBefore.UTC().Format(TimeLayout))
	case !key.NotAfter.IsZero() && t.After(key.NotAfter):
		return fmt.Errorf("%w: created %s is after the key's not_after %s", ErrKeyNotValid, t.Format(TimeLayout), key.NotAfter.UTC().Format(TimeLayout))
	case !key.RevokedAt.IsZero() && !t.Before(key.RevokedAt):
		return fmt.Errorf("%w: created %s is not before the key's revocation %s", ErrKeyNotValid, t.Format(TimeLayout), key.RevokedAt.UTC().Format(TimeLayout))
	}
	return nil
}

// Verify checks binding b against the object and labels the receiver holds:
//   - the key named by b is in the ring, belongs to b's node, and was valid
//     at b's created time (NotBefore <= created <= NotAfter, created <
//     RevokedAt);
//   - the Ed25519 signature verifies over b's signing input;
//   - canonicalObject (RFC 8785 form) has b's object id and version, and its
//     SHA-256 equals the bound digest;
//   - labels (marking-definition id -> canonical JSON) holds exactly the
//     labels b binds, whole-object and part, each with the bound digest.
//     A supplied label the binding does not cover is refused: the labels a
//     receiver enforces must be the ones the signer bound.
//
// Verify checks the content parsed from b.Raw, never fields changed after
// Parse or Bind.
func (k *Keyring) Verify(b *Binding, canonicalObject []byte, labels map[string][]byte) error {
	if b == nil {
		return errors.New("binding: verify: nil binding")
	}
	st := b.st
	if !st.matches(b.Raw) {
		nb, err := Parse(b.Raw)
		if err != nil {
			return fmt.Errorf("binding: verify: %w", err)
		}
		st = nb.st
	}
	if err := k.verify(st, canonicalObject, labels); err != nil {
		return fmt.Errorf("binding: verify %s of %s: %w", st.id, st.objectRef, err)
	}
	return nil
}

func (k *Keyring) verify(st *state, obj []byte, labels map[string][]byte) error {
	key, ok := k.keys[st.keyID]
	if !ok {
		return fmt.Errorf("%w: %s", ErrUnknownKey, st.keyID)
	}
	if key.Node != st.node {
		return fmt.Errorf("%w: key %s belongs to node %q, not %q", ErrKeyNotValid, st.keyID, key.Node, st.node)
	}
	if err := key.validAt(st.created); err != nil {
		return fmt.Errorf("key %s: %w", st.keyID, err)
	}
	if !ed25519.Verify(key.Public, st.signed, st.sig) {
		return fmt.Errorf("%w: key %s", ErrBadSignature, st.keyID)
	}

	id, version, err := objectVersion(obj)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrObjectMismatch, err)
	}
	if string(id) != st.objectRef {
		return fmt.Errorf("%w: object id is %s", ErrObjectMismatch, id)
	}
	if string(version) != st.objectModified {
		return fmt.Errorf("%w: object version is %q, bound %q", ErrObjectMismatch, version, st.objectModified)
	}
	if sha256.Sum256(obj) != st.objectDigest {
		return fmt.Errorf("%w: object digest differs", ErrObjectMismatch)
	}

	for _, l := range st.labels {
		lb, ok := labels[l.ref]
		if !ok {
			return fmt.Errorf("%w: %s", ErrMissingLabel, l.ref)
		}
		if sha256.Sum256(lb) != l.digest {
			return fmt.Errorf("%w: %s: digest differs", ErrLabelMismatch, l.ref)
		}
	}
	if len(labels) != len(st.labels) {
		// Every bound label was found, so some supplied label is extra.
		for ref := range labels {
			if !slices.ContainsFunc(st.labels, func(l labelDigest) bool { return l.ref == ref }) {
				return fmt.Errorf("%w: %s supplied but not bound", ErrLabelMismatch, ref)
			}
		}
	}
	return nil
}

// ErrChain reports an alternative binding that does not derive from the
// binding given as its parent.
var ErrChain = errors.New("binding does not derive from its parent")

// CheckDerivation checks the link from an alternative binding to the binding
// it derives from. Verify both bindings first: this checks only the link.
// alt must name parent in derived_from_ref. When both bind the same object
// (a translated label), they must bind the same version and digest; when alt
// binds another object (a tearline), that object's derived-from relationship
// to the parent's object is the STIX content's concern.
func CheckDerivation(alt, parent *Binding) error {
	if alt == nil || parent == nil {
		return errors.New("binding: check derivation: nil binding")
	}
	a, p := alt.st, parent.st
	if !a.matches(alt.Raw) || !p.matches(parent.Raw) {
		na, err := Parse(alt.Raw)
		if err != nil {
			return fmt.Errorf("binding: check derivation: %w", err)
		}
		np, err := Parse(parent.Raw)
		if err != nil {
			return fmt.Errorf("binding: check derivation: %w", err)
		}
		a, p = na.st, np.st
	}
	switch {
	case a.kind != KindAlternative || a.derivedFrom != p.id:
		return fmt.Errorf("binding: %s: %w %s", a.id, ErrChain, p.id)
	case a.objectRef == p.objectRef && (a.objectModified != p.objectModified || a.objectDigest != p.objectDigest):
		return fmt.Errorf("binding: %s: %w %s: same object, different version", a.id, ErrChain, p.id)
	}
	return nil
}
