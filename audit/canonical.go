package audit

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// appendCanonical writes e as RFC 8785 canonical JSON directly: members in
// sorted order, strings minimally escaped, no whitespace. A page of 1,000
// reads stamps 1,001 events, so this is a hot path; marshalSlow is the
// reference it must equal (a test compares them), and the fallback for
// strings that are not valid UTF-8, which it refuses as jsontext does.
func appendCanonical(b []byte, e *Event) ([]byte, bool) {
	for _, s := range [...]string{e.Action, e.Actor, e.Decision, e.Detail, e.Modified, e.Node, e.Object, e.Subject} {
		if !utf8.ValidString(s) {
			return nil, false
		}
	}
	for _, list := range [...][]string{e.Labels, e.Reasons} {
		for _, s := range list {
			if !utf8.ValidString(s) {
				return nil, false
			}
		}
	}
	b = append(b, `{"action":`...)
	b = appendString(b, e.Action)
	b = append(b, `,"actor":`...)
	b = appendString(b, e.Actor)
	if e.Count != 0 {
		b = append(b, `,"count":`...)
		b = strconv.AppendInt(b, int64(e.Count), 10)
	}
	b = appendOpt(b, `,"decision":`, e.Decision)
	b = appendOpt(b, `,"detail":`, e.Detail)
	b = appendList(b, `,"labels":`, e.Labels)
	b = appendOpt(b, `,"modified":`, e.Modified)
	b = append(b, `,"node":`...)
	b = appendString(b, e.Node)
	b = appendOpt(b, `,"object":`, e.Object)
	b = appendList(b, `,"reasons":`, e.Reasons)
	b = appendOpt(b, `,"subject":`, e.Subject)
	b = append(b, `,"time":"`...)
	b = e.Time.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","v":`...)
	b = strconv.AppendInt(b, int64(e.Version), 10)
	return append(b, '}'), true
}

func appendOpt(b []byte, key, s string) []byte {
	if s == "" {
		return b
	}
	return appendString(append(b, key...), s)
}

func appendList(b []byte, key string, list []string) []byte {
	if len(list) == 0 {
		return b
	}
	b = append(b, key...)
	b = append(b, '[')
	for i, s := range list {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, s)
	}
	return append(b, ']')
}

// appendString escapes as RFC 8785 requires: only '"', '\\' and control
// characters, the latter as \b \t \n \f \r or \u00xx in lower-case hex.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\b':
			b = append(b, '\\', 'b')
		case '\t':
			b = append(b, '\\', 't')
		case '\n':
			b = append(b, '\\', 'n')
		case '\f':
			b = append(b, '\\', 'f')
		case '\r':
			b = append(b, '\\', 'r')
		default:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
