package binding

import (
	"errors"
	"fmt"
)

// This file walks JSON that jcs.Canonicalize has already produced. Working on
// canonical bytes (no whitespace, members sorted, no duplicates) lets Parse,
// Bind and Verify find members and cut them out by offset, without a generic
// decoder, maps or reflection. The functions still check bounds everywhere:
// they must never panic, even on bytes that are not canonical.

var errSyntax = errors.New("malformed canonical JSON")

// skipValue returns the offset just past the JSON value starting at b[i].
func skipValue(b []byte, i int) (int, error) {
	if i >= len(b) {
		return 0, errSyntax
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end, err := skipString(b, j)
				if err != nil {
					return 0, err
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, nil
				}
			}
		}
		return 0, errSyntax
	default: // number, true, false, null
		j := i
		for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' {
			j++
		}
		if j == i {
			return 0, errSyntax
		}
		return j, nil
	}
}

// skipString returns the offset just past the string starting at b[i] == '"'.
func skipString(b []byte, i int) (int, error) {
	if i >= len(b) || b[i] != '"' {
		return 0, errSyntax
	}
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1, nil
		}
	}
	return 0, errSyntax
}

// objIter iterates over the members of one canonical JSON object.
type objIter struct {
	b   []byte // the whole object, '{' to '}'
	i   int    // offset of the next member's name, or of the closing '}'
	err error
	// Spans of the current member, as offsets into b.
	keyStart, valStart, valEnd int
}

func newObjIter(obj []byte) objIter {
	if len(obj) < 2 || obj[0] != '{' || obj[len(obj)-1] != '}' {
		return objIter{err: fmt.Errorf("%w: expected an object", errSyntax)}
	}
	return objIter{b: obj, i: 1}
}

// next advances to the next member. It returns false at the end of the object
// or on error (check it.err).
func (it *objIter) next() bool {
	if it.err != nil || it.i >= len(it.b)-1 {
		return false
	}
	if it.i > 1 {
		if it.b[it.i] != ',' {
			it.err = errSyntax
			return false
		}
		it.i++
	}
	keyEnd, err := skipString(it.b, it.i)
	if err != nil || keyEnd >= len(it.b) || it.b[keyEnd] != ':' {
		it.err = errSyntax
		return false
	}
	valEnd, err := skipValue(it.b, keyEnd+1)
	if err != nil || valEnd > len(it.b)-1 {
		it.err = errSyntax
		return false
	}
	it.keyStart, it.valStart, it.valEnd = it.i, keyEnd+1, valEnd
	it.i = valEnd
	return true
}

// rawKey is the current member name with its quotes, as it appears in the
// canonical text. Known names contain no escapes, so comparing quoted forms
// is exact.
func (it *objIter) rawKey() []byte { return it.b[it.keyStart : it.valStart-1] }

func (it *objIter) val() []byte { return it.b[it.valStart:it.valEnd] }

// memberSpan is the span to delete to remove the current member together
// with one neighbouring comma, leaving a canonical object.
func (it *objIter) memberSpan() (start, end int) {
	start, end = it.keyStart, it.valEnd
	switch {
	case start > 1: // not first: take the comma before it
		start--
	case end < len(it.b)-1: // first but not last: take the comma after it
		end++
	}
	return start, end
}

// arrIter iterates over the elements of one canonical JSON array.
type arrIter struct {
	b          []byte
	i          int
	err        error
	start, end int
}

func newArrIter(arr []byte) arrIter {
	if len(arr) < 2 || arr[0] != '[' || arr[len(arr)-1] != ']' {
		return arrIter{err: fmt.Errorf("%w: expected an array", errSyntax)}
	}
	return arrIter{b: arr, i: 1}
}

func (it *arrIter) next() bool {
	if it.err != nil || it.i >= len(it.b)-1 {
		return false
	}
	if it.i > 1 {
		if it.b[it.i] != ',' {
			it.err = errSyntax
			return false
		}
		it.i++
	}
	end, err := skipValue(it.b, it.i)
	if err != nil || end > len(it.b)-1 {
		it.err = errSyntax
		return false
	}
	it.start, it.end = it.i, end
	it.i = end
	return true
}

func (it *arrIter) val() []byte { return it.b[it.start:it.end] }

// cut returns b without b[start:end], in a new slice.
func cut(b []byte, start, end int) []byte {
	out := make([]byte, 0, len(b)-(end-start))
	out = append(out, b[:start]...)
	return append(out, b[end:]...)
}
