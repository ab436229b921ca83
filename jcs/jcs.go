// Package jcs produces the RFC 8785 (JSON Canonicalization Scheme) form of a
// JSON value. Everything Tearline signs or hashes (bindings, labels, agreements,
// recall notices, audit leaves, object digests) goes through Canonicalize, so
// two nodes compute the same bytes for the same value. It is its own package
// so that signers need not import the STIX parser only to canonicalise.
//
// The work is done by go-json-experiment's jsontext; this package adds the
// I-JSON number check RFC 8785 requires (see ErrNumberRange). Tests compare
// it with github.com/gowebpki/jcs, an independent implementation.
package jcs

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/go-json-experiment/json/jsontext"
)

// ErrNumberRange reports a JSON number that has no IEEE-754 double
// representation. RFC 8785 requires I-JSON input; the canonicaliser we use
// would otherwise clamp such a number silently, so two different documents
// could share one canonical form (and one signature).
var ErrNumberRange = errors.New("number outside the range of an IEEE-754 double")

// Canonicalize returns the RFC 8785 (JCS) canonical form of a JSON value.
// Duplicate member names, invalid UTF-8 and out-of-range numbers are refused.
// The input is not modified.
func Canonicalize(raw []byte) ([]byte, error) {
	if err := checkNumbers(raw); err != nil {
		return nil, err
	}
	v := make(jsontext.Value, len(raw))
	copy(v, raw)
	if err := v.Canonicalize(); err != nil {
		return nil, fmt.Errorf("canonicalize: %w", err)
	}
	return v, nil
}

// checkNumbers scans raw for number literals outside strings and refuses any
// that overflow a float64. STIX objects carry few numbers, so this is a cheap
// byte scan in the common case.
func checkNumbers(raw []byte) error {
	inString := false
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if inString {
			switch c {
			case '\\':
				i++
			case '"':
				inString = false
			}
			continue
		}
		switch {
		case c == '"':
			inString = true
		case c == '-' || (c >= '0' && c <= '9'):
			j := i + 1
			for j < len(raw) && isNumberByte(raw[j]) {
				j++
			}
			if _, err := strconv.ParseFloat(string(raw[i:j]), 64); err != nil {
				var ne *strconv.NumError
				if errors.As(err, &ne) && ne.Err == strconv.ErrRange {
					return fmt.Errorf("%w: %s", ErrNumberRange, raw[i:j])
				}
				// Syntax errors are left to the JSON parser, which reports them with an offset.
			}
			i = j - 1
		}
	}
	return nil
}

func isNumberByte(c byte) bool {
	return (c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-'
}
