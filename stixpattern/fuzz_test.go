package stixpattern

import (
	"errors"
	"reflect"
	"testing"
)

// FuzzParse: Parse never panics; a refusal is an *Error pointing into the
// input; an accepted pattern's canonical form parses back to an equal tree
// and is a fixed point. Seeds: testdata/fuzz/FuzzParse and the spec examples.
func FuzzParse(f *testing.F) {
	for _, s := range specExamples {
		f.Add(s)
	}
	for _, s := range validatorCases {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := Parse(s)
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) || pe.Msg == "" || pe.Offset < 0 || pe.Offset > len(s) && pe.Offset != MaxSize {
				t.Fatalf("Parse(%q): bad error %#v", s, err)
			}
			return
		}
		for _, c := range p.Comparisons() {
			_ = c.ExactValues()
			if c.ObjectType == "" || c.Path == "" || c.Op == "" {
				t.Fatalf("Parse(%q): empty comparison %+v", s, c)
			}
		}
		out := p.String()
		q, err := Parse(out)
		if err != nil {
			t.Fatalf("Parse(%q) ok, but its canonical form %q fails: %v", s, out, err)
		}
		if !reflect.DeepEqual(p, q) {
			t.Fatalf("Parse(%q): canonical %q parses to another tree %q", s, out, q.String())
		}
		if q.String() != out {
			t.Fatalf("Parse(%q): canonical form %q not a fixed point: %q", s, out, q.String())
		}
	})
}
