package searchterm

import (
	"math/rand/v2"
	"slices"
	"testing"
	"unicode"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// The ASCII fast paths of Fold and of the word classes give what the full
// Unicode paths give: every ASCII character alone, and random ASCII text.
func TestASCIIFastPaths(t *testing.T) {
	full := func(s string) string { return norm.NFKC.String(cases.Fold().String(norm.NFKC.String(s))) }
	// The words of ASCII text by the Unicode classes alone.
	words := func(s string) []string {
		return slicesOf(s, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r) })
	}
	var texts []string
	for c := 0; c < 0x80; c++ {
		texts = append(texts, string(rune(c)), "a"+string(rune(c))+"Z")
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		b := make([]byte, r.IntN(40))
		for i := range b {
			b[i] = byte(r.IntN(0x80))
		}
		texts = append(texts, string(b))
	}
	for _, s := range texts {
		if got, want := Fold(s), full(s); got != want {
			t.Fatalf("Fold(%q) = %q, the full fold %q", s, got, want)
		}
		if got, want := Words(s), words(full(s)); !slices.Equal(got, want) {
			t.Fatalf("Words(%q) = %q, by the Unicode classes %q", s, got, want)
		}
	}
}

// slicesOf returns the runs of s whose runes satisfy in.
func slicesOf(s string, in func(rune) bool) []string {
	var out []string
	start := -1
	for i, c := range s {
		switch {
		case in(c) && start < 0:
			start = i
		case !in(c) && start >= 0:
			out = append(out, s[start:i])
			start = -1
		}
	}
	if start >= 0 {
		out = append(out, s[start:])
	}
	return out
}
