package binding

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/tearline/tearline/jcs"
)

// ParseError reports a binding that does not follow the format. Property is
// the offending property as a path ("object_labels[1].digest"), or "" when
// the bytes are not a JSON object at all.
type ParseError struct {
	Property string
	Reason   string
}

func (e *ParseError) Error() string {
	if e.Property == "" {
		return "binding: parse: " + e.Reason
	}
	return fmt.Sprintf("binding: parse: property %q: %s", e.Property, e.Reason)
}

func perr(prop, reason string) error { return &ParseError{Property: prop, Reason: reason} }

// Parse reads a binding, checks its format strictly and prepares it for
// Verify. It does not check the signature.
//
// Unknown properties are refused, except custom properties whose names start
// with "x_" and entries for other extension definitions in "extensions":
// both are covered by the signature and may be ignored by a reader. Anything
// that changes what a binding means needs a new format_version, which this
// reader refuses, so that an old verifier fails closed.
func Parse(raw []byte) (*Binding, error) {
	canon, err := jcs.Canonicalize(raw)
	if err != nil {
		return nil, &ParseError{Reason: err.Error()}
	}
	p := parser{b: &Binding{Raw: canon}, st: &state{raw: canon}}
	if err := p.top(canon); err != nil {
		return nil, err
	}
	if err := p.check(canon); err != nil {
		return nil, err
	}
	p.b.st = p.st
	return p.b, nil
}

type parser struct {
	b    *Binding
	st   *state
	seen uint32 // bit set of required properties seen
}

// Required top-level properties, as bits of parser.seen.
const (
	pType = 1 << iota
	pSpecVersion
	pID
	pCreated
	pModified
	pCreatedByRef
	pExtensions
	pFormatVersion
	pKind
	pNode
	pObjectDigest
	pObjectLabels
	pObjectRef
	pSignature
	pAll = 1<<iota - 1
)

var requiredNames = [...]string{"type", "spec_version", "id", "created", "modified", "created_by_ref", "extensions",
	"format_version", "kind", "node", "object_digest", "object_labels", "object_ref", "signature"}

func (p *parser) top(canon []byte) error {
	it := newObjIter(canon)
	if it.err != nil {
		return &ParseError{Reason: "not a JSON object"}
	}
	b := p.b
	var modified string
	for it.next() {
		v := it.val()
		var err error
		switch string(it.rawKey()) {
		case `"type"`:
			p.seen |= pType
			err = expect(v, Type)
		case `"spec_version"`:
			p.seen |= pSpecVersion
			err = expect(v, "2.1")
		case `"format_version"`:
			p.seen |= pFormatVersion
			err = expect(v, FormatVersion)
		case `"id"`:
			p.seen |= pID
			b.ID, err = identifier(v, Type)
		case `"created"`:
			p.seen |= pCreated
			if b.Created, err = str(v); err == nil {
				var ok bool
				if p.st.created, ok = parseBindingTime(b.Created); !ok {
					err = errors.New("not a UTC timestamp with millisecond precision (" + TimeLayout + ")")
				}
			}
		case `"modified"`:
			p.seen |= pModified
			modified, err = str(v)
		case `"created_by_ref"`:
			p.seen |= pCreatedByRef
			b.CreatedByRef, err = identifier(v, "identity")
		case `"derived_from_ref"`:
			b.DerivedFromRef, err = identifier(v, Type)
		case `"extensions"`:
			p.seen |= pExtensions
			err = p.extensions(v)
		case `"kind"`:
			p.seen |= pKind
			if b.Kind, err = str(v); err == nil && b.Kind != KindOriginator && b.Kind != KindAlternative {
				err = errors.New("must be " + strconv.Quote(KindOriginator) + " or " + strconv.Quote(KindAlternative))
			}
		case `"node"`:
			p.seen |= pNode
			if b.Node, err = str(v); err == nil && !isNodeName(b.Node) {
				err = errors.New("not a valid node name")
			}
		case `"object_digest"`:
			p.seen |= pObjectDigest
			err = p.objectDigest(v)
		case `"object_labels"`:
			p.seen |= pObjectLabels
			err = p.objectLabels(v)
		case `"object_modified"`:
			if b.ObjectModified, err = str(v); err == nil && !isSTIXTimestamp(b.ObjectModified) {
				err = errors.New("not a STIX timestamp")
			}
		case `"object_ref"`:
			p.seen |= pObjectRef
			b.ObjectRef, err = identifier(v, "")
		case `"part_labels"`:
			err = p.partLabels(v)
		case `"signature"`:
			p.seen |= pSignature
			err = p.signature(v)
		default:
			name, uerr := jsontext.AppendUnquote(nil, it.rawKey())
			if uerr != nil || !strings.HasPrefix(string(name), "x_") {
				return perr(string(name), "unknown property (format version "+FormatVersion+")")
			}
			continue
		}
		if err != nil {
			var pe *ParseError
			if errors.As(err, &pe) {
				return err // already names a nested property
			}
			name, _ := jsontext.AppendUnquote(nil, it.rawKey())
			return perr(string(name), err.Error())
		}
	}
	if it.err != nil {
		return &ParseError{Reason: it.err.Error()}
	}
	if p.seen != pAll {
		for i, name := range requiredNames {
			if p.seen&(1<<i) == 0 {
				return perr(name, "missing")
			}
		}
	}
	if modified != b.Created {
		return perr("modified", "must equal created (bindings are never versioned)")
	}
	return nil
}

// check runs the rules that span several properties, and derives the
// signing input.
func (p *parser) check(canon []byte) error {
	b, st := p.b, p.st
	switch {
	case b.Kind == KindAlternative && b.DerivedFromRef == "":
		return perr("derived_from_ref", "required for kind "+strconv.Quote(KindAlternative))
	case b.Kind == KindOriginator && b.DerivedFromRef != "":
		return perr("derived_from_ref", "not allowed for kind "+strconv.Quote(KindOriginator))
	case b.DerivedFromRef == b.ID:
		return perr("derived_from_ref", "refers to the binding itself")
	}
	// Whole-object labels first, so that st.labels holds each label once.
	for i, l := range b.Labels {
		for _, prev := range b.Labels[:i] {
			if prev.Ref == l.Ref {
				return perr(fmt.Sprintf("object_labels[%d].marking_ref", i), "label listed twice")
			}
		}
		d, _ := decodeDigest(l.Digest)
		st.labels, _ = addLabel(st.labels, l.Ref, d)
	}
	for i, pl := range b.PartLabels {
		d, _ := decodeDigest(pl.Digest)
		var ok bool
		if st.labels, ok = addLabel(st.labels, pl.Ref, d); !ok {
			return perr(fmt.Sprintf("part_labels[%d].digest", i), "differs from another entry for the same label")
		}
	}
	st.id, st.node, st.keyID = b.ID, b.Node, b.KeyID
	st.kind, st.derivedFrom = b.Kind, b.DerivedFromRef
	st.objectRef, st.objectModified = b.ObjectRef, b.ObjectModified

	sp, err := locate(canon)
	if err != nil {
		return &ParseError{Reason: err.Error()}
	}
	st.signed = cut(canon, sp.valueMbr[0], sp.valueMbr[1])
	// "id" sorts before "signature", so its offsets hold in st.signed.
	if want := bindingID(st.signed[:sp.idMember[0]], st.signed[sp.idMember[1]:]); want != b.ID {
		return perr("id", "does not match the content (want "+want+")")
	}
	return nil
}

func (p *parser) extensions(v []byte) error {
	it := newObjIter(v)
	found := false
	for it.next() {
		if string(it.rawKey()) == `"`+ExtensionID+`"` {
			found = true
			if string(it.val()) != `{"extension_type":"new-sdo"}` {
				return perr("extensions."+ExtensionID, `must be exactly {"extension_type":"new-sdo"}`)
			}
			continue
		}
		// Other extensions are signed content a reader may ignore (STIX
		// §7.3), but they must at least name an extension definition.
		name, err := jsontext.AppendUnquote(nil, it.rawKey())
		if err != nil || !isIdentifier(string(name), "extension-definition") {
			return perr("extensions."+string(name), "not an extension-definition id")
		}
	}
	if it.err != nil {
		return errors.New("not an object")
	}
	if !found {
		return perr("extensions."+ExtensionID, "missing")
	}
	return nil
}

func (p *parser) objectDigest(v []byte) error {
	const prop = "object_digest"
	var seen int
	it := newObjIter(v)
	for it.next() {
		var err error
		switch string(it.rawKey()) {
		case `"algorithm"`:
			seen |= 1
			err = expect(it.val(), DigestAlgorithm)
		case `"canonicalization"`:
			seen |= 2
			err = expect(it.val(), Canonicalization)
		case `"value"`:
			seen |= 4
			if p.b.ObjectDigest, err = digestHex(it.val()); err == nil {
				p.st.objectDigest, _ = decodeDigest(p.b.ObjectDigest)
			}
		default:
			return unknownMember(prop, it.rawKey())
		}
		if err != nil {
			return perr(prop+"."+unquoted(it.rawKey()), err.Error())
		}
	}
	if it.err != nil {
		return errors.New("not an object")
	}
	return missing(prop, seen, "algorithm", "canonicalization", "value")
}

func (p *parser) objectLabels(v []byte) error {
	const prop = "object_labels"
	it := newArrIter(v)
	for i := 0; it.next(); i++ {
		ref, digest, _, err := labelEntry(fmt.Sprintf("%s[%d]", prop, i), it.val(), false)
		if err != nil {
			return err
		}
		p.b.Labels = append(p.b.Labels, LabelRef{Ref: ref, Digest: digest})
	}
	if it.err != nil {
		return errors.New("not an array")
	}
	if len(p.b.Labels) == 0 {
		return errors.New("at least one label is required")
	}
	return nil
}

func (p *parser) partLabels(v []byte) error {
	const prop = "part_labels"
	it := newArrIter(v)
	for i := 0; it.next(); i++ {
		ref, digest, sels, err := labelEntry(fmt.Sprintf("%s[%d]", prop, i), it.val(), true)
		if err != nil {
			return err
		}
		p.b.PartLabels = append(p.b.PartLabels, PartLabel{Selectors: sels, Ref: ref, Digest: digest})
	}
	if it.err != nil {
		return errors.New("not an array")
	}
	if len(p.b.PartLabels) == 0 {
		return errors.New("empty (omit the property instead)")
	}
	return nil
}

// labelEntry reads one {"digest","marking_ref"[,"selectors"]} entry.
func labelEntry(prop string, v []byte, part bool) (ref, digest string, sels []string, err error) {
	var seen int
	it := newObjIter(v)
	for it.next() {
		switch string(it.rawKey()) {
		case `"digest"`:
			seen |= 1
			digest, err = digestHex(it.val())
		case `"marking_ref"`:
			seen |= 2
			ref, err = identifier(it.val(), "marking-definition")
		case `"selectors"`:
			if !part {
				return "", "", nil, unknownMember(prop, it.rawKey())
			}
			seen |= 4
			sels, err = selectors(prop+".selectors", it.val())
			if err != nil {
				return "", "", nil, err
			}
		default:
			return "", "", nil, unknownMember(prop, it.rawKey())
		}
		if err != nil {
			return "", "", nil, perr(prop+"."+unquoted(it.rawKey()), err.Error())
		}
	}
	if it.err != nil {
		return "", "", nil, perr(prop, "not an object")
	}
	if part {
		err = missing(prop, seen, "digest", "marking_ref", "selectors")
	} else {
		err = missing(prop, seen, "digest", "marking_ref")
	}
	return ref, digest, sels, err
}

func selectors(prop string, v []byte) ([]string, error) {
	var out []string
	it := newArrIter(v)
	for i := 0; it.next(); i++ {
		s, err := str(it.val())
		if err == nil && !isSelector(s) {
			err = errors.New("not a STIX granular-marking selector")
		}
		if err != nil {
			return nil, perr(fmt.Sprintf("%s[%d]", prop, i), err.Error())
		}
		out = append(out, s)
	}
	if it.err != nil {
		return nil, perr(prop, "not an array")
	}
	if len(out) == 0 {
		return nil, perr(prop, "empty")
	}
	return out, nil
}

func (p *parser) signature(v []byte) error {
	const prop = "signature"
	var seen int
	it := newObjIter(v)
	for it.next() {
		var err error
		switch string(it.rawKey()) {
		case `"algorithm"`:
			seen |= 1
			err = expect(it.val(), SignatureAlgorithm)
		case `"canonicalization"`:
			seen |= 2
			err = expect(it.val(), Canonicalization)
		case `"key_id"`:
			seen |= 4
			if p.b.KeyID, err = str(it.val()); err == nil && !isKeyID(p.b.KeyID) {
				err = errors.New(`not a key id ("ed25519:" and 32 lowercase hex digits)`)
			}
		case `"value"`:
			seen |= 8
			if p.b.Signature, err = str(it.val()); err == nil {
				// Strict: one spelling per signature, so Raw is unique too.
				p.st.sig, err = base64.StdEncoding.Strict().DecodeString(p.b.Signature)
				if err == nil && len(p.st.sig) != 64 {
					err = fmt.Errorf("%d bytes, want 64", len(p.st.sig))
				}
			}
		default:
			return unknownMember(prop, it.rawKey())
		}
		if err != nil {
			return perr(prop+"."+unquoted(it.rawKey()), err.Error())
		}
	}
	if it.err != nil {
		return errors.New("not an object")
	}
	return missing(prop, seen, "algorithm", "canonicalization", "key_id", "value")
}

// str returns the JSON string v, unescaped.
func str(v []byte) (string, error) {
	if len(v) < 2 || v[0] != '"' {
		return "", errors.New("not a string")
	}
	if s, err := plainString(v); err == nil {
		return string(s), nil
	}
	u, err := jsontext.AppendUnquote(nil, v)
	if err != nil {
		return "", errors.New("not a string")
	}
	return string(u), nil
}

// expect checks that v is the JSON string want, without allocating.
func expect(v []byte, want string) error {
	if len(v) == len(want)+2 && v[0] == '"' && string(v[1:len(v)-1]) == want {
		return nil
	}
	return errors.New("must be " + strconv.Quote(want))
}

func identifier(v []byte, typ string) (string, error) {
	s, err := str(v)
	if err != nil {
		return "", err
	}
	if !isIdentifier(s, typ) {
		if typ == "" {
			return "", errors.New("not a STIX identifier")
		}
		return "", errors.New("not a " + typ + " identifier")
	}
	return s, nil
}

func digestHex(v []byte) (string, error) {
	s, err := str(v)
	if err == nil && !isDigestHex(s) {
		err = errors.New("not a lowercase hex SHA-256 value")
	}
	return s, err
}

func unquoted(rawKey []byte) string {
	u, err := jsontext.AppendUnquote(nil, rawKey)
	if err != nil {
		return string(rawKey)
	}
	return string(u)
}

func unknownMember(prop string, rawKey []byte) error {
	return perr(prop+"."+unquoted(rawKey), "unknown property")
}

// missing reports the first name whose bit is not set in seen.
func missing(prop string, seen int, names ...string) error {
	for i, n := range names {
		if seen&(1<<i) == 0 {
			return perr(prop+"."+n, "missing")
		}
	}
	return nil
}
