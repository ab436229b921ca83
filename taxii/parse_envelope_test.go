package taxii

import (
	"bytes"
	"encoding/json"
	"testing"
	"unicode/utf8"
)

// The envelope parser agrees with encoding/json on every envelope both
// accept, never panics, and accepts nothing that is not one JSON object
// whose objects member (if any) is an array of JSON objects.
func FuzzParseEnvelope(f *testing.F) {
	for _, s := range []string{
		`{"objects":[{"type":"indicator","id":"indicator--1"},{"a":[1,2,{"b":null}]}]}`,
		`{"more":false,"objects":[]}`,
		`{"objects":null}`,
		`{}`,
		`{"objects":[1]}`,
		`{"objects":{}}`,
		`{"objects":[{}]} {}`,
		`[]`,
		`{"objects":[{"x":"\u00e9\ud83d\ude00"}],"next":"abc"}`,
		` {"objects" : [ { } , { "k" : "v" } ] } `,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got, err := parseEnvelope(body)
		if err != nil {
			return
		}
		if !json.Valid(body) {
			t.Fatalf("accepted invalid JSON %q", body)
		}
		var want struct {
			Objects []json.RawMessage `json:"objects"`
		}
		if err := json.Unmarshal(body, &want); err != nil {
			t.Fatalf("accepted %q, which encoding/json refuses: %v", body, err)
		}
		if len(got) != len(want.Objects) {
			t.Fatalf("%d objects, encoding/json finds %d in %q", len(got), len(want.Objects), body)
		}
		for i := range got {
			if len(got[i]) == 0 || got[i][0] != '{' || !utf8.Valid(got[i]) {
				t.Fatalf("objects[%d] = %q", i, got[i])
			}
			var a, b bytes.Buffer
			if json.Compact(&a, got[i]) != nil || json.Compact(&b, want.Objects[i]) != nil || !bytes.Equal(a.Bytes(), b.Bytes()) {
				t.Fatalf("objects[%d] = %q, encoding/json has %q", i, got[i], want.Objects[i])
			}
		}
	})
}

func TestParseEnvelopeRefusals(t *testing.T) {
	for _, s := range []string{``, `[]`, `{"objects":[1]}`, `{"objects":{}}`, `{"objects":[{}]} {}`, `{"objects":[{}],"objects":[]}`, `{"objects":[{]}`, "{\"objects\":[{\"a\":\"\xff\"}]}"} {
		if objs, err := parseEnvelope([]byte(s)); err == nil {
			t.Errorf("parseEnvelope(%q) = %d objects, want an error", s, len(objs))
		}
	}
	objs, err := parseEnvelope([]byte(` {"more":true,"objects" : [ {"id":"x"} , { } ] , "next":"n"} `))
	if err != nil || len(objs) != 2 || string(objs[0]) != `{"id":"x"}` {
		t.Fatalf("parseEnvelope = %q, %v", objs, err)
	}
}
