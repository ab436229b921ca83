package searchterm

import "strings"

// PatternValues returns the exact values among the string literals of a
// STIX pattern. Until package stixpattern is on main this scans the
// pattern's quoted literals ('...' with \' and \\ escapes) and classifies
// each.
func PatternValues(p string) []Value {
	var out []Value
	for _, lit := range quotedLiterals(p) {
		if v, ok := Classify(lit); ok {
			out = append(out, v)
		}
	}
	return out
}

// quotedLiterals returns the single-quoted string literals of p, escapes
// undone; an unterminated one is dropped.
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
