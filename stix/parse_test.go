package stix

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-json-experiment/json/jsontext"
)

func TestParseOASISExamples(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "testdata", "stix", "oasis", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 8 {
		t.Fatalf("found %d example files, want 8", len(files))
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		objs, bad, err := Parse(data, Limits{})
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		for _, e := range bad {
			t.Errorf("%s: refused %v", f, e)
		}
		if len(objs) == 0 {
			t.Errorf("%s: no objects", f)
		}
		for _, o := range objs {
			if _, err := ValidateObject(o.Raw); err != nil {
				t.Errorf("%s: Raw of %s does not re-validate: %v", f, o.ID, err)
			}
		}
	}
}

func bundle(objs ...string) []byte {
	return []byte(`{"type":"bundle","id":"bundle--` + testUUID + `","objects":[` + strings.Join(objs, ",") + `]}`)
}

func TestParseMixedBundle(t *testing.T) {
	good1 := string(mustJSON(t, base("indicator")))
	bad1 := strings.Replace(string(mustJSON(t, base("malware"))), `"is_family":true,`, ``, 1)
	good2 := string(mustJSON(t, base("ipv4-addr")))
	bad2 := `"just a string"`
	good3 := string(mustJSON(t, base("x-mitre-tactic")))
	objs, bad, err := Parse(bundle(good1, bad1, good2, bad2, good3), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	var gotTypes []string
	for _, o := range objs {
		gotTypes = append(gotTypes, o.Type)
	}
	if fmt.Sprint(gotTypes) != "[indicator ipv4-addr x-mitre-tactic]" {
		t.Errorf("valid objects = %v", gotTypes)
	}
	if len(bad) != 2 {
		t.Fatalf("bad = %v, want 2", bad)
	}
	if bad[0].Index != 1 || bad[0].ID != "malware--"+testUUID || bad[0].Property != "is_family" {
		t.Errorf("bad[0] = %+v", bad[0])
	}
	if bad[1].Index != 3 || bad[1].ID != "" || bad[1].Property != "" {
		t.Errorf("bad[1] = %+v", bad[1])
	}
}

func TestParseRawIsCompactVerbatim(t *testing.T) {
	// Whitespace goes; escapes, member order and number spellings stay.
	in := "{\n  \"type\" : \"indicator\",\"spec_version\":\"2.1\", \"id\":\"indicator--" + testUUID + "\",\n" +
		"\t\"created\":\"" + tsA + "\",\"modified\":\"" + tsB + "\",\"pattern\":\"[file:name = 'a b\\u0020\\/c\\\"']\"," +
		"\"pattern_type\":\"stix\",\"valid_from\":\"" + tsA + "\",\"x_n\": 1.50E+2 , \"x_s\": \"caf\\u00e9 \\t  é\"\r\n}"
	want := "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--" + testUUID + "\"," +
		"\"created\":\"" + tsA + "\",\"modified\":\"" + tsB + "\",\"pattern\":\"[file:name = 'a b\\u0020\\/c\\\"']\"," +
		"\"pattern_type\":\"stix\",\"valid_from\":\"" + tsA + "\",\"x_n\":1.50E+2,\"x_s\":\"caf\\u00e9 \\t  é\"}"
	for _, data := range [][]byte{[]byte(in), bundle(in)} {
		objs, bad, err := Parse(data, Limits{})
		if err != nil || len(bad) != 0 || len(objs) != 1 {
			t.Fatalf("Parse: %v %v %d", err, bad, len(objs))
		}
		if string(objs[0].Raw) != want {
			t.Errorf("Raw =\n%s\nwant\n%s", objs[0].Raw, want)
		}
	}
	// jsontext's Compact agrees: it preserves strings and numbers too.
	v := jsontext.Value(in)
	if err := v.Compact(); err != nil || string(v) != want {
		t.Errorf("jsontext Compact = %s (%v)", v, err)
	}
	// Raw is a copy: changing the input does not change it.
	data := []byte(in)
	objs, _, _ := Parse(data, Limits{})
	for i := range data {
		data[i] = ' '
	}
	if string(objs[0].Raw) != want {
		t.Error("Raw aliases the input")
	}
}

func TestParseSingleObject(t *testing.T) {
	objs, bad, err := Parse(mustJSON(t, base("campaign")), Limits{})
	if err != nil || len(bad) != 0 || len(objs) != 1 || objs[0].Type != "campaign" {
		t.Fatalf("got %v %v %v", objs, bad, err)
	}
	m := base("campaign")
	delete(m, "name")
	objs, bad, err = Parse(mustJSON(t, m), Limits{})
	if err != nil || len(objs) != 0 || len(bad) != 1 || bad[0].Index != 0 || bad[0].Property != "name" {
		t.Fatalf("got %v %v %v", objs, bad, err)
	}
}

func TestParseEnvelopeErrors(t *testing.T) {
	good := string(mustJSON(t, base("tool")))
	cases := map[string]string{
		"not JSON":          `{"type":"bundle"`,
		"array":             `[` + good + `]`,
		"string":            `"bundle"`,
		"empty":             ``,
		"no objects":        `{"type":"bundle","id":"bundle--` + testUUID + `"}`,
		"objects not array": `{"type":"bundle","id":"bundle--` + testUUID + `","objects":{}}`,
		"bad bundle id":     `{"type":"bundle","id":"bundle--nope","objects":[]}`,
		"wrong id type":     `{"type":"bundle","id":"report--` + testUUID + `","objects":[]}`,
		"missing id":        `{"type":"bundle","objects":[]}`,
		"duplicate objects": `{"type":"bundle","id":"bundle--` + testUUID + `","objects":[],"objects":[]}`,
		"trailing data":     string(bundle(good)) + ` x`,
		"invalid UTF-8":     `{"type":"bundle","id":"bundle--` + testUUID + "\",\"x\":\"\xc3\",\"objects\":[]}",
	}
	for name, in := range cases {
		objs, bad, err := Parse([]byte(in), Limits{})
		if err == nil {
			t.Errorf("%s: no error", name)
		}
		if objs != nil || bad != nil {
			t.Errorf("%s: returned objects with an error", name)
		}
	}
	// Type and id may come after objects.
	late := `{"objects":[` + good + `],"id":"bundle--` + testUUID + `","type":"bundle"}`
	if objs, _, err := Parse([]byte(late), Limits{}); err != nil || len(objs) != 1 {
		t.Errorf("late type: %v %d", err, len(objs))
	}
}

func TestParseLimits(t *testing.T) {
	good := string(mustJSON(t, base("tool")))
	three := bundle(good, good, good)

	_, _, err := Parse(three, Limits{MaxBytes: len(three) - 1})
	if err == nil || !strings.Contains(err.Error(), "over the limit") {
		t.Errorf("MaxBytes: %v", err)
	}
	if _, _, err := Parse(three, Limits{MaxBytes: len(three)}); err != nil {
		t.Errorf("MaxBytes exact: %v", err)
	}

	_, _, err = Parse(three, Limits{MaxObjects: 2})
	if err == nil || !strings.Contains(err.Error(), "more than 2 objects") {
		t.Errorf("MaxObjects: %v", err)
	}
	if objs, _, err := Parse(three, Limits{MaxObjects: 3}); err != nil || len(objs) != 3 {
		t.Errorf("MaxObjects exact: %v", err)
	}

	deep := strings.Replace(good, `"name"`, `"x_deep":`+strings.Repeat("[", 70)+strings.Repeat("]", 70)+`,"name"`, 1)
	_, _, err = Parse(bundle(deep), Limits{})
	if err == nil || !strings.Contains(err.Error(), "levels deep") {
		t.Errorf("MaxDepth: %v", err)
	}
	// Depth counts the bundle and its objects array: an object of depth 2
	// (object + one list) is at depth 4.
	withList := string(mustJSON(t, map[string]any{"type": "x-a", "id": "x-a--" + testUUID, "x_l": []any{1}}))
	if _, _, err := Parse(bundle(withList), Limits{MaxDepth: 3}); err == nil {
		t.Error("MaxDepth 3: no error")
	}
	if _, _, err := Parse(bundle(withList), Limits{MaxDepth: 4}); err != nil {
		t.Errorf("MaxDepth 4: %v", err)
	}
	if _, err := ValidateObject([]byte(deep)); err == nil {
		t.Error("ValidateObject accepted a 71-deep object")
	}

	big := strings.Replace(good, `"name":"n"`, `"name":"`+strings.Repeat("a", 2000)+`"`, 1)
	objs, bad, err := Parse(bundle(good, big, good), Limits{MaxObjectBytes: 1000})
	if err != nil || len(objs) != 2 || len(bad) != 1 || bad[0].Index != 1 || bad[0].ID != "tool--"+testUUID ||
		!strings.Contains(bad[0].Reason, "over the limit") {
		t.Errorf("MaxObjectBytes: %v %d %v", err, len(objs), bad)
	}
}

func TestValidateObjectRawCopy(t *testing.T) {
	in := []byte("{ \"type\": \"x-thing\", \"id\": \"x-thing--" + testUUID + "\" }")
	obj, err := ValidateObject(in)
	if err != nil {
		t.Fatal(err)
	}
	if string(obj.Raw) != `{"type":"x-thing","id":"x-thing--`+testUUID+`"}` {
		t.Errorf("Raw = %s", obj.Raw)
	}
	in[3] = 'X'
	if bytes.Contains(obj.Raw, []byte("X")) {
		t.Error("Raw aliases the input")
	}
}
