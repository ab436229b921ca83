// Package label implements Tearline confidentiality labels.
//
// A label follows the model of NATO ADatP-4774 (policy, classification and
// categories) and travels as a STIX 2.1 marking-definition carrying a Tearline
// property extension. Labels are content-addressed: the marking-definition id
// is derived from the label content, so equal labels get equal ids on every
// node and a label can never be edited in place (STIX marking definitions are
// not versioned).
//
// The policy vocabulary (classification levels, banners, audiences, country
// groups, caveats, disciplines, topics) comes from node configuration and is
// compiled into an immutable Registry. See docs/LABELS.md for the model, its
// mapping to ADatP-4774 and the banner grammar.
package label

import (
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/tearline/tearline/jcs"
)

// Label is one confidentiality label. It is a value type; a label in normal
// form (see Registry.Normalize) has upper-case fields and sorted,
// de-duplicated, non-empty slices (nil when empty).
type Label struct {
	Policy         string   // "NATO", "NATIONAL", ... (from config)
	Classification string   // level name within the policy, e.g. "SECRET"
	ReleasableTo   []string // ISO 3166 alpha-3 codes and group names (FVEY, NATO) as written; groups are not expanded in the label
	Compartments   []string // RESTRICTIVE: a reader must hold all of them
	Caveats        []string // known caveats, e.g. ORCON (originator control), NOFORN (originator's nationals only)
	TLP            string   // "", "CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"
	Disciplines    []string // SIGINT, IMINT, GEOINT, HUMINT, OSINT, ...
	Topics         []string // COUNTER-TERRORISM, CYBER, ...
	Grading        string   // Admiralty code: reliability A-F and credibility 1-6, e.g. "B2", or ""
	Originator     string   // originating nation, ISO 3166 alpha-3, may be ""
}

// Caveats with built-in meaning.
const (
	CaveatORCON  = "ORCON"  // originator must approve any further dissemination
	CaveatNOFORN = "NOFORN" // releasable only to nationals of the originator's country
)

// Equal reports whether l and m have the same content. Nil and empty slices
// are equal.
func (l Label) Equal(m Label) bool {
	return l.Policy == m.Policy &&
		l.Classification == m.Classification &&
		slices.Equal(l.ReleasableTo, m.ReleasableTo) &&
		slices.Equal(l.Compartments, m.Compartments) &&
		slices.Equal(l.Caveats, m.Caveats) &&
		l.TLP == m.TLP &&
		slices.Equal(l.Disciplines, m.Disciplines) &&
		slices.Equal(l.Topics, m.Topics) &&
		l.Grading == m.Grading &&
		l.Originator == m.Originator
}

// Clone returns a copy of l that shares no slice with it.
func (l Label) Clone() Label {
	l.ReleasableTo = slices.Clone(l.ReleasableTo)
	l.Compartments = slices.Clone(l.Compartments)
	l.Caveats = slices.Clone(l.Caveats)
	l.Disciplines = slices.Clone(l.Disciplines)
	l.Topics = slices.Clone(l.Topics)
	return l
}

// HasCaveat reports whether the label carries caveat c (upper-case).
func (l Label) HasCaveat(c string) bool {
	return slices.Contains(l.Caveats, c)
}

// normalize puts the registry-independent parts of l into normal form. It
// never shares backing arrays with the input: Label is a value type and a
// caller's slices must not change under it.
func normalize(l Label) Label {
	l.Policy = upperTrim(l.Policy)
	l.Classification = upperTrim(l.Classification)
	l.ReleasableTo = normList(l.ReleasableTo)
	l.Compartments = normList(l.Compartments)
	l.Caveats = normList(l.Caveats)
	l.TLP = normTLP(l.TLP)
	l.Disciplines = normList(l.Disciplines)
	l.Topics = normList(l.Topics)
	l.Grading = upperTrim(l.Grading)
	l.Originator = upperTrim(l.Originator)
	return l
}

func upperTrim(s string) string { return strings.ToUpper(strings.TrimSpace(s)) }

func normList(in []string) []string {
	if len(in) == 0 {
		return nil
	}
	out := make([]string, 0, len(in))
	for _, s := range in {
		if s = upperTrim(s); s != "" {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return nil
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// normTLP accepts the spellings people write ("tlp:amber", "white") and
// returns the bare upper-case TLP 2.0 name. Unknown values are kept
// (upper-cased) so that Validate can name them.
func normTLP(s string) string {
	s = upperTrim(s)
	if rest, ok := strings.CutPrefix(s, "TLP:"); ok {
		s = strings.TrimSpace(rest)
	}
	if s == "WHITE" { // TLP 1.0 name, replaced by CLEAR in TLP 2.0
		s = "CLEAR"
	}
	return s
}

// extensionBody is the JSON form of a label inside the marking-definition
// extension. Field order does not matter: the bytes are canonicalised (RFC
// 8785) before use.
type extensionBody struct {
	ExtensionType  string   `json:"extension_type"`
	Policy         string   `json:"policy,omitempty"`
	Classification string   `json:"classification,omitempty"`
	ReleasableTo   []string `json:"releasable_to,omitempty"`
	Compartments   []string `json:"compartments,omitempty"`
	Caveats        []string `json:"caveats,omitempty"`
	TLP            string   `json:"tlp,omitempty"`
	Disciplines    []string `json:"disciplines,omitempty"`
	Topics         []string `json:"topics,omitempty"`
	Grading        string   `json:"grading,omitempty"`
	Originator     string   `json:"originator,omitempty"`
}

func bodyOf(l Label) extensionBody {
	return extensionBody{
		ExtensionType:  "property-extension",
		Policy:         l.Policy,
		Classification: l.Classification,
		ReleasableTo:   l.ReleasableTo,
		Compartments:   l.Compartments,
		Caveats:        l.Caveats,
		TLP:            l.TLP,
		Disciplines:    l.Disciplines,
		Topics:         l.Topics,
		Grading:        l.Grading,
		Originator:     l.Originator,
	}
}

func (b extensionBody) label() Label {
	return Label{
		Policy:         b.Policy,
		Classification: b.Classification,
		ReleasableTo:   b.ReleasableTo,
		Compartments:   b.Compartments,
		Caveats:        b.Caveats,
		TLP:            b.TLP,
		Disciplines:    b.Disciplines,
		Topics:         b.Topics,
		Grading:        b.Grading,
		Originator:     b.Originator,
	}
}

// canonicalBody returns the RFC 8785 form of the extension object for l,
// which is both what MarkingDefinition embeds and what the id hashes.
func canonicalBody(l Label) []byte {
	raw, err := json.Marshal(bodyOf(l))
	if err != nil {
		return nil // unreachable: only strings and string slices
	}
	c, err := jcs.Canonicalize(raw)
	if err != nil {
		return nil // unreachable: encoding/json emits valid UTF-8 and no numbers
	}
	return c
}

// idNamespace is the fixed Tearline label namespace UUID
// a9b6017c-c647-4e28-9dbd-9f289abecaad as raw bytes. Changing it changes
// every label id and breaks every partner.
const idNamespace = "\xa9\xb6\x01\x7c\xc6\x47\x4e\x28\x9d\xbd\x9f\x28\x9a\xbe\xca\xad"

// IDNamespace is the Tearline label namespace UUID used by Label.ID.
const IDNamespace = "a9b6017c-c647-4e28-9dbd-9f289abecaad"

// ID returns the marking-definition id of l: "marking-definition--" followed
// by the UUIDv5 (RFC 9562) of the canonical JSON of the label's extension
// object under IDNamespace. The label is normalised first, so labels with the
// same meaning get the same id on every node whatever their local spelling.
func (l Label) ID() string {
	return "marking-definition--" + uuidV5(idNamespace, canonicalBody(normalize(l)))
}

// uuidV5 is RFC 9562 §5.5 (SHA-1 name-based UUID). Written out rather than
// imported: it is eight lines and partners must be able to reproduce it.
func uuidV5(ns string, name []byte) string {
	h := sha1.New()
	h.Write([]byte(ns))
	h.Write(name)
	var u [16]byte
	copy(u[:], h.Sum(nil))
	u[6] = u[6]&0x0f | 0x50 // version 5
	u[8] = u[8]&0x3f | 0x80 // RFC 9562 variant
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:], u[10:])
	return string(b[:])
}

// FieldError reports a problem with one label field. Field is the JSON
// property name of the field (policy, classification, releasable_to, ...).
type FieldError struct {
	Field  string
	Value  string // the offending value, if any
	Reason string
}

func (e *FieldError) Error() string {
	if e.Value == "" {
		return fmt.Sprintf("label: %s: %s", e.Field, e.Reason)
	}
	return fmt.Sprintf("label: %s: %q %s", e.Field, e.Value, e.Reason)
}

func fieldErr(field, value, reason string) error {
	return &FieldError{Field: field, Value: value, Reason: reason}
}
