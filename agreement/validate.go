package agreement

import (
	"encoding/base64"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/tearline/tearline/binding"
	"github.com/tearline/tearline/label"
)

// Limits on the size of a document's parts. They are generous for real
// agreements and keep the compiled form small.
const (
	MaxParties       = 64
	MaxTerms         = 256
	MaxRetentionDays = 36600 // a hundred years
)

// Validate checks d. With a registry it also checks the vocabulary (topics,
// disciplines, the levels of policies this node knows, and that the table
// ranks them in this node's order); without one it checks form only. The
// error is a *FieldError naming the first offending field.
func (d *Document) Validate(reg *label.Registry) error {
	if d == nil {
		return fieldErr("", "no document")
	}
	if !isID(d.ID) {
		return fieldErr("id", "%q is not an agreement id (3-128 of a-z, 0-9, '.', '_', '-', starting with a letter or digit)", d.ID)
	}
	if d.Title == "" || !isText(d.Title) {
		return fieldErr("title", "must be non-empty text without control characters")
	}
	if d.Version < 1 {
		return fieldErr("version", "must be 1 or more")
	}
	eff, err := time.Parse(time.RFC3339, d.Effective)
	if err != nil {
		return fieldErr("effective", "%q is not an RFC 3339 time (e.g. 2026-01-01T00:00:00Z)", d.Effective)
	}
	exp, err := time.Parse(time.RFC3339, d.Expires)
	if err != nil {
		return fieldErr("expires", "%q is not an RFC 3339 time (e.g. 2027-01-01T00:00:00Z)", d.Expires)
	}
	if !exp.After(eff) {
		return fieldErr("expires", "must be after effective")
	}
	if err := d.validateParties(); err != nil {
		return err
	}
	ranks, err := d.validateEquivalence(reg)
	if err != nil {
		return err
	}
	if err := d.validateTerms(reg, ranks); err != nil {
		return err
	}
	return d.validateSignatures()
}

func (d *Document) validateParties() error {
	if len(d.Parties) < 2 {
		return fieldErr("parties", "an agreement needs at least two parties")
	}
	if len(d.Parties) > MaxParties {
		return fieldErr("parties", "more than %d parties", MaxParties)
	}
	names := make(map[string]bool, len(d.Parties))
	keys := make(map[string]bool, len(d.Parties))
	for i, p := range d.Parties {
		at := idx("parties", i)
		if !isText(p.Name) || p.Name == "" || len(p.Name) > 256 || p.Name == Wildcard {
			return fieldErr(at+".name", "must be a node name (1-256 characters, no control characters)")
		}
		if names[p.Name] {
			return fieldErr(at+".name", "%q names two parties", p.Name)
		}
		names[p.Name] = true
		pub, err := binding.ParsePublicKey(p.PublicKey)
		if err != nil {
			return fieldErr(at+".public_key", "%v", err)
		}
		if keys[string(pub)] {
			return fieldErr(at+".public_key", "the same key belongs to two parties")
		}
		keys[string(pub)] = true
		if !isCountry(p.Country) {
			return fieldErr(at+".country", "%q is not an ISO 3166-1 alpha-3 code in capitals", p.Country)
		}
		if p.Organisation == "" || !isText(p.Organisation) {
			return fieldErr(at+".organisation", "must be non-empty text without control characters")
		}
	}
	return nil
}

// LevelKey identifies a level across policies; see Level.
type LevelKey struct{ Policy, Owner, Level string }

// Key returns the lookup key of l.
func (l Level) Key() LevelKey { return LevelKey{l.Policy, l.Owner, l.Level} }

func (l Level) String() string {
	if l.Owner != "" {
		return l.Owner + " " + l.Policy + " " + l.Level
	}
	return l.Policy + " " + l.Level
}

// Ranks returns the common rank (row index in the equivalence table) of
// every level the table names. The document must be valid.
func (d *Document) Ranks() map[LevelKey]int {
	m := make(map[LevelKey]int)
	for i, row := range d.Equivalence {
		for _, l := range row.Levels {
			m[l.Key()] = i
		}
	}
	return m
}

func (d *Document) validateEquivalence(reg *label.Registry) (map[LevelKey]int, error) {
	if len(d.Equivalence) == 0 {
		return nil, fieldErr("equivalence", "the table is required: every classification limit is read through it")
	}
	ranks := make(map[LevelKey]int)
	lastLocal := make(map[LevelKey]int) // scheme (level empty) -> last local rank seen
	for i, row := range d.Equivalence {
		at := idx("equivalence", i)
		if row.Name != "" && !isText(row.Name) {
			return nil, fieldErr(at+".name", "must be text without control characters")
		}
		if len(row.Levels) == 0 {
			return nil, fieldErr(at+".levels", "a row needs at least one level")
		}
		schemes := make(map[LevelKey]bool, len(row.Levels))
		for j, l := range row.Levels {
			lat := idx(at+".levels", j)
			if err := checkLevel(lat, l, reg); err != nil {
				return nil, err
			}
			scheme := LevelKey{Policy: l.Policy, Owner: l.Owner}
			if schemes[scheme] {
				return nil, fieldErr(lat, "%s appears twice in one row", policyName(l))
			}
			schemes[scheme] = true
			if _, dup := ranks[l.Key()]; dup {
				return nil, fieldErr(lat, "%s appears in two rows", l)
			}
			ranks[l.Key()] = i
			if reg != nil {
				if n, ok := localRank(reg, l); ok {
					if prev, seen := lastLocal[scheme]; seen && n <= prev {
						return nil, fieldErr(lat, "%s is not above the level of %s in an earlier row (rows are lowest first)", l, policyName(l))
					}
					lastLocal[scheme] = n
				}
			}
		}
	}
	return ranks, nil
}

func policyName(l Level) string {
	if l.Owner != "" {
		return l.Owner + " " + l.Policy
	}
	return l.Policy
}

// checkLevel checks a level's form and, for policies this node knows, its
// vocabulary. A national policy named like ours but owned by another nation
// is that nation's: only its form can be checked here.
func checkLevel(at string, l Level, reg *label.Registry) error {
	if !isToken(l.Policy) {
		return fieldErr(at+".policy", "%q is not a policy name (capitals, digits, '-', '_', '.')", l.Policy)
	}
	if !isToken(l.Level) {
		return fieldErr(at+".level", "%q is not a level name (capitals, digits, '-', '_', '.')", l.Level)
	}
	if l.Owner != "" && !isCountry(l.Owner) {
		return fieldErr(at+".owner", "%q is not an ISO 3166-1 alpha-3 code in capitals", l.Owner)
	}
	if reg == nil {
		return nil
	}
	p, known := reg.Policy(l.Policy)
	if !known {
		return nil
	}
	switch {
	case p.Owner == "" && l.Owner != "":
		return fieldErr(at+".owner", "policy %s is multinational here; it has no owner", l.Policy)
	case p.Owner != "" && l.Owner == "":
		return fieldErr(at+".owner", "policy %s is a national policy: name its owner", l.Policy)
	}
	if _, ok := localRank(reg, l); !ok && l.Owner == p.Owner {
		return fieldErr(at+".level", "%q is not a level of policy %s", l.Level, l.Policy)
	}
	return nil
}

// localRank is the registry rank of l if l is a level of a policy of this
// node (a multinational one, or our own national one).
func localRank(reg *label.Registry, l Level) (int, bool) {
	p, ok := reg.Policy(l.Policy)
	if !ok || p.Owner != l.Owner {
		return 0, false
	}
	return reg.Rank(l.Policy, l.Level)
}

func (d *Document) validateTerms(reg *label.Registry, ranks map[LevelKey]int) error {
	if len(d.Terms) == 0 {
		return fieldErr("terms", "at least one terms entry is required")
	}
	if len(d.Terms) > MaxTerms {
		return fieldErr("terms", "more than %d entries", MaxTerms)
	}
	party := make(map[string]bool, len(d.Parties))
	for _, p := range d.Parties {
		party[p.Name] = true
	}
	covered := make(map[[2]string]int)
	for i, t := range d.Terms {
		at := idx("terms", i)
		if err := partyList(at+".from", t.From, party); err != nil {
			return err
		}
		if err := partyList(at+".to", t.To, party); err != nil {
			return err
		}
		pairs := 0
		for _, f := range t.From {
			for _, r := range t.To {
				if f == r {
					continue
				}
				pairs++
				if prev, dup := covered[[2]string{f, r}]; dup {
					return fieldErr(at, "the direction %s to %s is already governed by terms[%d]", f, r, prev)
				}
				covered[[2]string{f, r}] = i
			}
		}
		if pairs == 0 {
			return fieldErr(at+".to", "names no party other than those in from")
		}
		if err := vocabList(at+".topics", t.Topics, reg, "topic"); err != nil {
			return err
		}
		if err := vocabList(at+".disciplines", t.Disciplines, reg, "discipline"); err != nil {
			return err
		}
		for j, c := range t.Compartments {
			if !isToken(c) {
				return fieldErr(idx(at+".compartments", j), "%q is not a compartment name", c)
			}
		}
		if len(t.Condition) > 4096 || (t.Condition != "" && !utf8.ValidString(t.Condition)) {
			return fieldErr(at+".condition", "must be valid UTF-8 of at most 4096 bytes")
		}
		if _, ok := ranks[t.MaxClassification.Key()]; !ok {
			if err := checkLevel(at+".max_classification", t.MaxClassification, nil); err != nil {
				return err
			}
			return fieldErr(at+".max_classification", "%s is not in the equivalence table", t.MaxClassification)
		}
		if t.MaxTLP != "" {
			r := label.TLPRank(t.MaxTLP)
			switch {
			case r < 0 || r > 4 || !isTLP(t.MaxTLP):
				return fieldErr(at+".max_tlp", "%q is not a TLP 2.0 level (CLEAR, GREEN, AMBER, AMBER+STRICT)", t.MaxTLP)
			case r == 4:
				return fieldErr(at+".max_tlp", "TLP:RED never leaves its named recipients, so no agreement releases it")
			}
		}
		if len(t.Purposes) == 0 {
			return fieldErr(at+".purposes", "at least one purpose is required")
		}
		for j, p := range t.Purposes {
			if !isPurpose(p) {
				return fieldErr(idx(at+".purposes", j), "%q is not a purpose (lower-case a-z, 0-9, '-')", p)
			}
			if slices.Contains(t.Purposes[:j], p) {
				return fieldErr(idx(at+".purposes", j), "%q is listed twice", p)
			}
		}
		if t.RetentionDays < 1 || t.RetentionDays > MaxRetentionDays {
			return fieldErr(at+".retention_days", "must be between 1 and %d", MaxRetentionDays)
		}
		switch t.Onward {
		case OnwardNone, OnwardParties, OnwardWithConsent:
		default:
			return fieldErr(at+".onward", "%q is not one of none, parties, originator-consent", t.Onward)
		}
		switch t.Release.Mode {
		case ModeAutomatic:
			if t.Release.Above != nil {
				return fieldErr(at+".release.above", "automatic release needs no approval threshold")
			}
		case ModeOne, ModeTwo:
			if a := t.Release.Above; a != nil {
				if _, ok := ranks[a.Key()]; !ok {
					return fieldErr(at+".release.above", "%s is not in the equivalence table", *a)
				}
			}
		default:
			return fieldErr(at+".release.mode", "%q is not one of automatic, one-releaser, two-person", t.Release.Mode)
		}
	}
	return nil
}

func partyList(at string, names []string, party map[string]bool) error {
	if len(names) == 0 {
		return fieldErr(at, "names no party")
	}
	for j, n := range names {
		if !party[n] {
			return fieldErr(idx(at, j), "%q is not a party", n)
		}
		if slices.Contains(names[:j], n) {
			return fieldErr(idx(at, j), "%q is listed twice", n)
		}
	}
	return nil
}

func vocabList(at string, words []string, reg *label.Registry, kind string) error {
	if len(words) == 0 {
		return fieldErr(at, "name at least one %s, or \"*\" for any", kind)
	}
	if slices.Contains(words, Wildcard) {
		if len(words) != 1 {
			return fieldErr(at, "\"*\" must stand alone")
		}
		return nil
	}
	for j, w := range words {
		if !isToken(w) {
			return fieldErr(idx(at, j), "%q is not a %s (capitals, digits, '-', '_', '.')", w, kind)
		}
		if slices.Contains(words[:j], w) {
			return fieldErr(idx(at, j), "%q is listed twice", w)
		}
		if reg != nil && !knownWord(reg, kind, w) {
			return fieldErr(idx(at, j), "%q is not a configured %s", w, kind)
		}
	}
	return nil
}

// knownWord asks the registry whether w is in its topic or discipline
// vocabulary, by validating the smallest label that carries it.
func knownWord(reg *label.Registry, kind, w string) bool {
	pols := reg.Policies()
	if len(pols) == 0 {
		return false
	}
	p, _ := reg.Policy(pols[0])
	if len(p.Levels) == 0 {
		return false
	}
	l := label.Label{Policy: p.Name, Classification: p.Levels[0].Name, Originator: p.Owner}
	if kind == "topic" {
		l.Topics = []string{w}
	} else {
		l.Disciplines = []string{w}
	}
	return reg.Validate(l) == nil
}

func (d *Document) validateSignatures() error {
	seen := make(map[string]bool, len(d.Signatures))
	for i, s := range d.Signatures {
		at := idx("signatures", i)
		if !slices.ContainsFunc(d.Parties, func(p Party) bool { return p.Name == s.Party }) {
			return fieldErr(at+".party", "%q is not a party", s.Party)
		}
		if seen[s.Party] {
			return fieldErr(at+".party", "%q signed twice", s.Party)
		}
		seen[s.Party] = true
		sig, err := base64.StdEncoding.Strict().DecodeString(s.Signature)
		if err != nil || len(sig) != 64 {
			return fieldErr(at+".signature", "must be the standard base64 of a 64-byte Ed25519 signature")
		}
	}
	return nil
}

// EffectiveTime and ExpiryTime return the parsed dates of a valid document.
func (d *Document) EffectiveTime() time.Time { t, _ := time.Parse(time.RFC3339, d.Effective); return t }

// ExpiryTime returns when the agreement stops deciding.
func (d *Document) ExpiryTime() time.Time { t, _ := time.Parse(time.RFC3339, d.Expires); return t }

func isID(s string) bool {
	if len(s) < 3 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case i > 0 && (c == '-' || c == '_' || c == '.'):
		default:
			return false
		}
	}
	return true
}

func isPurpose(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9' && i > 0:
		case i > 0 && c == '-':
		default:
			return false
		}
	}
	return true
}

func isToken(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case i > 0 && (c == '-' || c == '_' || c == '.'):
		default:
			return false
		}
	}
	return true
}

func isCountry(s string) bool {
	return len(s) == 3 && isUpper(s[0]) && isUpper(s[1]) && isUpper(s[2])
}

func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }

// isText accepts UTF-8 without control characters.
func isText(s string) bool {
	if !utf8.ValidString(s) || len(s) > 1024 {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return false
		}
	}
	return true
}

// isTLP accepts a TLP 2.0 level in normal form: capitals, no "TLP:" prefix.
func isTLP(s string) bool {
	switch s {
	case "CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED":
		return true
	}
	return false
}
