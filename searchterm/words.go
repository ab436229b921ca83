// Package searchterm turns STIX objects and search queries into the same
// terms (docs/SEARCH.md): whole words after Unicode normalisation (NFKC)
// and case folding, CJK text as character bigrams, and exact values (IP
// addresses with their network prefixes, CIDR blocks, domains, URLs,
// e-mail addresses, hashes, STIX ids) from observables, from the literals
// of indicator patterns and from text. There is no stemming and no prefix
// matching: a term matches only an equal term.
//
// A term is a string "KIND:TEXT"; package searchindex hashes it under the
// node's index key before anything is stored. This package does no I/O
// and knows no key.
package searchterm

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// Kinds of term: the prefix of a term's text, so that a word and a value
// with the same spelling are different terms.
const (
	KindWord   = "w"    // a word of text
	KindIP     = "ip"   // an IP address, canonical (net/netip)
	KindNet    = "net"  // a network prefix of an address or CIDR block in the data
	KindCIDR   = "cidr" // a CIDR block as the data states it (masked)
	KindDomain = "dom"  // a domain name, lower case, no trailing dot
	KindURL    = "url"  // a URL, scheme and host lower case
	KindEmail  = "mail" // an e-mail address, lower case
	KindHash   = "hash" // a hex digest (MD5, SHA-1, SHA-2), lower case
	KindID     = "id"   // a STIX id
)

// MaxWordBytes bounds a word: longer runs of letters are cut there (a word
// that long is not something anyone types).
const MaxWordBytes = 64

// Term returns the term of kind and text.
func Term(kind, text string) string { return kind + ":" + text }

// Fold returns s as it is compared: NFKC, then Unicode case folding, then
// NFKC again (folding can denormalise).
func Fold(s string) string {
	if isASCII(s) {
		// ASCII is its own NFKC, and folds to its lower case: the same
		// result without three passes (most of what an object holds).
		return strings.ToLower(s)
	}
	return norm.NFKC.String(cases.Fold().String(norm.NFKC.String(s)))
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// isCJK reports a rune of a script written without spaces between words,
// indexed as bigrams.
func isCJK(r rune) bool {
	return unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) || unicode.Is(unicode.Katakana, r) ||
		unicode.Is(unicode.Hangul, r) || r == 'ー' // the prolonged sound mark is Common, but part of katakana words
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r) }

// Words returns the word terms' texts of s, in order, repeats kept: runs of
// letters, digits and marks after Fold; a run of CJK characters gives its
// overlapping character bigrams (a lone CJK character, itself).
func Words(s string) []string {
	return appendWords(nil, Fold(s))
}

// appendWords appends the words of folded text s to out.
func appendWords(out []string, s string) []string {
	const (
		sep = iota
		word
		cjk
	)
	class := func(r rune) int {
		switch {
		case r < utf8.RuneSelf: // no ASCII character is CJK or a mark
			if 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' {
				return word
			}
			return sep
		case isCJK(r):
			return cjk
		case isWordRune(r):
			return word
		}
		return sep
	}
	start, cur := 0, sep
	flush := func(end int) {
		switch cur {
		case word:
			w := s[start:end]
			if len(w) > MaxWordBytes {
				w = cutRunes(w, MaxWordBytes)
			}
			out = append(out, w)
		case cjk:
			run := s[start:end]
			var at []int // where each rune of run starts
			for i := range run {
				at = append(at, i)
			}
			if len(at) == 1 {
				out = append(out, run)
				return
			}
			for k := 0; k+1 < len(at); k++ {
				end := len(run)
				if k+2 < len(at) {
					end = at[k+2]
				}
				out = append(out, run[at[k]:end])
			}
		}
	}
	for i, r := range s {
		c := class(r)
		if c != cur {
			flush(i)
			start, cur = i, c
		}
	}
	flush(len(s))
	return out
}

// cutRunes returns s cut to at most n bytes on a rune boundary.
func cutRunes(s string, n int) string {
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// fields splits s on white space and the list separators of a pasted list
// (comma, semicolon).
func fields(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || r == ',' || r == ';' })
}
