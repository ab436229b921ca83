// Package stixbuild makes the STIX 2.1 objects a person describes in a
// form: an indicator from one value or a pattern, a short report over
// objects named by id. Every object it returns is checked by package stix
// (so an indicator's pattern by stixpattern) before it leaves, so a caller
// never ingests something this package built wrongly.
package stixbuild

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/tearline/tearline/searchterm"
	"github.com/tearline/tearline/stix"
	"github.com/tearline/tearline/stixpattern"
)

// Limits on what a form may carry: enough for any real indicator or
// report, small enough that a form cannot become a bulk import.
const (
	MaxName        = 256
	MaxDescription = 16 << 10
	MaxRefs        = 1000
	MaxTypes       = 16
	maxValue       = 2048 // searchterm refuses longer values too
	maxPattern     = 16 << 10
)

// ErrInvalid is wrapped by every error about the input.
var ErrInvalid = errors.New("invalid input")

func invalid(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, a...))
}

// Built is an object made here: its id and its JSON.
type Built struct {
	ID  string
	Raw []byte
}

// Kinds of what an indicator was built from (Pattern's kind).
const (
	KindPattern = "pattern" // a STIX pattern given as such
	KindIPv4    = "ipv4-addr"
	KindIPv6    = "ipv6-addr"
	KindCIDR4   = "ipv4-cidr"
	KindCIDR6   = "ipv6-cidr"
	KindDomain  = "domain-name"
	KindURL     = "url"
	KindEmail   = "email-addr"
	KindMD5     = "MD5"
	KindSHA1    = "SHA-1"
	KindSHA256  = "SHA-256"
	KindSHA512  = "SHA-512"
)

// Pattern returns the STIX pattern for value, what kind of value it took
// it for, and the value as the pattern holds it. value is either a STIX
// pattern ("[" first; returned in its canonical form) or one exact value,
// classified as search does (package searchterm: surrounding punctuation
// and defanging such as "evil[.]com" undone): an IP address, a CIDR block,
// a domain name, a URL, an e-mail address, or an MD5, SHA-1, SHA-256 or
// SHA-512 digest. The value is quoted by the pattern grammar's rule (only
// ' and \ escaped), and the pattern is parsed back before it is returned.
func Pattern(value string) (pattern, kind, text string, err error) {
	value = strings.TrimSpace(value)
	switch {
	case value == "":
		return "", "", "", invalid("no value or pattern")
	case !utf8.ValidString(value):
		return "", "", "", invalid("the value is not UTF-8 text")
	case strings.HasPrefix(value, "["):
		if len(value) > maxPattern {
			return "", "", "", invalid("the pattern is longer than %d bytes", maxPattern)
		}
		p, err := stixpattern.Parse(value)
		if err != nil {
			return "", "", "", fmt.Errorf("%w: not a STIX pattern: %w", ErrInvalid, err)
		}
		return p.String(), KindPattern, "", nil
	case len(value) > maxValue:
		return "", "", "", invalid("the value is longer than %d bytes", maxValue)
	}
	v, ok := searchterm.Classify(value)
	if !ok {
		return "", "", "", invalid("not an IP address, CIDR block, domain name, URL, e-mail address or hash, nor a STIX pattern in [ ]")
	}
	path, op := "value", "="
	switch v.Kind {
	case searchterm.KindIP:
		kind = KindIPv4
		if strings.Contains(v.Text, ":") {
			kind = KindIPv6
		}
	case searchterm.KindCIDR:
		kind, op = KindCIDR4, "ISSUBSET"
		if strings.Contains(v.Text, ":") {
			kind = KindCIDR6
		}
	case searchterm.KindDomain:
		kind = KindDomain
	case searchterm.KindURL:
		kind = KindURL
	case searchterm.KindEmail:
		kind = KindEmail
	case searchterm.KindHash:
		switch len(v.Text) {
		case 32:
			kind = KindMD5
		case 40:
			kind = KindSHA1
		case 64:
			kind = KindSHA256
		case 128:
			kind = KindSHA512
		default:
			return "", "", "", invalid("a hex digest of %d characters is not MD5, SHA-1, SHA-256 or SHA-512: give a pattern instead", len(v.Text))
		}
	case searchterm.KindID:
		return "", "", "", invalid("a STIX id is not an indicator's value")
	default:
		return "", "", "", invalid("a value of kind %s cannot make a pattern", v.Kind)
	}
	object := kind
	switch kind {
	case KindCIDR4:
		object = KindIPv4
	case KindCIDR6:
		object = KindIPv6
	case KindMD5, KindSHA1, KindSHA256, KindSHA512:
		object, path = "file", "hashes."+hashKey(kind)
	}
	lit := stixpattern.Value{Kind: stixpattern.String, Text: v.Text}
	pattern = "[" + object + ":" + path + " " + op + " " + lit.String() + "]"
	p, err := stixpattern.Parse(pattern)
	if err != nil {
		// Classify's values are ones the grammar holds; this is our bug.
		return "", "", "", fmt.Errorf("pattern for %s value: %w", kind, err)
	}
	return p.String(), kind, v.Text, nil
}

// hashKey is the hashes key of an algorithm in a pattern's object path:
// bare where it is an identifier, quoted where it has a hyphen.
func hashKey(alg string) string {
	if strings.Contains(alg, "-") {
		return "'" + alg + "'"
	}
	return alg
}

// IndicatorInput is what a person says about one indicator.
type IndicatorInput struct {
	Value       string // one value or a STIX pattern (Pattern)
	Name        string // "" names it after its value
	Description string
	Types       []string  // indicator_types (an open vocabulary: indicator-type-ov)
	ValidFrom   time.Time // zero: now
}

// IndicatorTypes is the STIX 2.1 indicator-type-ov vocabulary, offered by
// forms; other lower-case words are accepted (the vocabulary is open).
var IndicatorTypes = []string{"anomalous-activity", "anonymization", "attribution", "benign", "compromised", "malicious-activity", "unknown"}

// ReportTypes is the STIX 2.1 report-type-ov vocabulary.
var ReportTypes = []string{"attack-pattern", "campaign", "identity", "indicator", "intrusion-set", "malware", "observed-data",
	"threat-actor", "threat-report", "tool", "vulnerability"}

// Indicator builds an indicator (pattern_type stix) created at now.
func Indicator(in IndicatorInput, now time.Time) (Built, error) {
	pattern, kind, text, err := Pattern(in.Value)
	if err != nil {
		return Built{}, err
	}
	name := strings.TrimSpace(in.Name)
	if name == "" {
		name = text
		if kind == KindPattern {
			name = pattern
		}
		if len(name) > MaxName {
			name = name[:MaxName]
			for !utf8.ValidString(name) {
				name = name[:len(name)-1]
			}
		}
	}
	if err := checkText(name, in.Description); err != nil {
		return Built{}, err
	}
	types, err := vocab("indicator types", in.Types)
	if err != nil {
		return Built{}, err
	}
	from := in.ValidFrom
	if from.IsZero() {
		from = now
	}
	id := "indicator--" + uuid.NewString()
	ts := Timestamp(now)
	o := map[string]any{"type": "indicator", "spec_version": "2.1", "id": id, "created": ts, "modified": ts,
		"name": name, "pattern": pattern, "pattern_type": "stix", "valid_from": Timestamp(from)}
	if d := strings.TrimSpace(in.Description); d != "" {
		o["description"] = d
	}
	if len(types) > 0 {
		o["indicator_types"] = types
	}
	return finish(id, o)
}

// ReportInput is what a person says about a short report.
type ReportInput struct {
	Name, Description string
	Types             []string  // report_types (report-type-ov)
	Published         time.Time // zero: now
	Refs              []string  // object_refs: STIX ids, at least one
}

// Report builds a report created at now. Its refs must be STIX ids; that
// the publisher may read them is the caller's to check.
func Report(in ReportInput, now time.Time) (Built, error) {
	name := strings.TrimSpace(in.Name)
	if name == "" {
		return Built{}, invalid("a report needs a name")
	}
	if err := checkText(name, in.Description); err != nil {
		return Built{}, err
	}
	types, err := vocab("report types", in.Types)
	if err != nil {
		return Built{}, err
	}
	refs, err := Refs(in.Refs)
	if err != nil {
		return Built{}, err
	}
	pub := in.Published
	if pub.IsZero() {
		pub = now
	}
	id := "report--" + uuid.NewString()
	ts := Timestamp(now)
	o := map[string]any{"type": "report", "spec_version": "2.1", "id": id, "created": ts, "modified": ts,
		"name": name, "published": Timestamp(pub), "object_refs": refs}
	if d := strings.TrimSpace(in.Description); d != "" {
		o["description"] = d
	}
	if len(types) > 0 {
		o["report_types"] = types
	}
	return finish(id, o)
}

// Refs checks a list of object refs: STIX ids, each once (the first
// mention kept), at least one, at most MaxRefs.
func Refs(refs []string) ([]string, error) {
	var out []string
	for i, r := range refs {
		r = strings.TrimSpace(r)
		if r == "" {
			continue
		}
		if !stix.IsValidID(r) {
			return nil, invalid("object ref %d is not a STIX id (type--UUID)", i+1)
		}
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	switch {
	case len(out) == 0:
		return nil, invalid("a report needs at least one object ref")
	case len(out) > MaxRefs:
		return nil, invalid("more than %d object refs", MaxRefs)
	}
	return out, nil
}

// SplitRefs splits pasted ids on white space and commas.
func SplitRefs(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || r == ' ' || r == '\t' || r == '\n' || r == '\r' })
}

func checkText(name, description string) error {
	switch {
	case !utf8.ValidString(name) || !utf8.ValidString(description):
		return invalid("name and description must be UTF-8 text")
	case len(name) > MaxName:
		return invalid("the name is longer than %d bytes", MaxName)
	case len(description) > MaxDescription:
		return invalid("the description is longer than %d bytes", MaxDescription)
	}
	return nil
}

// vocab checks words of an open vocabulary: lower-case letters, digits and
// hyphens, as STIX's vocabularies are written.
func vocab(what string, words []string) ([]string, error) {
	var out []string
	for _, w := range words {
		w = strings.TrimSpace(w)
		if w == "" || slices.Contains(out, w) {
			continue
		}
		if len(w) > 64 || strings.Trim(w, "abcdefghijklmnopqrstuvwxyz0123456789-") != "" {
			return nil, invalid("%s: %q is not a vocabulary word (lower-case letters, digits, hyphens)", what, w)
		}
		out = append(out, w)
	}
	if len(out) > MaxTypes {
		return nil, invalid("more than %d %s", MaxTypes, what)
	}
	return out, nil
}

// finish encodes o and has package stix check it as any publish would.
func finish(id string, o map[string]any) (Built, error) {
	raw, err := json.Marshal(o)
	if err != nil {
		return Built{}, fmt.Errorf("encode %s: %w", id, err)
	}
	_, bad, err := stix.Parse(raw, stix.Limits{})
	if err != nil {
		return Built{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if len(bad) > 0 {
		return Built{}, fmt.Errorf("%w: %s", ErrInvalid, bad[0].Error())
	}
	return Built{ID: id, Raw: raw}, nil
}

// Timestamp writes t as STIX does: UTC, milliseconds.
func Timestamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// ParseTime reads a time a form gives: RFC 3339, a browser's
// datetime-local ("2026-12-08T01:30", taken as UTC) or a date (midnight
// UTC). "" is the zero time.
func ParseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			if t.Year() < 1 || t.Year() > 9999 {
				break
			}
			return t.UTC(), nil
		}
	}
	return time.Time{}, invalid("%q is not a date or time (YYYY-MM-DD, or YYYY-MM-DDTHH:MM in UTC)", s)
}
