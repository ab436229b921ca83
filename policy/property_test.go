package policy

import (
	"math/rand"
	"slices"
	"testing"
	"time"

	"github.com/tearline/tearline/agreement"
	"github.com/tearline/tearline/label"
)

// gen makes random agreements and objects over a small vocabulary, so that
// every rule is hit often both ways.
type gen struct {
	r   *rand.Rand
	reg *label.Registry
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.Intn(len(xs))] }

func subset(r *rand.Rand, xs []string, max int) []string {
	var out []string
	for _, x := range xs {
		if len(out) < max && r.Intn(3) == 0 {
			out = append(out, x)
		}
	}
	return out
}

var (
	nodes       = []string{"gbr", "usa", "fra", "deu"}
	topicsV     = []string{"CYBER", "COUNTER-TERRORISM", "MILITARY"}
	disciplineV = []string{"SIGINT", "OSINT", "HUMINT"}
	natoLevels  = []string{"UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL", "SECRET", "TOP-SECRET"}
	natLevels   = []string{"OFFICIAL", "RESTRICTED", "CONFIDENTIAL", "SECRET", "TOP-SECRET"}
)

func (g *gen) terms(from, to []string) agreement.Terms {
	r := g.r
	t := baseTerms(from, to)
	t.Topics = subset(r, topicsV, 3)
	if len(t.Topics) == 0 || r.Intn(2) == 0 {
		t.Topics = []string{agreement.Wildcard}
	}
	t.Disciplines = subset(r, disciplineV, 3)
	if len(t.Disciplines) == 0 || r.Intn(2) == 0 {
		t.Disciplines = []string{agreement.Wildcard}
	}
	t.Compartments = subset(r, []string{"HERON", "KESTREL"}, 2)
	t.MaxClassification = lv("NATO", "", pick(r, natoLevels[2:]))
	t.MaxTLP = pick(r, []string{"", "CLEAR", "GREEN", "AMBER", "AMBER+STRICT"})
	t.RequireReleasableTo = r.Intn(3) == 0
	t.Purposes = []string{"analysis"}
	if r.Intn(4) == 0 {
		t.Purposes = []string{"law-enforcement"}
	}
	t.Onward = pick(r, []agreement.Onward{agreement.OnwardNone, agreement.OnwardParties, agreement.OnwardWithConsent})
	t.Release.Mode = pick(r, []agreement.Mode{agreement.ModeAutomatic, agreement.ModeAutomatic, agreement.ModeOne, agreement.ModeTwo})
	if t.Release.Mode != agreement.ModeAutomatic && r.Intn(2) == 0 {
		l := lv("NATO", "", pick(r, natoLevels))
		t.Release.Above = &l
	}
	return t
}

func (g *gen) doc(id string) *agreement.Document {
	r := g.r
	names := []string{"gbr"}
	for _, n := range nodes[1:] {
		if r.Intn(2) == 0 {
			names = append(names, n)
		}
	}
	if len(names) == 1 {
		names = append(names, "usa")
	}
	d := newDoc(id, names, g.terms(names, names))
	// Drop some national levels from the table: those labels then have no
	// equivalent.
	for i := range d.Equivalence {
		if r.Intn(4) == 0 {
			d.Equivalence[i].Levels = d.Equivalence[i].Levels[:1]
		}
	}
	return d
}

func (g *gen) label() label.Label {
	r := g.r
	if r.Intn(4) > 0 {
		// Most real material is plainly in scope: keep half the labels so,
		// or nearly every case is refused and release paths go untested.
		return label.Label{Policy: "NATO", Classification: pick(r, natoLevels[:4]),
			ReleasableTo: []string{pick(r, []string{"NATO", "FVEY"})}, Topics: []string{pick(r, topicsV)},
			Disciplines: []string{pick(r, disciplineV)}, TLP: pick(r, []string{"", "GREEN"}),
			Caveats: subset(r, []string{"ORCON"}, 1)}
	}
	var l label.Label
	switch r.Intn(4) {
	case 0, 1:
		l.Policy, l.Classification = "NATO", pick(r, natoLevels)
		l.Originator = pick(r, []string{"", "GBR", "USA", "FRA"})
	case 2:
		l.Policy, l.Classification = "NATIONAL", pick(r, natLevels)
		l.Originator = pick(r, []string{"GBR", "GBR", "USA"})
	default:
		l.Policy, l.Classification, l.Originator = "EU", "SECRET", "FRA"
	}
	l.ReleasableTo = subset(r, []string{"GBR", "USA", "FRA", "DEU", "FVEY", "NATO", "AUS"}, 3)
	l.Caveats = subset(r, []string{"ORCON", "NOFORN"}, 2)
	if slices.Contains(l.Caveats, "NOFORN") {
		l.ReleasableTo = nil
	}
	l.Compartments = subset(r, []string{"HERON", "KESTREL"}, 2)
	l.TLP = pick(r, []string{"", "", "CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"})
	l.Topics = subset(r, topicsV, 2)
	l.Disciplines = subset(r, disciplineV, 2)
	return l
}

// reference is the straightforward statement of the rules: no precomputed
// tables, no bit masks, every list expanded through the registry. It says
// whether one label may go to recipient under doc's terms t.
func refLabelOK(reg *label.Registry, doc *agreement.Document, t agreement.Terms, country string, l label.Label) bool {
	rank := -1
	for i, row := range doc.Equivalence {
		for _, e := range row.Levels {
			owner := ""
			if p, ok := reg.Policy(l.Policy); ok && p.Owner != "" {
				owner = l.Originator
			} else if !ok {
				owner = e.Owner // unknown policy: an owned entry must match the originator
				if owner != "" && owner != l.Originator {
					continue
				}
			}
			if e.Policy == l.Policy && e.Owner == owner && e.Level == l.Classification {
				rank = i
			}
		}
	}
	maxRank := -1
	for i, row := range doc.Equivalence {
		if slices.Contains(row.Levels, t.MaxClassification) {
			maxRank = i
		}
	}
	if rank < 0 || rank > maxRank {
		return false
	}
	scope := func(words, allowed []string) bool {
		if slices.Contains(allowed, agreement.Wildcard) {
			return true
		}
		if len(words) == 0 {
			return false
		}
		for _, w := range words {
			if !slices.Contains(allowed, w) {
				return false
			}
		}
		return true
	}
	if !scope(l.Topics, t.Topics) || !scope(l.Disciplines, t.Disciplines) {
		return false
	}
	for _, c := range l.Compartments {
		if !slices.Contains(t.Compartments, c) {
			return false
		}
	}
	maxTLP := t.MaxTLP
	if maxTLP == "" {
		maxTLP = "AMBER"
	}
	if label.TLPRank(l.TLP) > label.TLPRank(maxTLP) {
		return false
	}
	switch {
	case slices.Contains(l.Caveats, "NOFORN"):
		return l.Originator == country
	case len(l.ReleasableTo) > 0:
		return slices.Contains(reg.Expand(l.ReleasableTo), country)
	case t.RequireReleasableTo:
		return false
	}
	p, ok := reg.Policy(l.Policy)
	if !ok {
		return false
	}
	if p.Owner != "" && l.Originator != p.Owner {
		return country == l.Originator
	}
	return slices.Contains(reg.Audience(l.Policy), country)
}

type refCase struct {
	doc       *agreement.Document
	status    agreement.State
	obj       ObjectFacts
	hopDocs   []*agreement.Document
	recipient string
	purpose   string
	now       time.Time
}

func findTerms(doc *agreement.Document, from, to string) (agreement.Terms, bool) {
	for _, t := range doc.Terms {
		if slices.Contains(t.From, from) && slices.Contains(t.To, to) && from != to {
			return t, true
		}
	}
	return agreement.Terms{}, false
}

// refAllows says whether the whole object, and which parts, may go.
func refAllows(reg *label.Registry, c refCase) (whole bool, partOK []bool) {
	partOK = make([]bool, len(c.obj.Parts))
	d := c.doc
	if c.status != agreement.StateActive || c.now.Before(d.EffectiveTime()) || !c.now.Before(d.ExpiryTime()) {
		return false, partOK
	}
	t, ok := findTerms(d, "gbr", c.recipient)
	if !ok || !slices.Contains(t.Purposes, c.purpose) || len(c.obj.Labels) == 0 {
		return false, partOK
	}
	var country string
	for _, p := range d.Parties {
		if p.Name == c.recipient {
			country = p.Country
		}
	}
	consent := slices.Contains(c.obj.Consents, Consent{By: c.obj.Originator, To: c.recipient})
	foreign := c.obj.Originator != ""
	orconOK := func(l label.Label) bool { return !l.HasCaveat("ORCON") || !foreign || consent }
	for _, l := range c.obj.Labels {
		if !refLabelOK(reg, d, t, country, l) || !orconOK(l) {
			return false, partOK
		}
	}
	if foreign {
		if len(c.obj.Provenance) == 0 {
			return false, partOK
		}
		for _, hd := range c.hopDocs {
			if hd == nil {
				return false, partOK
			}
		}
		for i, h := range c.obj.Provenance {
			ht, ok := findTerms(c.hopDocs[i], h.From, h.To)
			if !ok {
				return false, partOK
			}
			isParty := slices.ContainsFunc(c.hopDocs[i].Parties, func(p agreement.Party) bool { return p.Name == c.recipient })
			switch {
			case ht.Onward == agreement.OnwardParties && isParty:
			case ht.Onward == agreement.OnwardWithConsent && consent:
			default:
				return false, partOK
			}
		}
	}
	for i, p := range c.obj.Parts {
		partOK[i] = refLabelOK(reg, d, t, country, p.Label) && orconOK(p.Label)
	}
	return true, partOK
}

func (g *gen) refCase(t testing.TB) (refCase, *Agreement) {
	r := g.r
	c := refCase{doc: g.doc("a")}
	c.status = agreement.StateActive
	if r.Intn(8) == 0 {
		c.status = pick(r, []agreement.State{agreement.StateSuspended, agreement.StateAmended, agreement.StateTerminated, agreement.StateExpired})
	}
	a, err := compile(c.doc, g.reg, "gbr", agreement.Status{State: c.status})
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	c.recipient = pick(r, nodes)
	if others := partyNames(c.doc)[1:]; r.Intn(10) > 0 {
		c.recipient = pick(r, others)
	}
	c.purpose = pick(r, []string{"analysis", "analysis", "analysis", "law-enforcement", "military-operations"})
	c.now = t0.Add(time.Duration(r.Intn(260)-160) * 24 * time.Hour)
	c.obj.Labels = make([]label.Label, r.Intn(2)+r.Intn(2))
	for i := range c.obj.Labels {
		c.obj.Labels[i] = g.label()
	}
	c.obj.Parts = make([]Part, r.Intn(3))
	for i := range c.obj.Parts {
		c.obj.Parts[i] = Part{Selectors: []string{"description"}, Label: g.label()}
	}
	if r.Intn(3) == 0 {
		c.obj.Originator = pick(r, []string{"usa", "fra", "deu"})
		from := c.obj.Originator
		hops := r.Intn(3)
		for i := 0; i < hops; i++ {
			to := "gbr"
			if i < hops-1 {
				to = pick(r, []string{"usa", "fra", "deu"})
			}
			hd := g.doc("h")
			for _, n := range []string{from, to} {
				if !slices.ContainsFunc(hd.Parties, func(p agreement.Party) bool { return p.Name == n }) {
					hd = newDoc("h", append(partyNames(hd), n), hd.Terms...)
					hd.Terms[0].From = append(hd.Terms[0].From, n)
					hd.Terms[0].To = append(hd.Terms[0].To, n)
				}
			}
			var ha *Agreement
			if r.Intn(10) > 0 {
				if ha, err = compile(hd, g.reg, "gbr", agreement.Status{State: agreement.StateExpired}); err != nil {
					t.Fatalf("hop compile: %v", err)
				}
			} else {
				hd = nil
			}
			c.hopDocs = append(c.hopDocs, hd)
			c.obj.Provenance = append(c.obj.Provenance, Hop{Agreement: ha, From: from, To: to})
			from = to
		}
		if r.Intn(2) == 0 {
			c.obj.Consents = []Consent{{By: pick(r, []string{c.obj.Originator, "usa"}), To: pick(r, []string{c.recipient, "fra"})}}
		}
	}
	return c, a
}

func partyNames(d *agreement.Document) []string {
	var out []string
	for _, p := range d.Parties {
		out = append(out, p.Name)
	}
	return out
}

func checkAgainstReference(t *testing.T, reg *label.Registry, c refCase, d ReleaseDecision) {
	t.Helper()
	whole, parts := refAllows(reg, c)
	if d.Released() || d.Outcome == Hold {
		if !whole {
			t.Fatalf("%s what the reference forbids: reasons %v\ncase %+v", d.Outcome, d.Reasons.Reasons(), c.obj)
		}
		for i, ok := range parts {
			if !ok && !d.Cut.Has(i) {
				t.Fatalf("%s part %d the reference forbids (%+v): reasons %v", d.Outcome, i, c.obj.Parts[i].Label, d.Reasons.Reasons())
			}
		}
	}
}

// TestDecideNeverExceedsReference: thousands of random agreements, labels
// and objects; Decide never releases (whole, tearline or held for approval)
// what the reference forbids, and releases what it allows when no approval
// is needed.
func TestDecideNeverExceedsReference(t *testing.T) {
	reg := testRegistry(t)
	g := &gen{r: rand.New(rand.NewSource(4774)), reg: reg}
	n := 20000
	if testing.Short() {
		n = 2000
	}
	counts := map[Outcome]int{}
	for i := 0; i < n; i++ {
		c, a := g.refCase(t)
		d := Decide(a, c.obj, Recipient{Party: c.recipient}, c.purpose, c.now)
		counts[d.Outcome]++
		checkAgainstReference(t, reg, c, d)
		// The other direction: what the reference allows, Decide does not
		// refuse (it may hold it for approval).
		if whole, _ := refAllows(reg, c); whole && d.Outcome == Refuse {
			t.Fatalf("refused what the reference allows: %v\nlabels %+v", d.Reasons.Reasons(), c.obj.Labels)
		}
	}
	for _, o := range []Outcome{Refuse, Hold, Tearline, Release} {
		if counts[o] < n/500 {
			t.Errorf("only %d of %d cases gave %s: the generator is too narrow", counts[o], n, o)
		}
	}
	t.Logf("outcomes: %v", counts)
}

func FuzzDecide(f *testing.F) {
	reg := testRegistry(f)
	for _, s := range []int64{1, 2, 3, 4774} {
		f.Add(s, uint8(0))
	}
	f.Fuzz(func(t *testing.T, seed int64, mutate uint8) {
		g := &gen{r: rand.New(rand.NewSource(seed)), reg: reg}
		c, a := g.refCase(t)
		// Mutations the generator does not make: garbage labels.
		switch mutate % 4 {
		case 1:
			if len(c.obj.Labels) > 0 {
				c.obj.Labels[0].Classification = string(rune(seed))
			}
		case 2:
			if len(c.obj.Labels) > 0 {
				c.obj.Labels[0].TLP = "PURPLE"
			}
		case 3:
			c.obj.Labels = append(c.obj.Labels, label.Label{Policy: "NATIONAL", Classification: "SECRET"})
		}
		d := Decide(a, c.obj, Recipient{Party: c.recipient}, c.purpose, c.now)
		checkAgainstReference(t, reg, c, d)
		_ = DecideInbound(a, c.obj, c.recipient, c.now)
	})
}
