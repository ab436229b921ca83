package stix

import (
	"strings"
	"testing"
)

// specObject follows the granular-marking example of STIX 2.1 §7.2.3.1.
const specObject = `{
  "id": "vulnerability--ee916c28-c7a4-4d0d-ad56-a8d357f89fef",
  "created": "2016-02-14T00:00:06.000Z",
  "modified": "2016-02-14T00:00:06.000Z",
  "type": "vulnerability",
  "name": "CVE-2014-0160",
  "description": "The (1) TLS...",
  "external_references": [{"source_name": "cve", "external_id": "CVE-2014-0160"}],
  "labels": ["heartbleed", "has-logo"],
  "x_dict": {"Key One": {"n": 1}, "k\u00e9": true},
  "x_nested": [[1, 2], ["a"]]
}`

func TestResolveSelector(t *testing.T) {
	ok := []string{
		"description",
		"external_references.[0].source_name",
		"labels.[0]",
		"labels.[1]",
		"labels",
		"external_references.[0]",
		"x_dict.Key One.n",
		"x_dict.ké",
		"x_nested.[1].[0]",
		"id",
	}
	for _, sel := range ok {
		if err := ResolveSelector([]byte(specObject), sel); err != nil {
			t.Errorf("%q: %v", sel, err)
		}
	}
	bad := map[string]string{
		"":                "empty",
		"missing":         "no such property",
		"labels.[2]":      "out of range",
		"labels.0":        "a list cannot take a name",
		"description.[0]": "a string cannot be indexed",
		"name.x":          "a string cannot",
		"external_references.[0].source_name.[0]": "a string cannot be indexed",
		"external_references.[0].[0]":             "an object cannot be indexed",
		"x_dict.Key One.n.x":                      "number",
		"labels..[0]":                             "empty component",
		"labels.[-1]":                             "not a list index",
		"labels.[a]":                              "not a list index",
		"Description":                             "no such property",
	}
	for sel, want := range bad {
		err := ResolveSelector([]byte(specObject), sel)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v, want error containing %q", sel, err, want)
		}
	}
	if err := ResolveSelector([]byte(`{"a":`), "a"); err == nil {
		t.Error("invalid JSON accepted")
	}
	if err := ResolveSelector([]byte(`["a"]`), "[0]"); err == nil {
		t.Error("non-object root accepted")
	}
}

func TestRedact(t *testing.T) {
	const obj = `{"type":"x-a","id":"x-a--` + testUUID + `","description":"secret","labels":["a","b","c"],` +
		`"external_references":[{"source_name":"s","url":"u"},{"source_name":"t"}],"x_\u0065sc":{"k":1,"j":[1,2]}}`
	cases := []struct {
		sels []string
		want string
	}{
		{nil, obj},
		{[]string{"description"},
			`{"type":"x-a","id":"x-a--` + testUUID + `","labels":["a","b","c"],"external_references":[{"source_name":"s","url":"u"},{"source_name":"t"}],"x_\u0065sc":{"k":1,"j":[1,2]}}`},
		{[]string{"labels.[0]", "labels.[2]"},
			`{"type":"x-a","id":"x-a--` + testUUID + `","description":"secret","labels":["b"],"external_references":[{"source_name":"s","url":"u"},{"source_name":"t"}],"x_\u0065sc":{"k":1,"j":[1,2]}}`},
		{[]string{"external_references.[0].url", "external_references.[1]"},
			`{"type":"x-a","id":"x-a--` + testUUID + `","description":"secret","labels":["a","b","c"],"external_references":[{"source_name":"s"}],"x_\u0065sc":{"k":1,"j":[1,2]}}`},
		// Overlapping selectors: the wider one wins, in either order.
		{[]string{"x_esc.j.[0]", "x_esc", "labels", "description"},
			`{"type":"x-a","id":"x-a--` + testUUID + `","external_references":[{"source_name":"s","url":"u"},{"source_name":"t"}]}`},
		{[]string{"x_esc.j.[1]", "x_esc.k"},
			`{"type":"x-a","id":"x-a--` + testUUID + `","description":"secret","labels":["a","b","c"],"external_references":[{"source_name":"s","url":"u"},{"source_name":"t"}],"x_\u0065sc":{"j":[1]}}`},
	}
	for _, tc := range cases {
		got, err := Redact([]byte(obj), tc.sels)
		if err != nil {
			t.Errorf("%v: %v", tc.sels, err)
			continue
		}
		if string(got) != tc.want {
			t.Errorf("%v:\n got %s\nwant %s", tc.sels, got, tc.want)
		}
	}
	// Pretty input comes out compact; the input is not modified.
	in := []byte(specObject)
	got, err := Redact(in, []string{"labels.[1]", "x_nested.[0].[1]"})
	if err != nil {
		t.Fatal(err)
	}
	if string(in) != specObject {
		t.Error("Redact modified its input")
	}
	for _, s := range []string{`"labels":["heartbleed"]`, `"x_nested":[[1],["a"]]`, `"k\u00e9":true`} {
		if !strings.Contains(string(got), s) {
			t.Errorf("redacted %s lacks %s", got, s)
		}
	}
	for _, sels := range [][]string{{"nope"}, {"labels.[9]"}, {"description", "description.[0]"}} {
		if _, err := Redact([]byte(obj), sels); err == nil {
			t.Errorf("%v: no error", sels)
		}
	}
	if _, err := Redact([]byte(`{`), nil); err == nil {
		t.Error("invalid JSON accepted")
	}
}
