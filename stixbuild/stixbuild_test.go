package stixbuild

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/tearline/tearline/searchterm"
	"github.com/tearline/tearline/stix"
	"github.com/tearline/tearline/stixpattern"
)

var now = time.Date(2026, 12, 8, 1, 30, 0, 0, time.UTC)

func TestPatternKinds(t *testing.T) {
	for _, c := range []struct{ in, kind, pattern string }{
		{"198.51.100.7", KindIPv4, "[ipv4-addr:value = '198.51.100.7']"},
		{"2001:db8::1", KindIPv6, "[ipv6-addr:value = '2001:db8::1']"},
		{"198.51.100.0/24", KindCIDR4, "[ipv4-addr:value ISSUBSET '198.51.100.0/24']"},
		{"2001:db8::/32", KindCIDR6, "[ipv6-addr:value ISSUBSET '2001:db8::/32']"},
		{"Evil[.]Example.COM", KindDomain, "[domain-name:value = 'evil.example.com']"},
		{"hxxp://evil.example.com/a?b='c'&d", KindURL, `[url:value = 'http://evil.example.com/a?b=\'c\'&d']`},
		{"<Someone@Example.org>", KindEmail, "[email-addr:value = 'someone@example.org']"},
		{"D41D8CD98F00B204E9800998ECF8427E", KindMD5, "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']"},
		{strings.Repeat("ab", 20), KindSHA1, "[file:hashes.'SHA-1' = '" + strings.Repeat("ab", 20) + "']"},
		{strings.Repeat("0f", 32), KindSHA256, "[file:hashes.'SHA-256' = '" + strings.Repeat("0f", 32) + "']"},
		{strings.Repeat("a1", 64), KindSHA512, "[file:hashes.'SHA-512' = '" + strings.Repeat("a1", 64) + "']"},
		{"[ipv4-addr:value   =  '10.0.0.1'] AND [domain-name:value = 'x.example']", KindPattern, "[ipv4-addr:value = '10.0.0.1'] AND [domain-name:value = 'x.example']"},
	} {
		p, kind, _, err := Pattern(c.in)
		if err != nil || kind != c.kind || p != c.pattern {
			t.Errorf("Pattern(%q) = %q, %s, %v; want %q, %s", c.in, p, kind, err, c.pattern, c.kind)
		}
	}
}

func TestPatternRefusesWithAReason(t *testing.T) {
	for _, in := range []string{"", "   ", "not a value", "indicator--0b4fb2e7-59d0-4cc0-9a4f-1c9c3a4e0b5c",
		strings.Repeat("ab", 28), // SHA-224: not a STIX hash name
		"[ipv4-addr:value = ", "[nope]", "\xff\xfe.example.com", strings.Repeat("a", 3000) + ".com"} {
		if p, _, _, err := Pattern(in); err == nil || !errors.Is(err, ErrInvalid) {
			t.Errorf("Pattern(%q) = %q, %v; want an ErrInvalid", in, p, err)
		}
	}
}

// FuzzPattern: whatever the value, a pattern built from it parses with
// stixpattern, and its one comparison holds exactly the value as search
// classifies it; a value that is refused is refused as invalid input.
func FuzzPattern(f *testing.F) {
	for _, s := range []string{"198.51.100.7", "10.0.0.0/8", "evil.example.com", "http://x.example/'\\", "a@b.example",
		strings.Repeat("f", 64), "[url:value = 'x']", "ex'ample.com", "http://x.example/\u00e9\u0000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, kind, text, err := Pattern(s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Pattern(%q): %v is not an input error", s, err)
			}
			return
		}
		parsed, err := stixpattern.Parse(p)
		if err != nil {
			t.Fatalf("Pattern(%q) = %q, which does not parse: %v", s, p, err)
		}
		if parsed.String() != p {
			t.Fatalf("Pattern(%q) = %q, not canonical (%q)", s, p, parsed.String())
		}
		if kind == KindPattern {
			return
		}
		v, ok := searchterm.Classify(s)
		if !ok || v.Text != text {
			t.Fatalf("Pattern(%q) took the value as %q, search as %q (%v)", s, text, v.Text, ok)
		}
		cs := parsed.Comparisons()
		if len(cs) != 1 || len(cs[0].Values) != 1 || cs[0].Values[0].Kind != stixpattern.String || cs[0].Values[0].Text != text {
			t.Fatalf("Pattern(%q) = %q: comparisons %+v, want the one value %q", s, p, cs, text)
		}
		// And the indicator made from it is valid STIX.
		b, err := Indicator(IndicatorInput{Value: s}, now)
		if err != nil {
			t.Fatalf("Indicator(%q): %v", s, err)
		}
		if _, bad, err := stix.Parse(b.Raw, stix.Limits{}); err != nil || len(bad) > 0 {
			t.Fatalf("Indicator(%q) is not valid STIX: %v %v", s, err, bad)
		}
	})
}

// FuzzQuoting: any UTF-8 text quoted as a pattern's string literal reads
// back as itself (the quoting Pattern relies on).
func FuzzQuoting(f *testing.F) {
	for _, s := range []string{"", "'", `\`, `\'`, "a'b\\c", "\n\t", "\u00e9\u4e2d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return
		}
		lit := stixpattern.Value{Kind: stixpattern.String, Text: s}
		p, err := stixpattern.Parse("[url:value = " + lit.String() + "]")
		if err != nil {
			t.Fatalf("literal %q: %v", lit.String(), err)
		}
		if got := p.Comparisons()[0].Values[0].Text; got != s {
			t.Fatalf("literal of %q reads back as %q", s, got)
		}
	})
}

func TestIndicator(t *testing.T) {
	from := now.Add(-time.Hour)
	b, err := Indicator(IndicatorInput{Value: "evil.example.com", Description: "C2", Types: []string{"malicious-activity", "malicious-activity"}, ValidFrom: from}, now)
	if err != nil {
		t.Fatal(err)
	}
	var o map[string]any
	if err := json.Unmarshal(b.Raw, &o); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"type": "indicator", "spec_version": "2.1", "id": b.ID, "name": "evil.example.com",
		"pattern": "[domain-name:value = 'evil.example.com']", "pattern_type": "stix", "valid_from": "2026-12-08T00:30:00.000Z",
		"created": "2026-12-08T01:30:00.000Z", "modified": "2026-12-08T01:30:00.000Z", "description": "C2"}
	for k, v := range want {
		if o[k] != v {
			t.Errorf("%s = %v, want %v", k, o[k], v)
		}
	}
	if ts, _ := o["indicator_types"].([]any); len(ts) != 1 || ts[0] != "malicious-activity" {
		t.Errorf("indicator_types = %v", o["indicator_types"])
	}
	if !strings.HasPrefix(b.ID, "indicator--") || !stix.IsValidID(b.ID) {
		t.Errorf("id %q", b.ID)
	}
	for _, in := range []IndicatorInput{
		{Value: "1.2.3.4", Types: []string{"Malicious Activity"}},
		{Value: "1.2.3.4", Name: strings.Repeat("n", MaxName+1)},
		{Value: "1.2.3.4", Description: "\xff"},
	} {
		if _, err := Indicator(in, now); !errors.Is(err, ErrInvalid) {
			t.Errorf("Indicator(%+v): %v, want ErrInvalid", in, err)
		}
	}
}

func TestReport(t *testing.T) {
	a, c := "threat-actor--0b4fb2e7-59d0-4cc0-9a4f-1c9c3a4e0b5c", "campaign--6d1b1f9e-51a8-4a34-9e65-5b0c4f8f2c11"
	b, err := Report(ReportInput{Name: "weekly", Types: []string{"threat-report"}, Refs: SplitRefs(a + ",\n" + c + " " + a)}, now)
	if err != nil {
		t.Fatal(err)
	}
	var o struct {
		Type, Published string
		ObjectRefs      []string `json:"object_refs"`
	}
	if err := json.Unmarshal(b.Raw, &o); err != nil {
		t.Fatal(err)
	}
	if o.Type != "report" || o.Published != "2026-12-08T01:30:00.000Z" || len(o.ObjectRefs) != 2 || o.ObjectRefs[0] != a || o.ObjectRefs[1] != c {
		t.Errorf("report = %+v", o)
	}
	for _, in := range []ReportInput{
		{Name: "", Refs: []string{a}},
		{Name: "x"},
		{Name: "x", Refs: []string{"not-an-id"}},
		{Name: "x", Refs: []string{a}, Types: []string{"<script>"}},
	} {
		if _, err := Report(in, now); !errors.Is(err, ErrInvalid) {
			t.Errorf("Report(%+v): %v, want ErrInvalid", in, err)
		}
	}
}

func TestParseTime(t *testing.T) {
	for in, want := range map[string]string{
		"2026-12-08":                "2026-12-08T00:00:00.000Z",
		"2026-12-08T01:30":          "2026-12-08T01:30:00.000Z",
		"2026-12-08T01:30:05":       "2026-12-08T01:30:05.000Z",
		"2026-12-08T02:30:00+01:00": "2026-12-08T01:30:00.000Z",
	} {
		got, err := ParseTime(in)
		if err != nil || Timestamp(got) != want {
			t.Errorf("ParseTime(%q) = %s, %v; want %s", in, Timestamp(got), err, want)
		}
	}
	if _, err := ParseTime("yesterday"); !errors.Is(err, ErrInvalid) {
		t.Errorf("ParseTime(yesterday): %v", err)
	}
}
