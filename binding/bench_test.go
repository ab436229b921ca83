package binding

import "testing"

func BenchmarkBind(b *testing.B) {
	f := newFixture(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.signer.Bind(f.input, testTime); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParse(b *testing.B) {
	f := newFixture(b)
	raw := f.bind(b).Raw
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(raw); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerify is the receive path for a parsed binding.
func BenchmarkVerify(b *testing.B) {
	f := newFixture(b)
	bd, err := Parse(f.bind(b).Raw)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := f.ring.Verify(bd, f.obj, f.labels); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseVerify is the full receive path from bytes.
func BenchmarkParseVerify(b *testing.B) {
	f := newFixture(b)
	raw := f.bind(b).Raw
	b.ReportAllocs()
	for b.Loop() {
		bd, err := Parse(raw)
		if err != nil {
			b.Fatal(err)
		}
		if err := f.ring.Verify(bd, f.obj, f.labels); err != nil {
			b.Fatal(err)
		}
	}
}
