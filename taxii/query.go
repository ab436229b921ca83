package taxii

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// MaxLimit is the largest page a client can ask for; larger limits are
// lowered to it, as TAXII allows (§3.4: a server may return fewer).
const MaxLimit = 1000

// maxMatchValues bounds the values of one match[...] field.
const maxMatchValues = 100

// filters says which URL parameters an endpoint takes (TAXII 2.1 §5.3,
// §5.5, §5.6, §5.8); others are ignored, as TAXII servers do with filters
// they do not support.
type filters struct {
	id, typ, version bool
}

var (
	objectsFilters = filters{id: true, typ: true, version: true}
	objectFilters  = filters{version: true}
	versionFilters = filters{}
	deleteFilters  = filters{version: true}
)

// parseQuery validates the URL parameters of a read. Every value that is
// present must be well formed: a client that mistypes a filter gets 400,
// never a silently unfiltered answer.
func parseQuery(v url.Values, f filters) (Query, error) {
	var q Query
	if s, ok := single(v, "added_after"); ok {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return q, fmt.Errorf("added_after %q: want an RFC 3339 timestamp such as 2024-01-02T03:04:05.123456Z", s)
		}
		q.AddedAfter = t.UTC()
	}
	if s, ok := single(v, "limit"); ok {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return q, fmt.Errorf("limit %q: want a positive integer", s)
		}
		q.Limit = min(n, MaxLimit)
	}
	if s, ok := single(v, "next"); ok {
		if len(s) > 256 {
			return q, fmt.Errorf("next: not a cursor this server issued")
		}
		q.Next = s
	}
	var err error
	if s, ok := single(v, "match[spec_version]"); ok {
		if q.SpecVersions, err = list("match[spec_version]", s, validSpecVersion); err != nil {
			return q, err
		}
	}
	if f.id {
		if s, ok := single(v, "match[id]"); ok {
			if q.IDs, err = list("match[id]", s, validID); err != nil {
				return q, err
			}
		}
	}
	if f.typ {
		if s, ok := single(v, "match[type]"); ok {
			if q.Types, err = list("match[type]", s, validType); err != nil {
				return q, err
			}
		}
	}
	if f.version {
		if s, ok := single(v, "match[version]"); ok {
			if q.Version, err = parseVersion(s); err != nil {
				return q, err
			}
		}
	}
	return q, nil
}

// single returns a parameter's value. Repeating one (?limit=1&limit=2) is
// read as its values joined with commas, which is what TAXII means by
// several values of one field.
func single(v url.Values, name string) (string, bool) {
	vs, ok := v[name]
	if !ok || len(vs) == 0 {
		return "", false
	}
	return strings.Join(vs, ","), true
}

func list(name, s string, valid func(string) bool) ([]string, error) {
	parts := strings.Split(s, ",")
	if len(parts) > maxMatchValues {
		return nil, fmt.Errorf("%s: more than %d values", name, maxMatchValues)
	}
	out := make([]string, 0, len(parts))
	for _, p := range parts {
		p = strings.TrimSpace(p)
		if !valid(p) {
			return nil, fmt.Errorf("%s: %q is not valid", name, p)
		}
		out = append(out, p)
	}
	return out, nil
}

func parseVersion(s string) (VersionMatch, error) {
	var m VersionMatch
	parts := strings.Split(s, ",")
	if len(parts) > maxMatchValues {
		return m, fmt.Errorf("match[version]: more than %d values", maxMatchValues)
	}
	for _, p := range parts {
		switch p = strings.TrimSpace(p); p {
		case "first":
			m.First = true
		case "last":
			m.Last = true
		case "all":
			m.All = true
		default:
			t, err := time.Parse(time.RFC3339Nano, p)
			if err != nil {
				return m, fmt.Errorf("match[version]: %q: want first, last, all or a timestamp", p)
			}
			m.At = append(m.At, t.UTC())
		}
	}
	return m, nil
}

func validSpecVersion(s string) bool {
	maj, min, ok := strings.Cut(s, ".")
	return ok && digits(maj) && digits(min)
}

// validType accepts STIX type names: 3 to 250 of a-z, 0-9 and '-'.
func validType(s string) bool {
	if len(s) < 3 || len(s) > 250 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// validID accepts type--uuid identifiers. The UUID is checked loosely (hex
// and hyphens): an id that cannot exist simply matches nothing.
func validID(s string) bool {
	typ, u, ok := strings.Cut(s, "--")
	if !ok || !validType(typ) || len(u) != 36 {
		return false
	}
	for i := 0; i < len(u); i++ {
		c := u[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' || c == '-') {
			return false
		}
	}
	return true
}

func digits(s string) bool {
	if s == "" || len(s) > 3 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
