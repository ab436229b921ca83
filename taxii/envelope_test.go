package taxii

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
)

// writeEnvelope answers exactly what encoding/json (write) answers for
// compact objects, as stored objects are; others it sends as they are, not
// compacted. That each is one JSON value is the backend's promise, tested
// where the node keeps it (node: TestTAXIIServesOnlyJSON).
func TestWriteEnvelopeMatchesEncodingJSON(t *testing.T) {
	obj := func(s string) json.RawMessage { return json.RawMessage(s) }
	for _, env := range []Envelope{
		{},
		{More: true, Next: "abc"},
		{Next: "a\"b<>&\u2028", Objects: []json.RawMessage{obj(`{"type":"indicator","name":"<b>&amp; \u2028 \"q\" é"}`)}},
		{More: true, Next: "MTIzLjA", Objects: []json.RawMessage{obj(`{"a":[1,2,{"b":null}]}`), obj(`{"dup":1,"dup":2}`), obj(`"x"`)}},
		{Objects: []json.RawMessage{obj(`{"s":"a\" b"}`)}},      // an escaped quote, then a space inside the string
		{Objects: []json.RawMessage{obj("{\"bad\":\"\xff\"}")}}, // invalid UTF-8 inside a string: encoding/json passes it
	} {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(env); err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		writeEnvelope(rec, env)
		if rec.Code != 200 || rec.Body.String() != want.String() {
			t.Errorf("%+v:\n got %d %q\nwant 200 %q", env, rec.Code, rec.Body.String(), want.String())
		}
		if ct := rec.Header().Get("Content-Type"); ct != MediaTypeTAXII {
			t.Errorf("Content-Type %q", ct)
		}
	}
	rec := httptest.NewRecorder()
	writeEnvelope(rec, Envelope{Objects: []json.RawMessage{obj(`{"a": 1}`), obj("{\"b\":\n2}")}})
	if want := "{\"more\":false,\"objects\":[{\"a\": 1},{\"b\":\n2}]}\n"; rec.Code != 200 || rec.Body.String() != want {
		t.Errorf("objects with whitespace: %d %q, want them as they are: %q", rec.Code, rec.Body.String(), want)
	}
}

func benchEnvelope() Envelope {
	var env Envelope
	for i := range 3000 { // a page of 1,000: object, binding, and a few labels
		env.Objects = append(env.Objects, json.RawMessage(fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":"indicator--%08d-0000-4000-8000-000000000000","pattern":"[ipv4-addr:value = '10.0.0.1']","description":"%s"}`, i, strings.Repeat("x", 1000))))
	}
	return env
}

func BenchmarkWriteEnvelope(b *testing.B) {
	env := benchEnvelope()
	for b.Loop() {
		writeEnvelope(httptest.NewRecorder(), env)
	}
}

// BenchmarkWriteEnvelopeEncodingJSON is the same page through write, as
// envelopes were sent before writeEnvelope.
func BenchmarkWriteEnvelopeEncodingJSON(b *testing.B) {
	env := benchEnvelope()
	for b.Loop() {
		write(httptest.NewRecorder(), 200, env)
	}
}

// FuzzWriteEnvelope: whatever one JSON value the backend returns (its
// promise, Backend.Objects), the answer is one valid JSON envelope holding
// it unchanged.
func FuzzWriteEnvelope(f *testing.F) {
	for _, s := range []string{`{"a":1}`, `{"a": [1, 2]}`, `"x"`, `{"a":`, `{}{}`, "{\"s\":\"\xff\"}", `{"d":1,"d":2}`, ` {"w":1} `} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if !json.Valid(b) {
			return // not what a backend may return
		}
		rec := httptest.NewRecorder()
		writeEnvelope(rec, Envelope{More: true, Next: "n", Objects: []json.RawMessage{b}})
		if rec.Code != 200 {
			t.Fatalf("%q: answered %d", b, rec.Code)
		}
		var env struct {
			More    bool
			Next    string
			Objects []json.RawMessage
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil {
			t.Fatalf("envelope for %q is not JSON: %v: %q", b, err, rec.Body.String())
		}
		if !env.More || env.Next != "n" || len(env.Objects) != 1 || !bytes.Equal(env.Objects[0], bytes.TrimSpace(b)) {
			t.Fatalf("envelope for %q: %q", b, rec.Body.String())
		}
	})
}
