package stix

import "strings"

// IsValidID reports whether id has the STIX identifier form <type>--<UUID>
// (STIX 2.1 §2.9): a valid type name, then an RFC 4122 UUID in its 8-4-4-4-12
// hex form with an RFC 4122 variant (10xx) and a version from 1 to 8 (RFC 9562
// added 6-8). Hex digits may be upper case: RFC 4122 makes them case
// insensitive on input, and the OASIS examples carry one such id. IDs are
// compared as the exact strings received; nothing is normalised.
func IsValidID[S ~string | ~[]byte](id S) bool {
	const uuidLen = 36
	n := len(id)
	if n < 3+2+uuidLen {
		return false
	}
	t := n - uuidLen - 2
	if id[t] != '-' || id[t+1] != '-' {
		return false
	}
	return validTypeName(id[:t]) && validUUID(id[t+2:])
}

// IDType returns the type part of a STIX identifier ("indicator" for
// "indicator--..."), or "" if id has no "--".
func IDType(id string) string {
	i := strings.Index(id, "--")
	if i < 0 {
		return ""
	}
	return id[:i]
}

// validTypeName checks a type name: 3 to 250 characters of a-z, 0-9 and '-',
// starting with a letter, not ending with '-' and without "--" (STIX 2.1
// §11.1, and what identifiers need to be split unambiguously).
func validTypeName[S ~string | ~[]byte](s S) bool {
	if len(s) < 3 || len(s) > 250 || s[0] < 'a' || s[0] > 'z' || s[len(s)-1] == '-' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case c == '-':
			if s[i-1] == '-' {
				return false
			}
		default:
			return false
		}
	}
	return true
}

func validUUID[S ~string | ~[]byte](u S) bool {
	if len(u) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		c := u[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
			continue
		case 14: // version
			if c < '1' || c > '8' {
				return false
			}
			continue
		case 19: // variant 10xx
			switch c {
			case '8', '9', 'a', 'b', 'A', 'B':
				continue
			}
			return false
		}
		if !isHex(c) {
			return false
		}
	}
	return true
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// class is what the specification says an object type is.
type class uint8

const (
	classCustom class = iota // unknown: x-* and extension-defined types
	classSDO
	classSRO
	classSCO
	classMarking // marking-definition
	classMeta    // language-content, extension-definition
	classBundle
)

func classOf(t string) class {
	switch t {
	case "attack-pattern", "campaign", "course-of-action", "grouping", "identity",
		"incident", "indicator", "infrastructure", "intrusion-set", "location",
		"malware", "malware-analysis", "note", "observed-data", "opinion", "report",
		"threat-actor", "tool", "vulnerability":
		return classSDO
	case "relationship", "sighting":
		return classSRO
	case "artifact", "autonomous-system", "directory", "domain-name", "email-addr",
		"email-message", "file", "ipv4-addr", "ipv6-addr", "mac-addr", "mutex",
		"network-traffic", "process", "software", "url", "user-account",
		"windows-registry-key", "x509-certificate":
		return classSCO
	case "marking-definition":
		return classMarking
	case "language-content", "extension-definition":
		return classMeta
	case "bundle":
		return classBundle
	}
	return classCustom
}
