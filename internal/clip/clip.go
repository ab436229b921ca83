// Package clip shortens text for audit details, logs and error messages,
// which have bounded room.
package clip

import "unicode/utf8"

// String returns s cut to at most n bytes, on a rune boundary, with "…"
// appended when anything was cut.
func String(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
