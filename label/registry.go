package label

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Registry is a compiled Config: the vocabulary against which labels are
// validated, ranked and rendered. It is immutable after NewRegistry and safe
// for concurrent use. Rank and Expand sit on every read decision, so
// everything they need is precomputed into maps.
type Registry struct {
	policies    map[string]*policyInfo
	banners     map[string]levelRef // collapsed upper-case banner → level
	groups      map[string][]string // sorted members
	groupOrder  []string            // largest group first, for compressing country lists
	caveats     map[string]struct{}
	disciplines map[string]struct{}
	topics      map[string]struct{}
	systemHigh  string // marking.go
	systemLow   string
}

type policyInfo struct {
	cfg      PolicyConfig
	rank     map[string]int
	audience []string // expanded, sorted
}

type levelRef struct{ policy, level string }

// NewRegistry validates cfg and compiles it. It refuses empty, duplicate or
// malformed names, banners that collide (case-insensitively) or contain the
// banner separators "/" and ",", audiences and groups naming unknown
// countries or groups, and vocabulary words the banner parser could confuse
// with segment keywords. The Registry keeps its own copy of cfg.
func NewRegistry(cfg Config) (*Registry, error) {
	r := &Registry{
		policies:    make(map[string]*policyInfo, len(cfg.Policies)),
		banners:     make(map[string]levelRef),
		groups:      make(map[string][]string, len(cfg.Groups)),
		caveats:     make(map[string]struct{}, len(cfg.Caveats)),
		disciplines: make(map[string]struct{}, len(cfg.Disciplines)),
		topics:      make(map[string]struct{}, len(cfg.Topics)),
	}
	for name, members := range cfg.Groups {
		g := upperTrim(name)
		if !isToken(g) {
			return nil, fmt.Errorf("label config: groups: invalid group name %q", name)
		}
		if isCountryCode(g) {
			// A three-letter group would be indistinguishable from a country.
			return nil, fmt.Errorf("label config: groups: group name %q looks like a country code", name)
		}
		if _, dup := r.groups[g]; dup {
			return nil, fmt.Errorf("label config: groups: duplicate group %q", g)
		}
		if len(members) == 0 {
			return nil, fmt.Errorf("label config: groups: group %q has no members", g)
		}
		ms := normList(members)
		for _, m := range ms {
			if !isCountryCode(m) {
				return nil, fmt.Errorf("label config: groups: group %q: member %q is not an ISO 3166 alpha-3 code", g, m)
			}
		}
		r.groups[g] = ms
		r.groupOrder = append(r.groupOrder, g)
	}
	slices.SortFunc(r.groupOrder, func(a, b string) int {
		if c := cmp.Compare(len(r.groups[b]), len(r.groups[a])); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})

	if err := compileVocab("caveats", cfg.Caveats, r.caveats); err != nil {
		return nil, err
	}
	for c := range r.caveats {
		if isReserved(c) {
			return nil, fmt.Errorf("label config: caveats: %q is a reserved banner keyword", c)
		}
	}
	if err := compileVocab("disciplines", cfg.Disciplines, r.disciplines); err != nil {
		return nil, err
	}
	if err := compileVocab("topics", cfg.Topics, r.topics); err != nil {
		return nil, err
	}

	if len(cfg.Policies) == 0 {
		return nil, errors.New("label config: policies: none configured")
	}
	for i, p := range cfg.Policies {
		name := upperTrim(p.Name)
		if !isToken(name) {
			return nil, fmt.Errorf("label config: policies[%d]: invalid name %q", i, p.Name)
		}
		if _, dup := r.policies[name]; dup {
			return nil, fmt.Errorf("label config: policies: duplicate policy %q", name)
		}
		info := &policyInfo{
			cfg:  PolicyConfig{Name: name, Owner: upperTrim(p.Owner)},
			rank: make(map[string]int, len(p.Levels)),
		}
		if info.cfg.Owner != "" && !isCountryCode(info.cfg.Owner) {
			return nil, fmt.Errorf("label config: policy %s: owner %q is not an ISO 3166 alpha-3 code", name, p.Owner)
		}
		if len(p.Levels) == 0 {
			return nil, fmt.Errorf("label config: policy %s: no levels", name)
		}
		for j, lv := range p.Levels {
			ln := upperTrim(lv.Name)
			if !isToken(ln) {
				return nil, fmt.Errorf("label config: policy %s: levels[%d]: invalid name %q", name, j, lv.Name)
			}
			if _, dup := info.rank[ln]; dup {
				return nil, fmt.Errorf("label config: policy %s: duplicate level %q", name, ln)
			}
			b := collapse(lv.Banner)
			if b == "" {
				return nil, fmt.Errorf("label config: policy %s: level %s: empty banner", name, ln)
			}
			if strings.ContainsAny(b, "/,") {
				return nil, fmt.Errorf("label config: policy %s: level %s: banner %q contains \"/\" or \",\"", name, ln, lv.Banner)
			}
			if prev, dup := r.banners[b]; dup {
				return nil, fmt.Errorf("label config: policy %s: level %s: banner %q already used by %s %s", name, ln, b, prev.policy, prev.level)
			}
			r.banners[b] = levelRef{policy: name, level: ln}
			info.rank[ln] = j
			lc, err := markingOf(name, ln, b, lv)
			if err != nil {
				return nil, err
			}
			info.cfg.Levels = append(info.cfg.Levels, lc)
		}
		aud := normList(p.Audience)
		if len(aud) == 0 {
			return nil, fmt.Errorf("label config: policy %s: empty audience", name)
		}
		for _, a := range aud {
			if !r.isCountryOrGroup(a) {
				return nil, fmt.Errorf("label config: policy %s: audience %q is neither a country code nor a configured group", name, a)
			}
		}
		info.cfg.Audience = aud
		info.audience = r.Expand(aud)
		r.policies[name] = info
	}
	if err := r.systemMarkings(cfg); err != nil {
		return nil, err
	}
	return r, nil
}

func compileVocab(field string, words []string, into map[string]struct{}) error {
	for _, w := range words {
		u := upperTrim(w)
		if !isToken(u) {
			return fmt.Errorf("label config: %s: invalid word %q", field, w)
		}
		if _, dup := into[u]; dup {
			return fmt.Errorf("label config: %s: duplicate %q", field, u)
		}
		into[u] = struct{}{}
	}
	return nil
}

// Rank returns the position of level in policy's hierarchy, 0 being the
// lowest. Names must be in normal (upper-case) form.
func (r *Registry) Rank(policy, level string) (int, bool) {
	p, ok := r.policies[policy]
	if !ok {
		return 0, false
	}
	n, ok := p.rank[level]
	return n, ok
}

// Policy returns a copy of the named policy's configuration.
func (r *Registry) Policy(name string) (PolicyConfig, bool) {
	p, ok := r.policies[name]
	if !ok {
		return PolicyConfig{}, false
	}
	c := p.cfg
	c.Levels = slices.Clone(c.Levels)
	c.Audience = slices.Clone(c.Audience)
	return c, true
}

// Policies returns the configured policy names, sorted.
func (r *Registry) Policies() []string {
	names := make([]string, 0, len(r.policies))
	for n := range r.policies {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Disciplines returns the configured disciplines, sorted.
func (r *Registry) Disciplines() []string { return slices.Sorted(maps.Keys(r.disciplines)) }

// Topics returns the configured topics, sorted.
func (r *Registry) Topics() []string { return slices.Sorted(maps.Keys(r.topics)) }

// Expand replaces group names by their member countries and returns the
// sorted, de-duplicated result. Other codes are kept as given (they are
// expected in normal, upper-case form).
func (r *Registry) Expand(codes []string) []string {
	if len(codes) == 0 {
		return nil
	}
	n := 0
	for _, c := range codes {
		if m, ok := r.groups[c]; ok {
			n += len(m)
		} else {
			n++
		}
	}
	out := make([]string, 0, n)
	for _, c := range codes {
		if m, ok := r.groups[c]; ok {
			out = append(out, m...)
		} else {
			out = append(out, c)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Groups returns the configured group names, sorted.
func (r *Registry) Groups() []string { return slices.Sorted(maps.Keys(r.groups)) }

// Group returns the members of a configured group.
func (r *Registry) Group(name string) ([]string, bool) {
	m, ok := r.groups[name]
	return slices.Clone(m), ok
}

// Audience returns the expanded audience of a policy: the countries whose
// nationals may hold material under it when the label has no REL TO.
func (r *Registry) Audience(policy string) []string {
	p, ok := r.policies[policy]
	if !ok {
		return nil
	}
	return slices.Clone(p.audience)
}

// Releasability returns the countries whose nationals may read material
// under l: the originator alone for NOFORN, else the expanded REL TO list,
// else the policy audience. l is expected to be valid.
func (r *Registry) Releasability(l Label) []string {
	switch {
	case l.HasCaveat(CaveatNOFORN):
		if l.Originator == "" {
			return nil
		}
		return []string{l.Originator}
	case len(l.ReleasableTo) > 0:
		return r.Expand(l.ReleasableTo)
	default:
		return r.Audience(l.Policy)
	}
}

// Normalize returns l in normal form: fields trimmed and upper-cased, TLP
// written without the "TLP:" prefix (WHITE becomes CLEAR), slices sorted and
// de-duplicated (nil when empty), and, under a policy with an Owner, an
// empty Originator set to the owner.
func (r *Registry) Normalize(l Label) Label {
	l = normalize(l)
	if p, ok := r.policies[l.Policy]; ok && p.cfg.Owner != "" && l.Originator == "" {
		l.Originator = p.cfg.Owner
	}
	return l
}

// Validate checks l against the registry. The label must be in normal form
// (Normalize) because its id is derived from its exact content. The error is
// a *FieldError naming the first offending field.
func (r *Registry) Validate(l Label) error {
	n := normalize(l)
	switch {
	case n.Policy != l.Policy:
		return fieldErr("policy", l.Policy, "is not in normal form (upper-case, trimmed)")
	case n.Classification != l.Classification:
		return fieldErr("classification", l.Classification, "is not in normal form (upper-case, trimmed)")
	case !slices.Equal(n.ReleasableTo, l.ReleasableTo):
		return fieldErr("releasable_to", "", "is not in normal form (upper-case, sorted, unique)")
	case !slices.Equal(n.Compartments, l.Compartments):
		return fieldErr("compartments", "", "is not in normal form (upper-case, sorted, unique)")
	case !slices.Equal(n.Caveats, l.Caveats):
		return fieldErr("caveats", "", "is not in normal form (upper-case, sorted, unique)")
	case n.TLP != l.TLP:
		return fieldErr("tlp", l.TLP, "is not in normal form (upper-case, no TLP: prefix)")
	case !slices.Equal(n.Disciplines, l.Disciplines):
		return fieldErr("disciplines", "", "is not in normal form (upper-case, sorted, unique)")
	case !slices.Equal(n.Topics, l.Topics):
		return fieldErr("topics", "", "is not in normal form (upper-case, sorted, unique)")
	case n.Grading != l.Grading:
		return fieldErr("grading", l.Grading, "is not in normal form (upper-case, trimmed)")
	case n.Originator != l.Originator:
		return fieldErr("originator", l.Originator, "is not in normal form (upper-case, trimmed)")
	}

	p, ok := r.policies[l.Policy]
	if !ok {
		return fieldErr("policy", l.Policy, "is not a configured policy")
	}
	if _, ok := p.rank[l.Classification]; !ok {
		return fieldErr("classification", l.Classification, "is not a level of policy "+l.Policy)
	}
	for _, c := range l.ReleasableTo {
		if !r.isCountryOrGroup(c) {
			return fieldErr("releasable_to", c, "is neither an ISO 3166 alpha-3 code nor a configured group")
		}
	}
	for _, c := range l.Compartments {
		if !isToken(c) {
			return fieldErr("compartments", c, "is not a valid compartment name (A-Z, 0-9, '-', '_', '.')")
		}
	}
	for _, c := range l.Caveats {
		if _, ok := r.caveats[c]; !ok {
			return fieldErr("caveats", c, "is not a configured caveat")
		}
	}
	if l.TLP != "" && tlpIndex(l.TLP) < 0 {
		return fieldErr("tlp", l.TLP, "is not a TLP 2.0 level (CLEAR, GREEN, AMBER, AMBER+STRICT, RED)")
	}
	for _, d := range l.Disciplines {
		if _, ok := r.disciplines[d]; !ok {
			return fieldErr("disciplines", d, "is not a configured discipline")
		}
	}
	for _, t := range l.Topics {
		if _, ok := r.topics[t]; !ok {
			return fieldErr("topics", t, "is not a configured topic")
		}
	}
	if l.Grading != "" && !isGrading(l.Grading) {
		return fieldErr("grading", l.Grading, "is not an Admiralty code (reliability A-F then credibility 1-6, e.g. B2)")
	}
	if l.Originator != "" && !isCountryCode(l.Originator) {
		return fieldErr("originator", l.Originator, "is not an ISO 3166 alpha-3 code")
	}
	if p.cfg.Owner != "" && l.Originator != p.cfg.Owner {
		return fieldErr("originator", l.Originator, "must be "+p.cfg.Owner+", the owner of national policy "+l.Policy)
	}
	if l.HasCaveat(CaveatNOFORN) {
		if l.Originator == "" {
			return fieldErr("originator", "", "is required with NOFORN")
		}
		if len(l.ReleasableTo) > 0 {
			return fieldErr("releasable_to", "", "must be empty with NOFORN (NOFORN already limits release to the originator's nationals)")
		}
	}
	return nil
}

func (r *Registry) isCountryOrGroup(s string) bool {
	if isCountryCode(s) {
		return true
	}
	_, ok := r.groups[s]
	return ok
}

// compress replaces complete groups inside a sorted country set by the group
// name (largest group first), so aggregated labels stay readable. Expand of
// the result equals the input.
func (r *Registry) compress(countries []string) []string {
	in := make(map[string]bool, len(countries))
	left := make(map[string]bool, len(countries))
	for _, c := range countries {
		in[c] = true
		left[c] = true
	}
	var out []string
	for _, g := range r.groupOrder {
		members := r.groups[g]
		all, fresh := true, false
		for _, m := range members {
			if !in[m] {
				all = false
				break
			}
			fresh = fresh || left[m]
		}
		if all && fresh {
			out = append(out, g)
			for _, m := range members {
				delete(left, m)
			}
		}
	}
	for _, c := range countries {
		if left[c] {
			out = append(out, c)
		}
	}
	slices.Sort(out)
	return out
}

// isCountryCode reports whether s has the form of an ISO 3166-1 alpha-3 code.
// The form is checked, not membership: the list changes and partners may be
// ahead of us.
func isCountryCode(s string) bool {
	if len(s) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

// isToken reports whether s is a vocabulary word: 1-64 characters from
// A-Z 0-9 - _ . starting with a letter or digit. Banners separate words with
// spaces, commas and slashes, so none of those may appear inside one.
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

func isGrading(s string) bool {
	return len(s) == 2 && s[0] >= 'A' && s[0] <= 'F' && s[1] >= '1' && s[1] <= '6'
}

// collapse upper-cases s and reduces every run of white space to one space.
func collapse(s string) string {
	return strings.Join(strings.Fields(strings.ToUpper(s)), " ")
}
