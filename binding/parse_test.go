package binding

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	f := newFixture(t)
	b := f.bind(t)
	p, err := Parse(b.Raw)
	if err != nil {
		t.Fatal(err)
	}
	if string(p.Raw) != string(b.Raw) {
		t.Fatalf("Raw changed in round trip:\n%s\n%s", b.Raw, p.Raw)
	}
	strip := func(b *Binding) Binding { c := *b; c.st, c.Raw = nil, nil; return c }
	if !reflect.DeepEqual(strip(b), strip(p)) {
		t.Fatalf("fields differ:\nBind:  %+v\nParse: %+v", strip(b), strip(p))
	}
	// A re-formatted binding (pretty-printed, keys reordered) parses to the
	// same canonical bytes and still verifies.
	var m map[string]any
	if err := json.Unmarshal(b.Raw, &m); err != nil {
		t.Fatal(err)
	}
	pretty, _ := json.MarshalIndent(m, "", "  ")
	q, err := Parse(pretty)
	if err != nil {
		t.Fatal(err)
	}
	if string(q.Raw) != string(b.Raw) {
		t.Fatal("re-formatted binding has a different canonical form")
	}
	if err := f.ring.Verify(q, f.obj, f.labels); err != nil {
		t.Fatal(err)
	}
}

// The binding is a STIX 2.1 object of a new SDO type.
func TestBindingIsSTIX(t *testing.T) {
	f := newFixture(t)
	b := f.bind(t)
	var m map[string]any
	if err := json.Unmarshal(b.Raw, &m); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"type", "spec_version", "id", "created", "modified", "created_by_ref", "extensions"} {
		if _, ok := m[p]; !ok {
			t.Errorf("property %s missing", p)
		}
	}
	if m["type"] != Type || m["spec_version"] != "2.1" || m["created"] != m["modified"] {
		t.Errorf("type/spec_version/created/modified wrong: %v %v %v %v", m["type"], m["spec_version"], m["created"], m["modified"])
	}
	if id, _ := m["id"].(string); !strings.HasPrefix(id, Type+"--") || !isUUID(id[len(Type)+2:]) || id[len(Type)+2+14] != '5' {
		t.Errorf("id %q is not a UUIDv5 %s identifier", id, Type)
	}
	ext, _ := m["extensions"].(map[string]any)[ExtensionID].(map[string]any)
	if ext["extension_type"] != "new-sdo" {
		t.Errorf("extensions[%s] = %v", ExtensionID, ext)
	}
	// STIX property names: a-z, 0-9, '_', 3 to 250 characters, and no
	// redefinition of common properties (so no "labels").
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				if k != ExtensionID && k != "id" && (len(k) < 3 || strings.Trim(k, "abcdefghijklmnopqrstuvwxyz0123456789_") != "") {
					t.Errorf("property name %q is not STIX-legal", k)
				}
				walk(e)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(m)
	if _, ok := m["labels"]; ok {
		t.Error(`"labels" would redefine the STIX common property`)
	}
}

func TestExtensionDefinitionAndIdentity(t *testing.T) {
	for name, raw := range map[string][]byte{"extension-definition": ExtensionDefinition(), "identity": TearlineIdentity()} {
		if c := canon(t, string(raw)); string(c) != string(raw) {
			t.Errorf("%s is not canonical", name)
		}
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		required := []string{"type", "spec_version", "id", "created", "modified"}
		if name == "extension-definition" {
			required = append(required, "name", "schema", "version", "extension_types", "created_by_ref")
			if m["id"] != ExtensionID || m["created_by_ref"] != TearlineIdentityID {
				t.Errorf("extension-definition ids: %v %v", m["id"], m["created_by_ref"])
			}
			if et, _ := m["extension_types"].([]any); len(et) != 1 || et[0] != "new-sdo" {
				t.Errorf("extension_types %v", m["extension_types"])
			}
		} else {
			required = append(required, "name", "identity_class")
			if m["id"] != TearlineIdentityID {
				t.Errorf("identity id %v", m["id"])
			}
		}
		for _, p := range required {
			if _, ok := m[p]; !ok {
				t.Errorf("%s: property %s missing", name, p)
			}
		}
		if m["type"] != name || m["spec_version"] != "2.1" || !isIdentifier(m["id"].(string), name) {
			t.Errorf("%s: type/spec_version/id wrong", name)
		}
	}
	// ExtensionDefinition returns a copy.
	ExtensionDefinition()[0] = 'X'
	if ExtensionDefinition()[0] != '{' {
		t.Error("ExtensionDefinition shares its bytes")
	}
	if bindingID(nil, nil)[len(Type)+2:] == "" || extensionUUIDString() != ExtensionID[len("extension-definition--"):] {
		t.Error("extensionUUID does not match ExtensionID")
	}
}

func extensionUUIDString() string {
	const hexd = "0123456789abcdef"
	var s []byte
	for i, c := range extensionUUID {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			s = append(s, '-')
		}
		s = append(s, hexd[c>>4], hexd[c&15])
	}
	return string(s)
}

// TestParseErrors edits one property of a valid binding (re-deriving the id
// where the edit would otherwise only trip the id check) and expects an
// error naming that property.
func TestParseErrors(t *testing.T) {
	f := newFixture(t)
	good := f.bind(t).Raw
	set := func(path string, v any) func(m map[string]any) {
		return func(m map[string]any) {
			parts := strings.Split(path, ".")
			cur := m
			for _, p := range parts[:len(parts)-1] {
				cur = cur[p].(map[string]any)
			}
			if v == nil {
				delete(cur, parts[len(parts)-1])
			} else {
				cur[parts[len(parts)-1]] = v
			}
		}
	}
	label0 := func(k string, v any) func(m map[string]any) {
		return func(m map[string]any) {
			e := m["object_labels"].([]any)[0].(map[string]any)
			if v == nil {
				delete(e, k)
			} else {
				e[k] = v
			}
		}
	}
	cases := []struct {
		name, prop string
		mutate     func(m map[string]any)
	}{
		{"type", "type", set("type", "indicator")},
		{"spec_version", "spec_version", set("spec_version", "2.0")},
		{"format_version", "format_version", set("format_version", "2")},
		{"format_version missing", "format_version", set("format_version", nil)},
		{"format_version number", "format_version", set("format_version", 1)},
		{"created precision", "created", set("created", "2026-03-14T09:26:53.58Z")},
		{"created offset", "created", set("created", "2026-03-14T10:26:53.589+01:00")},
		{"modified differs", "modified", set("modified", "2026-03-14T09:26:53.590Z")},
		{"created_by_ref", "created_by_ref", set("created_by_ref", "organization--6f1f2c4e-8b1a-4d3e-9c57-2a0f3b4d5e61")},
		{"kind", "kind", set("kind", "translation")},
		{"alternative without derived_from_ref", "derived_from_ref", set("kind", KindAlternative)},
		{"originator with derived_from_ref", "derived_from_ref", set("derived_from_ref", "tearline-binding--00000000-0000-5000-8000-000000000001")},
		{"node empty", "node", set("node", "")},
		{"node control char", "node", set("node", "a\nb")},
		{"object_ref", "object_ref", set("object_ref", "indicator--NOT-A-UUID")},
		{"object_modified", "object_modified", set("object_modified", "yesterday")},
		{"object_modified empty", "object_modified", set("object_modified", "")},
		{"object_digest algorithm", "object_digest.algorithm", set("object_digest.algorithm", "SHA-1")},
		{"object_digest canonicalization", "object_digest.canonicalization", set("object_digest.canonicalization", "none")},
		{"object_digest value", "object_digest.value", set("object_digest.value", strings.Repeat("A", 64))},
		{"object_digest extra", "object_digest.salt", set("object_digest.salt", "x")},
		{"object_labels empty", "object_labels", set("object_labels", []any{})},
		{"object_labels not array", "object_labels", set("object_labels", "x")},
		{"label digest short", "object_labels[0].digest", label0("digest", "abc")},
		{"label ref type", "object_labels[0].marking_ref", label0("marking_ref", testObjectID)},
		{"label ref missing", "object_labels[0].marking_ref", label0("marking_ref", nil)},
		{"label extra", "object_labels[0].selectors", label0("selectors", []any{"name"})},
		{"label twice", "object_labels[1].marking_ref", func(m map[string]any) {
			l := m["object_labels"].([]any)
			m["object_labels"] = append(l, l[0])
		}},
		{"part_labels empty", "part_labels", set("part_labels", []any{})},
		{"part selector", "part_labels[0].selectors[0]", func(m map[string]any) {
			m["part_labels"].([]any)[0].(map[string]any)["selectors"] = []any{"a..b"}
		}},
		{"part selectors missing", "part_labels[0].selectors", func(m map[string]any) {
			delete(m["part_labels"].([]any)[0].(map[string]any), "selectors")
		}},
		{"part digest differs from whole-object entry", "part_labels[0].digest", func(m map[string]any) {
			m["part_labels"].([]any)[0].(map[string]any)["marking_ref"] = labelSecret
		}},
		{"signature algorithm", "signature.algorithm", set("signature.algorithm", "RS256")},
		{"signature canonicalization", "signature.canonicalization", set("signature.canonicalization", "JCS")},
		{"signature key_id", "signature.key_id", set("signature.key_id", "ed25519:ABC")},
		{"signature value short", "signature.value", set("signature.value", "AAAA")},
		{"signature value not base64", "signature.value", set("signature.value", "!!!!")},
		{"signature value missing", "signature.value", set("signature.value", nil)},
		{"signature extra", "signature.x5c", set("signature.x5c", "x")},
		{"our extension changed", "extensions." + ExtensionID, set("extensions."+ExtensionID+".extension_type", "property-extension")},
		{"our extension missing", "extensions." + ExtensionID, set("extensions", map[string]any{})},
		{"foreign extension name", "extensions.foo", set("extensions.foo", map[string]any{})},
		{"unknown property", "labels", set("labels", []any{"secret"})},
		{"id wrong type", "id", set("id", "indicator--00000000-0000-5000-8000-000000000001")},
	}
	for _, c := range cases {
		raw := refResign(t, good, nil, func(m map[string]any) {
			c.mutate(m)
			if _, ok := m["signature"].(map[string]any); !ok {
				m["signature"] = map[string]any{}
			}
		})
		if c.prop == "id" {
			m := refDecode(t, raw)
			c.mutate(m)
			raw = refCanon(t, m)
		}
		_, err := Parse(raw)
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Errorf("%s: got %v, want a ParseError", c.name, err)
			continue
		}
		if pe.Property != c.prop {
			t.Errorf("%s: error names %q, want %q (%v)", c.name, pe.Property, c.prop, err)
		}
	}
}

func TestParseErrorsMalformed(t *testing.T) {
	f := newFixture(t)
	good := string(f.bind(t).Raw)
	for name, raw := range map[string]string{
		"empty":           "",
		"not json":        "tearline",
		"array":           "[]",
		"string":          `"x"`,
		"duplicate":       strings.Replace(good, `{"created":`, `{"type":"x","created":`, 1),
		"invalid utf-8":   strings.Replace(good, testNode, "nld\xff", 1),
		"huge number":     strings.Replace(good, `"x`, `"x`, 1)[:len(good)-1] + `,"x_n":1e400}`,
		"missing closing": good[:len(good)-1],
		"empty object":    "{}",
	} {
		_, err := Parse([]byte(raw))
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Errorf("%s: got %v, want a ParseError", name, err)
		}
	}
	_, err := Parse([]byte("{}"))
	var pe *ParseError
	if errors.As(err, &pe); pe == nil || pe.Property != "type" {
		t.Errorf("empty object: got %v, want missing type", err)
	}
}

func TestParseAllowsCustomProperties(t *testing.T) {
	f := newFixture(t)
	b := f.bind(t)
	raw := refResign(t, b.Raw, f.signer.key, func(m map[string]any) {
		m["x_tearline_note"] = "ignored by readers, covered by the signature"
		m["extensions"].(map[string]any)["extension-definition--00000000-0000-4000-8000-00000000000a"] = map[string]any{"extension_type": "toplevel-property-extension"}
	})
	p, err := Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.ring.Verify(p, f.obj, f.labels); err != nil {
		t.Fatal(err)
	}
}
