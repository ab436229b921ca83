package policy

import (
	"fmt"
	"slices"
	"time"

	"cel.dev/cel-go/cel"

	"github.com/tearline/tearline/agreement"
	"github.com/tearline/tearline/label"
)

// Agreement is an agreement version compiled for fast decisions from the
// point of view of one party, this node (Self). It is immutable and safe for
// concurrent use; a change of lifecycle state makes a new value (WithStatus),
// so a decision in flight never sees half a change.
type Agreement struct {
	id        string
	version   int
	self      int // index of this node in parties
	effective time.Time
	expires   time.Time
	status    agreement.Status

	parties  []party
	partyIdx map[string]int
	terms    []term
	pair     map[[2]string]int // (from, to) party names -> index in terms
	out, in  []int             // per party: terms index self->party, party->self; -1 none

	reg          *label.Registry
	owned        []string                   // policies this registry treats as national (owned)
	ownedBy      []string                   // owner of each owned policy
	policies     []string                   // every policy this registry knows
	ranks        map[agreement.LevelKey]int // common rank of every level in the table
	rowTarget    []agreement.Level          // per row: the local level a foreign label translates to
	rowHasTarget []bool
}

type party struct {
	name, country, org string
	groups             []string // configured groups the country belongs to (among those the registry names)
	audience           []string // local policies whose audience includes the country
}

// term is one compiled terms entry.
type term struct {
	index        int // in the document, for the audit record
	anyTopic     bool
	topics       []string
	anyDisc      bool
	disciplines  []string
	compartments []string
	cond         *condition
	maxRank      int
	maxTLP       int
	requireRel   bool
	purposes     []string
	retention    time.Duration
	onward       agreement.Onward
	approvals    int // 0, 1 or 2
	approveAbove int // approvals needed only for rank > approveAbove; -1: always
}

// CompileAgreement compiles version doc of an agreement for the node named
// self, in lifecycle status st. It refuses a document that is invalid, not
// signed by every party (such a document decides nothing), does not name
// self as a party, or whose CEL conditions do not compile. Errors name the
// field.
func CompileAgreement(doc *agreement.Document, reg *label.Registry, self string, st agreement.Status) (*Agreement, error) {
	if err := doc.Validate(reg); err != nil {
		return nil, err
	}
	if err := doc.FullySigned(); err != nil {
		return nil, err
	}
	return compile(doc, reg, self, st)
}

// compile is CompileAgreement without the signature check, for tests that
// build thousands of agreements.
func compile(doc *agreement.Document, reg *label.Registry, self string, st agreement.Status) (*Agreement, error) {
	if reg == nil {
		return nil, fmt.Errorf("agreement %s: no label registry", doc.ID)
	}
	a := &Agreement{
		id:        doc.ID,
		version:   doc.Version,
		self:      -1,
		effective: doc.EffectiveTime(),
		expires:   doc.ExpiryTime(),
		status:    st,
		partyIdx:  make(map[string]int, len(doc.Parties)),
		pair:      make(map[[2]string]int),
		reg:       reg,
		ranks:     doc.Ranks(),
	}
	a.policies = reg.Policies()
	for _, name := range a.policies {
		if p, _ := reg.Policy(name); p.Owner != "" {
			a.owned = append(a.owned, name)
			a.ownedBy = append(a.ownedBy, p.Owner)
		}
	}
	groups := candidateGroups(reg)
	for i, p := range doc.Parties {
		a.partyIdx[p.Name] = i
		if p.Name == self {
			a.self = i
		}
		cp := party{name: p.Name, country: p.Country, org: p.Organisation}
		for _, g := range groups {
			if m, _ := reg.Group(g); slices.Contains(m, p.Country) {
				cp.groups = append(cp.groups, g)
			}
		}
		for _, name := range reg.Policies() {
			if slices.Contains(reg.Audience(name), p.Country) {
				cp.audience = append(cp.audience, name)
			}
		}
		a.parties = append(a.parties, cp)
	}
	if a.self < 0 {
		return nil, &agreement.FieldError{Path: "parties", Reason: fmt.Sprintf("this node %q is not a party", self)}
	}
	if err := a.compileTable(doc); err != nil {
		return nil, err
	}
	env, err := newConditionEnv()
	if err != nil {
		return nil, fmt.Errorf("agreement %s: condition environment: %w", doc.ID, err)
	}
	for i, t := range doc.Terms {
		ct, err := a.compileTerm(env, i, t)
		if err != nil {
			return nil, err
		}
		a.terms = append(a.terms, ct)
		for _, f := range t.From {
			for _, r := range t.To {
				if f != r {
					a.pair[[2]string{f, r}] = i
				}
			}
		}
	}
	a.out = make([]int, len(a.parties))
	a.in = make([]int, len(a.parties))
	me := a.parties[a.self].name
	for i, p := range a.parties {
		a.out[i], a.in[i] = -1, -1
		if t, ok := a.pair[[2]string{me, p.name}]; ok {
			a.out[i] = t
		}
		if t, ok := a.pair[[2]string{p.name, me}]; ok {
			a.in[i] = t
		}
	}
	return a, nil
}

// candidateGroups returns the group names the registry reveals through its
// policy audiences. Groups named only in labels are found at decision time
// (Registry.Group), which costs an allocation; label.Registry has no list of
// its groups.
func candidateGroups(reg *label.Registry) []string {
	var gs []string
	for _, name := range reg.Policies() {
		p, _ := reg.Policy(name)
		for _, a := range p.Audience {
			if _, ok := reg.Group(a); ok && !slices.Contains(gs, a) {
				gs = append(gs, a)
			}
		}
	}
	return gs
}

// compileTable picks, for every row of the equivalence table, the local
// level a foreign label translates to: a multinational policy of ours first
// (it keeps the label's originator), else our national policy.
func (a *Agreement) compileTable(doc *agreement.Document) error {
	a.rowTarget = make([]agreement.Level, len(doc.Equivalence))
	a.rowHasTarget = make([]bool, len(doc.Equivalence))
	for i, row := range doc.Equivalence {
		for pass := 0; pass < 2 && !a.rowHasTarget[i]; pass++ {
			for _, l := range row.Levels {
				p, ok := a.reg.Policy(l.Policy)
				if !ok || p.Owner != l.Owner || (pass == 0) != (p.Owner == "") {
					continue
				}
				if _, ok := a.reg.Rank(l.Policy, l.Level); ok {
					a.rowTarget[i], a.rowHasTarget[i] = l, true
					break
				}
			}
		}
	}
	return nil
}

func (a *Agreement) compileTerm(env *cel.Env, i int, t agreement.Terms) (term, error) {
	at := fmt.Sprintf("terms[%d]", i)
	ct := term{
		index:        i,
		anyTopic:     slices.Contains(t.Topics, agreement.Wildcard),
		topics:       slices.Clone(t.Topics),
		anyDisc:      slices.Contains(t.Disciplines, agreement.Wildcard),
		disciplines:  slices.Clone(t.Disciplines),
		compartments: slices.Clone(t.Compartments),
		maxRank:      a.ranks[t.MaxClassification.Key()],
		maxTLP:       label.TLPRank("AMBER"),
		requireRel:   t.RequireReleasableTo,
		purposes:     slices.Clone(t.Purposes),
		retention:    time.Duration(t.RetentionDays) * 24 * time.Hour,
		onward:       t.Onward,
		approveAbove: -1,
	}
	if t.MaxTLP != "" {
		ct.maxTLP = label.TLPRank(t.MaxTLP)
	}
	switch t.Release.Mode {
	case agreement.ModeOne:
		ct.approvals = 1
	case agreement.ModeTwo:
		ct.approvals = 2
	}
	if t.Release.Above != nil {
		ct.approveAbove = a.ranks[t.Release.Above.Key()]
	}
	if t.Condition != "" {
		c, err := compileCondition(env, t.Condition)
		if err != nil {
			return term{}, &agreement.FieldError{Path: at + ".condition", Reason: err.Error()}
		}
		ct.cond = c
	}
	return ct, nil
}

// WithStatus returns a copy of a in lifecycle status st. Suspension,
// termination and the like take effect for every decision made with the
// copy; the compiled terms are shared.
func (a *Agreement) WithStatus(st agreement.Status) *Agreement {
	c := *a
	c.status = st
	return &c
}

// ID, Version, Self, Status, Effective and Expires describe the compiled
// version.
func (a *Agreement) ID() string { return a.id }

// Version is the document version compiled.
func (a *Agreement) Version() int { return a.version }

// Self is the name of the party this form decides for.
func (a *Agreement) Self() string { return a.parties[a.self].name }

// Status is the lifecycle status the agreement was compiled or copied with.
func (a *Agreement) Status() agreement.Status { return a.status }

// Effective is when the agreement starts to decide.
func (a *Agreement) Effective() time.Time { return a.effective }

// Expires is when it stops.
func (a *Agreement) Expires() time.Time { return a.expires }

// HasParty reports whether name is a party.
func (a *Agreement) HasParty(name string) bool { _, ok := a.partyIdx[name]; return ok }

// Partners returns the names of the other parties this node has outbound
// terms with: the candidates to decide a release for.
func (a *Agreement) Partners() []string {
	var out []string
	for i, p := range a.parties {
		if i != a.self && a.out[i] >= 0 {
			out = append(out, p.name)
		}
	}
	return out
}

// termBetween returns the terms governing release from one party to
// another, or nil.
func (a *Agreement) termBetween(from, to string) *term {
	i, ok := a.pair[[2]string{from, to}]
	if !ok {
		return nil
	}
	return &a.terms[i]
}
