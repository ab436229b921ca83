package stix

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/go-json-experiment/json/jsontext"
)

// span is one object's position in the input.
type span struct{ start, end int }

// envelope is what splitEnvelope learned about the top-level value.
type envelope struct {
	bundle  bool
	objects []span // the bundle's objects, or the single object
}

// Parse accepts a STIX 2.1 bundle or a single object. A malformed envelope
// (not JSON, over limits, a bundle without an objects array, a wrong bundle
// id) returns err != nil and nothing else. Otherwise every object is
// validated independently: valid ones are returned in input order in objs,
// refused ones in bad (one ObjectError each, for the first problem found).
func Parse(data []byte, lim Limits) (objs []Object, bad []*ObjectError, err error) {
	lim = lim.withDefaults()
	if len(data) > lim.MaxBytes {
		return nil, nil, fmt.Errorf("stix: input is %d bytes, over the limit of %d", len(data), lim.MaxBytes)
	}
	env, err := splitEnvelope(data, lim)
	if err != nil {
		return nil, nil, fmt.Errorf("stix: %w", err)
	}
	// Nesting that the envelope adds above each object: bundle and array.
	outer := 0
	if env.bundle {
		outer = 2
	}
	objs = make([]Object, 0, len(env.objects))
	var scratch []byte
	for i, sp := range env.objects {
		src := data[sp.start:sp.end]
		if len(src) > lim.MaxObjectBytes {
			bad = append(bad, &ObjectError{Index: i, ID: peekID(src),
				Reason: fmt.Sprintf("object is %d bytes, over the limit of %d", len(src), lim.MaxObjectBytes)})
			continue
		}
		var depth int
		scratch, depth = compact(scratch[:0], src)
		if depth+outer > lim.MaxDepth {
			return nil, nil, fmt.Errorf("stix: object %d nests %d levels deep, over the limit of %d", i, depth+outer, lim.MaxDepth)
		}
		obj, oerr := validate(scratch)
		if oerr != nil {
			oerr.Index = i
			bad = append(bad, oerr)
			continue
		}
		obj.Raw = bytes.Clone(scratch)
		objs = append(objs, obj)
	}
	return objs, bad, nil
}

// splitEnvelope makes the one strict jsontext pass over the input (syntax,
// UTF-8, duplicate names) and finds the objects without decoding them.
func splitEnvelope(data []byte, lim Limits) (envelope, error) {
	var env envelope
	// A bytes.Buffer lets the decoder parse data in place, without a copy.
	dec := jsontext.NewDecoder(bytes.NewBuffer(data))
	tok, err := dec.ReadToken()
	if err != nil {
		return env, fmt.Errorf("not JSON: %w", err)
	}
	if tok.Kind() != '{' {
		return env, errors.New("input is not a JSON object")
	}
	objStart := int(dec.InputOffset()) - 1
	var typ, id string
	var haveObjects bool
	for dec.PeekKind() != '}' {
		tok, err := dec.ReadToken()
		if err != nil {
			return env, fmt.Errorf("not JSON: %w", err)
		}
		switch name := tok.String(); {
		case name == "objects" && dec.PeekKind() == '[':
			// Only a bundle's objects array is split; for a single object
			// that happens to have one, the spans are dropped below.
			haveObjects = true
			if env.objects, err = splitArray(dec, lim); err != nil {
				return env, err
			}
		case name == "type" || name == "id":
			v, err := dec.ReadValue()
			if err != nil {
				return env, fmt.Errorf("not JSON: %w", err)
			}
			s, _ := stringValue(v)
			if name == "type" {
				typ = s
			} else {
				id = s
			}
		default:
			if err := dec.SkipValue(); err != nil {
				return env, fmt.Errorf("not JSON: %w", err)
			}
		}
	}
	if _, err := dec.ReadToken(); err != nil {
		return env, fmt.Errorf("not JSON: %w", err)
	}
	objEnd := int(dec.InputOffset())
	if _, err := dec.ReadToken(); err != io.EOF {
		if err == nil {
			err = errors.New("more than one top-level value")
		}
		return env, fmt.Errorf("not JSON: %w", err)
	}
	if typ != "bundle" {
		env.objects = []span{{objStart, objEnd}}
		return env, nil
	}
	env.bundle = true
	if !IsValidID(id) || IDType(id) != "bundle" {
		return env, fmt.Errorf("bundle id %q is not a bundle identifier", id)
	}
	if !haveObjects {
		return env, errors.New("bundle has no objects array")
	}
	return env, nil
}

// splitArray reads the elements of an array as spans of the input.
func splitArray(dec *jsontext.Decoder, lim Limits) ([]span, error) {
	if _, err := dec.ReadToken(); err != nil { // '['
		return nil, fmt.Errorf("not JSON: %w", err)
	}
	var spans []span
	for dec.PeekKind() != ']' {
		v, err := dec.ReadValue()
		if err != nil {
			return nil, fmt.Errorf("not JSON: %w", err)
		}
		if len(spans) == lim.MaxObjects {
			return nil, fmt.Errorf("bundle has more than %d objects", lim.MaxObjects)
		}
		end := int(dec.InputOffset())
		spans = append(spans, span{end - len(v), end})
	}
	if _, err := dec.ReadToken(); err != nil { // ']'
		return nil, fmt.Errorf("not JSON: %w", err)
	}
	return spans, nil
}

// peekID returns the id member of a raw object if it is a string, for
// naming objects refused before validation.
func peekID(raw []byte) string {
	if kind(raw) != '{' {
		return ""
	}
	id, _ := stringValue(memberValue(raw, "id"))
	return id
}

// ValidateObject validates one object's raw JSON with the same rules and
// default limits as Parse and returns it parsed, with Raw a compacted copy.
// The error, when not nil, is an *ObjectError.
func ValidateObject(raw []byte) (Object, error) {
	lim := Limits{}.withDefaults()
	if len(raw) > lim.MaxObjectBytes {
		return Object{}, &ObjectError{Reason: fmt.Sprintf("object is %d bytes, over the limit of %d", len(raw), lim.MaxObjectBytes)}
	}
	dec := jsontext.NewDecoder(bytes.NewBuffer(raw))
	v, err := dec.ReadValue()
	if err == nil {
		if _, err = dec.ReadToken(); err == io.EOF {
			err = nil
		} else if err == nil {
			err = errors.New("more than one top-level value")
		}
	}
	if err != nil {
		return Object{}, &ObjectError{Reason: "not valid JSON: " + err.Error()}
	}
	c, depth := compact(make([]byte, 0, len(v)), v)
	if depth > lim.MaxDepth {
		return Object{}, &ObjectError{ID: peekID(c), Reason: fmt.Sprintf("nests %d levels deep, over the limit of %d", depth, lim.MaxDepth)}
	}
	obj, oerr := validate(c)
	if oerr != nil {
		return Object{}, oerr
	}
	obj.Raw = c
	return obj, nil
}
