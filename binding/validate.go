package binding

import (
	"crypto/sha1"
	"encoding/hex"
	"strings"
	"time"
)

// isUUID reports whether s is a UUID in the 8-4-4-4-12 hex form STIX
// identifiers use. Hex digits may be upper case, as package stix accepts
// them (RFC 4122 makes them case insensitive on input): an object published
// with such an id is bound under that id. Ids are compared as the exact
// strings received, never normalised, so the binding names the object by
// the same bytes the object carries.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !isLowerHex(c) && !(c >= 'A' && c <= 'F') {
				return false
			}
		}
	}
	return true
}

func isLowerHex(c byte) bool { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') }

// isIdentifier reports whether s is a STIX identifier "<type>--<uuid>". If
// typ is not empty the type must equal it.
func isIdentifier(s, typ string) bool {
	i := strings.Index(s, "--")
	if i < 0 || !isUUID(s[i+2:]) {
		return false
	}
	if typ != "" {
		return s[:i] == typ
	}
	return isSTIXType(s[:i])
}

// isSTIXType follows STIX 2.1 §3.1: a–z, 0–9 and hyphen, 3 to 250 characters.
func isSTIXType(t string) bool {
	if len(t) < 3 || len(t) > 250 {
		return false
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// isDigestHex reports whether s is a lowercase hex SHA-256 value.
func isDigestHex(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isLowerHex(s[i]) {
			return false
		}
	}
	return true
}

// parseBindingTime accepts exactly TimeLayout, so a binding time has a
// single spelling (the signature covers the spelling, not the instant).
func parseBindingTime(s string) (time.Time, bool) {
	t, err := time.Parse(TimeLayout, s)
	if err != nil || t.Format(TimeLayout) != s {
		return time.Time{}, false
	}
	return t, true
}

// isSTIXTimestamp accepts the STIX 2.1 timestamp form of a bound object's
// version: RFC 3339 in UTC with a 'Z'. The precision is the object's own and
// is kept as is.
func isSTIXTimestamp(s string) bool {
	if len(s) < 20 || s[len(s)-1] != 'Z' {
		return false
	}
	_, err := time.Parse(time.RFC3339Nano, s)
	return err == nil
}

// isSelector checks the syntax of a STIX 2.1 granular-marking selector
// (§7.2.3): components separated by '.', each a property name or dictionary
// key, or a list index written "[n]"; the first component is a property
// name. Dictionary keys such as "SHA-256" may use upper case, so names allow
// A–Z, a–z, 0–9, '_' and '-'. Whether the selector resolves inside the
// object is the labelling code's concern: the binding only carries it.
func isSelector(s string) bool {
	if s == "" || len(s) > 4096 {
		return false
	}
	first := true
	for comp := range strings.SplitSeq(s, ".") {
		if comp == "" {
			return false
		}
		if comp[0] == '[' {
			if first || len(comp) < 3 || comp[len(comp)-1] != ']' {
				return false
			}
			for i := 1; i < len(comp)-1; i++ {
				if comp[i] < '0' || comp[i] > '9' {
					return false
				}
			}
		} else {
			if len(comp) > 250 {
				return false
			}
			for i := 0; i < len(comp); i++ {
				c := comp[i]
				if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
					return false
				}
			}
		}
		first = false
	}
	return true
}

// bindingID derives the id of a binding: UUIDv5 (RFC 9562 §5.5) in the
// namespace of ExtensionID, over the signing input with the "id" member
// removed. The name is given in two pieces (before and after the removed
// member) so that no copy is made.
func bindingID(a, b []byte) string {
	h := sha1.New()
	h.Write(extensionUUID[:])
	h.Write(a)
	h.Write(b)
	var sum [sha1.Size]byte
	h.Sum(sum[:0])
	sum[6] = sum[6]&0x0f | 0x50 // version 5
	sum[8] = sum[8]&0x3f | 0x80 // RFC 4122 variant

	const prefix = Type + "--"
	var buf [len(prefix) + 36]byte
	copy(buf[:], prefix)
	dst := buf[len(prefix):]
	hex.Encode(dst[0:8], sum[0:4])
	dst[8] = '-'
	hex.Encode(dst[9:13], sum[4:6])
	dst[13] = '-'
	hex.Encode(dst[14:18], sum[6:8])
	dst[18] = '-'
	hex.Encode(dst[19:23], sum[8:10])
	dst[23] = '-'
	hex.Encode(dst[24:36], sum[10:16])
	return string(buf[:])
}
