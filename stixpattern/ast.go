package stixpattern

import (
	"net/netip"
	"strings"
)

// Pattern is a parsed STIX 2.1 pattern: one observation expression.
type Pattern struct {
	Expr *ObservationExpr
}

// ObservationOp says what an observation expression is.
type ObservationOp int

const (
	// ObsComparison is "[ comparison expression ]": one observation.
	ObsComparison ObservationOp = iota + 1
	// ObsGroup is "( observation expression )", kept as written: the group
	// decides how qualifiers and operators bind.
	ObsGroup
	// ObsAnd, ObsOr and ObsFollowedBy join two or more operands; FOLLOWEDBY
	// binds loosest, then OR, then AND (all left-associative).
	ObsAnd
	ObsOr
	ObsFollowedBy
)

// ObservationExpr is a node of the observation-expression tree.
type ObservationExpr struct {
	Op         ObservationOp
	Comparison *ComparisonExpr    // ObsComparison: the expression inside the brackets
	Operands   []*ObservationExpr // ObsGroup: one; ObsAnd, ObsOr, ObsFollowedBy: two or more, in order
	// Qualifiers apply, in order, to this bracketed or parenthesised
	// expression: "[..] REPEATS 2 TIMES WITHIN 60 SECONDS" has two. Empty on
	// ObsAnd, ObsOr and ObsFollowedBy (a qualifier binds tighter than them).
	Qualifiers []Qualifier
}

// ComparisonOp says what a comparison expression is.
type ComparisonOp int

const (
	// CmpTest is one comparison, "object-type:path op value".
	CmpTest ComparisonOp = iota + 1
	// CmpGroup is "( comparison expression )", kept as written.
	CmpGroup
	// CmpAnd and CmpOr join two or more operands; OR binds looser than AND.
	CmpAnd
	CmpOr
)

// ComparisonExpr is a node of the boolean tree inside one observation's brackets.
type ComparisonExpr struct {
	Op       ComparisonOp
	Test     *Comparison       // CmpTest
	Operands []*ComparisonExpr // CmpGroup: one; CmpAnd, CmpOr: two or more, in order
}

// QualifierKind names a qualifier.
type QualifierKind int

const (
	Within    QualifierKind = iota + 1 // WITHIN n SECONDS
	Repeats                            // REPEATS n TIMES
	StartStop                          // START t'..' STOP t'..'
)

func (k QualifierKind) String() string {
	switch k {
	case Within:
		return "WITHIN"
	case Repeats:
		return "REPEATS"
	case StartStop:
		return "START/STOP"
	}
	return "?"
}

// Qualifier restricts the observations that may match an observation expression.
type Qualifier struct {
	Kind QualifierKind
	// Value is WITHIN's number of seconds (Int or Float, positive) or
	// REPEATS' count (Int, positive).
	Value Value
	// Start and Stop are START/STOP's timestamps: matching observations
	// are at or after Start and before Stop.
	Start, Stop Value
}

// Comparison is one comparison of an object path with constants.
type Comparison struct {
	ObjectType string // "ipv4-addr", "file", "x-custom-thing"
	// Path is the object path after ':', normalised: a property name is bare
	// when it is a plain identifier (letters, digits, '_', not a keyword) and
	// quoted otherwise, so hashes.'MD5' and hashes.MD5 are both "hashes.MD5"
	// and "hashes.'SHA-256'" stays quoted; list indexes are [n] or [*].
	Path string
	// Op is "=", "!=", ">", "<", ">=", "<=", "IN", "LIKE", "MATCHES",
	// "ISSUBSET", "ISSUPERSET" or "EXISTS" ("==" reads as "=", "<>" as "!=").
	Op      string
	Negated bool    // NOT before the operator (EXISTS cannot be negated)
	Values  []Value // one; the IN set (possibly empty); none for EXISTS
}

// Kind is the type of a constant.
type Kind int

const (
	String    Kind = iota + 1 // 'text'
	Int                       // 42, -7
	Float                     // 7.0, -0.5
	Bool                      // true, false
	Binary                    // b'base64'
	Hex                       // h'ff00'
	Timestamp                 // t'2016-06-01T00:00:00Z'
)

func (k Kind) String() string {
	switch k {
	case String:
		return "string"
	case Int:
		return "integer"
	case Float:
		return "float"
	case Bool:
		return "boolean"
	case Binary:
		return "binary"
	case Hex:
		return "hex"
	case Timestamp:
		return "timestamp"
	}
	return "?"
}

// Value is a constant.
type Value struct {
	Kind Kind
	// Text is the value without its quotes or prefix: strings unescaped (\'
	// and \\), hex in lower case, binary as its base64, timestamps as
	// written; numbers canonical (no '+', no leading zeros, "-0" is "0",
	// ".5" is "0.5"); booleans "true" or "false".
	Text string
}

// Comparisons returns every comparison of the pattern, in the order written.
func (p *Pattern) Comparisons() []Comparison {
	if p == nil || p.Expr == nil {
		return nil
	}
	var out []Comparison
	var cmp func(c *ComparisonExpr)
	cmp = func(c *ComparisonExpr) {
		if c.Test != nil {
			out = append(out, *c.Test)
		}
		for _, o := range c.Operands {
			cmp(o)
		}
	}
	var obs func(e *ObservationExpr)
	obs = func(e *ObservationExpr) {
		if e.Comparison != nil {
			cmp(e.Comparison)
		}
		for _, o := range e.Operands {
			obs(o)
		}
	}
	obs(p.Expr)
	return out
}

// ExactValues returns the constants a search index should hold for this
// comparison: the values an object must have for the comparison to match,
// so that searching for one of them finds the indicator.
//
//   - "=" gives its value, and "IN" every value of its set: the property
//     equals one of them.
//   - "ISSUBSET" with a CIDR string ('198.51.100.0/24') gives the CIDR: the
//     address lies in that network, and an index that stores addresses with
//     their prefixes finds it from either side.
//   - Nothing else: a NOT, "!=", an order (">", "<"...) or ISSUPERSET says
//     what the value is not or roughly where it lies; LIKE and MATCHES hold a
//     wildcard or a regular expression, not a value; EXISTS has no value.
//
// Only strings are returned. The values worth finding (addresses, domains,
// URLs, hashes, names, keys) are strings in STIX; numbers, booleans, binary,
// hex and timestamps are sizes, ports, flags, payloads and times, which would
// put noise in an index of exact values.
func (c Comparison) ExactValues() []string {
	if c.Negated {
		return nil
	}
	var out []string
	switch c.Op {
	case "=", "IN":
		for _, v := range c.Values {
			if v.Kind == String {
				out = append(out, v.Text)
			}
		}
	case "ISSUBSET":
		if len(c.Values) == 1 && c.Values[0].Kind == String {
			if _, err := netip.ParsePrefix(c.Values[0].Text); err == nil {
				out = append(out, c.Values[0].Text)
			}
		}
	}
	return out
}

// String returns the canonical form of the pattern: single spaces between
// tokens, no comments, keywords and operators in their one spelling, paths
// and constants normalised. Parse(p.String()) returns an equal Pattern.
func (p *Pattern) String() string {
	if p == nil || p.Expr == nil {
		return ""
	}
	var b strings.Builder
	b.Grow(256)
	p.Expr.write(&b)
	return b.String()
}

var obsJoin = map[ObservationOp]string{ObsAnd: " AND ", ObsOr: " OR ", ObsFollowedBy: " FOLLOWEDBY "}

func (e *ObservationExpr) write(b *strings.Builder) {
	switch e.Op {
	case ObsComparison:
		b.WriteByte('[')
		e.Comparison.write(b)
		b.WriteByte(']')
	case ObsGroup:
		b.WriteByte('(')
		e.Operands[0].write(b)
		b.WriteByte(')')
	default:
		for i, o := range e.Operands {
			if i > 0 {
				b.WriteString(obsJoin[e.Op])
			}
			o.write(b)
		}
	}
	for _, q := range e.Qualifiers {
		b.WriteByte(' ')
		q.write(b)
	}
}

// String returns the qualifier as written in canonical form.
func (q Qualifier) String() string {
	var b strings.Builder
	q.write(&b)
	return b.String()
}

func (q Qualifier) write(b *strings.Builder) {
	switch q.Kind {
	case Within:
		b.WriteString("WITHIN ")
		q.Value.write(b)
		b.WriteString(" SECONDS")
	case Repeats:
		b.WriteString("REPEATS ")
		q.Value.write(b)
		b.WriteString(" TIMES")
	case StartStop:
		b.WriteString("START ")
		q.Start.write(b)
		b.WriteString(" STOP ")
		q.Stop.write(b)
	}
}

func (c *ComparisonExpr) write(b *strings.Builder) {
	switch c.Op {
	case CmpTest:
		c.Test.write(b)
	case CmpGroup:
		b.WriteByte('(')
		c.Operands[0].write(b)
		b.WriteByte(')')
	default:
		sep := " AND "
		if c.Op == CmpOr {
			sep = " OR "
		}
		for i, o := range c.Operands {
			if i > 0 {
				b.WriteString(sep)
			}
			o.write(b)
		}
	}
}

// String returns the comparison in canonical form, "file:name = 'a.exe'".
func (c Comparison) String() string {
	var b strings.Builder
	c.write(&b)
	return b.String()
}

func (c *Comparison) write(b *strings.Builder) {
	if c.Op == "EXISTS" {
		b.WriteString("EXISTS ")
	}
	b.WriteString(c.ObjectType)
	b.WriteByte(':')
	b.WriteString(c.Path)
	if c.Op == "EXISTS" {
		return
	}
	b.WriteByte(' ')
	if c.Negated {
		b.WriteString("NOT ")
	}
	b.WriteString(c.Op)
	b.WriteByte(' ')
	if c.Op != "IN" {
		if len(c.Values) > 0 {
			c.Values[0].write(b)
		}
		return
	}
	b.WriteByte('(')
	for i, v := range c.Values {
		if i > 0 {
			b.WriteString(", ")
		}
		v.write(b)
	}
	b.WriteByte(')')
}

// String returns the constant as written in a pattern: 'it\'s', 42, h'ff'.
func (v Value) String() string {
	var b strings.Builder
	v.write(&b)
	return b.String()
}

func (v Value) write(b *strings.Builder) {
	prefix := byte(0)
	switch v.Kind {
	case String:
		writeQuoted(b, v.Text)
		return
	case Binary:
		prefix = 'b'
	case Hex:
		prefix = 'h'
	case Timestamp:
		prefix = 't'
	}
	if prefix == 0 {
		b.WriteString(v.Text)
		return
	}
	b.WriteByte(prefix)
	b.WriteByte('\'')
	b.WriteString(v.Text)
	b.WriteByte('\'')
}

// quoteString returns a string literal: only ' and \ are escaped.
func quoteString(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	writeQuoted(&b, s)
	return b.String()
}

func writeQuoted(b *strings.Builder, s string) {
	b.WriteByte('\'')
	for {
		i := strings.IndexAny(s, `'\`)
		if i < 0 {
			break
		}
		b.WriteString(s[:i])
		b.WriteByte('\\')
		b.WriteByte(s[i])
		s = s[i+1:]
	}
	b.WriteString(s)
	b.WriteByte('\'')
}

// pathKey writes one property name of an object path: bare when the lexer
// would read it back as a plain identifier, quoted otherwise.
func pathKey(name string) string {
	if name != "" && isIdentStart(name[0]) {
		plain := true
		for i := 1; i < len(name); i++ {
			if !isIdentPart(name[i]) {
				plain = false
				break
			}
		}
		if _, kw := keywords[name]; plain && !kw {
			return name
		}
	}
	return quoteString(name)
}
