package searchterm

import (
	"strings"

	"github.com/tearline/tearline/stixpattern"
)

// PatternTerms returns the terms of a STIX pattern (package stixpattern, a
// parser of the STIX 2.1 pattern grammar): for every comparison that
// states what a property equals (stixpattern.Comparison.ExactValues), the
// value as the observable's type and property say (a file hash is a hash,
// a domain-name's value a domain, an address or block an IP value) or as
// Classify reads it, and the words of each such literal (a process name, a
// registry key). Comparisons that say what a value is not, or where it
// roughly lies (NOT, !=, <, LIKE, MATCHES), give nothing. A pattern that
// does not parse gives the exact values among its quoted literals.
func PatternTerms(p string) []string {
	pat, err := stixpattern.Parse(p)
	if err != nil {
		var out []string
		for _, lit := range quotedLiterals(p) {
			if v, ok := Classify(lit); ok {
				out = append(out, v.IndexTerms()...)
			}
		}
		return out
	}
	var out []string
	for _, c := range pat.Comparisons() {
		for _, lit := range c.ExactValues() {
			out = append(out, literalTerms(c, lit)...)
		}
	}
	return out
}

// literalTerms are the terms of one exact literal of comparison c.
func literalTerms(c stixpattern.Comparison, lit string) []string {
	var out []string
	path := strings.ToLower(c.Path)
	switch {
	case strings.Contains(path, "hashes.") && isHex(lit):
		out = append(out, Term(KindHash, strings.ToLower(lit)))
	case c.ObjectType == "domain-name" && path == "value":
		if v, ok := Classify(lit); ok && v.Kind == KindDomain {
			out = append(out, v.IndexTerms()...)
		} else {
			out = append(out, Term(KindDomain, Fold(strings.TrimSpace(lit))))
		}
	default:
		if v, ok := Classify(lit); ok {
			out = append(out, v.IndexTerms()...)
		}
	}
	for _, w := range Words(lit) {
		out = append(out, Term(KindWord, w))
	}
	return out
}

// isHex reports a non-empty string of hex digits.
func isHex(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !isHexRune(r) {
			return false
		}
	}
	return true
}

// quotedLiterals returns the single-quoted string literals of p, escapes
// undone; an unterminated one is dropped (for patterns that do not parse).
func quotedLiterals(p string) []string {
	var out []string
	for i := 0; i < len(p); i++ {
		if p[i] != '\'' {
			continue
		}
		var b strings.Builder
		j := i + 1
		for ; j < len(p) && p[j] != '\''; j++ {
			if p[j] == '\\' && j+1 < len(p) {
				j++
			}
			b.WriteByte(p[j])
		}
		if j >= len(p) {
			break
		}
		out = append(out, b.String())
		i = j
	}
	return out
}
