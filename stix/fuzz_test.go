package stix

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/tearline/tearline/jcs"
)

func addSeeds(f *testing.F) {
	f.Helper()
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "stix", "oasis", "*.json"))
	for _, p := range files {
		if data, err := os.ReadFile(p); err == nil && len(data) < 4<<10 {
			f.Add(data)
		}
	}
	for _, typ := range []string{"indicator", "relationship", "sighting", "location", "file", "x-a"} {
		f.Add(mustJSON(f, base(typ)))
	}
	f.Add([]byte(`{"type":"bundle","id":"bundle--` + testUUID + `","objects":[1,{},[]]}`))
}

func FuzzParse(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		objs, bad, err := Parse(data, Limits{MaxDepth: 16})
		if err != nil {
			if objs != nil || bad != nil {
				t.Fatal("objects returned with an envelope error")
			}
			return
		}
		last := -1
		for _, e := range bad {
			if e.Reason == "" || e.Index <= last {
				t.Fatalf("bad error or order: %+v", e)
			}
			last = e.Index
		}
		for _, o := range objs {
			// Every accepted object re-validates from its Raw to the same fields.
			again, err := ValidateObject(o.Raw)
			if err != nil {
				t.Fatalf("Raw of %s does not re-validate: %v\n%s", o.ID, err, o.Raw)
			}
			if string(again.Raw) != string(o.Raw) || again.ID != o.ID || again.Type != o.Type ||
				again.Version() != o.Version() || !again.CreatedAt.Equal(o.CreatedAt) {
				t.Fatalf("re-validation differs: %+v vs %+v", again, o)
			}
			if IDType(o.ID) != o.Type || !IsValidID(o.ID) {
				t.Fatalf("accepted bad id %q for type %q", o.ID, o.Type)
			}
			if o.Created != "" && o.ModifiedAt.Before(o.CreatedAt) {
				t.Fatalf("modified before created accepted: %s", o.Raw)
			}
			for _, g := range o.GranularMarkings {
				for _, s := range g.Selectors {
					if err := ResolveSelector(o.Raw, s); err != nil {
						t.Fatalf("accepted selector %q does not resolve: %v", s, err)
					}
				}
			}
			if _, err := jcs.Canonicalize(o.Raw); err != nil && !errors.Is(err, jcs.ErrNumberRange) {
				t.Fatalf("accepted object cannot be canonicalized: %v", err)
			}
		}
	})
}

func FuzzResolveSelector(f *testing.F) {
	f.Add([]byte(specObject), "external_references.[0].source_name")
	f.Add([]byte(specObject), "labels.[1]")
	f.Add([]byte(specObject), "x_dict.Key One.n")
	f.Add([]byte(specObject), "x_nested.[1].[0].[0]")
	f.Add([]byte(`{"a":{"b":[{"c":"d"}]}}`), "a.b.[0].c")
	f.Fuzz(func(t *testing.T, raw []byte, sel string) {
		err := ResolveSelector(raw, sel)
		red, rerr := Redact(raw, []string{sel})
		if (err == nil) != (rerr == nil) {
			t.Fatalf("ResolveSelector and Redact disagree: %v / %v", err, rerr)
		}
		if err != nil {
			return
		}
		if len(red) > len(raw) {
			t.Fatalf("redacted output grew: %q -> %q", raw, red)
		}
		if _, err := jcs.Canonicalize(red); err != nil && !errors.Is(err, jcs.ErrNumberRange) {
			t.Fatalf("redacted output is not valid JSON: %q: %v", red, err)
		}
		// Removing a list item shifts later indexes, but a removed property
		// must no longer resolve.
		if steps, _ := parseSelector(sel); steps[len(steps)-1].idx < 0 {
			if ResolveSelector(red, sel) == nil {
				t.Fatalf("%q still resolves after redaction: %q", sel, red)
			}
		}
	})
}
