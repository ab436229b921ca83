package jcs

import (
	"errors"
	"math"
	"strconv"
	"testing"

	"github.com/go-json-experiment/json/jsontext"
	ref "github.com/gowebpki/jcs"
)

// RFC 8785 §3.2.2 and §3.2.3 sample inputs with their published outputs.
var rfc8785Samples = []struct{ in, want string }{
	{
		`{
  "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
  "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
  "literals": [null, true, false]
}`,
		`{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}`,
	},
	{
		`{
  "\u20ac": "Euro Sign",
  "\r": "Carriage Return",
  "\ufb33": "Hebrew Letter Dalet With Dagesh",
  "1": "One",
  "\ud83d\ude00": "Emoji: Grinning Face",
  "\u0080": "Control",
  "\u00f6": "Latin Small Letter O With Diaeresis"
}`,
		"{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u0080\":\"Control\",\"ö\":\"Latin Small Letter O With Diaeresis\"," +
			"\"€\":\"Euro Sign\",\"😀\":\"Emoji: Grinning Face\",\"\ufb33\":\"Hebrew Letter Dalet With Dagesh\"}",
	},
}

// RFC 8785 Appendix B number samples (IEEE-754 bits → canonical text).
var rfc8785Numbers = []struct {
	bits uint64
	want string
}{
	{0x0000000000000000, "0"},
	{0x8000000000000000, "0"},
	{0x0000000000000001, "5e-324"},
	{0x8000000000000001, "-5e-324"},
	{0x7fefffffffffffff, "1.7976931348623157e+308"},
	{0xffefffffffffffff, "-1.7976931348623157e+308"},
	{0x4340000000000000, "9007199254740992"},
	{0xc340000000000000, "-9007199254740992"},
	{0x4430000000000000, "295147905179352830000"},
	{0x44b52d02c7e14af5, "9.999999999999997e+22"},
	{0x44b52d02c7e14af6, "1e+23"},
	{0x44b52d02c7e14af7, "1.0000000000000001e+23"},
	{0x444b1ae4d6e2ef4e, "999999999999999700000"},
	{0x444b1ae4d6e2ef4f, "999999999999999900000"},
	{0x444b1ae4d6e2ef50, "1e+21"},
	{0x3eb0c6f7a0b5ed8c, "9.999999999999997e-7"},
	{0x3eb0c6f7a0b5ed8d, "0.000001"},
	{0x41b3de4355555553, "333333333.3333332"},
	{0x41b3de4355555554, "333333333.33333325"},
	{0x41b3de4355555555, "333333333.3333333"},
	{0x41b3de4355555556, "333333333.3333334"},
	{0x41b3de4355555557, "333333333.33333343"},
	{0xbecbf647612f3696, "-0.0000033333333333333333"},
	{0x43143ff3c1cb0959, "1424953923781206.2"},
}

func TestCanonicalizeRFC8785(t *testing.T) {
	for _, s := range rfc8785Samples {
		got, err := Canonicalize([]byte(s.in))
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != s.want {
			t.Errorf("Canonicalize:\n got %s\nwant %s", got, s.want)
		}
		ref, err := ref.Transform([]byte(s.in))
		if err != nil {
			t.Fatal(err)
		}
		if string(ref) != string(got) {
			t.Errorf("jcs disagrees:\n ours %s\n jcs  %s", got, ref)
		}
	}
	for _, n := range rfc8785Numbers {
		f := math.Float64frombits(n.bits)
		in := `[` + strconv.FormatFloat(f, 'g', -1, 64) + `]`
		got, err := Canonicalize([]byte(in))
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if want := "[" + n.want + "]"; string(got) != want {
			t.Errorf("%016x: got %s, want %s", n.bits, got, want)
		}
		ref, err := ref.Transform([]byte(in))
		if err != nil || string(ref) != string(got) {
			t.Errorf("%016x: jcs gives %s (%v), ours %s", n.bits, ref, err, got)
		}
	}
}

func TestCanonicalizeRefusals(t *testing.T) {
	for _, in := range []string{`[1e400]`, `{"a":-1e309}`, `{"a":1,"a":2}`, "[\"\xff\"]", `[1,]`, `{"a":"\ud800"}`} {
		if _, err := Canonicalize([]byte(in)); err == nil {
			t.Errorf("%s: accepted", in)
		}
	}
	if _, err := Canonicalize([]byte(`[1e400]`)); !errors.Is(err, ErrNumberRange) {
		t.Errorf("out of range: %v, want ErrNumberRange", err)
	}
	in := []byte(`{"b":1, "a":2}`)
	if _, err := Canonicalize(in); err != nil || string(in) != `{"b":1, "a":2}` {
		t.Errorf("input modified or error: %v", err)
	}
}

func FuzzCanonicalize(f *testing.F) {
	for _, s := range rfc8785Samples {
		f.Add([]byte(s.in))
	}
	f.Add([]byte(`{"a":[1.0,2e10,-0,"x\u0000"],"b":{"c":null}}`))
	f.Add([]byte(`[1e400]`))
	f.Fuzz(func(t *testing.T, in []byte) {
		got, err := Canonicalize(in)
		if err != nil {
			return
		}
		if !jsontext.Value(got).IsValid() {
			t.Fatalf("output is not valid JSON: %q", got)
		}
		again, err := Canonicalize(got)
		if err != nil || string(again) != string(got) {
			t.Fatalf("not idempotent: %q -> %q (%v)", got, again, err)
		}
		if ref, err := ref.Transform(in); err == nil && string(ref) != string(got) {
			t.Fatalf("differs from jcs for %q:\n ours %q\n jcs  %q", in, got, ref)
		}
	})
}
