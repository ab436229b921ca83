package binding

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestBindInputErrors(t *testing.T) {
	f := newFixture(t)
	lbl := func(id string) LabelInput { return LabelInput{ID: id, Canonical: f.labels[id]} }
	cases := map[string]func(in *BindInput){
		"no labels":              func(in *BindInput) { in.Labels = nil },
		"label listed twice":     func(in *BindInput) { in.Labels = append(in.Labels, in.Labels[0]) },
		"label bytes of another": func(in *BindInput) { in.Labels[0].Canonical = f.labels[labelPart] },
		"label id not a marking": func(in *BindInput) { in.Labels[0].ID = testObjectID },
		"label bytes not JSON":   func(in *BindInput) { in.Labels[0].Canonical = []byte("x") },
		"part without selectors": func(in *BindInput) { in.Parts[0].Selectors = nil },
		"part bad selector":      func(in *BindInput) { in.Parts[0].Selectors = []string{"[0]"} },
		"same label, other bytes": func(in *BindInput) {
			in.Parts = append(in.Parts, PartInput{Selectors: []string{"name"}, Label: LabelInput{ID: labelPart, Canonical: append([]byte(nil), f.labels[labelPart][:len(f.labels[labelPart])-1]...)}})
		},
		"object id mismatch":       func(in *BindInput) { in.ObjectID = "indicator--00000000-0000-4000-8000-000000000001" },
		"object modified mismatch": func(in *BindInput) { in.ObjectModified = "2026-03-14T09:20:00.000Z" },
		"object not JSON":          func(in *BindInput) { in.CanonicalObject = []byte("nope") },
		"unknown kind":             func(in *BindInput) { in.Kind = "copy" },
		"alternative without ref":  func(in *BindInput) { in.Kind = KindAlternative },
		"originator with ref":      func(in *BindInput) { in.DerivedFromRef = "tearline-binding--00000000-0000-5000-8000-000000000001" },
		"alternative bad ref":      func(in *BindInput) { in.Kind, in.DerivedFromRef = KindAlternative, testObjectID },
		"label id with bad uuid": func(in *BindInput) {
			in.Labels = []LabelInput{{ID: "marking-definition--x", Canonical: lbl(labelSecret).Canonical}}
		},
		"object version not a time": func(in *BindInput) {
			in.CanonicalObject = canon(t, `{"id":"indicator--00000000-0000-4000-8000-000000000001","modified":"x"}`)
		},
	}
	for name, edit := range cases {
		in := f.input
		in.Labels = append([]LabelInput(nil), f.input.Labels...)
		in.Parts = append([]PartInput(nil), f.input.Parts...)
		in.Parts[0].Selectors = append([]string(nil), in.Parts[0].Selectors...)
		edit(&in)
		if b, err := f.signer.Bind(in, testTime); err == nil {
			t.Errorf("%s: Bind accepted it: %s", name, b.Raw)
		}
	}
	if _, err := f.signer.Bind(f.input, time.Time{}); err == nil {
		t.Error("zero time accepted")
	}
}

func TestSignerErrors(t *testing.T) {
	key := seededKey("golden")
	for name, s := range map[string]*Signer{
		"node":     NewSigner("", testIdentity, key),
		"identity": NewSigner(testNode, "indicator--6f1f2c4e-8b1a-4d3e-9c57-2a0f3b4d5e61", key),
		"key":      NewSigner(testNode, testIdentity, key[:32]),
	} {
		if _, err := s.Bind(newFixture(t).input, testTime); err == nil {
			t.Errorf("%s: invalid signer accepted", name)
		}
	}
}

// Bind fills ObjectID/ObjectModified from the object when they are left
// empty, and applies the documented version rule.
func TestObjectVersionRule(t *testing.T) {
	f := newFixture(t)
	cases := []struct {
		name, obj, wantVersion string
	}{
		{"SDO uses modified", testObjectJSON, "2026-03-14T09:25:00.000Z"},
		{"marking-definition uses created", labelSecretJSON, "2026-01-01T00:00:00.000Z"},
		{"SCO has no version", `{"type":"domain-name","spec_version":"2.1","id":"domain-name--3c10e93f-798e-5a26-a0c1-08156efab7f5","value":"c2.example.net"}`, ""},
	}
	for _, c := range cases {
		obj := canon(t, c.obj)
		in := BindInput{CanonicalObject: obj, Labels: f.input.Labels}
		b, err := f.signer.Bind(in, testTime)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if b.ObjectModified != c.wantVersion {
			t.Errorf("%s: object_modified %q, want %q", c.name, b.ObjectModified, c.wantVersion)
		}
		if has := strings.Contains(string(b.Raw), `"object_modified"`); has != (c.wantVersion != "") {
			t.Errorf("%s: object_modified present = %v", c.name, has)
		}
		p, err := Parse(b.Raw)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		m := map[string][]byte{labelSecret: f.labels[labelSecret]}
		if err := f.ring.Verify(p, obj, m); err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
		id, v, err := ObjectVersion(obj)
		if err != nil || v != c.wantVersion || id != b.ObjectRef {
			t.Errorf("%s: ObjectVersion = %q, %q, %v", c.name, id, v, err)
		}
	}
}

// Two bindings that differ in any way have different ids; the same input
// gives the same bytes (Ed25519 is deterministic), so re-binding is
// idempotent.
func TestBindingIDs(t *testing.T) {
	f := newFixture(t)
	a := f.bind(t)
	if b := f.bind(t); string(a.Raw) != string(b.Raw) {
		t.Error("same input gave different bindings")
	}
	ids := map[string]string{a.ID: "base"}
	add := func(name string, b *Binding, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if prev, dup := ids[b.ID]; dup {
			t.Errorf("%s has the id of %s", name, prev)
		}
		ids[b.ID] = name
	}
	in := f.input
	in.Parts = nil
	b, err := f.signer.Bind(in, testTime)
	add("without parts", b, err)
	b, err = f.signer.Bind(f.input, testTime.Add(time.Millisecond))
	add("one ms later", b, err)
	other := NewSigner(testNode, testIdentity, seededKey("second key of the same node"))
	b, err = other.Bind(f.input, testTime)
	add("other key", b, err)
}

func TestAlternativeChain(t *testing.T) {
	f := newFixture(t)
	orig := f.bind(t)
	translator := NewSigner("deu-bnd-1", "identity--0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", seededKey("translator"))
	ring, err := f.ring.With(Key{Node: "deu-bnd-1", Public: translator.PublicKey()})
	if err != nil {
		t.Fatal(err)
	}
	in := f.input
	in.Kind, in.DerivedFromRef = KindAlternative, orig.ID
	alt, err := translator.Bind(in, testTime.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if err := ring.Verify(alt, f.obj, f.labels); err != nil {
		t.Fatal(err)
	}
	if err := CheckDerivation(alt, orig); err != nil {
		t.Fatal(err)
	}
	if err := CheckDerivation(orig, alt); !errors.Is(err, ErrChain) {
		t.Errorf("reverse chain: %v", err)
	}
	// An alternative for another version of the same object does not chain.
	newer := canon(t, strings.Replace(testObjectJSON, "09:25:00.000Z", "09:30:00.000Z", 1))
	in.CanonicalObject, in.ObjectModified = newer, ""
	alt2, err := translator.Bind(in, testTime.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckDerivation(alt2, orig); !errors.Is(err, ErrChain) {
		t.Errorf("other version: %v", err)
	}
	// Works on bindings that only have Raw.
	if err := CheckDerivation(&Binding{Raw: alt.Raw}, &Binding{Raw: orig.Raw}); err != nil {
		t.Error(err)
	}
}
