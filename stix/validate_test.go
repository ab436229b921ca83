package stix

import (
	"encoding/json"
	"maps"
	"strings"
	"testing"
)

const (
	tsA       = "2024-01-02T03:04:05.678Z"
	tsB       = "2024-02-03T04:05:06.789Z"
	identID   = "identity--f431f809-377b-45e0-aa1c-6a4751cae5ff"
	markingID = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"
	sdoID     = "malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b"
)

// uuidFor gives each test object type a fixed, valid UUID.
const testUUID = "8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"

// base returns a minimal valid object of type t.
func base(t string) map[string]any {
	m := map[string]any{"type": t, "id": t + "--" + testUUID}
	sdo := func(extra map[string]any) map[string]any {
		m["spec_version"] = "2.1"
		m["created"] = tsA
		m["modified"] = tsB
		maps.Copy(m, extra)
		return m
	}
	named := map[string]any{"name": "n"}
	switch t {
	case "attack-pattern", "campaign", "course-of-action", "identity", "incident",
		"infrastructure", "intrusion-set", "threat-actor", "tool", "vulnerability":
		return sdo(named)
	case "grouping":
		return sdo(map[string]any{"context": "suspicious-activity", "object_refs": []any{sdoID}})
	case "indicator":
		return sdo(map[string]any{"pattern": "[ipv4-addr:value = '198.51.100.1']", "pattern_type": "stix", "valid_from": tsA})
	case "location":
		return sdo(map[string]any{"country": "BE"})
	case "malware":
		return sdo(map[string]any{"is_family": true, "name": "n"})
	case "malware-analysis":
		return sdo(map[string]any{"product": "p", "result": "malicious"})
	case "note":
		return sdo(map[string]any{"content": "c", "object_refs": []any{sdoID}})
	case "observed-data":
		return sdo(map[string]any{"first_observed": tsA, "last_observed": tsB, "number_observed": 1, "object_refs": []any{"ipv4-addr--" + testUUID}})
	case "opinion":
		return sdo(map[string]any{"opinion": "agree", "object_refs": []any{sdoID}})
	case "report":
		return sdo(map[string]any{"name": "n", "published": tsA, "object_refs": []any{sdoID}})
	case "relationship":
		return sdo(map[string]any{"relationship_type": "uses", "source_ref": sdoID, "target_ref": "attack-pattern--" + testUUID})
	case "sighting":
		return sdo(map[string]any{"sighting_of_ref": sdoID})
	case "marking-definition":
		m["spec_version"] = "2.1"
		m["created"] = tsA
		m["definition_type"] = "statement"
		m["definition"] = map[string]any{"statement": "Copyright"}
		return m
	case "extension-definition":
		return sdo(map[string]any{"name": "n", "schema": "s", "version": "1.0.0", "extension_types": []any{"new-sdo"}, "created_by_ref": identID})
	case "language-content":
		return sdo(map[string]any{"object_ref": sdoID, "contents": map[string]any{"de": map[string]any{"name": "x"}}})
	case "domain-name", "email-addr", "ipv4-addr", "ipv6-addr", "mac-addr", "url":
		m["value"] = "v"
	case "mutex", "software":
		m["name"] = "n"
	case "directory":
		m["path"] = "/tmp"
	case "autonomous-system":
		m["number"] = 15139
	case "email-message":
		m["is_multipart"] = false
	case "file":
		m["name"] = "a.exe"
	case "artifact":
		m["payload_bin"] = "aGk="
	case "network-traffic":
		m["protocols"] = []any{"tcp"}
		m["src_ref"] = "ipv4-addr--" + testUUID
	case "process":
		m["pid"] = 1
	case "user-account":
		m["user_id"] = "u"
	case "windows-registry-key":
		m["key"] = "HKEY_LOCAL_MACHINE\\System"
	case "x509-certificate":
		m["serial_number"] = "1"
	default: // custom
		return sdo(nil)
	}
	return m
}

var allTypes = []string{
	"attack-pattern", "campaign", "course-of-action", "grouping", "identity", "incident",
	"indicator", "infrastructure", "intrusion-set", "location", "malware", "malware-analysis",
	"note", "observed-data", "opinion", "report", "threat-actor", "tool", "vulnerability",
	"relationship", "sighting", "marking-definition", "extension-definition", "language-content",
	"artifact", "autonomous-system", "directory", "domain-name", "email-addr", "email-message",
	"file", "ipv4-addr", "ipv6-addr", "mac-addr", "mutex", "network-traffic", "process",
	"software", "url", "user-account", "windows-registry-key", "x509-certificate",
	"x-mitre-tactic", "tearline-binding",
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestValidObjects(t *testing.T) {
	for _, typ := range allTypes {
		raw := mustJSON(t, base(typ))
		obj, err := ValidateObject(raw)
		if err != nil {
			t.Errorf("%s: refused a minimal valid object: %v", typ, err)
			continue
		}
		if obj.Type != typ || obj.ID != typ+"--"+testUUID || string(obj.Raw) != string(raw) {
			t.Errorf("%s: got %+v", typ, obj)
		}
	}
}

func TestObjectFields(t *testing.T) {
	m := base("indicator")
	m["created_by_ref"] = identID
	m["revoked"] = true
	m["object_marking_refs"] = []any{markingID}
	m["description"] = "d"
	m["granular_markings"] = []any{
		map[string]any{"selectors": []any{"description"}, "marking_ref": markingID},
		map[string]any{"selectors": []any{"pattern", "name"}, "lang": "fr"},
	}
	m["name"] = "n"
	obj, err := ValidateObject(mustJSON(t, m))
	if err != nil {
		t.Fatal(err)
	}
	if obj.Created != tsA || obj.Modified != tsB || obj.CreatedAt.Format("2006-01-02T15:04:05.000Z") != tsA ||
		obj.ModifiedAt.Format("2006-01-02T15:04:05.000Z") != tsB {
		t.Errorf("timestamps: %q %q %v %v", obj.Created, obj.Modified, obj.CreatedAt, obj.ModifiedAt)
	}
	if obj.CreatedByRef != identID || !obj.Revoked || obj.SpecVersion != "2.1" {
		t.Errorf("common: %+v", obj)
	}
	if len(obj.ObjectMarkingRefs) != 1 || obj.ObjectMarkingRefs[0] != markingID {
		t.Errorf("object_marking_refs: %v", obj.ObjectMarkingRefs)
	}
	gm := obj.GranularMarkings
	if len(gm) != 2 || gm[0].MarkingRef != markingID || gm[0].Selectors[0] != "description" ||
		gm[1].Lang != "fr" || len(gm[1].Selectors) != 2 || gm[1].MarkingRef != "" {
		t.Errorf("granular_markings: %+v", gm)
	}
	if obj.Version() != tsB {
		t.Errorf("Version() = %q, want %q", obj.Version(), tsB)
	}

	// Without modified, ModifiedAt equals CreatedAt (custom type).
	c := base("x-custom-thing")
	delete(c, "modified")
	obj, err = ValidateObject(mustJSON(t, c))
	if err != nil {
		t.Fatal(err)
	}
	if !obj.ModifiedAt.Equal(obj.CreatedAt) || obj.Version() != tsA {
		t.Errorf("no modified: %v %v %q", obj.CreatedAt, obj.ModifiedAt, obj.Version())
	}
	// SCOs and marking definitions are unversioned.
	for _, typ := range []string{"ipv4-addr", "marking-definition"} {
		obj, err := ValidateObject(mustJSON(t, base(typ)))
		if err != nil {
			t.Fatal(err)
		}
		if obj.Version() != "" {
			t.Errorf("%s: Version() = %q, want \"\"", typ, obj.Version())
		}
		if typ == "ipv4-addr" && !obj.CreatedAt.IsZero() {
			t.Errorf("SCO CreatedAt = %v, want zero", obj.CreatedAt)
		}
	}
}

type refusal struct {
	name string
	typ  string
	mod  func(m map[string]any)
	prop string
}

func set(kv ...any) func(map[string]any) {
	return func(m map[string]any) {
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
	}
}

func del(keys ...string) func(map[string]any) {
	return func(m map[string]any) {
		for _, k := range keys {
			delete(m, k)
		}
	}
}

func gm(sel []any, kv ...any) []any {
	e := map[string]any{"selectors": sel}
	for i := 0; i < len(kv); i += 2 {
		e[kv[i].(string)] = kv[i+1]
	}
	return []any{e}
}

var refusals = []refusal{
	// type and id
	{"type missing", "indicator", del("type"), "type"},
	{"type not string", "indicator", set("type", 5), "type"},
	{"type bad form", "indicator", set("type", "Indicator"), "type"},
	{"type too short", "indicator", set("type", "ab"), "type"},
	{"nested bundle", "indicator", set("type", "bundle", "id", "bundle--"+testUUID), "type"},
	{"id missing", "indicator", del("id"), "id"},
	{"id bad uuid", "indicator", set("id", "indicator--1234"), "id"},
	{"id prefix mismatch", "indicator", set("id", "malware--"+testUUID), "id"},
	{"id not string", "indicator", set("id", 7), "id"},
	// spec_version
	{"spec_version missing", "indicator", del("spec_version"), "spec_version"},
	{"spec_version 2.0", "indicator", set("spec_version", "2.0"), "spec_version"},
	{"spec_version on SCO", "ipv4-addr", set("spec_version", "2.0"), "spec_version"},
	{"spec_version marking", "marking-definition", del("spec_version"), "spec_version"},
	{"spec_version custom SDO", "x-custom-thing", del("spec_version"), "spec_version"},
	// created / modified
	{"created missing", "indicator", del("created"), "created"},
	{"modified missing", "relationship", del("modified"), "modified"},
	{"created not UTC", "indicator", set("created", "2024-01-02T03:04:05.678+01:00"), "created"},
	{"created no millis", "indicator", set("created", "2024-01-02T03:04:05Z"), "created"},
	{"created bad date", "indicator", set("created", "2024-02-30T03:04:05.678Z"), "created"},
	{"created lower z", "indicator", set("created", "2024-01-02T03:04:05.678z"), "created"},
	{"modified before created", "indicator", set("created", tsB, "modified", tsA), "modified"},
	{"marking modified", "marking-definition", set("modified", tsB), "modified"},
	{"marking created missing", "marking-definition", del("created"), "created"},
	// common properties
	{"created_by_ref not identity", "indicator", set("created_by_ref", sdoID), "created_by_ref"},
	{"created_by_ref bad", "indicator", set("created_by_ref", "identity--x"), "created_by_ref"},
	{"revoked string", "indicator", set("revoked", "yes"), "revoked"},
	{"labels not list", "indicator", set("labels", "x"), "labels"},
	{"labels not strings", "indicator", set("labels", []any{"a", 1}), "labels[1]"},
	{"labels empty", "indicator", set("labels", []any{}), "labels"},
	{"confidence 101", "indicator", set("confidence", 101), "confidence"},
	{"confidence -1", "indicator", set("confidence", -1), "confidence"},
	{"confidence float", "indicator", set("confidence", 50.5), "confidence"},
	{"lang number", "indicator", set("lang", 1), "lang"},
	{"external_references no source_name", "indicator",
		set("external_references", []any{map[string]any{"source_name": "a"}, map[string]any{"url": "u"}}), "external_references[1].source_name"},
	{"external_references not list", "indicator", set("external_references", "x"), "external_references"},
	{"extensions bad id", "indicator", set("extensions", map[string]any{"extension-definition--bad": map[string]any{}}), "extensions.extension-definition--bad"},
	// markings
	{"object_marking_refs not marking", "indicator", set("object_marking_refs", []any{markingID, identID}), "object_marking_refs[1]"},
	{"object_marking_refs empty", "indicator", set("object_marking_refs", []any{}), "object_marking_refs"},
	{"granular no selectors", "indicator", set("granular_markings", gm(nil, "marking_ref", markingID)), "granular_markings[0].selectors"},
	{"granular empty selectors", "indicator", set("granular_markings", gm([]any{}, "marking_ref", markingID)), "granular_markings[0].selectors"},
	{"granular selector missing", "indicator",
		set("granular_markings", gm([]any{"pattern", "description"}, "marking_ref", markingID)), "granular_markings[0].selectors[1]"},
	{"granular selector indexes string", "indicator",
		set("granular_markings", gm([]any{"pattern.[0]"}, "marking_ref", markingID)), "granular_markings[0].selectors[0]"},
	{"granular both", "indicator",
		set("granular_markings", gm([]any{"pattern"}, "marking_ref", markingID, "lang", "en")), "granular_markings[0]"},
	{"granular neither", "indicator", set("granular_markings", gm([]any{"pattern"})), "granular_markings[0]"},
	{"granular marking_ref type", "indicator",
		set("granular_markings", gm([]any{"pattern"}, "marking_ref", identID)), "granular_markings[0].marking_ref"},
	// references
	{"_ref bad", "indicator", set("foo_ref", "nope"), "foo_ref"},
	{"_refs not list", "indicator", set("foo_refs", sdoID), "foo_refs"},
	{"_refs bad item", "indicator", set("foo_refs", []any{sdoID, "x"}), "foo_refs[1]"},
	{"nested _ref", "indicator", set("ext", map[string]any{"list": []any{map[string]any{"a_ref": "bad"}}}), "ext.list[0].a_ref"},
	{"extension _ref", "file", set("extensions", map[string]any{"archive-ext": map[string]any{"contains_refs": []any{"0"}}}), "extensions.archive-ext.contains_refs[0]"},
	// SDO required properties
	{"attack-pattern name", "attack-pattern", del("name"), "name"},
	{"campaign name", "campaign", del("name"), "name"},
	{"course-of-action name", "course-of-action", del("name"), "name"},
	{"identity name", "identity", del("name"), "name"},
	{"incident name", "incident", del("name"), "name"},
	{"infrastructure name", "infrastructure", del("name"), "name"},
	{"intrusion-set name", "intrusion-set", del("name"), "name"},
	{"threat-actor name", "threat-actor", del("name"), "name"},
	{"tool name", "tool", del("name"), "name"},
	{"vulnerability name", "vulnerability", del("name"), "name"},
	{"name not string", "tool", set("name", 3), "name"},
	{"grouping context", "grouping", del("context"), "context"},
	{"grouping object_refs", "grouping", del("object_refs"), "object_refs"},
	{"indicator pattern", "indicator", del("pattern"), "pattern"},
	{"indicator pattern_type", "indicator", del("pattern_type"), "pattern_type"},
	{"indicator pattern syntax", "indicator", set("pattern", "[ipv4-addr:value = 198.51.100.1]"), "pattern"},
	{"indicator pattern no brackets", "indicator", set("pattern", "ipv4-addr:value = '198.51.100.1'"), "pattern"},
	{"indicator pattern 2.1 explicit", "indicator", set("pattern", "[a:b = 1] WITHIN 0 SECONDS", "pattern_version", "2.1"), "pattern"},
	{"indicator valid_from", "indicator", del("valid_from"), "valid_from"},
	{"indicator valid_from bad", "indicator", set("valid_from", "yesterday"), "valid_from"},
	{"indicator valid_until", "indicator", set("valid_until", tsA), "valid_until"},
	{"location nothing", "location", del("country"), ""},
	{"location latitude alone", "location", set("latitude", 1.5), "longitude"},
	{"location latitude range", "location", set("latitude", 91, "longitude", 0), "latitude"},
	{"location precision", "location", set("precision", 10.0), "precision"},
	{"malware is_family", "malware", del("is_family"), "is_family"},
	{"malware family name", "malware", del("name"), "name"},
	{"malware os refs", "malware", set("operating_system_refs", []any{sdoID}), "operating_system_refs[0]"},
	{"malware-analysis product", "malware-analysis", del("product"), "product"},
	{"malware-analysis result", "malware-analysis", del("result"), ""},
	{"note content", "note", del("content"), "content"},
	{"note object_refs", "note", del("object_refs"), "object_refs"},
	{"observed-data first", "observed-data", del("first_observed"), "first_observed"},
	{"observed-data last", "observed-data", del("last_observed"), "last_observed"},
	{"observed-data order", "observed-data", set("first_observed", tsB, "last_observed", tsA), "last_observed"},
	{"observed-data number", "observed-data", del("number_observed"), "number_observed"},
	{"observed-data number 0", "observed-data", set("number_observed", 0), "number_observed"},
	{"observed-data refs", "observed-data", del("object_refs"), "object_refs"},
	{"observed-data both", "observed-data", set("objects", map[string]any{"0": map[string]any{"type": "file"}}), "objects"},
	{"opinion value", "opinion", set("opinion", "meh"), "opinion"},
	{"opinion object_refs", "opinion", del("object_refs"), "object_refs"},
	{"report name", "report", del("name"), "name"},
	{"report published", "report", del("published"), "published"},
	{"report object_refs", "report", del("object_refs"), "object_refs"},
	// SROs
	{"relationship type", "relationship", del("relationship_type"), "relationship_type"},
	{"relationship type form", "relationship", set("relationship_type", "Uses"), "relationship_type"},
	{"relationship source", "relationship", del("source_ref"), "source_ref"},
	{"relationship target", "relationship", del("target_ref"), "target_ref"},
	{"relationship to relationship", "relationship", set("target_ref", "relationship--"+testUUID), "target_ref"},
	{"relationship to marking", "relationship", set("source_ref", markingID), "source_ref"},
	{"sighting_of_ref missing", "sighting", del("sighting_of_ref"), "sighting_of_ref"},
	{"sighting_of_ref SCO", "sighting", set("sighting_of_ref", "ipv4-addr--"+testUUID), "sighting_of_ref"},
	{"sighting count", "sighting", set("count", 1_000_000_000), "count"},
	{"sighting seen order", "sighting", set("first_seen", tsB, "last_seen", tsA), "last_seen"},
	{"sighting where", "sighting", set("where_sighted_refs", []any{sdoID}), "where_sighted_refs[0]"},
	{"sighting observed", "sighting", set("observed_data_refs", []any{sdoID}), "observed_data_refs[0]"},
	{"sighting summary", "sighting", set("summary", "no"), "summary"},
	// meta objects
	{"marking no definition", "marking-definition", del("definition_type", "definition"), ""},
	{"marking definition alone", "marking-definition", del("definition_type"), "definition_type"},
	{"marking definition type", "marking-definition", set("definition", "x"), "definition"},
	{"extension-definition name", "extension-definition", del("name"), "name"},
	{"extension-definition schema", "extension-definition", del("schema"), "schema"},
	{"extension-definition version", "extension-definition", del("version"), "version"},
	{"extension-definition created_by_ref", "extension-definition", del("created_by_ref"), "created_by_ref"},
	{"extension-definition types", "extension-definition", del("extension_types"), "extension_types"},
	{"extension-definition bad type", "extension-definition", set("extension_types", []any{"new-sdo", "new-thing"}), "extension_types[1]"},
	{"extension-definition properties", "extension-definition", set("extension_properties", []any{"x_a"}), "extension_properties"},
	{"language-content object_ref", "language-content", del("object_ref"), "object_ref"},
	{"language-content contents", "language-content", del("contents"), "contents"},
	{"language-content target", "language-content", set("object_ref", "language-content--"+testUUID), "object_ref"},
	// SCOs
	{"domain-name value", "domain-name", del("value"), "value"},
	{"email-addr value", "email-addr", del("value"), "value"},
	{"ipv4-addr value", "ipv4-addr", del("value"), "value"},
	{"ipv6-addr value", "ipv6-addr", del("value"), "value"},
	{"mac-addr value", "mac-addr", del("value"), "value"},
	{"url value", "url", del("value"), "value"},
	{"mutex name", "mutex", del("name"), "name"},
	{"software name", "software", del("name"), "name"},
	{"directory path", "directory", del("path"), "path"},
	{"autonomous-system number", "autonomous-system", del("number"), "number"},
	{"email-message is_multipart", "email-message", del("is_multipart"), "is_multipart"},
	{"file hashes or name", "file", del("name"), ""},
	{"artifact both", "artifact", set("url", "http://x"), "url"},
	{"artifact url without hashes", "artifact", func(m map[string]any) { delete(m, "payload_bin"); m["url"] = "http://x" }, "hashes"},
	{"network-traffic protocols", "network-traffic", del("protocols"), "protocols"},
	{"network-traffic endpoints", "network-traffic", del("src_ref"), ""},
	{"process empty", "process", del("pid"), ""},
	{"user-account empty", "user-account", del("user_id"), ""},
	{"windows-registry-key empty", "windows-registry-key", del("key"), ""},
	{"x509-certificate empty", "x509-certificate", del("serial_number"), ""},
}

func TestRefusals(t *testing.T) {
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			m := base(tc.typ)
			tc.mod(m)
			raw := mustJSON(t, m)
			_, err := ValidateObject(raw)
			if err == nil {
				t.Fatalf("accepted %s", raw)
			}
			oe, ok := err.(*ObjectError)
			if !ok {
				t.Fatalf("error is %T, want *ObjectError", err)
			}
			if oe.Property != tc.prop {
				t.Errorf("Property = %q, want %q (%v)", oe.Property, tc.prop, oe)
			}
			wantID := ""
			if id, ok := m["id"].(string); ok {
				wantID = id
			}
			if oe.ID != wantID {
				t.Errorf("ID = %q, want %q", oe.ID, wantID)
			}
			if oe.Reason == "" || !strings.Contains(oe.Error(), oe.Reason) {
				t.Errorf("Error() = %q lacks reason %q", oe.Error(), oe.Reason)
			}
		})
	}
}

func TestSyntaxRefusals(t *testing.T) {
	good := string(mustJSON(t, base("indicator")))
	cases := map[string]string{
		"duplicate name":   `{"type":"indicator","type":"indicator"}`,
		"duplicate nested": strings.Replace(good, `"pattern"`, `"x":{"a":1,"a":2},"pattern"`, 1),
		"invalid UTF-8":    strings.Replace(good, `"stix"`, "\"st\xffix\"", 1),
		"not JSON":         `{"type":`,
		"trailing":         good + `{}`,
		"not an object":    `["indicator"]`,
	}
	for name, in := range cases {
		if _, err := ValidateObject([]byte(in)); err == nil {
			t.Errorf("%s: accepted", name)
		}
		if objs, _, err := Parse([]byte(in), Limits{}); err == nil && len(objs) > 0 {
			t.Errorf("%s: Parse accepted", name)
		}
	}
}

func TestErrorString(t *testing.T) {
	e := &ObjectError{ID: "indicator--" + testUUID, Property: "created", Reason: "not an RFC 3339 UTC timestamp"}
	want := "indicator--" + testUUID + ": created: not an RFC 3339 UTC timestamp"
	if e.Error() != want {
		t.Errorf("Error() = %q, want %q", e.Error(), want)
	}
	e = &ObjectError{Index: 3, Reason: "not a JSON object"}
	if e.Error() != "object 3: not a JSON object" {
		t.Errorf("Error() = %q", e.Error())
	}
}

// TestIndicatorPattern: a STIX pattern is parsed and refused with the
// parser's message; other languages, and STIX pattern versions whose grammar
// differs, are left alone.
func TestIndicatorPattern(t *testing.T) {
	m := base("indicator")
	m["pattern"] = "[file:hashes.'SHA-256' = 'abc'] AND [file:size =]"
	_, err := ValidateObject(mustJSON(t, m))
	if err == nil || !strings.Contains(err.Error(), "pattern: invalid STIX pattern at byte 48: expected a constant after =") {
		t.Fatalf("error %v, want the parser's message", err)
	}
	for _, mod := range []map[string]any{
		{"pattern_type": "sigma", "pattern": "title: x\ndetection: {}"},
		{"pattern_type": "snort", "pattern": "alert tcp any any -> any any (msg:\"x\";)"},
		{"pattern_version": "2.0", "pattern": "[file:name = 'a'] START '2016-06-01T00:00:00Z' STOP '2016-07-01T00:00:00Z'"},
		{"pattern": "[file:name = 'a'] START t'2016-06-01T00:00:00Z' STOP t'2016-07-01T00:00:00Z'"},
		{"pattern_version": "2.1", "pattern": "([file:name = 'a'] REPEATS 2 TIMES) WITHIN 1.5 SECONDS"},
	} {
		m := base("indicator")
		for k, v := range mod {
			m[k] = v
		}
		if _, err := ValidateObject(mustJSON(t, m)); err != nil {
			t.Errorf("%v: %v", mod, err)
		}
	}
}
