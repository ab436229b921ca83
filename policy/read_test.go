package policy

import (
	"slices"
	"strings"
	"testing"

	"github.com/tearline/tearline/label"
)

func testRegistry(t testing.TB) *label.Registry {
	t.Helper()
	reg, err := label.NewRegistry(label.DefaultConfig("GBR"))
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

func banner(t testing.TB, reg *label.Registry, b string) label.Label {
	t.Helper()
	l, err := reg.ParseBanner(b)
	if err != nil {
		t.Fatalf("banner %q: %v", b, err)
	}
	if l.HasCaveat(label.CaveatNOFORN) && l.Originator == "" {
		l.Originator = "GBR"
	}
	return l
}

var gbrSecret = Subject{Nationality: "GBR", Clearances: map[string]string{"NATO": "SECRET", "NATIONAL": "SECRET"}, Compartments: []string{"HERON"}}

// One table row per Reason: the smallest change that denies for that reason
// alone, and the allowed neighbours that pin the boundary.
func TestCanReadReasons(t *testing.T) {
	reg := testRegistry(t)
	usa := Subject{Nationality: "USA", Clearances: map[string]string{"NATO": "SECRET"}}
	aus := Subject{Nationality: "AUS", Clearances: map[string]string{"NATO": "TOP-SECRET"}, Compartments: []string{"HERON"}}
	cases := []struct {
		name    string
		s       Subject
		labels  []label.Label
		reasons []Reason // nil: allow
	}{
		{"no labels", gbrSecret, nil, []Reason{ReasonUnlabelled}},
		{"empty labels", gbrSecret, []label.Label{}, []Reason{ReasonUnlabelled}},
		{"unknown policy", gbrSecret, []label.Label{{Policy: "EU", Classification: "SECRET"}}, []Reason{ReasonUnknownPolicy}},
		{"unknown level", gbrSecret, []label.Label{{Policy: "NATO", Classification: "ULTRA"}}, []Reason{ReasonUnknownPolicy}},
		{"no clearance in the policy", usa, []label.Label{banner(t, reg, "GBR OFFICIAL")}, []Reason{ReasonNoClearance, ReasonReleasability}},
		{"no clearance, nothing else", Subject{Nationality: "GBR", Clearances: map[string]string{"NATIONAL": "TOP-SECRET"}}, []label.Label{banner(t, reg, "NATO UNCLASSIFIED")}, []Reason{ReasonNoClearance}},
		{"clearance one level low", gbrSecret, []label.Label{banner(t, reg, "COSMIC TOP SECRET")}, []Reason{ReasonClearance}},
		{"clearance equal", gbrSecret, []label.Label{banner(t, reg, "NATO SECRET")}, nil},
		{"clearance above", gbrSecret, []label.Label{banner(t, reg, "NATO RESTRICTED")}, nil},
		{"held level unknown", Subject{Nationality: "GBR", Clearances: map[string]string{"NATO": "SECRETISH"}}, []label.Label{banner(t, reg, "NATO UNCLASSIFIED")}, []Reason{ReasonClearance}},
		{"compartment missing", gbrSecret, []label.Label{banner(t, reg, "NATO SECRET // COMPARTMENTS HERON, KESTREL")}, []Reason{ReasonCompartment}},
		{"compartment held", gbrSecret, []label.Label{banner(t, reg, "NATO SECRET // COMPARTMENTS HERON")}, nil},
		{"not in REL TO", usa, []label.Label{banner(t, reg, "NATO SECRET // REL TO GBR, FRA")}, []Reason{ReasonReleasability}},
		{"in REL TO group", usa, []label.Label{banner(t, reg, "NATO SECRET // REL TO FVEY")}, nil},
		{"REL TO beyond the audience", aus, []label.Label{banner(t, reg, "NATO SECRET // COMPARTMENTS HERON // REL TO FVEY")}, nil},
		{"outside the policy audience", aus, []label.Label{banner(t, reg, "NATO SECRET")}, []Reason{ReasonReleasability}},
		{"national audience", usa, []label.Label{{Policy: "NATIONAL", Classification: "OFFICIAL", Originator: "GBR"}}, []Reason{ReasonNoClearance, ReasonReleasability}},
		{"NOFORN of another nation", gbrSecret, []label.Label{banner(t, reg, "NATO SECRET // NOFORN // ORIG USA")}, []Reason{ReasonOriginatorOnly}},
		{"NOFORN of own nation", usa, []label.Label{banner(t, reg, "NATO SECRET // NOFORN // ORIG USA")}, nil},
		{"ORCON does not restrict reading", usa, []label.Label{banner(t, reg, "NATO SECRET // REL TO USA // ORCON // TLP:RED")}, nil},
		{"every label must be satisfied", usa, []label.Label{banner(t, reg, "NATO SECRET // REL TO USA"), banner(t, reg, "NATO SECRET // REL TO GBR")}, []Reason{ReasonReleasability}},
		{"reasons are collected once", usa, []label.Label{banner(t, reg, "NATO SECRET // REL TO GBR"), banner(t, reg, "COSMIC TOP SECRET // REL TO FRA")}, []Reason{ReasonReleasability, ReasonClearance}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := CanRead(reg, c.s, c.labels)
			if d.Allow != (c.reasons == nil) {
				t.Fatalf("Allow = %t (reasons %v), want %t", d.Allow, d.Reasons, c.reasons == nil)
			}
			got, want := slices.Clone(d.Reasons), slices.Clone(c.reasons)
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("reasons = %v, want %v", d.Reasons, c.reasons)
			}
			if len(slices.Compact(got)) != len(d.Reasons) {
				t.Errorf("reasons repeat: %v", d.Reasons)
			}
			// Classes agrees with CanRead for the same labels.
			ids := Classes(reg, c.s, []Class{{ID: 7, Labels: c.labels}})
			if (len(ids) == 1) != d.Allow {
				t.Errorf("Classes = %v, CanRead allow = %t", ids, d.Allow)
			}
		})
	}
}

func TestExplain(t *testing.T) {
	for _, r := range []Reason{ReasonUnlabelled, ReasonUnknownPolicy, ReasonNoClearance, ReasonClearance, ReasonCompartment, ReasonReleasability, ReasonOriginatorOnly} {
		if e := Explain(r); e == "" || e == string(r) || !strings.Contains(e, " ") {
			t.Errorf("Explain(%s) = %q: want words", r, e)
		}
	}
	if Explain("something-new") != "something-new" {
		t.Error("Explain of an unknown code should return the code")
	}
}

func TestClassesSelectsReadable(t *testing.T) {
	reg := testRegistry(t)
	cs := []Class{
		{ID: 1, Labels: []label.Label{banner(t, reg, "NATO SECRET")}},
		{ID: 2, Labels: []label.Label{banner(t, reg, "COSMIC TOP SECRET")}},
		{ID: 3, Labels: nil},
		{ID: 4, Labels: []label.Label{banner(t, reg, "NATO RESTRICTED"), banner(t, reg, "GBR SECRET // NOFORN")}},
		{ID: 5, Labels: []label.Label{banner(t, reg, "NATO RESTRICTED"), banner(t, reg, "GBR TOP SECRET")}},
	}
	if got := Classes(reg, gbrSecret, cs); !slices.Equal(got, []int64{1, 4}) {
		t.Errorf("Classes = %v, want [1 4]", got)
	}
	if got := Classes(reg, Subject{}, cs); len(got) != 0 {
		t.Errorf("Classes for nobody = %v", got)
	}
}

// refCanRead is a straightforward reading of the rules in docs/LABELS.md,
// written without CanRead's helpers (Rank, Expand, Audience): levels and
// group members come from the configuration.
func refCanRead(reg *label.Registry, s Subject, labels []label.Label) map[Reason]bool {
	out := map[Reason]bool{}
	if len(labels) == 0 {
		out[ReasonUnlabelled] = true
		return out
	}
	expand := func(codes []string) []string {
		var all []string
		for _, c := range codes {
			if members, ok := reg.Group(c); ok {
				all = append(all, members...)
			} else {
				all = append(all, c)
			}
		}
		return all
	}
	for _, l := range labels {
		pc, ok := reg.Policy(l.Policy)
		need := slices.IndexFunc(pc.Levels, func(lv label.LevelConfig) bool { return lv.Name == l.Classification })
		if !ok || need < 0 {
			out[ReasonUnknownPolicy] = true
			continue
		}
		if held, ok := s.Clearances[l.Policy]; !ok {
			out[ReasonNoClearance] = true
		} else if have := slices.IndexFunc(pc.Levels, func(lv label.LevelConfig) bool { return lv.Name == held }); have < need {
			out[ReasonClearance] = true
		}
		for _, c := range l.Compartments {
			if !slices.Contains(s.Compartments, c) {
				out[ReasonCompartment] = true
			}
		}
		nations := expand(pc.Audience)
		if len(l.ReleasableTo) > 0 {
			nations = expand(l.ReleasableTo)
		}
		if !slices.Contains(nations, s.Nationality) {
			out[ReasonReleasability] = true
		}
		if slices.Contains(l.Caveats, label.CaveatNOFORN) && s.Nationality != l.Originator {
			out[ReasonOriginatorOnly] = true
		}
	}
	return out
}

// fuzzReader turns fuzz bytes into choices.
type fuzzReader struct{ b []byte }

func (f *fuzzReader) next() int {
	if len(f.b) == 0 {
		return 0
	}
	c := int(f.b[0])
	f.b = f.b[1:]
	return c
}

func (f *fuzzReader) pick(opts []string) string { return opts[f.next()%len(opts)] }

func (f *fuzzReader) some(opts []string) []string {
	var out []string
	for k := f.next() % 4; k > 0; k-- {
		out = append(out, f.pick(opts))
	}
	return out
}

var (
	fzPolicies  = []string{"NATO", "NATIONAL", "EU", "nato", ""}
	fzLevels    = []string{"UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL", "SECRET", "TOP-SECRET", "OFFICIAL", "ULTRA", "", "secret"}
	fzNations   = []string{"GBR", "USA", "FRA", "DEU", "AUS", "NZL", "JPN", "CAN", "SWE", "", "gbr"}
	fzRelTo     = []string{"GBR", "USA", "FRA", "AUS", "JPN", "FVEY", "NATO", "EU", "fvey"}
	fzComps     = []string{"HERON", "KESTREL", "OSPREY", ""}
	fzCaveats   = []string{"NOFORN", "ORCON", "NOFORN"}
	fzOriginals = []string{"GBR", "USA", "AUS", ""}
)

func FuzzCanRead(f *testing.F) {
	reg := testRegistry(f)
	f.Add([]byte{})
	f.Add([]byte{1, 0, 3, 1, 3, 2, 0, 0, 1, 1})
	f.Add([]byte{3, 1, 3, 3, 1, 1, 2, 1, 5, 0, 1, 1, 0, 0, 1})
	f.Add([]byte("the quick brown fox jumps over the lazy dog, 0123456789"))
	f.Add([]byte{2, 0, 4, 2, 0, 0, 3, 1, 0, 7, 200, 13, 2, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := &fuzzReader{b: data}
		s := Subject{Nationality: r.pick(fzNations), Clearances: map[string]string{}, Compartments: r.some(fzComps)}
		for k := r.next() % 3; k > 0; k-- {
			s.Clearances[r.pick(fzPolicies)] = r.pick(fzLevels)
		}
		labels := make([]label.Label, r.next()%4)
		for i := range labels {
			labels[i] = label.Label{Policy: r.pick(fzPolicies), Classification: r.pick(fzLevels),
				ReleasableTo: r.some(fzRelTo), Compartments: r.some(fzComps), Caveats: r.some(fzCaveats), Originator: r.pick(fzOriginals)}
		}
		d := CanRead(reg, s, labels)
		want := refCanRead(reg, s, labels)
		if d.Allow != (len(d.Reasons) == 0) {
			t.Fatalf("Allow = %t with reasons %v", d.Allow, d.Reasons)
		}
		if d.Allow && len(want) > 0 {
			t.Fatalf("CanRead allows %+v to read %+v, but the reference denies: %v", s, labels, want)
		}
		got := map[Reason]bool{}
		for _, rs := range d.Reasons {
			if got[rs] {
				t.Fatalf("reason %s repeated: %v", rs, d.Reasons)
			}
			got[rs] = true
		}
		if len(got) != len(want) {
			t.Fatalf("subject %+v labels %+v: reasons %v, reference %v", s, labels, d.Reasons, want)
		}
		for rs := range want {
			if !got[rs] {
				t.Fatalf("subject %+v labels %+v: reasons %v, reference %v", s, labels, d.Reasons, want)
			}
		}
		if ids := Classes(reg, s, []Class{{ID: 1, Labels: labels}}); (len(ids) == 1) != d.Allow {
			t.Fatalf("Classes %v disagrees with CanRead %t", ids, d.Allow)
		}
	})
}
