package stix

import (
	"bytes"

	"github.com/go-json-experiment/json/jsontext"
)

// The functions in this file walk JSON that jsontext has already accepted
// (syntax, UTF-8, duplicate names). They assume validity for speed but stay
// within bounds on any input, so a bug upstream cannot turn into a panic.

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// stringEnd returns the index just past the string starting at b[i] == '"'.
func stringEnd(b []byte, i int) int {
	i++
	for i < len(b) {
		j := bytes.IndexByte(b[i:], '"')
		if j < 0 {
			return len(b)
		}
		i += j
		// A quote preceded by an odd number of backslashes is escaped.
		n := 0
		for k := i - 1; k >= 0 && b[k] == '\\'; k-- {
			n++
		}
		i++
		if n%2 == 0 {
			return i
		}
	}
	return len(b)
}

// valueEnd returns the index just past the value starting at b[i].
func valueEnd(b []byte, i int) int {
	if i >= len(b) {
		return len(b)
	}
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				i = stringEnd(b, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return len(b)
	default: // number or literal
		for i < len(b) {
			switch b[i] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return i
			}
			i++
		}
		return i
	}
}

// compact appends src to dst without whitespace outside strings and reports
// the maximum nesting depth (an object or array counts one level).
func compact(dst, src []byte) ([]byte, int) {
	depth, maxDepth := 0, 0
	start := 0 // beginning of the pending run to copy
	for i := 0; i < len(src); {
		switch c := src[i]; c {
		case '"':
			i = stringEnd(src, i)
			continue
		case '{', '[':
			depth++
			maxDepth = max(maxDepth, depth)
		case '}', ']':
			depth--
		case ' ', '\t', '\n', '\r':
			dst = append(dst, src[start:i]...)
			for i < len(src) && isSpace(src[i]) {
				i++
			}
			start = i
			continue
		}
		i++
	}
	return append(dst, src[start:]...), maxDepth
}

// kind is the first byte of a value, as jsontext.Kind does: 'n', 'f', 't',
// '"', '0', '{', '['.
func kind(v []byte) byte {
	if len(v) == 0 {
		return 0
	}
	switch c := v[0]; c {
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return '0'
	default:
		return c
	}
}

// member is one name/value pair of an object. name is unescaped.
type member struct {
	name []byte
	val  []byte
}

// objIter iterates over the members of an object value.
type objIter struct {
	b []byte
	i int
}

func newObjIter(obj []byte) objIter { return objIter{b: obj, i: 1} }

// next returns the next member; name is unescaped (allocating only if the
// name contains escapes) and val is the raw value.
func (it *objIter) next() (name, val []byte, ok bool) {
	b := it.b
	i := skipSpace(b, it.i)
	if i < len(b) && b[i] == ',' {
		i = skipSpace(b, i+1)
	}
	if i >= len(b) || b[i] != '"' {
		return nil, nil, false
	}
	e := stringEnd(b, i)
	name = unquoteBytes(b[i:e])
	i = skipSpace(b, e)
	if i >= len(b) || b[i] != ':' {
		return nil, nil, false
	}
	i = skipSpace(b, i+1)
	e = valueEnd(b, i)
	val = b[i:e]
	it.i = e
	return name, val, len(val) > 0
}

// arrIter iterates over the elements of an array value.
type arrIter struct {
	b []byte
	i int
}

func newArrIter(arr []byte) arrIter { return arrIter{b: arr, i: 1} }

func (it *arrIter) next() (val []byte, ok bool) {
	b := it.b
	i := skipSpace(b, it.i)
	if i < len(b) && b[i] == ',' {
		i = skipSpace(b, i+1)
	}
	if i >= len(b) || b[i] == ']' {
		return nil, false
	}
	e := valueEnd(b, i)
	it.i = e
	return b[i:e], e > i
}

// unquoteBytes returns the content of a quoted JSON string, unescaping only
// when needed.
func unquoteBytes(q []byte) []byte {
	if len(q) < 2 {
		return nil
	}
	inner := q[1 : len(q)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		return inner
	}
	u, err := jsontext.AppendUnquote(nil, q)
	if err != nil {
		return inner
	}
	return u
}

// stringValue returns the unescaped content of a string value.
func stringValue(v []byte) (string, bool) {
	if kind(v) != '"' {
		return "", false
	}
	return string(unquoteBytes(v)), true
}

// intValue parses a JSON number written as an integer (no fraction or
// exponent) that fits in an int64.
func intValue(v []byte) (int64, bool) {
	if kind(v) != '0' {
		return 0, false
	}
	neg := v[0] == '-'
	if neg {
		v = v[1:]
	}
	if len(v) == 0 || len(v) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}
