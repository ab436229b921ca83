package binding

import (
	"bytes"
	"errors"
	"fmt"
)

// objectVersion scans the top level of a canonical STIX object for its id and
// version. The version is "modified" when present, else "created" (marking
// definitions are not versioned but have created), else empty (SCOs carry
// neither; their content digest identifies them). The returned slices alias
// obj.
func objectVersion(obj []byte) (id, version []byte, err error) {
	var created, modified []byte
	it := newObjIter(obj)
	for it.next() {
		switch string(it.rawKey()) {
		case `"id"`:
			id, err = plainString(it.val())
		case `"created"`:
			created, err = plainString(it.val())
		case `"modified"`:
			modified, err = plainString(it.val())
		default:
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("property %s: %w", it.rawKey(), err)
		}
	}
	if it.err != nil {
		return nil, nil, it.err
	}
	if id == nil {
		return nil, nil, errors.New(`property "id" missing`)
	}
	version = modified
	if version == nil {
		version = created
	}
	return id, version, nil
}

// plainString returns the contents of a JSON string that has no escapes.
// Identifiers and timestamps never need escapes, so one means the value is
// not what it claims to be.
func plainString(v []byte) ([]byte, error) {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return nil, errors.New("not a string")
	}
	s := v[1 : len(v)-1]
	if bytes.IndexByte(s, '\\') >= 0 {
		return nil, errors.New("escaped characters not allowed")
	}
	return s, nil
}

// ObjectVersion returns the id of a STIX object and the version string a
// binding records for it as object_modified: its "modified", else its
// "created", else "" (SCOs). canonicalObject must be RFC 8785 canonical JSON.
func ObjectVersion(canonicalObject []byte) (id, modified string, err error) {
	i, v, err := objectVersion(canonicalObject)
	if err != nil {
		return "", "", fmt.Errorf("binding: object: %w", err)
	}
	return string(i), string(v), nil
}
