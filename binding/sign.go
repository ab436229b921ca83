package binding

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/tearline/tearline/jcs"
)

// Signer makes bindings for one node with one key. It is immutable and safe
// for concurrent use.
type Signer struct {
	node        string
	identityRef string
	key         ed25519.PrivateKey
	pub         ed25519.PublicKey
	keyID       string
	err         error // set by NewSigner; reported by every Bind
}

// NewSigner returns a Signer for node (the node name partners configure for
// its keys) with identityRef (the node's STIX identity id, written as
// created_by_ref). Invalid arguments are reported by Bind, so that a signer
// can be built in a struct literal.
func NewSigner(node, identityRef string, key ed25519.PrivateKey) *Signer {
	s := &Signer{node: node, identityRef: identityRef}
	switch {
	case !isNodeName(node):
		s.err = fmt.Errorf("binding: signer: invalid node name %q", node)
	case !isIdentifier(identityRef, "identity"):
		s.err = fmt.Errorf("binding: signer: identity ref %q is not an identity id", identityRef)
	case len(key) != ed25519.PrivateKeySize:
		s.err = fmt.Errorf("binding: signer: private key length %d, want %d", len(key), ed25519.PrivateKeySize)
	default:
		s.key = append(ed25519.PrivateKey(nil), key...)
		s.pub = s.key.Public().(ed25519.PublicKey)
		s.keyID = KeyIDOf(s.pub)
	}
	return s
}

// KeyID returns the id of the signer's key ("" if the key is invalid).
func (s *Signer) KeyID() string { return s.keyID }

// PublicKey returns the signer's public key, to register in keyrings.
func (s *Signer) PublicKey() ed25519.PublicKey { return append(ed25519.PublicKey(nil), s.pub...) }

// Node returns the node name the signer writes into bindings.
func (s *Signer) Node() string { return s.node }

// BindInput is what one binding covers.
type BindInput struct {
	// ObjectID and ObjectModified may be left empty: Bind reads them from
	// CanonicalObject (see ObjectVersion). If set, they must agree with it.
	ObjectID, ObjectModified string
	// CanonicalObject is the bound object in RFC 8785 form, as produced by
	// jcs.Canonicalize. Bind does not re-canonicalize it.
	CanonicalObject []byte
	Labels          []LabelInput // whole-object labels; at least one
	Parts           []PartInput  // stricter labels for parts; optional
	// Kind is KindOriginator (the default when empty) or KindAlternative;
	// an alternative binding names the binding it derives from.
	Kind           string
	DerivedFromRef string
}

// LabelInput is a label marking-definition: its id and its canonical JSON.
type LabelInput struct {
	ID        string
	Canonical []byte
}

// PartInput is a label for the parts of the object named by Selectors.
type PartInput struct {
	Selectors []string
	Label     LabelInput
}

// placeholderID holds the place of the id while the id is derived from the
// rest of the content; it has the final id's length, so the canonical bytes
// are patched in place.
const placeholderID = Type + "--00000000-0000-0000-0000-000000000000"

// Bind makes and signs a binding of in's labels to in's object, labelled at
// time at. The result's Raw is ready to send.
func (s *Signer) Bind(in BindInput, at time.Time) (*Binding, error) {
	if s.err != nil {
		return nil, s.err
	}
	b, st, err := s.prepare(in, at)
	if err != nil {
		name := in.ObjectID
		if name == "" {
			name = "object"
		}
		return nil, fmt.Errorf("binding: bind %s: %w", name, err)
	}
	body, err := s.build(b)
	if err != nil {
		return nil, fmt.Errorf("binding: bind %s: %w", b.ObjectRef, err)
	}
	signed, err := jcs.Canonicalize(body)
	if err != nil {
		return nil, fmt.Errorf("binding: bind %s: %w", b.ObjectRef, err)
	}
	sp, err := locate(signed)
	if err != nil || sp.idVal[1]-sp.idVal[0] != len(placeholderID)+2 || sp.sigVal[0] == 0 {
		// Our own output: this only fails if the canonicaliser changed.
		return nil, fmt.Errorf("binding: bind %s: unexpected canonical layout: %v", b.ObjectRef, err)
	}
	b.ID = bindingID(signed[:sp.idMember[0]], signed[sp.idMember[1]:])
	copy(signed[sp.idVal[0]+1:], b.ID)

	sig := ed25519.Sign(s.key, signed)
	b.Signature = base64.StdEncoding.EncodeToString(sig)

	// Insert "value" as the last member of "signature": it sorts after
	// algorithm, canonicalization and key_id, so the result stays canonical.
	at2 := sp.sigVal[1] - 1
	raw := make([]byte, 0, len(signed)+len(`,"value":""`)+len(b.Signature))
	raw = append(raw, signed[:at2]...)
	raw = append(raw, `,"value":"`...)
	raw = append(raw, b.Signature...)
	raw = append(raw, '"')
	raw = append(raw, signed[at2:]...)
	b.Raw = raw

	st.raw, st.signed, st.sig, st.id = raw, signed, sig, b.ID
	b.st = st
	return b, nil
}

// prepare checks the input and fills everything but id, signature and Raw.
func (s *Signer) prepare(in BindInput, at time.Time) (*Binding, *state, error) {
	if at.IsZero() {
		return nil, nil, errors.New("labelling time is zero")
	}
	created := at.UTC().Truncate(time.Millisecond)
	objID, objVer, err := objectVersion(in.CanonicalObject)
	if err != nil {
		return nil, nil, fmt.Errorf("object: %w", err)
	}
	if !isIdentifier(string(objID), "") {
		return nil, nil, fmt.Errorf("object id %q is not a STIX identifier", objID)
	}
	if in.ObjectID != "" && in.ObjectID != string(objID) {
		return nil, nil, fmt.Errorf("%w: object id %q given, object has %q", ErrObjectMismatch, in.ObjectID, objID)
	}
	if in.ObjectModified != "" && in.ObjectModified != string(objVer) {
		return nil, nil, fmt.Errorf("%w: object modified %q given, object has %q", ErrObjectMismatch, in.ObjectModified, objVer)
	}
	if len(objVer) > 0 && !isSTIXTimestamp(string(objVer)) {
		return nil, nil, fmt.Errorf("object version %q is not a STIX timestamp", objVer)
	}
	kind := in.Kind
	if kind == "" {
		kind = KindOriginator
	}
	switch {
	case kind == KindOriginator && in.DerivedFromRef != "":
		return nil, nil, errors.New("an originator binding has no derived_from_ref")
	case kind == KindAlternative && !isIdentifier(in.DerivedFromRef, Type):
		return nil, nil, fmt.Errorf("derived_from_ref %q is not a %s id", in.DerivedFromRef, Type)
	case kind != KindOriginator && kind != KindAlternative:
		return nil, nil, fmt.Errorf("unknown kind %q", kind)
	}
	if len(in.Labels) == 0 {
		return nil, nil, errors.New("no whole-object label")
	}

	st := &state{
		created:        created,
		node:           s.node,
		kind:           kind,
		derivedFrom:    in.DerivedFromRef,
		keyID:          s.keyID,
		objectRef:      string(objID),
		objectModified: string(objVer),
		objectDigest:   sha256.Sum256(in.CanonicalObject),
		labels:         make([]labelDigest, 0, len(in.Labels)+len(in.Parts)),
	}
	b := &Binding{
		Created:        created.Format(TimeLayout),
		CreatedByRef:   s.identityRef,
		Node:           s.node,
		Kind:           kind,
		DerivedFromRef: in.DerivedFromRef,
		ObjectRef:      st.objectRef,
		ObjectModified: st.objectModified,
		ObjectDigest:   hex.EncodeToString(st.objectDigest[:]),
		Labels:         make([]LabelRef, len(in.Labels)),
		KeyID:          s.keyID,
	}
	for i, l := range in.Labels {
		d, err := labelDigestOf(l)
		if err != nil {
			return nil, nil, fmt.Errorf("label %d: %w", i, err)
		}
		for _, prev := range b.Labels[:i] {
			if prev.Ref == l.ID {
				return nil, nil, fmt.Errorf("label %d: %s listed twice", i, l.ID)
			}
		}
		st.labels, _ = addLabel(st.labels, l.ID, d)
		b.Labels[i] = LabelRef{Ref: l.ID, Digest: hex.EncodeToString(d[:])}
	}
	if len(in.Parts) > 0 {
		b.PartLabels = make([]PartLabel, len(in.Parts))
	}
	for i, p := range in.Parts {
		if len(p.Selectors) == 0 {
			return nil, nil, fmt.Errorf("part %d: no selectors", i)
		}
		for _, sel := range p.Selectors {
			if !isSelector(sel) {
				return nil, nil, fmt.Errorf("part %d: invalid selector %q", i, sel)
			}
		}
		d, err := labelDigestOf(p.Label)
		if err != nil {
			return nil, nil, fmt.Errorf("part %d: %w", i, err)
		}
		var ok bool
		if st.labels, ok = addLabel(st.labels, p.Label.ID, d); !ok {
			return nil, nil, fmt.Errorf("part %d: label %s given with different bytes elsewhere", i, p.Label.ID)
		}
		b.PartLabels[i] = PartLabel{
			Selectors: append([]string(nil), p.Selectors...),
			Ref:       p.Label.ID,
			Digest:    hex.EncodeToString(d[:]),
		}
	}
	return b, st, nil
}

// labelDigestOf checks that l's bytes are the marking-definition l.ID names
// and returns their digest. The check is why a verifier may trust that a
// matching digest also means a matching id.
func labelDigestOf(l LabelInput) ([sha256.Size]byte, error) {
	if !isIdentifier(l.ID, "marking-definition") {
		return [sha256.Size]byte{}, fmt.Errorf("%q is not a marking-definition id", l.ID)
	}
	id, _, err := objectVersion(l.Canonical)
	if err != nil {
		return [sha256.Size]byte{}, fmt.Errorf("%s: %w", l.ID, err)
	}
	if string(id) != l.ID {
		return [sha256.Size]byte{}, fmt.Errorf("%w: bytes given for %s are marking-definition %s", ErrLabelMismatch, l.ID, id)
	}
	return sha256.Sum256(l.Canonical), nil
}

// build writes the binding with placeholderID and without signature.value,
// members already in canonical order.
func (s *Signer) build(b *Binding) ([]byte, error) {
	n := 700 + len(s.node) + 120*len(b.Labels)
	for _, p := range b.PartLabels {
		n += 140
		for _, sel := range p.Selectors {
			n += len(sel) + 3
		}
	}
	w := jsonWriter{buf: make([]byte, 0, n)}
	w.raw(`{"created":`)
	w.str(b.Created)
	w.raw(`,"created_by_ref":`)
	w.str(b.CreatedByRef)
	if b.DerivedFromRef != "" {
		w.raw(`,"derived_from_ref":`)
		w.str(b.DerivedFromRef)
	}
	w.raw(`,"extensions":{"` + ExtensionID + `":{"extension_type":"new-sdo"}}`)
	w.raw(`,"format_version":"` + FormatVersion + `","id":"` + placeholderID + `","kind":`)
	w.str(b.Kind)
	w.raw(`,"modified":`)
	w.str(b.Created)
	w.raw(`,"node":`)
	w.str(b.Node)
	w.raw(`,"object_digest":{"algorithm":"` + DigestAlgorithm + `","canonicalization":"` + Canonicalization + `","value":`)
	w.str(b.ObjectDigest)
	w.raw(`},"object_labels":[`)
	for i, l := range b.Labels {
		if i > 0 {
			w.raw(",")
		}
		w.raw(`{"digest":`)
		w.str(l.Digest)
		w.raw(`,"marking_ref":`)
		w.str(l.Ref)
		w.raw("}")
	}
	w.raw("]")
	if b.ObjectModified != "" {
		w.raw(`,"object_modified":`)
		w.str(b.ObjectModified)
	}
	w.raw(`,"object_ref":`)
	w.str(b.ObjectRef)
	if len(b.PartLabels) > 0 {
		w.raw(`,"part_labels":[`)
		for i, p := range b.PartLabels {
			if i > 0 {
				w.raw(",")
			}
			w.raw(`{"digest":`)
			w.str(p.Digest)
			w.raw(`,"marking_ref":`)
			w.str(p.Ref)
			w.raw(`,"selectors":[`)
			for j, sel := range p.Selectors {
				if j > 0 {
					w.raw(",")
				}
				w.str(sel)
			}
			w.raw("]}")
		}
		w.raw("]")
	}
	w.raw(`,"signature":{"algorithm":"` + SignatureAlgorithm + `","canonicalization":"` + Canonicalization + `","key_id":`)
	w.str(b.KeyID)
	w.raw(`},"spec_version":"2.1","type":"` + Type + `"}`)
	return w.buf, w.err
}

// jsonWriter appends JSON and keeps the first error, so build reads as the
// object it writes.
type jsonWriter struct {
	buf []byte
	err error
}

func (w *jsonWriter) raw(s string) { w.buf = append(w.buf, s...) }

func (w *jsonWriter) str(s string) {
	var err error
	w.buf, err = jsontext.AppendQuote(w.buf, s)
	if err != nil && w.err == nil {
		w.err = fmt.Errorf("string %q: %w", s, err)
	}
}

// spans locates, in a canonical binding, the members that signing and id
// derivation cut or patch. Offsets are [start, end).
type spans struct {
	idMember [2]int // "id" member with one comma
	idVal    [2]int // its value, quotes included
	sigVal   [2]int // the "signature" object
	valueMbr [2]int // signature.value member with one comma (zero if absent)
	valueVal [2]int // its value
}

// locate finds the spans in canonical binding bytes.
func locate(canon []byte) (spans, error) {
	var sp spans
	it := newObjIter(canon)
	for it.next() {
		switch string(it.rawKey()) {
		case `"id"`:
			sp.idMember[0], sp.idMember[1] = it.memberSpan()
			sp.idVal = [2]int{it.valStart, it.valEnd}
		case `"signature"`:
			sp.sigVal = [2]int{it.valStart, it.valEnd}
			sit := newObjIter(it.val())
			for sit.next() {
				if string(sit.rawKey()) == `"value"` {
					s, e := sit.memberSpan()
					sp.valueMbr = [2]int{it.valStart + s, it.valStart + e}
					sp.valueVal = [2]int{it.valStart + sit.valStart, it.valStart + sit.valEnd}
				}
			}
			if sit.err != nil {
				return sp, fmt.Errorf("signature: %w", sit.err)
			}
		}
	}
	if it.err != nil {
		return sp, it.err
	}
	if sp.idVal[1] == 0 {
		return sp, errors.New(`"id" missing`)
	}
	return sp, nil
}
