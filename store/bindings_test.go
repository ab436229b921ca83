package store

import (
	"bytes"
	"encoding/json"
	"testing"
)

func TestBindingObjects(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{`[]`, nil},
		{`[{"a":1}]`, []string{`{"a":1}`}},
		{` [ {"a":"],["} , {"b":[1,{"c":"\"]"}]} ] `, []string{`{"a":"],["}`, `{"b":[1,{"c":"\"]"}]}`}},
	} {
		got, err := ObjectVersion{ID: "x", Bindings: []byte(tc.in)}.BindingObjects()
		if err != nil {
			t.Fatalf("%s: %v", tc.in, err)
		}
		if len(got) != len(tc.want) {
			t.Fatalf("%s: got %d elements, want %d", tc.in, len(got), len(tc.want))
		}
		for i := range got {
			if string(got[i]) != tc.want[i] {
				t.Errorf("%s: element %d = %s, want %s", tc.in, i, got[i], tc.want[i])
			}
		}
	}
	for _, bad := range []string{``, `{}`, `[`, `[{"a":1}`, `[{"a":1},]`, `[{"a":1}]x`, `[{"a":1}] []`, `[{"a":1]`, `"[]"`} {
		if got, err := (ObjectVersion{ID: "indicator--1", Bindings: []byte(bad)}).BindingObjects(); err == nil {
			t.Errorf("%q: accepted as %q", bad, got)
		} else if !bytes.Contains([]byte(err.Error()), []byte("indicator--1")) {
			t.Errorf("%q: error %q does not name the object", bad, err)
		}
	}
}

// FuzzBindingObjects: whatever BindingObjects accepts, encoding/json reads
// as the same elements (it is the stricter of the two: duplicate names and
// invalid UTF-8 are refused).
func FuzzBindingObjects(f *testing.F) {
	for _, s := range []string{`[]`, `[{"a":1},{"b":"x"}]`, ` [ 1 , "2" , [3] ] `, `[{"a":"\u0041\"]"}]`, `[1,]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := ObjectVersion{Bindings: b}.BindingObjects()
		if err != nil {
			return
		}
		var want []json.RawMessage
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatalf("accepted %q, which encoding/json refuses: %v", b, err)
		}
		if len(got) != len(want) {
			t.Fatalf("%q: %d elements, encoding/json %d", b, len(got), len(want))
		}
		for i := range got {
			if !bytes.Equal(got[i], want[i]) {
				t.Fatalf("%q: element %d = %q, encoding/json %q", b, i, got[i], want[i])
			}
		}
	})
}

func BenchmarkBindingObjects(b *testing.B) {
	one := `{"type":"x-tearline-binding","spec_version":"2.1","id":"x-tearline-binding--6f1a3c52-8f7e-4d0b-9a57-3b0c2e1d4f5a","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","object_ref":"indicator--0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d","object_digest":"sha256:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff","label_refs":["marking-definition--11111111-2222-4333-8444-555555555555"],"node":"gbr-mod","key_id":"ed25519:abcdef0123456789","signature":"` + string(bytes.Repeat([]byte("A"), 86)) + `"}`
	v := ObjectVersion{Bindings: []byte("[" + one + "," + one + "]")}
	b.SetBytes(int64(len(v.Bindings)))
	for b.Loop() {
		if _, err := v.BindingObjects(); err != nil {
			b.Fatal(err)
		}
	}
}
