package label

import (
	"bytes"
	"encoding/json"
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/tearline/tearline/jcs"
)

func testRegistry(t testing.TB) *Registry {
	t.Helper()
	r, err := NewRegistry(DefaultConfig("GBR"))
	if err != nil {
		t.Fatalf("NewRegistry(DefaultConfig): %v", err)
	}
	return r
}

func TestCanonicalBannersRoundTrip(t *testing.T) {
	r := testRegistry(t)
	for _, b := range []string{
		"NATO SECRET",
		"NATO SECRET // REL TO GBR",
		"NATO SECRET // REL TO GBR, USA // ORCON",
		"NATO RESTRICTED // REL TO GBR",
		"COSMIC TOP SECRET",
		"NATO UNCLASSIFIED // TLP:CLEAR",
		"GBR SECRET",
		"GBR OFFICIAL // NOFORN",
		"NATO SECRET // NOFORN // ORIG USA",
		"NATO CONFIDENTIAL // REL TO AUS, NATO // TLP:AMBER+STRICT",
		"NATO SECRET // COMPARTMENTS ALPHA, BRAVO // REL TO FVEY, NATO // ORCON // TLP:AMBER // DISC HUMINT, SIGINT // TOPIC COUNTER-TERRORISM, CYBER // GRADE B2 // ORIG GBR",
	} {
		l, err := r.ParseBanner(b)
		if err != nil {
			t.Errorf("ParseBanner(%q): %v", b, err)
			continue
		}
		if got := r.Banner(l); got != b {
			t.Errorf("Banner(ParseBanner(%q)) = %q", b, got)
		}
	}
}

func TestParseBannerFields(t *testing.T) {
	r := testRegistry(t)
	l, err := r.ParseBanner("NATO SECRET // COMPARTMENTS BRAVO, ALPHA // REL TO USA, GBR // ORCON // TLP:AMBER // DISC SIGINT // TOPIC CYBER // GRADE B2 // ORIG GBR")
	if err != nil {
		t.Fatal(err)
	}
	want := Label{
		Policy: "NATO", Classification: "SECRET",
		Compartments: []string{"ALPHA", "BRAVO"},
		ReleasableTo: []string{"GBR", "USA"},
		Caveats:      []string{"ORCON"},
		TLP:          "AMBER",
		Disciplines:  []string{"SIGINT"},
		Topics:       []string{"CYBER"},
		Grading:      "B2",
		Originator:   "GBR",
	}
	if !l.Equal(want) {
		t.Errorf("got %+v\nwant %+v", l, want)
	}
	l, err = r.ParseBanner("GBR SECRET")
	if err != nil {
		t.Fatal(err)
	}
	if want := (Label{Policy: "NATIONAL", Classification: "SECRET", Originator: "GBR"}); !l.Equal(want) {
		t.Errorf("national: got %+v, want %+v", l, want)
	}
}

func TestParseBannerTolerant(t *testing.T) {
	r := testRegistry(t)
	for in, want := range map[string]string{
		"nato secret // rel to gbr,usa":                       "NATO SECRET // REL TO GBR, USA",
		"  Nato   Secret//REL  TO  usa ,  gbr//orcon  ":       "NATO SECRET // REL TO GBR, USA // ORCON",
		"NATO SECRET // ORCON // REL TO USA, GBR":             "NATO SECRET // REL TO GBR, USA // ORCON",
		"NATO SECRET // REL TO GBR, GBR":                      "NATO SECRET // REL TO GBR",
		"NATO SECRET // TLP:white":                            "NATO SECRET // TLP:CLEAR",
		"NATO SECRET // tlp: amber+strict":                    "NATO SECRET // TLP:AMBER+STRICT",
		"GBR SECRET // ORIG GBR":                              "GBR SECRET",
		"cosmic top secret // grade b2 // disc sigint,humint": "COSMIC TOP SECRET // DISC HUMINT, SIGINT // GRADE B2",
		"NATO SECRET\t//\tNOFORN // ORIG usa":                 "NATO SECRET // NOFORN // ORIG USA",
	} {
		l, err := r.ParseBanner(in)
		if err != nil {
			t.Errorf("ParseBanner(%q): %v", in, err)
			continue
		}
		if got := r.Banner(l); got != want {
			t.Errorf("ParseBanner(%q) renders %q, want %q", in, got, want)
		}
	}
}

func TestParseBannerErrors(t *testing.T) {
	r := testRegistry(t)
	for in, want := range map[string]string{
		"":                                                `classification marking ""`,
		"NATO SEKRIT":                                     `"NATO SEKRIT" not understood`,
		"NATO SECRET / REL TO GBR":                        `"NATO SECRET / REL TO GBR" not understood`,
		"NATO SECRET //":                                  "empty segment",
		"NATO SECRET // // ORCON":                         "empty segment",
		"NATO SECRET // FOO":                              `"FOO" not understood`,
		"NATO SECRET // REL TO":                           "empty REL TO list",
		"NATO SECRET // REL TO GBR,":                      "empty entry in REL TO list",
		"NATO SECRET // REL TO GBR USA":                   "releasable_to",
		"NATO SECRET // REL TO GBR // REL TO USA":         "repeats REL TO",
		"NATO SECRET // ORCON // orcon":                   "repeats caveat ORCON",
		"NATO SECRET // REL TO XX":                        `releasable_to: "XX"`,
		"NATO SECRET // NOFORN":                           "originator: is required with NOFORN",
		"NATO SECRET // NOFORN // REL TO GBR // ORIG GBR": "releasable_to: must be empty with NOFORN",
		"NATO SECRET // GRADE Z9":                         `grading: "Z9"`,
		"NATO SECRET // GRADE B2 C3":                      "GRADE takes exactly one value",
		"NATO SECRET // TLP:PURPLE":                       `tlp: "PURPLE"`,
		"NATO SECRET // TLP:":                             "no TLP level",
		"NATO SECRET // DISC PSYCHINT":                    `disciplines: "PSYCHINT"`,
		"NATO SECRET // TOPIC GOSSIP":                     `topics: "GOSSIP"`,
		"NATO SECRET // COMPARTMENTS A B":                 `compartments: "A B"`,
		"NATO SECRET // ORIG GB":                          `originator: "GB"`,
		"GBR SECRET // ORIG USA":                          "originator: \"USA\" must be GBR",
	} {
		_, err := r.ParseBanner(in)
		if err == nil {
			t.Errorf("ParseBanner(%q) succeeded", in)
			continue
		}
		if !strings.Contains(err.Error(), want) {
			t.Errorf("ParseBanner(%q) = %v, want it to mention %q", in, err, want)
		}
	}
}

func TestValidateRefusals(t *testing.T) {
	r := testRegistry(t)
	ok := Label{Policy: "NATO", Classification: "SECRET"}
	with := func(f func(*Label)) Label { l := ok; f(&l); return l }
	if err := r.Validate(ok); err != nil {
		t.Fatalf("Validate(%+v): %v", ok, err)
	}
	for _, tc := range []struct {
		name  string
		l     Label
		field string
	}{
		{"policy not normal", with(func(l *Label) { l.Policy = "nato" }), "policy"},
		{"classification not normal", with(func(l *Label) { l.Classification = " SECRET" }), "classification"},
		{"releasable_to unsorted", with(func(l *Label) { l.ReleasableTo = []string{"USA", "GBR"} }), "releasable_to"},
		{"releasable_to duplicate", with(func(l *Label) { l.ReleasableTo = []string{"GBR", "GBR"} }), "releasable_to"},
		{"releasable_to lower", with(func(l *Label) { l.ReleasableTo = []string{"gbr"} }), "releasable_to"},
		{"releasable_to empty slice entry", with(func(l *Label) { l.ReleasableTo = []string{""} }), "releasable_to"},
		{"compartments unsorted", with(func(l *Label) { l.Compartments = []string{"B", "A"} }), "compartments"},
		{"caveats lower", with(func(l *Label) { l.Caveats = []string{"orcon"} }), "caveats"},
		{"tlp prefixed", with(func(l *Label) { l.TLP = "TLP:RED" }), "tlp"},
		{"disciplines unsorted", with(func(l *Label) { l.Disciplines = []string{"SIGINT", "HUMINT"} }), "disciplines"},
		{"topics lower", with(func(l *Label) { l.Topics = []string{"cyber"} }), "topics"},
		{"grading lower", with(func(l *Label) { l.Grading = "b2" }), "grading"},
		{"originator lower", with(func(l *Label) { l.Originator = "gbr" }), "originator"},
		{"unknown policy", with(func(l *Label) { l.Policy = "EU" }), "policy"},
		{"empty policy", with(func(l *Label) { l.Policy = "" }), "policy"},
		{"unknown classification", with(func(l *Label) { l.Classification = "OFFICIAL" }), "classification"},
		{"empty classification", with(func(l *Label) { l.Classification = "" }), "classification"},
		{"releasable_to two letters", with(func(l *Label) { l.ReleasableTo = []string{"GB"} }), "releasable_to"},
		{"releasable_to unknown group", with(func(l *Label) { l.ReleasableTo = []string{"EUROPA"} }), "releasable_to"},
		{"releasable_to digits", with(func(l *Label) { l.ReleasableTo = []string{"G8R"} }), "releasable_to"},
		{"compartment with space", with(func(l *Label) { l.Compartments = []string{"A B"} }), "compartments"},
		{"compartment with slash", with(func(l *Label) { l.Compartments = []string{"A/B"} }), "compartments"},
		{"unknown caveat", with(func(l *Label) { l.Caveats = []string{"EYESONLY"} }), "caveats"},
		{"unknown tlp", with(func(l *Label) { l.TLP = "PURPLE" }), "tlp"},
		{"unknown discipline", with(func(l *Label) { l.Disciplines = []string{"PSYCHINT"} }), "disciplines"},
		{"unknown topic", with(func(l *Label) { l.Topics = []string{"GOSSIP"} }), "topics"},
		{"grading bad letter", with(func(l *Label) { l.Grading = "G1" }), "grading"},
		{"grading bad digit", with(func(l *Label) { l.Grading = "A7" }), "grading"},
		{"grading too short", with(func(l *Label) { l.Grading = "A" }), "grading"},
		{"grading too long", with(func(l *Label) { l.Grading = "A12" }), "grading"},
		{"originator group", with(func(l *Label) { l.Originator = "NATO" }), "originator"},
		{"originator two letters", with(func(l *Label) { l.Originator = "GB" }), "originator"},
		{"national without originator", Label{Policy: "NATIONAL", Classification: "SECRET"}, "originator"},
		{"national foreign originator", Label{Policy: "NATIONAL", Classification: "SECRET", Originator: "USA"}, "originator"},
		{"NOFORN without originator", with(func(l *Label) { l.Caveats = []string{"NOFORN"} }), "originator"},
		{"NOFORN with REL TO", with(func(l *Label) {
			l.Caveats, l.Originator, l.ReleasableTo = []string{"NOFORN"}, "GBR", []string{"GBR"}
		}), "releasable_to"},
	} {
		err := r.Validate(tc.l)
		var fe *FieldError
		if !errors.As(err, &fe) {
			t.Errorf("%s: Validate = %v, want a *FieldError", tc.name, err)
			continue
		}
		if fe.Field != tc.field {
			t.Errorf("%s: error names field %q, want %q (%v)", tc.name, fe.Field, tc.field, err)
		}
		if !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%s: message %q does not name %q", tc.name, err, tc.field)
		}
	}
}

func TestNormalize(t *testing.T) {
	r := testRegistry(t)
	in := Label{
		Policy: " nato ", Classification: "secret",
		ReleasableTo: []string{"usa", "GBR", " gbr", ""},
		Caveats:      []string{},
		TLP:          "tlp:white",
		Grading:      "b2",
		Originator:   "gbr",
	}
	saved := slices.Clone(in.ReleasableTo)
	got := r.Normalize(in)
	want := Label{Policy: "NATO", Classification: "SECRET", ReleasableTo: []string{"GBR", "USA"}, TLP: "CLEAR", Grading: "B2", Originator: "GBR"}
	if !got.Equal(want) {
		t.Errorf("Normalize = %+v, want %+v", got, want)
	}
	if got.Caveats != nil {
		t.Errorf("empty slice not normalised to nil")
	}
	if !slices.Equal(in.ReleasableTo, saved) {
		t.Errorf("Normalize modified its input: %v", in.ReleasableTo)
	}
	if err := r.Validate(got); err != nil {
		t.Errorf("Validate(Normalize(...)): %v", err)
	}
	if n := r.Normalize(Label{Policy: "national", Classification: "secret"}); n.Originator != "GBR" {
		t.Errorf("national originator not filled from owner: %+v", n)
	}
}

func TestRegistryLookups(t *testing.T) {
	r := testRegistry(t)
	for _, tc := range []struct {
		policy, level string
		rank          int
		ok            bool
	}{
		{"NATO", "UNCLASSIFIED", 0, true},
		{"NATO", "RESTRICTED", 1, true},
		{"NATO", "TOP-SECRET", 4, true},
		{"NATIONAL", "OFFICIAL", 0, true},
		{"NATIONAL", "TOP-SECRET", 4, true},
		{"NATO", "OFFICIAL", 0, false},
		{"EU", "SECRET", 0, false},
	} {
		n, ok := r.Rank(tc.policy, tc.level)
		if n != tc.rank || ok != tc.ok {
			t.Errorf("Rank(%s, %s) = %d, %v; want %d, %v", tc.policy, tc.level, n, ok, tc.rank, tc.ok)
		}
	}
	if got := r.Expand([]string{"FVEY", "JPN", "GBR"}); !slices.Equal(got, []string{"AUS", "CAN", "GBR", "JPN", "NZL", "USA"}) {
		t.Errorf("Expand = %v", got)
	}
	if got := r.Expand(nil); got != nil {
		t.Errorf("Expand(nil) = %v", got)
	}
	nato := r.Audience("NATO")
	if len(nato) != 32 || !slices.IsSorted(nato) || !slices.Contains(nato, "SWE") || !slices.Contains(nato, "FIN") {
		t.Errorf("Audience(NATO) = %v", nato)
	}
	nato[0] = "XXX"
	if r.Audience("NATO")[0] == "XXX" {
		t.Error("Audience exposes internal state")
	}
	if got := r.Audience("NATIONAL"); !slices.Equal(got, []string{"GBR"}) {
		t.Errorf("Audience(NATIONAL) = %v", got)
	}
	p, ok := r.Policy("NATO")
	if !ok || p.Levels[4].Banner != "COSMIC TOP SECRET" || p.Owner != "" {
		t.Errorf("Policy(NATO) = %+v, %v", p, ok)
	}
	p.Levels[4].Banner = "X"
	if q, _ := r.Policy("NATO"); q.Levels[4].Banner != "COSMIC TOP SECRET" {
		t.Error("Policy exposes internal state")
	}
	if p, _ := r.Policy("NATIONAL"); p.Owner != "GBR" || p.Levels[3].Banner != "GBR SECRET" {
		t.Errorf("Policy(NATIONAL) = %+v", p)
	}
	if got := r.Releasability(Label{Policy: "NATO", Classification: "SECRET", Caveats: []string{"NOFORN"}, Originator: "USA"}); !slices.Equal(got, []string{"USA"}) {
		t.Errorf("Releasability(NOFORN) = %v", got)
	}
}

func TestNewRegistryRefusals(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(*Config)
		want string
	}{
		{"no policies", func(c *Config) { c.Policies = nil }, "none configured"},
		{"duplicate policy", func(c *Config) { c.Policies[1].Name = "nato" }, "duplicate policy"},
		{"bad policy name", func(c *Config) { c.Policies[0].Name = "NATO POLICY" }, "invalid name"},
		{"no levels", func(c *Config) { c.Policies[0].Levels = nil }, "no levels"},
		{"duplicate level", func(c *Config) { c.Policies[0].Levels[1].Name = "UNCLASSIFIED" }, "duplicate level"},
		{"empty level name", func(c *Config) { c.Policies[0].Levels[1].Name = "" }, "invalid name"},
		{"empty banner", func(c *Config) { c.Policies[0].Levels[1].Banner = " " }, "empty banner"},
		{"banner with slash", func(c *Config) { c.Policies[0].Levels[1].Banner = "NATO/R" }, "contains"},
		{"banner collision", func(c *Config) { c.Policies[1].Levels[3].Banner = "nato  secret" }, "already used"},
		{"country is NATO", func(c *Config) { *c = DefaultConfig("NATO") }, "owner"},
		{"no country", func(c *Config) { *c = DefaultConfig("") }, ""},
		{"empty audience", func(c *Config) { c.Policies[0].Audience = nil }, "empty audience"},
		{"unknown audience", func(c *Config) { c.Policies[0].Audience = []string{"EUROPA"} }, "audience"},
		{"bad owner", func(c *Config) { c.Policies[1].Owner = "UK" }, "owner"},
		{"three-letter group", func(c *Config) { c.Groups["EUR"] = []string{"FRA"} }, "looks like a country"},
		{"empty group", func(c *Config) { c.Groups["EU27"] = nil }, "no members"},
		{"bad member", func(c *Config) { c.Groups["EU27"] = []string{"FVEY"} }, "not an ISO"},
		{"duplicate group", func(c *Config) { c.Groups["fvey"] = []string{"GBR"} }, "duplicate group"},
		{"reserved caveat", func(c *Config) { c.Caveats = append(c.Caveats, "REL") }, "reserved"},
		{"duplicate caveat", func(c *Config) { c.Caveats = append(c.Caveats, "orcon") }, "duplicate"},
		{"bad discipline", func(c *Config) { c.Disciplines = append(c.Disciplines, "SIG INT") }, "invalid word"},
		{"bad topic", func(c *Config) { c.Topics = append(c.Topics, "a,b") }, "invalid word"},
	} {
		cfg := DefaultConfig("GBR")
		tc.mod(&cfg)
		_, err := NewRegistry(cfg)
		if err == nil {
			t.Errorf("%s: NewRegistry succeeded", tc.name)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want it to mention %q", tc.name, err, tc.want)
		}
	}
}

// TestIDGolden pins label ids. Partners store and compare these ids: if this
// test fails, the canonical form changed and every deployed label id with it.
func TestIDGolden(t *testing.T) {
	r := testRegistry(t)
	for _, tc := range []struct {
		l  Label
		id string
	}{
		{Label{Policy: "NATO", Classification: "SECRET"}, "marking-definition--7c70b8d4-68f7-5b1c-be75-c2becfd983d2"},
		{Label{Policy: "NATO", Classification: "SECRET", ReleasableTo: []string{"GBR", "USA"}, Caveats: []string{"ORCON"}}, "marking-definition--3feb6714-050e-5f53-870b-5d7a6046c9f8"},
		{Label{Policy: "NATIONAL", Classification: "SECRET", Originator: "GBR"}, "marking-definition--2ce3c528-3ca4-51d5-8325-03a7e8e47cfa"},
	} {
		if got := tc.l.ID(); got != tc.id {
			t.Errorf("%+v.ID() = %s, want %s", tc.l, got, tc.id)
		}
		// Spelling does not change the id.
		messy := tc.l
		messy.Policy = strings.ToLower(messy.Policy)
		for _, c := range tc.l.ReleasableTo {
			messy.ReleasableTo = append(messy.ReleasableTo, " "+strings.ToLower(c))
		}
		slices.Reverse(messy.ReleasableTo)
		if got := messy.ID(); got != tc.id {
			t.Errorf("%+v.ID() = %s, want %s", messy, got, tc.id)
		}
		if got := r.MarkingDefinition(tc.l); !bytes.Contains(got, []byte(`"id":"`+tc.id+`"`)) {
			t.Errorf("MarkingDefinition does not carry id %s: %s", tc.id, got)
		}
	}
	const golden = `{"created":"2026-01-01T00:00:00.000Z","extensions":{"extension-definition--7aef0713-f878-4cfb-a814-ad3665412046":{"caveats":["ORCON"],"classification":"SECRET","extension_type":"property-extension","policy":"NATO","releasable_to":["GBR","USA"]}},"id":"marking-definition--3feb6714-050e-5f53-870b-5d7a6046c9f8","name":"NATO SECRET // REL TO GBR, USA // ORCON","spec_version":"2.1","type":"marking-definition"}`
	l, _ := r.ParseBanner("NATO SECRET // REL TO GBR, USA // ORCON")
	if got := string(r.MarkingDefinition(l)); got != golden {
		t.Errorf("MarkingDefinition =\n%s\nwant\n%s", got, golden)
	}
}

func TestUUIDv5Vector(t *testing.T) {
	// RFC 9562 Appendix A.4: DNS namespace, "www.example.com".
	const dns = "\x6b\xa7\xb8\x10\x9d\xad\x11\xd1\x80\xb4\x00\xc0\x4f\xd4\x30\xc8"
	if got := uuidV5(dns, []byte("www.example.com")); got != "2ed6657d-e927-568b-95e1-2665a8aea6a2" {
		t.Errorf("uuidV5 = %s", got)
	}
	if got := uuidV5(idNamespace, nil); !strings.HasPrefix(IDNamespace, "a9b6017c") || len(got) != 36 {
		t.Errorf("namespace constants disagree")
	}
	var ns [16]byte
	copy(ns[:], idNamespace)
	if hexUUID(ns) != IDNamespace {
		t.Errorf("idNamespace bytes %x do not spell IDNamespace %s", ns, IDNamespace)
	}
}

func hexUUID(u [16]byte) string {
	const h = "0123456789abcdef"
	var b strings.Builder
	for i, c := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b.WriteByte('-')
		}
		b.WriteByte(h[c>>4])
		b.WriteByte(h[c&15])
	}
	return b.String()
}

func TestMarkingDefinitionRoundTrip(t *testing.T) {
	r := testRegistry(t)
	for _, b := range []string{
		"NATO SECRET",
		"GBR TOP SECRET // NOFORN",
		"NATO SECRET // COMPARTMENTS ALPHA, BRAVO // REL TO FVEY, NATO // ORCON // TLP:AMBER // DISC HUMINT, SIGINT // TOPIC COUNTER-TERRORISM, CYBER // GRADE B2 // ORIG GBR",
	} {
		l, err := r.ParseBanner(b)
		if err != nil {
			t.Fatal(err)
		}
		md := r.MarkingDefinition(l)
		checkSTIXMarking(t, md)
		got, ours, err := ParseMarkingDefinition(md)
		if err != nil || !ours {
			t.Fatalf("ParseMarkingDefinition(%s) = %v, %v", md, ours, err)
		}
		if !got.Equal(l) {
			t.Errorf("round trip: got %+v, want %+v", got, l)
		}
		if err := r.Validate(got); err != nil {
			t.Errorf("round-tripped label invalid: %v", err)
		}
	}
}

var (
	idRE       = regexp.MustCompile(`^[a-z][a-z0-9-]+[a-z0-9]--[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	tsRE       = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$`)
	propNameRE = regexp.MustCompile(`^[a-z0-9_]{3,250}$`)
)

// checkSTIXMarking checks the STIX 2.1 structural rules for a
// marking-definition carrying our extension.
func checkSTIXMarking(t *testing.T, raw []byte) {
	t.Helper()
	canon, err := jcs.Canonicalize(raw)
	if err != nil {
		t.Fatalf("not valid JSON: %v", err)
	}
	if !bytes.Equal(canon, raw) {
		t.Errorf("not RFC 8785 canonical:\n%s\n%s", raw, canon)
	}
	var obj map[string]any
	if err := json.Unmarshal(raw, &obj); err != nil {
		t.Fatal(err)
	}
	if obj["type"] != "marking-definition" || obj["spec_version"] != "2.1" {
		t.Errorf("type/spec_version: %v %v", obj["type"], obj["spec_version"])
	}
	id, _ := obj["id"].(string)
	if !idRE.MatchString(id) || !strings.HasPrefix(id, "marking-definition--") {
		t.Errorf("id %q malformed", id)
	}
	if c, _ := obj["created"].(string); !tsRE.MatchString(c) {
		t.Errorf("created %q malformed", c)
	}
	if n, _ := obj["name"].(string); n == "" {
		t.Error("name missing")
	}
	exts, _ := obj["extensions"].(map[string]any)
	if len(exts) != 1 {
		t.Fatalf("extensions = %v", obj["extensions"])
	}
	for k, v := range exts {
		if k != ExtensionID || !idRE.MatchString(k) || !strings.HasPrefix(k, "extension-definition--") {
			t.Errorf("extension key %q", k)
		}
		body, _ := v.(map[string]any)
		if body["extension_type"] != "property-extension" {
			t.Errorf("extension_type = %v", body["extension_type"])
		}
		for name, val := range body {
			if !propNameRE.MatchString(name) {
				t.Errorf("extension property name %q is not [a-z0-9_]{3,250}", name)
			}
			switch x := val.(type) {
			case string:
				if x == "" {
					t.Errorf("empty property %s emitted", name)
				}
			case []any:
				if len(x) == 0 {
					t.Errorf("empty list %s emitted", name)
				}
			default:
				t.Errorf("property %s has type %T", name, val)
			}
		}
	}
	for k := range obj { // STIX names are [a-z0-9_]; the 3-250 rule is for custom names
		if !regexp.MustCompile(`^[a-z0-9_]{1,250}$`).MatchString(k) {
			t.Errorf("top-level property %q", k)
		}
	}
}

func TestParseMarkingDefinitionTamper(t *testing.T) {
	r := testRegistry(t)
	l, _ := r.ParseBanner("NATO SECRET // REL TO GBR, USA // ORCON")
	md := string(r.MarkingDefinition(l))
	for _, tc := range []struct {
		name, old, new string
		idMismatch     bool
	}{
		{"classification lowered", `"classification":"SECRET"`, `"classification":"CONFIDENTIAL"`, true},
		{"releasability widened", `"releasable_to":["GBR","USA"]`, `"releasable_to":["GBR","RUS","USA"]`, true},
		{"caveat dropped", `"caveats":["ORCON"],`, ``, true},
		{"unknown member", `"policy":"NATO"`, `"policy":"NATO","handling":"none"`, false},
		{"null member", `"caveats":["ORCON"]`, `"caveats":["ORCON"],"tlp":null`, false},
		{"empty list", `"caveats":["ORCON"]`, `"caveats":["ORCON"],"topics":[]`, false},
		{"not normal", `"releasable_to":["GBR","USA"]`, `"releasable_to":["USA","GBR"]`, false},
		{"lower case", `"policy":"NATO"`, `"policy":"nato"`, false},
		{"duplicate key", `"policy":"NATO"`, `"policy":"NATO","policy":"EU"`, false},
		{"wrong extension_type", `"extension_type":"property-extension"`, `"extension_type":"new-sdo"`, false},
		{"created changed", `"created":"2026-01-01T00:00:00.000Z"`, `"created":"2026-02-01T00:00:00.000Z"`, false},
		{"spec_version changed", `"spec_version":"2.1"`, `"spec_version":"2.0"`, false},
		{"id changed", `"id":"marking-definition--3feb`, `"id":"marking-definition--3fec`, true},
	} {
		tampered := strings.Replace(md, tc.old, tc.new, 1)
		if tampered == md {
			t.Fatalf("%s: replacement did not apply", tc.name)
		}
		_, ours, err := ParseMarkingDefinition([]byte(tampered))
		if err == nil {
			t.Errorf("%s: accepted %s", tc.name, tampered)
			continue
		}
		if !ours && tc.name != "duplicate key" {
			t.Errorf("%s: ours = false", tc.name)
		}
		if tc.idMismatch && !errors.Is(err, ErrIDMismatch) {
			t.Errorf("%s: %v, want ErrIDMismatch", tc.name, err)
		}
	}
	// The name is presentation, not covered by the id.
	renamed := strings.Replace(md, `"name":"NATO SECRET // REL TO GBR, USA // ORCON"`, `"name":"whatever"`, 1)
	if got, _, err := ParseMarkingDefinition([]byte(renamed)); err != nil || !got.Equal(l) {
		t.Errorf("renamed: %+v, %v", got, err)
	}
}

func TestParseMarkingDefinitionForeign(t *testing.T) {
	for _, lvl := range []string{"CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"} {
		_, ours, err := ParseMarkingDefinition(TLPMarking(lvl))
		if err != nil || ours {
			t.Errorf("TLP %s: ours=%v err=%v", lvl, ours, err)
		}
	}
	for _, bad := range []string{``, `[]`, `{"type":"indicator"}`, `{"type":"marking-definition","extensions":7}`, `{"type":"marking-definition"`} {
		if _, _, err := ParseMarkingDefinition([]byte(bad)); err == nil {
			t.Errorf("ParseMarkingDefinition(%q) succeeded", bad)
		}
	}
	if _, ours, err := ParseMarkingDefinition([]byte(`{"type":"marking-definition","id":"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9","definition_type":"tlp","definition":{"tlp":"white"}}`)); err != nil || ours {
		t.Errorf("TLP 1.0: ours=%v err=%v", ours, err)
	}
}

func TestExtensionDefinition(t *testing.T) {
	raw := ExtensionDefinition()
	canon, err := jcs.Canonicalize(raw)
	if err != nil || !bytes.Equal(canon, raw) {
		t.Fatalf("not canonical JSON: %v", err)
	}
	var obj map[string]any
	if err := json.Unmarshal(raw, &obj); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"type", "spec_version", "id", "created_by_ref", "created", "modified", "name", "schema", "version", "extension_types"} {
		if _, ok := obj[p]; !ok {
			t.Errorf("missing required property %s", p)
		}
	}
	if obj["type"] != "extension-definition" || obj["id"] != ExtensionID || obj["spec_version"] != "2.1" {
		t.Errorf("type/id/spec_version: %v %v %v", obj["type"], obj["id"], obj["spec_version"])
	}
	for _, id := range []string{ExtensionID, TearlineIdentityID} {
		if !idRE.MatchString(id) {
			t.Errorf("id %q malformed", id)
		}
	}
	if !strings.HasPrefix(obj["created_by_ref"].(string), "identity--") {
		t.Errorf("created_by_ref %v", obj["created_by_ref"])
	}
	if !regexp.MustCompile(`^\d+\.\d+\.\d+$`).MatchString(obj["version"].(string)) {
		t.Errorf("version %v is not semver", obj["version"])
	}
	if et, _ := obj["extension_types"].([]any); len(et) != 1 || et[0] != "property-extension" {
		t.Errorf("extension_types %v", obj["extension_types"])
	}
	var schema map[string]any
	if err := json.Unmarshal([]byte(obj["schema"].(string)), &schema); err != nil {
		t.Fatalf("schema is not JSON: %v", err)
	}
	props, _ := schema["properties"].(map[string]any)
	body := bodyOf(Label{Policy: "P", Classification: "C", ReleasableTo: []string{"X"}, Compartments: []string{"X"}, Caveats: []string{"X"}, TLP: "X", Disciplines: []string{"X"}, Topics: []string{"X"}, Grading: "X", Originator: "X"})
	b, _ := json.Marshal(body)
	var fields map[string]any
	_ = json.Unmarshal(b, &fields)
	for f := range fields {
		if _, ok := props[f]; !ok {
			t.Errorf("schema does not describe %s", f)
		}
	}
	if len(props) != len(fields) {
		t.Errorf("schema has %d properties, extension %d", len(props), len(fields))
	}
}

func TestCloneSharesNothing(t *testing.T) {
	l := Label{Policy: "NATO", Classification: "SECRET", ReleasableTo: []string{"GBR", "USA"}, Compartments: []string{"HERON"},
		Caveats: []string{"ORCON"}, Disciplines: []string{"SIGINT"}, Topics: []string{"CYBER"}, Grading: "B2"}
	c := l.Clone()
	if !c.Equal(l) {
		t.Fatalf("Clone = %+v, want %+v", c, l)
	}
	c.ReleasableTo[0], c.Compartments[0], c.Caveats[0], c.Disciplines[0], c.Topics[0] = "X", "X", "X", "X", "X"
	if l.ReleasableTo[0] != "GBR" || l.Compartments[0] != "HERON" || l.Caveats[0] != "ORCON" || l.Disciplines[0] != "SIGINT" || l.Topics[0] != "CYBER" {
		t.Errorf("changing the clone changed the original: %+v", l)
	}
}

func TestVocabularies(t *testing.T) {
	r := testRegistry(t)
	cfg := DefaultConfig("GBR")
	if got := r.Disciplines(); !slices.Equal(got, cfg.Disciplines) {
		t.Errorf("Disciplines = %v, want %v", got, cfg.Disciplines)
	}
	if got := r.Topics(); !slices.Equal(got, cfg.Topics) {
		t.Errorf("Topics = %v, want %v", got, cfg.Topics)
	}
}
