package agreement

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/tearline/tearline/binding"
	"github.com/tearline/tearline/jcs"
)

// signingContext separates agreement signatures from every other Ed25519
// signature a node key makes (bindings, checkpoints): a signature over one
// kind of message can never be replayed as another.
const signingContext = "tearline-agreement-v1\n"

// Canonical returns the RFC 8785 form of d without its signatures: what
// every party signs, so signatures can be added in any order without
// changing it.
func (d *Document) Canonical() ([]byte, error) {
	c := *d
	c.Signatures = nil
	raw, err := json.Marshal(&c)
	if err != nil {
		return nil, fmt.Errorf("agreement: canonical: %w", err)
	}
	out, err := jcs.Canonicalize(raw)
	if err != nil {
		return nil, fmt.Errorf("agreement: canonical: %w", err)
	}
	return out, nil
}

// JSON returns d, signatures included, as RFC 8785 JSON: the form to store
// and send.
func (d *Document) JSON() ([]byte, error) {
	raw, err := json.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("agreement: %w", err)
	}
	return jcs.Canonicalize(raw)
}

// SigningInput returns the bytes a party signs: a fixed context string and
// the canonical document.
func (d *Document) SigningInput() ([]byte, error) {
	c, err := d.Canonical()
	if err != nil {
		return nil, err
	}
	return append([]byte(signingContext), c...), nil
}

// Sign signs d as party with key, which must be the private half of the
// party's public_key. It does not add the signature to d: call AddSignature,
// so a caller can collect signatures from elsewhere the same way.
func (d *Document) Sign(party string, key ed25519.PrivateKey) (Signature, error) {
	if len(key) != ed25519.PrivateKeySize {
		return Signature{}, errors.New("agreement: sign: not an Ed25519 private key")
	}
	p, ok := d.party(party)
	if !ok {
		return Signature{}, fmt.Errorf("agreement: sign: %q is not a party", party)
	}
	pub, err := binding.ParsePublicKey(p.PublicKey)
	if err != nil {
		return Signature{}, fmt.Errorf("agreement: sign: party %q: %w", party, err)
	}
	if !pub.Equal(key.Public()) {
		return Signature{}, fmt.Errorf("agreement: sign: the key is not party %q's key", party)
	}
	msg, err := d.SigningInput()
	if err != nil {
		return Signature{}, err
	}
	return Signature{Party: party, Signature: base64.StdEncoding.EncodeToString(ed25519.Sign(key, msg))}, nil
}

// AddSignature verifies s and records it in d, replacing an earlier
// signature of the same party.
func (d *Document) AddSignature(s Signature) error {
	msg, err := d.SigningInput()
	if err != nil {
		return err
	}
	if err := d.verify(s, msg); err != nil {
		return err
	}
	d.Signatures = slices.DeleteFunc(d.Signatures, func(o Signature) bool { return o.Party == s.Party })
	d.Signatures = append(d.Signatures, s)
	return nil
}

// ErrUnsigned reports a document that some party has not (validly) signed.
// Such a document decides nothing.
var ErrUnsigned = errors.New("agreement: not signed by every party")

// VerifySignatures checks every signature on d and returns the parties that
// have not signed. An invalid signature is an error, never just a missing
// one: it means tampering or a wrong key.
func (d *Document) VerifySignatures() (missing []string, err error) {
	msg, err := d.SigningInput()
	if err != nil {
		return nil, err
	}
	signed := make(map[string]bool, len(d.Signatures))
	for i, s := range d.Signatures {
		if err := d.verify(s, msg); err != nil {
			return nil, fmt.Errorf("%w (signatures[%d])", err, i)
		}
		signed[s.Party] = true
	}
	for _, p := range d.Parties {
		if !signed[p.Name] {
			missing = append(missing, p.Name)
		}
	}
	return missing, nil
}

// FullySigned returns nil if every party has validly signed d, else an
// error wrapping ErrUnsigned that names who has not.
func (d *Document) FullySigned() error {
	missing, err := d.VerifySignatures()
	if err != nil {
		return err
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: missing %q", ErrUnsigned, missing)
	}
	return nil
}

func (d *Document) verify(s Signature, msg []byte) error {
	p, ok := d.party(s.Party)
	if !ok {
		return fmt.Errorf("agreement: signature by %q, who is not a party", s.Party)
	}
	pub, err := binding.ParsePublicKey(p.PublicKey)
	if err != nil {
		return fmt.Errorf("agreement: party %q: %w", s.Party, err)
	}
	sig, err := base64.StdEncoding.Strict().DecodeString(s.Signature)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return fmt.Errorf("agreement: signature by %q is not base64 of %d bytes", s.Party, ed25519.SignatureSize)
	}
	if !ed25519.Verify(pub, msg, sig) {
		return fmt.Errorf("agreement: signature by %q does not verify", s.Party)
	}
	return nil
}

func (d *Document) party(name string) (Party, bool) {
	for _, p := range d.Parties {
		if p.Name == name {
			return p, true
		}
	}
	return Party{}, false
}

// Party returns the named party.
func (d *Document) Party(name string) (Party, bool) { return d.party(name) }
