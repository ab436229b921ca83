package agreement

import (
	"fmt"
	"strconv"
	"strings"
)

// FieldError reports a problem with one field of a document. Path names the
// field the way a person finds it in the file: terms[1].max_classification.
type FieldError struct {
	Path   string
	Reason string
}

func (e *FieldError) Error() string {
	if e.Path == "" {
		return "agreement: " + e.Reason
	}
	return "agreement: " + e.Path + ": " + e.Reason
}

func fieldErr(path, format string, args ...any) error {
	return &FieldError{Path: path, Reason: fmt.Sprintf(format, args...)}
}

// pointerPath turns an RFC 6901 JSON pointer (/terms/1/max_classification)
// into the dotted form people read (terms[1].max_classification).
func pointerPath(ptr string) string {
	if ptr == "" {
		return ""
	}
	var b strings.Builder
	for _, tok := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		if _, err := strconv.Atoi(tok); err == nil && b.Len() > 0 {
			b.WriteString("[" + tok + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(tok)
	}
	return b.String()
}

func idx(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }
