package label

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/tearline/tearline/jcs"
)

func mustParse(t *testing.T, r *Registry, b string) Label {
	t.Helper()
	l, err := r.ParseBanner(b)
	if err != nil {
		t.Fatalf("ParseBanner(%q): %v", b, err)
	}
	return l
}

func TestDominate(t *testing.T) {
	r := testRegistry(t)
	for _, tc := range []struct {
		name string
		in   []string
		want string
	}{
		{"single", []string{"NATO SECRET // REL TO GBR"}, "NATO SECRET // REL TO GBR"},
		{"highest classification", []string{"NATO RESTRICTED", "NATO SECRET", "NATO CONFIDENTIAL"}, "NATO SECRET"},
		{"REL TO intersected", []string{"NATO SECRET // REL TO GBR, USA", "NATO RESTRICTED // REL TO FRA, USA"}, "NATO SECRET // REL TO USA"},
		{"group expanded", []string{"NATO SECRET // REL TO FVEY", "NATO SECRET // REL TO NATO"}, "NATO SECRET // REL TO CAN, GBR, USA"},
		{"no REL TO means audience", []string{"NATO SECRET // REL TO AUS, GBR", "NATO SECRET"}, "NATO SECRET // REL TO GBR"},
		{"identical REL TO kept as written", []string{"NATO SECRET // REL TO FVEY", "NATO CONFIDENTIAL // REL TO FVEY"}, "NATO SECRET // REL TO FVEY"},
		{"groups folded back", []string{"NATO SECRET // REL TO AUS, NATO", "NATO SECRET // REL TO NATO, NZL"}, "NATO SECRET // REL TO NATO"},
		{"empty intersection falls to originator", []string{"NATO SECRET // REL TO FRA // ORIG GBR", "NATO SECRET // REL TO DEU // ORIG GBR"}, "NATO SECRET // NOFORN // ORIG GBR"},
		{"NOFORN absorbs REL TO", []string{"NATO SECRET // NOFORN // ORIG GBR", "NATO SECRET // REL TO GBR, USA"}, "NATO SECRET // NOFORN // ORIG GBR"},
		{"unions", []string{
			"NATO SECRET // COMPARTMENTS ALPHA // ORCON // DISC SIGINT // TOPIC CYBER",
			"NATO SECRET // COMPARTMENTS BRAVO // DISC HUMINT // TOPIC CYBER, PROLIFERATION"},
			"NATO SECRET // COMPARTMENTS ALPHA, BRAVO // ORCON // DISC HUMINT, SIGINT // TOPIC CYBER, PROLIFERATION"},
		{"TLP max", []string{"NATO SECRET // TLP:GREEN", "NATO SECRET // TLP:AMBER+STRICT", "NATO SECRET // TLP:AMBER", "NATO SECRET"}, "NATO SECRET // TLP:AMBER+STRICT"},
		{"grading worst", []string{"NATO SECRET // GRADE A5", "NATO SECRET // GRADE C2"}, "NATO SECRET // GRADE C5"},
		{"ungraded part", []string{"NATO SECRET // GRADE A1", "NATO SECRET"}, "NATO SECRET"},
		{"mixed originators dropped", []string{"NATO SECRET // ORIG GBR", "NATO SECRET // ORIG USA"}, "NATO SECRET"},
		{"one originator kept", []string{"NATO SECRET // ORIG GBR", "NATO SECRET"}, "NATO SECRET // ORIG GBR"},
		{"national", []string{"GBR OFFICIAL", "GBR SECRET // ORCON"}, "GBR SECRET // ORCON"},
	} {
		var in []Label
		for _, b := range tc.in {
			in = append(in, mustParse(t, r, b))
		}
		got, err := Dominate(r, in...)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if b := r.Banner(got); b != tc.want {
			t.Errorf("%s: Dominate = %q, want %q", tc.name, b, tc.want)
		}
	}
}

func TestDominateErrors(t *testing.T) {
	r := testRegistry(t)
	if _, err := Dominate(r); err == nil {
		t.Error("Dominate() succeeded")
	}
	if _, err := Dominate(nil, Label{}); err == nil {
		t.Error("Dominate(nil registry) succeeded")
	}
	var fe *FieldError
	_, err := Dominate(r, mustParse(t, r, "NATO SECRET"), mustParse(t, r, "GBR SECRET"))
	if !errors.As(err, &fe) || fe.Field != "policy" {
		t.Errorf("mixed policies: %v", err)
	}
	_, err = Dominate(r, mustParse(t, r, "NATO SECRET"), Label{Policy: "NATO", Classification: "SECRET", Caveats: []string{"BOGUS"}})
	if !errors.As(err, &fe) || fe.Field != "caveats" || !strings.Contains(err.Error(), "input 1") {
		t.Errorf("invalid input: %v", err)
	}
	_, err = Dominate(r, mustParse(t, r, "NATO SECRET // NOFORN // ORIG GBR"), mustParse(t, r, "NATO SECRET // NOFORN // ORIG USA"))
	if !errors.As(err, &fe) || fe.Field != "originator" {
		t.Errorf("NOFORN from two originators: %v", err)
	}
	_, err = Dominate(r, mustParse(t, r, "NATO SECRET // REL TO FRA"), mustParse(t, r, "NATO SECRET // REL TO DEU"))
	if !errors.Is(err, ErrNoCommonAudience) {
		t.Errorf("disjoint REL TO without originator: %v", err)
	}
	// Dominate must not alter its inputs.
	a := mustParse(t, r, "NATO SECRET // REL TO GBR, USA")
	b := mustParse(t, r, "NATO SECRET // REL TO USA")
	saved := slices.Clone(a.ReleasableTo)
	if _, err := Dominate(r, a, b); err != nil || !slices.Equal(a.ReleasableTo, saved) {
		t.Errorf("input changed: %v %v", a.ReleasableTo, err)
	}
}

func TestTLP(t *testing.T) {
	ids := map[string]string{
		"CLEAR":        "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
		"GREEN":        "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
		"AMBER":        "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
		"AMBER+STRICT": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
		"RED":          "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
	}
	consts := map[string]string{"CLEAR": TLPClearID, "GREEN": TLPGreenID, "AMBER": TLPAmberID, "AMBER+STRICT": TLPAmberStrictID, "RED": TLPRedID}
	for lvl, id := range ids {
		if consts[lvl] != id || TLPID(lvl) != id {
			t.Errorf("%s id constant %s, want %s", lvl, consts[lvl], id)
		}
		if got, ok := TLPFromRef(id); !ok || got != lvl {
			t.Errorf("TLPFromRef(%s) = %s, %v", id, got, ok)
		}
		raw := TLPMarking(strings.ToLower("tlp:" + lvl))
		canon, err := jcs.Canonicalize(raw)
		if err != nil || string(canon) != string(raw) {
			t.Errorf("TLPMarking(%s) not canonical: %v", lvl, err)
		}
		var obj struct {
			Type, SpecVersion, ID, Created, Name string
			Extensions                           map[string]map[string]string
		}
		if err := json.Unmarshal(raw, &obj); err != nil {
			t.Fatal(err)
		}
		var full map[string]any
		_ = json.Unmarshal(raw, &full)
		ext := obj.Extensions[TLP2ExtensionID]
		if obj.Type != "marking-definition" || full["spec_version"] != "2.1" || obj.ID != id ||
			obj.Created != "2022-10-01T00:00:00.000Z" || obj.Name != "TLP:"+lvl || len(full) != 6 ||
			ext["extension_type"] != "property-extension" || ext["tlp_2_0"] != strings.ToLower(lvl) || len(ext) != 2 {
			t.Errorf("TLPMarking(%s) = %s", lvl, raw)
		}
	}
	for id, lvl := range map[string]string{
		TLP1WhiteID: "CLEAR", TLP1GreenID: "GREEN", TLP1AmberID: "AMBER", TLP1RedID: "RED",
		strings.ToUpper(TLPRedID): "RED",
	} {
		if got, ok := TLPFromRef(id); !ok || got != lvl {
			t.Errorf("TLPFromRef(%s) = %s, %v; want %s", id, got, ok, lvl)
		}
	}
	if _, ok := TLPFromRef("marking-definition--00000000-0000-4000-8000-000000000000"); ok {
		t.Error("TLPFromRef accepted an unknown id")
	}
	if TLPMarking("PURPLE") != nil || TLPMarking("") != nil {
		t.Error("TLPMarking of unknown level not nil")
	}
	order := []string{"", "CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED", "PURPLE"}
	for i := 1; i < len(order); i++ {
		if TLPRank(order[i-1]) >= TLPRank(order[i]) {
			t.Errorf("TLPRank(%q) >= TLPRank(%q)", order[i-1], order[i])
		}
	}
	if TLPRank("tlp:amber") != TLPRank("AMBER") || TLPRank("White") != TLPRank("CLEAR") {
		t.Error("TLPRank not case-insensitive")
	}
}

// randomLabel draws a valid label from the default vocabulary.
func randomLabel(rng *rand.Rand, r *Registry) Label {
	pick := func(from []string, max int) []string {
		var out []string
		for range rng.IntN(max + 1) {
			out = append(out, from[rng.IntN(len(from))])
		}
		return out
	}
	cfg := DefaultConfig("GBR")
	pol := cfg.Policies[rng.IntN(len(cfg.Policies))]
	l := Label{
		Policy:         pol.Name,
		Classification: pol.Levels[rng.IntN(len(pol.Levels))].Name,
		Compartments:   pick([]string{"ALPHA", "BRAVO", "SI", "TK", "X-1", "Y_2"}, 3),
		Caveats:        pick([]string{"ORCON"}, 1),
		TLP:            []string{"", "CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"}[rng.IntN(6)],
		Disciplines:    pick(cfg.Disciplines, 3),
		Topics:         pick(cfg.Topics, 3),
	}
	if rng.IntN(2) == 0 {
		l.Grading = string([]byte{byte('A' + rng.IntN(6)), byte('1' + rng.IntN(6))})
	}
	if rng.IntN(2) == 0 {
		l.Originator = []string{"GBR", "USA", "FRA", "AUS"}[rng.IntN(4)]
	}
	if pol.Owner != "" {
		l.Originator = pol.Owner
	}
	if l.Originator != "" && rng.IntN(4) == 0 {
		l.Caveats = append(l.Caveats, CaveatNOFORN)
	} else {
		l.ReleasableTo = pick([]string{"GBR", "USA", "FRA", "DEU", "AUS", "JPN", "FVEY", "NATO"}, 4)
	}
	return r.Normalize(l)
}

// TestRoundTripProperty: for random valid labels, banner and
// marking-definition round trips are exact and ids are stable.
func TestRoundTripProperty(t *testing.T) {
	r := testRegistry(t)
	rng := rand.New(rand.NewPCG(4774, 2026))
	for i := range 2000 {
		l := randomLabel(rng, r)
		if err := r.Validate(l); err != nil {
			t.Fatalf("#%d: generated invalid label %+v: %v", i, l, err)
		}
		b := r.Banner(l)
		p, err := r.ParseBanner(b)
		if err != nil {
			t.Fatalf("#%d: ParseBanner(%q): %v", i, b, err)
		}
		if !p.Equal(l) {
			t.Fatalf("#%d: banner round trip %q: got %+v, want %+v", i, b, p, l)
		}
		if lower := r.Banner(mustParse(t, r, strings.ToLower(b))); lower != b {
			t.Fatalf("#%d: lower-case banner renders %q, want %q", i, lower, b)
		}
		md := r.MarkingDefinition(l)
		m, ours, err := ParseMarkingDefinition(md)
		if err != nil || !ours || !m.Equal(l) {
			t.Fatalf("#%d: marking-definition round trip: %+v %v %v\n%s", i, m, ours, err, md)
		}
		if l.ID() != m.ID() {
			t.Fatalf("#%d: id changed across round trip", i)
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	r := testRegistry(t)
	l := mustParse(t, r, "NATO SECRET // REL TO FVEY // ORCON")
	done := make(chan bool)
	for range 8 {
		go func() {
			for range 200 {
				_, _ = r.Rank("NATO", "SECRET")
				_ = r.Expand(l.ReleasableTo)
				_, _ = r.ParseBanner(r.Banner(l))
				_ = r.MarkingDefinition(l)
			}
			done <- true
		}()
	}
	for range 8 {
		<-done
	}
}

func FuzzParseBanner(f *testing.F) {
	for _, s := range []string{
		"NATO SECRET",
		"nato secret // rel to gbr,usa",
		"NATO SECRET // REL TO GBR, USA // ORCON",
		"COSMIC TOP SECRET // COMPARTMENTS A, B // NOFORN // ORIG GBR",
		"NATO SECRET // COMPARTMENTS ALPHA, BRAVO // REL TO FVEY, NATO // ORCON // TLP:AMBER // DISC HUMINT, SIGINT // TOPIC COUNTER-TERRORISM, CYBER // GRADE B2 // ORIG GBR",
		"GBR SECRET // TLP:white",
		"NATO SECRET ////",
		"NATO SECRET // REL TO ,",
	} {
		f.Add(s)
	}
	r, err := NewRegistry(DefaultConfig("GBR"))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := r.ParseBanner(s)
		if err != nil {
			return
		}
		if err := r.Validate(l); err != nil {
			t.Fatalf("ParseBanner(%q) returned an invalid label: %v", s, err)
		}
		b := r.Banner(l)
		l2, err := r.ParseBanner(b)
		if err != nil {
			t.Fatalf("ParseBanner(%q) → %+v renders %q, which does not parse: %v", s, l, b, err)
		}
		if !l2.Equal(l) {
			t.Fatalf("ParseBanner(%q) = %+v; re-parse of %q = %+v", s, l, b, l2)
		}
		if b2 := r.Banner(l2); b2 != b {
			t.Fatalf("banner not stable: %q then %q", b, b2)
		}
		m, ours, err := ParseMarkingDefinition(r.MarkingDefinition(l))
		if err != nil || !ours || !m.Equal(l) {
			t.Fatalf("marking-definition round trip of %+v: %+v %v %v", l, m, ours, err)
		}
	})
}
