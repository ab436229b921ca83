package binding

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"time"
)

// Other signed documents. A node signs more than bindings: recall notices
// and their acknowledgements (package recall) are signed with the same
// node key and verified against the same keyring, so that a key's validity
// and revocation are recorded once. Those documents carry their own "type"
// inside the signed bytes, so a signature made for one kind of document can
// never verify as another (nor as a binding, whose type is tearline-binding).

// SignDetached signs msg, the complete signing input of another Tearline
// document, with the signer's key, and returns the key id and signature.
func (s *Signer) SignDetached(msg []byte) (string, []byte, error) {
	if s.err != nil {
		return "", nil, s.err
	}
	return s.keyID, ed25519.Sign(s.key, msg), nil
}

// VerifyDetached checks a signature made by SignDetached: the key keyID is
// in the ring, belongs to node, was valid at the document's time at (the
// same rule as a binding's created time), and sig verifies over msg. It
// returns ErrUnknownKey, ErrKeyNotValid or ErrBadSignature, wrapped.
func (k *Keyring) VerifyDetached(node, keyID string, at time.Time, msg, sig []byte) error {
	if k == nil {
		return errors.New("binding: verify: no keyring")
	}
	key, ok := k.keys[keyID]
	if !ok {
		return fmt.Errorf("binding: verify: %w: %s", ErrUnknownKey, keyID)
	}
	if key.Node != node {
		return fmt.Errorf("binding: verify: %w: key %s belongs to node %q, not %q", ErrKeyNotValid, keyID, key.Node, node)
	}
	if err := key.validAt(at); err != nil {
		return fmt.Errorf("binding: verify: key %s: %w", keyID, err)
	}
	if len(sig) != ed25519.SignatureSize || !ed25519.Verify(key.Public, msg, sig) {
		return fmt.Errorf("binding: verify: %w: key %s", ErrBadSignature, keyID)
	}
	return nil
}
