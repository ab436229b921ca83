package binding

import (
	"bytes"
	"os"
	"testing"
)

// FuzzParse: Parse never panics, and whatever it accepts is canonical,
// re-parses to the same bytes and can be passed to Verify without panic.
func FuzzParse(f *testing.F) {
	golden, err := os.ReadFile(goldenFile)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(golden)
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"signature":{"value":"x"},"id":"a"}`))
	f.Add(bytes.Replace(golden, []byte(`"kind":"originator"`), []byte(`"derived_from_ref":"tearline-binding--00000000-0000-5000-8000-000000000001","kind":"alternative"`), 1))
	fx := newFixture(f)
	f.Fuzz(func(t *testing.T, raw []byte) {
		b, err := Parse(raw)
		if err != nil {
			return
		}
		again, err := Parse(b.Raw)
		if err != nil {
			t.Fatalf("accepted binding does not re-parse: %v", err)
		}
		if !bytes.Equal(again.Raw, b.Raw) {
			t.Fatal("Raw not stable")
		}
		_ = fx.ring.Verify(b, fx.obj, fx.labels)
		_ = CheckDerivation(b, b)
	})
}

// FuzzScan: the canonical-JSON walker never panics on arbitrary bytes.
func FuzzScan(f *testing.F) {
	f.Add([]byte(`{"a":[1,{"b":"\""}],"c":true}`))
	f.Add([]byte(`{"a":`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		_, _, _ = objectVersion(raw)
		_, _ = locate(raw)
		it := newObjIter(raw)
		for it.next() {
			a := newArrIter(it.val())
			for a.next() {
				_ = a.val()
			}
			_, _ = it.memberSpan()
		}
	})
}
