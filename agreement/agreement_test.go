package agreement

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/tearline/tearline/label"
)

const examples = "../docs/examples/agreements"

// exampleKey is the deterministic key the examples' public keys come from
// (docs/AGREEMENTS.md says how).
func exampleKey(node string) ed25519.PrivateKey {
	s := sha256.Sum256([]byte("tearline example key " + node))
	return ed25519.NewKeyFromSeed(s[:])
}

func registry(t testing.TB, country string) *label.Registry {
	t.Helper()
	reg, err := label.NewRegistry(label.DefaultConfig(country))
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

func exampleFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(examples, "*.yaml"))
	if err != nil || len(files) < 3 {
		t.Fatalf("examples: %v (%d files)", err, len(files))
	}
	return files
}

func load(t *testing.T, path string) *Document {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	d, err := Parse(raw)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return d
}

func schema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	s, err := c.Compile(filepath.Join(examples, "agreement.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func checkSchema(t *testing.T, s *jsonschema.Schema, raw []byte) error {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	return s.Validate(v)
}

// Every example parses, validates for every party's nation, matches the
// schema, and round-trips: YAML -> Document -> JSON -> Document is the same
// document, and the JSON is what the schema describes.
func TestExamplesRoundTrip(t *testing.T) {
	s := schema(t)
	for _, f := range exampleFiles(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			d := load(t, f)
			for _, p := range d.Parties {
				if err := d.Validate(registry(t, p.Country)); err != nil {
					t.Fatalf("validate for %s: %v", p.Country, err)
				}
			}
			js, err := d.JSON()
			if err != nil {
				t.Fatal(err)
			}
			if err := checkSchema(t, s, js); err != nil {
				t.Fatalf("schema: %v", err)
			}
			d2, err := Parse(js)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(d, d2) {
				t.Fatalf("round trip changed the document:\n%+v\n%+v", d, d2)
			}
			js2, _ := d2.JSON()
			if !bytes.Equal(js, js2) {
				t.Fatal("JSON form not stable")
			}
		})
	}
}

// Invalid documents are refused with the field named, by Parse (form) or
// Validate (meaning); the schema refuses the form errors too.
func TestInvalidNamesField(t *testing.T) {
	base, err := os.ReadFile(filepath.Join(examples, "gbr-usa-bilateral.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	reg := registry(t, "GBR")
	cases := []struct {
		name, old, new, path string
	}{
		{"unknown field", "    max_tlp: AMBER", "    max_tlp: AMBER\n    max_tpl: RED", "terms[0].max_tpl"},
		{"wrong type", "version: 1", "version: one", "version"},
		{"level not in table", "max_classification: {policy: NATO, level: SECRET}", "max_classification: {policy: NATO, level: RESTRICTED}", "terms[0].max_classification"},
		{"unknown level", "      - {policy: NATO, level: SECRET}", "      - {policy: NATO, level: SEKRET}", "equivalence[2].levels[0].level"},
		{"national without owner", "      - {policy: NATIONAL, owner: GBR, level: SECRET}", "      - {policy: NATIONAL, level: SECRET}", "equivalence[2].levels[1].owner"},
		{"rows out of order", "{policy: NATO, level: UNCLASSIFIED}", "{policy: NATO, level: SECRET}", "equivalence[1].levels[0]"},
		{"bad key", "ed25519:zoUDka43hnyGtv3zVwj1Kzj5z/2Z5Erh8n1zpvzcGmI=", "ed25519:AAAA", "parties[0].public_key"},
		{"bad country", "country: USA", "country: usa", "parties[1].country"},
		{"unknown party", "to: [gbr-dis, usa-cyber]", "to: [gbr-dis, usa-cybr]", "terms[0].to[1]"},
		{"unknown topic", "topics: [CYBER, COUNTER-INTELLIGENCE]", "topics: [CYBER, GOSSIP]", "terms[0].topics[1]"},
		{"red tlp", "max_tlp: AMBER", "max_tlp: RED", "terms[0].max_tlp"},
		{"bad purpose", "purposes: [analysis, network-defence]", "purposes: [Analysis]", "terms[0].purposes[0]"},
		{"retention", "retention_days: 730", "retention_days: 0", "terms[0].retention_days"},
		{"onward", "onward: originator-consent", "onward: anyone", "terms[0].onward"},
		{"mode", "mode: two-person", "mode: three-person", "terms[0].release.mode"},
		{"expiry before effect", `expires: "2028-01-01T00:00:00Z"`, `expires: "2025-01-01T00:00:00Z"`, "expires"},
		{"date form", `effective: "2026-01-01T00:00:00Z"`, `effective: "2026-01-01"`, "effective"},
		{"duplicate key", "version: 1", "version: 1\nversion: 2", "version"},
		{"one party", "  - name: usa-cyber\n    public_key: \"ed25519:dVhur+kWC4ibJ0DMqMqhan1HVbpPgSUh1fd8az1BDag=\"\n    country: USA\n    organisation: US Cyber Command\n", "", "parties"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if !bytes.Contains(base, []byte(c.old)) {
				t.Fatalf("fixture does not contain %q", c.old)
			}
			raw := bytes.Replace(base, []byte(c.old), []byte(c.new), 1)
			d, err := Parse(raw)
			if err == nil {
				err = d.Validate(reg)
			}
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v (%T), want a *FieldError", err, err)
			}
			if fe.Path != c.path {
				t.Fatalf("path %q, want %q (%v)", fe.Path, c.path, err)
			}
			if !strings.Contains(err.Error(), c.path) {
				t.Fatalf("message %q does not name %s", err, c.path)
			}
		})
	}
}

func TestJSONUnknownFieldPath(t *testing.T) {
	_, err := Parse([]byte(`{"id":"abc","terms":[{"from":["a"],"release":{"mode":"automatic","abov":1}}]}`))
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Path != "terms[0].release.abov" {
		t.Fatalf("got %v", err)
	}
	if _, err := Parse([]byte(`{"id":"abc","id":"abd"}`)); err == nil {
		t.Fatal("duplicate JSON member accepted")
	}
	if _, err := Parse([]byte("id: &a abc\ntitle: *a\n")); err == nil {
		t.Fatal("YAML alias accepted")
	}
}

func signedExample(t *testing.T) *Document {
	t.Helper()
	d := load(t, filepath.Join(examples, "gbr-usa-bilateral.yaml"))
	for _, p := range d.Parties {
		s, err := d.Sign(p.Name, exampleKey(p.Name))
		if err != nil {
			t.Fatal(err)
		}
		if err := d.AddSignature(s); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

func TestSignatures(t *testing.T) {
	d := load(t, filepath.Join(examples, "gbr-usa-bilateral.yaml"))
	if err := d.FullySigned(); !errors.Is(err, ErrUnsigned) {
		t.Fatalf("unsigned: %v", err)
	}
	if _, err := d.Sign("gbr-dis", exampleKey("usa-cyber")); err == nil {
		t.Fatal("signed with another party's key")
	}
	s, err := d.Sign("gbr-dis", exampleKey("gbr-dis"))
	if err != nil {
		t.Fatal(err)
	}
	if err := d.AddSignature(s); err != nil {
		t.Fatal(err)
	}
	missing, err := d.VerifySignatures()
	if err != nil || len(missing) != 1 || missing[0] != "usa-cyber" {
		t.Fatalf("missing %v, %v", missing, err)
	}
	if err := d.FullySigned(); !errors.Is(err, ErrUnsigned) {
		t.Fatalf("half signed: %v", err)
	}

	d = signedExample(t)
	if err := d.FullySigned(); err != nil {
		t.Fatal(err)
	}
	// Signatures survive the JSON form, and cover every field.
	js, _ := d.JSON()
	d2, err := Parse(js)
	if err != nil || d2.FullySigned() != nil {
		t.Fatalf("reparsed: %v / %v", err, d2.FullySigned())
	}
	if err := d2.Validate(registry(t, "USA")); err != nil {
		t.Fatal(err)
	}
	d2.Terms[0].RetentionDays++
	if _, err := d2.VerifySignatures(); err == nil {
		t.Fatal("a changed term still verifies")
	}
}

func TestLifecycle(t *testing.T) {
	t0 := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		from, to State
		ok       bool
	}{
		{StateDraft, StateProposed, true}, {StateDraft, StateActive, false},
		{StateProposed, StateActive, true}, {StateActive, StateSuspended, true},
		{StateSuspended, StateActive, true}, {StateActive, StateExpired, true},
		{StateExpired, StateActive, false}, {StateTerminated, StateActive, false},
		{StateAmended, StateActive, false}, {StateActive, StateDraft, false},
	} {
		if err := Transition(c.from, c.to); (err == nil) != c.ok {
			t.Errorf("%s -> %s: %v", c.from, c.to, err)
		}
	}

	unsigned := load(t, filepath.Join(examples, "gbr-usa-bilateral.yaml"))
	if _, _, err := Advance(unsigned, Status{State: StateProposed}, StateActive, t0, "gbr-dis", ""); !errors.Is(err, ErrUnsigned) {
		t.Fatalf("activated without every signature: %v", err)
	}
	d := signedExample(t)
	st, ev, err := Advance(d, Status{State: StateProposed}, StateActive, t0, "gbr-dis", "")
	if err != nil || st.State != StateActive || ev.From != StateProposed || ev.To != StateActive || ev.Agreement != d.ID {
		t.Fatalf("%+v %+v %v", st, ev, err)
	}
	if _, _, err := Advance(d, st, StateExpired, t0, "gbr-dis", ""); err == nil {
		t.Fatal("expired before its date")
	}
	if _, _, err := Advance(d, st, StateExpired, d.ExpiryTime(), "gbr-dis", ""); err != nil {
		t.Fatal(err)
	}

	// Amendment: version 2 signed by all supersedes version 1.
	v2 := load(t, filepath.Join(examples, "gbr-usa-bilateral.yaml"))
	v2.Version = 2
	v2.Terms[0].RetentionDays = 365
	for _, p := range v2.Parties {
		s, _ := v2.Sign(p.Name, exampleKey(p.Name))
		if err := v2.AddSignature(s); err != nil {
			t.Fatal(err)
		}
	}
	old, cur, evs, err := Supersede(d, st, v2, t0.Add(time.Hour), "usa-cyber")
	if err != nil || old.State != StateAmended || cur.State != StateActive || len(evs) != 2 {
		t.Fatalf("%+v %+v %v %v", old, cur, evs, err)
	}
	if _, _, _, err := Supersede(v2, cur, d, t0, "x"); err == nil {
		t.Fatal("an older version superseded a newer one")
	}
}

func FuzzParse(f *testing.F) {
	for _, name := range []string{"gbr-usa-bilateral.yaml", "nato-cyber-task-force.yaml", "gbr-police-border.yaml"} {
		raw, err := os.ReadFile(filepath.Join(examples, name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	f.Add([]byte(`{"id":"x"}`))
	reg := registry(f, "GBR")
	f.Fuzz(func(t *testing.T, raw []byte) {
		d, err := Parse(raw)
		if err != nil {
			return
		}
		if d.Validate(reg) != nil {
			return
		}
		// A valid document round-trips through its JSON form.
		js, err := d.JSON()
		if err != nil {
			t.Fatal(err)
		}
		d2, err := Parse(js)
		if err != nil {
			t.Fatalf("reparse: %v\n%s", err, js)
		}
		if err := d2.Validate(reg); err != nil {
			t.Fatalf("revalidate: %v", err)
		}
	})
}
