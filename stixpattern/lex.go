package stixpattern

import (
	"strings"
	"unicode/utf8"
)

// tokKind is a token of the OASIS lexer (STIXPattern.g4). Tokens the grammar
// defines but no parser rule uses (LAST, '+', '-', '^', '/') are lexed as
// tokOther so that the parser names them in its error.
type tokKind int

const (
	tokEOF tokKind = iota
	tokIdent
	tokIdentHyphen
	tokString
	tokInt
	tokFloat
	tokHex
	tokBinary
	tokTimestamp
	tokBool
	tokAnd
	tokOr
	tokNot
	tokFollowedBy
	tokLike
	tokMatches
	tokIsSuperset
	tokIsSubset
	tokExists
	tokIn
	tokStart
	tokStop
	tokSeconds
	tokWithin
	tokRepeats
	tokTimes
	tokEq
	tokNeq
	tokLt
	tokLe
	tokGt
	tokGe
	tokColon
	tokDot
	tokComma
	tokLParen
	tokRParen
	tokLBrack
	tokRBrack
	tokAsterisk
	tokOther
)

// keywords are case-sensitive in STIX 2.1 (the 2.0 grammar took any case).
var keywords = map[string]tokKind{
	"AND": tokAnd, "OR": tokOr, "NOT": tokNot, "FOLLOWEDBY": tokFollowedBy,
	"LIKE": tokLike, "MATCHES": tokMatches, "ISSUPERSET": tokIsSuperset,
	"ISSUBSET": tokIsSubset, "EXISTS": tokExists, "LAST": tokOther, "IN": tokIn,
	"START": tokStart, "STOP": tokStop, "SECONDS": tokSeconds, "true": tokBool,
	"false": tokBool, "WITHIN": tokWithin, "REPEATS": tokRepeats, "TIMES": tokTimes,
}

type token struct {
	kind tokKind
	pos  int    // byte offset of the token's first byte
	raw  string // the lexeme as written
	val  string // literals: the value (strings unescaped, numbers canonical); identifiers: the name
}

// describe names a token for an error message.
func (t token) describe() string {
	if t.kind == tokEOF {
		return "the end of the pattern"
	}
	raw := t.raw
	if len(raw) > 40 {
		raw = raw[:37] + "..."
		for !utf8.ValidString(raw[:len(raw)-3]) {
			raw = raw[:len(raw)-4] + "..."
		}
	}
	return strconvQuote(raw)
}

// strconvQuote quotes with backquotes when that needs no escaping, which
// reads better for patterns full of apostrophes and backslashes.
func strconvQuote(s string) string {
	if !strings.ContainsAny(s, "`\n\r\t") && utf8.ValidString(s) {
		return "`" + s + "`"
	}
	return quoteGo(s)
}

type lexer struct {
	src string
	pos int
}

// isSpace is the grammar's WS set.
func isSpace(r rune) bool {
	switch r {
	case ' ', '\t', '\r', '\n', '\v', '\f', 0x85, 0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000:
		return true
	}
	return r >= 0x2000 && r <= 0x200a
}

func isIdentStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isIdentPart(c byte) bool { return isIdentStart(c) || isDigit(c) }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// skip passes whitespace and comments.
func (l *lexer) skip() *Error {
	for l.pos < len(l.src) {
		r, n := utf8.DecodeRuneInString(l.src[l.pos:])
		switch {
		case isSpace(r):
			l.pos += n
		case strings.HasPrefix(l.src[l.pos:], "/*"):
			end := strings.Index(l.src[l.pos+2:], "*/")
			if end < 0 {
				return errAt(l.pos, "unterminated comment: `/*` without `*/`")
			}
			l.pos += 2 + end + 2
		case strings.HasPrefix(l.src[l.pos:], "//"):
			end := strings.IndexAny(l.src[l.pos:], "\r\n")
			if end < 0 {
				end = len(l.src) - l.pos
			}
			l.pos += end
		default:
			return nil
		}
	}
	return nil
}

// next returns the next token.
func (l *lexer) next() (token, *Error) {
	if err := l.skip(); err != nil {
		return token{}, err
	}
	start := l.pos
	if start >= len(l.src) {
		return token{kind: tokEOF, pos: start}, nil
	}
	c := l.src[start]
	tok := func(k tokKind, n int) (token, *Error) {
		return l.emit(k, start, start+n, l.src[start:start+n])
	}
	two := ""
	if start+1 < len(l.src) {
		two = l.src[start : start+2]
	}
	switch {
	case c == '\'':
		return l.stringLit()
	case (c == 'h' || c == 'b' || c == 't') && two != "" && two[1] == '\'':
		return l.prefixedLit(c)
	case isIdentStart(c):
		end := start + 1
		hyphen := false
		for end < len(l.src) && (isIdentPart(l.src[end]) || l.src[end] == '-') {
			hyphen = hyphen || l.src[end] == '-'
			end++
		}
		word := l.src[start:end]
		if k, ok := keywords[word]; ok {
			return tok(k, end-start)
		}
		if hyphen {
			return tok(tokIdentHyphen, end-start)
		}
		return tok(tokIdent, end-start)
	case isDigit(c), c == '+', c == '-', c == '.' && two != "" && isDigit(two[1]):
		return l.number()
	}
	switch two {
	case "==", "!=", "<>", "<=", ">=":
		k := map[string]tokKind{"==": tokEq, "!=": tokNeq, "<>": tokNeq, "<=": tokLe, ">=": tokGe}[two]
		return tok(k, 2)
	}
	switch c {
	case '=':
		return tok(tokEq, 1)
	case '<':
		return tok(tokLt, 1)
	case '>':
		return tok(tokGt, 1)
	case ':':
		return tok(tokColon, 1)
	case '.':
		return tok(tokDot, 1)
	case ',':
		return tok(tokComma, 1)
	case '(':
		return tok(tokLParen, 1)
	case ')':
		return tok(tokRParen, 1)
	case '[':
		return tok(tokLBrack, 1)
	case ']':
		return tok(tokRBrack, 1)
	case '*':
		return tok(tokAsterisk, 1)
	case '^', '/':
		return tok(tokOther, 1)
	}
	r, _ := utf8.DecodeRuneInString(l.src[start:])
	return token{}, errAt(start, "unexpected character %s", quoteGo(string(r)))
}

// stringLit lexes the grammar's StringLiteral: characters between
// apostrophes, where the only escapes are a backslash before an apostrophe or
// before a backslash.
func (l *lexer) stringLit() (token, *Error) {
	start := l.pos
	val, end, err := scanQuoted(l.src, start)
	if err != nil {
		return token{}, err
	}
	return l.emit(tokString, start, end, val)
}

// emit returns the token of kind that spans src[start:end], with its value
// val, and moves past it.
func (l *lexer) emit(kind tokKind, start, end int, val string) (token, *Error) {
	l.pos = end
	return token{kind: kind, pos: start, raw: l.src[start:end], val: val}, nil
}

// digitsEnd returns the offset past the decimal digits from s[i] on.
func digitsEnd(s string, i int) int {
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return i
}

// firstNot returns the offset of the first byte of s that ok refuses, or -1.
func firstNot(s string, ok func(c byte) bool) int {
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return i
		}
	}
	return -1
}

// scanQuoted reads a quoted string starting at the apostrophe src[start]; it returns
// the unescaped value and the offset just past the closing quote.
func scanQuoted(src string, start int) (string, int, *Error) {
	var b strings.Builder
	i := start + 1
	from := i
	for i < len(src) {
		switch src[i] {
		case '\'':
			if b.Len() == 0 {
				return src[from:i], i + 1, nil
			}
			b.WriteString(src[from:i])
			return b.String(), i + 1, nil
		case '\\':
			if i+1 >= len(src) || (src[i+1] != '\'' && src[i+1] != '\\') {
				return "", 0, errAt(i, "invalid escape in a string: only \\' and \\\\ are allowed")
			}
			b.WriteString(src[from:i])
			b.WriteByte(src[i+1])
			i += 2
			from = i
		default:
			i++
		}
	}
	return "", 0, errAt(start, "unterminated string: no closing `'`")
}

// prefixedLit lexes h'..' (hex), b'..' (base64) and t'..' (timestamp).
func (l *lexer) prefixedLit(prefix byte) (token, *Error) {
	start := l.pos
	body := start + 2
	end := strings.IndexByte(l.src[body:], '\'')
	if end < 0 {
		return token{}, errAt(start, "unterminated %s literal: no closing `'`", prefixName(prefix))
	}
	val := l.src[body : body+end]
	var kind tokKind
	var err *Error
	switch prefix {
	case 'h':
		kind, err = tokHex, checkHex(val, body)
		val = strings.ToLower(val)
	case 'b':
		kind, err = tokBinary, checkBase64(val, body)
	default:
		kind, err = tokTimestamp, checkTimestamp(val, start)
	}
	if err != nil {
		return token{}, err
	}
	return l.emit(kind, start, body+end+1, val)
}

func prefixName(p byte) string {
	switch p {
	case 'h':
		return "hex"
	case 'b':
		return "binary"
	}
	return "timestamp"
}

// checkHex: 'h' QUOTE TwoHexDigits* QUOTE.
func checkHex(s string, at int) *Error {
	if i := firstNot(s, isHexDigit); i >= 0 {
		return errAt(at+i, "invalid hex literal: %s is not a hex digit", quoteGo(string(rune(s[i]))))
	}
	if len(s)%2 != 0 {
		return errAt(at, "invalid hex literal: an odd number of hex digits")
	}
	return nil
}

// checkBase64: one or more groups of four Base64Char ([A-Za-z0-9+/]), the last
// of which may end in '=' or '=='. An empty b” is not in the grammar.
func checkBase64(s string, at int) *Error {
	if len(s) == 0 || len(s)%4 != 0 {
		return errAt(at, "invalid binary literal: base64 must come in groups of four characters (padded with '=')")
	}
	pad := 0
	switch {
	case strings.HasSuffix(s, "=="):
		pad = 2
	case strings.HasSuffix(s, "="):
		pad = 1
	}
	if i := firstNot(s[:len(s)-pad], isBase64Char); i >= 0 {
		return errAt(at+i, "invalid binary literal: %s is not a base64 character", quoteGo(string(rune(s[i]))))
	}
	return nil
}

func isHexDigit(c byte) bool { return isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

// isBase64Char: [A-Za-z0-9+/].
func isBase64Char(c byte) bool { return isIdentPart(c) && c != '_' || c == '+' || c == '/' }

// checkTimestamp: the grammar's TimestampLiteral body,
// YYYY-MM-DDTHH:MM:SS[.fraction]Z with month 01-12, day 01-31, hour 00-23,
// minute 00-59 and second 00-60 (a leap second). The day is also checked
// against the month's length: the spec requires an RFC 3339 timestamp.
func checkTimestamp(s string, at int) *Error {
	bad := func(what string) *Error {
		return errAt(at, "invalid timestamp literal %s: %s (want YYYY-MM-DDTHH:MM:SS[.s]Z, UTC)", quoteGo(s), what)
	}
	const layout = "dddd-dd-ddTdd:dd:dd"
	if len(s) < len(layout)+1 || s[len(s)-1] != 'Z' {
		return bad("wrong shape")
	}
	for i := 0; i < len(layout); i++ {
		if layout[i] == 'd' && !isDigit(s[i]) || layout[i] != 'd' && s[i] != layout[i] {
			return bad("wrong shape")
		}
	}
	if frac := s[len(layout) : len(s)-1]; frac != "" {
		if frac[0] != '.' || len(frac) < 2 || firstNot(frac[1:], isDigit) >= 0 {
			return bad("wrong shape")
		}
	}
	num := func(i, n int) int {
		v := 0
		for _, c := range []byte(s[i : i+n]) {
			v = v*10 + int(c-'0')
		}
		return v
	}
	year, month, day := num(0, 4), num(5, 2), num(8, 2)
	switch {
	case month < 1 || month > 12:
		return bad("month out of range")
	case day < 1 || day > daysIn(year, month):
		return bad("day out of range")
	case num(11, 2) > 23:
		return bad("hour out of range")
	case num(14, 2) > 59:
		return bad("minute out of range")
	case num(17, 2) > 60:
		return bad("second out of range")
	}
	return nil
}

func daysIn(year, month int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// number lexes IntPosLiteral, IntNegLiteral, FloatPosLiteral and
// FloatNegLiteral: [+-]? ('0' | [1-9][0-9]*) and [+-]? [0-9]* '.' [0-9]+.
// The value is canonical: no '+', no leading zeros, "-0" is "0", and a float
// has a digit before its point.
func (l *lexer) number() (token, *Error) {
	src, start := l.src, l.pos
	i := start
	neg := false
	if src[i] == '+' || src[i] == '-' {
		neg = src[i] == '-'
		i++
	}
	digStart := i
	i = digitsEnd(src, i)
	intPart := src[digStart:i]
	if i+1 < len(src) && src[i] == '.' && isDigit(src[i+1]) {
		fracStart := i + 1
		i = digitsEnd(src, fracStart)
		ip := strings.TrimLeft(intPart, "0")
		if ip == "" {
			ip = "0"
		}
		val := ip + "." + src[fracStart:i]
		if neg {
			val = "-" + val
		}
		return l.emit(tokFloat, start, i, val)
	}
	if intPart == "" {
		// A lone sign: MINUS or PLUS, which no parser rule takes.
		return l.emit(tokOther, start, start+1, "")
	}
	if len(intPart) > 1 && intPart[0] == '0' {
		return token{}, errAt(digStart, "invalid integer %s: no leading zeros", quoteGo(intPart))
	}
	val := intPart
	if neg && val != "0" {
		val = "-" + val
	}
	return l.emit(tokInt, start, i, val)
}
