package stixpattern

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

const (
	// MaxSize bounds a pattern, as given and in canonical form (String), in
	// bytes. Real indicators are a few hundred bytes; the bound keeps a
	// hostile one from costing more than a bundle's other checks.
	MaxSize = 64 << 10
	// MaxDepth bounds the nesting of brackets and parentheses, so that the
	// recursive descent (and every walk of the tree) has a bounded stack.
	MaxDepth = 64
)

// Error is a pattern refused: where (a byte offset into the pattern) and what
// was expected or is wrong.
type Error struct {
	Offset int
	Msg    string
}

func (e *Error) Error() string {
	return fmt.Sprintf("invalid STIX pattern at byte %d: %s", e.Offset, e.Msg)
}

func errAt(pos int, format string, args ...any) *Error {
	return &Error{Offset: pos, Msg: fmt.Sprintf(format, args...)}
}

func quoteGo(s string) string { return strconv.Quote(s) }

// Parse parses a STIX 2.1 pattern (STIX 2.1 §9, the OASIS grammar
// STIXPattern.g4) by recursive descent. A refused pattern gives an *Error.
//
// Beyond the grammar it checks what the specification adds: WITHIN takes a
// positive number of seconds and REPEATS a positive count; timestamps are
// real dates; and an observation expression in brackets takes at most one
// qualifier of each kind (as the OASIS validator reads "MUST NOT have more
// than one Qualifier of a particular type": a parenthesised group may be
// qualified again).
func Parse(s string) (*Pattern, error) {
	if len(s) > MaxSize {
		return nil, errAt(MaxSize, "pattern too long: %d bytes, over the limit of %d", len(s), MaxSize)
	}
	if !utf8.ValidString(s) {
		i := 0
		for i < len(s) {
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n == 1 {
				break
			}
			i += n
		}
		return nil, errAt(i, "invalid UTF-8")
	}
	p := &parser{lex: lexer{src: s}}
	if err := p.advance(); err != nil {
		return nil, err
	}
	e, err := p.observationExprs()
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tokEOF {
		return nil, p.expected("AND, OR, FOLLOWEDBY, a qualifier or the end of the pattern")
	}
	pat := &Pattern{Expr: e}
	if n := len(pat.String()); n > MaxSize {
		return nil, errAt(0, "pattern too long: %d bytes in canonical form, over the limit of %d", n, MaxSize)
	}
	return pat, nil
}

type parser struct {
	lex   lexer
	tok   token
	depth int
}

func (p *parser) advance() *Error {
	t, err := p.lex.next()
	if err != nil {
		return err
	}
	p.tok = t
	return nil
}

func (p *parser) expected(what string) *Error {
	return errAt(p.tok.pos, "expected %s, found %s", what, p.tok.describe())
}

// expect consumes a token of kind k, or fails naming what.
func (p *parser) expect(k tokKind, what string) (token, *Error) {
	t := p.tok
	if t.kind != k {
		return t, p.expected(what)
	}
	return t, p.advance()
}

func (p *parser) enter() *Error {
	p.depth++
	if p.depth > MaxDepth {
		return errAt(p.tok.pos, "nested too deeply: more than %d levels of brackets and parentheses", MaxDepth)
	}
	return nil
}

// observationExprs: observationExpressionOr (FOLLOWEDBY observationExpressionOr)*.
func (p *parser) observationExprs() (*ObservationExpr, *Error) {
	return p.obsChain(tokFollowedBy, ObsFollowedBy, p.observationOr)
}

// observationOr: observationExpressionAnd (OR observationExpressionAnd)*.
func (p *parser) observationOr() (*ObservationExpr, *Error) {
	return p.obsChain(tokOr, ObsOr, p.observationAnd)
}

// observationAnd: observationExpression (AND observationExpression)*.
func (p *parser) observationAnd() (*ObservationExpr, *Error) {
	return p.obsChain(tokAnd, ObsAnd, p.observation)
}

// obsChain parses one left-associative level of the observation grammar
// into one n-ary node.
func (p *parser) obsChain(sep tokKind, op ObservationOp, operand func() (*ObservationExpr, *Error)) (*ObservationExpr, *Error) {
	return chain(p, sep, operand, func(ops []*ObservationExpr) *ObservationExpr { return &ObservationExpr{Op: op, Operands: ops} })
}

// chain parses operand (sep operand)*: one operand as it is, more joined
// into one node.
func chain[E any](p *parser, sep tokKind, operand func() (E, *Error), join func([]E) E) (E, *Error) {
	var none E
	first, err := operand()
	if err != nil {
		return none, err
	}
	if p.tok.kind != sep {
		return first, nil
	}
	ops := []E{first}
	for p.tok.kind == sep {
		if err := p.advance(); err != nil {
			return none, err
		}
		next, err := operand()
		if err != nil {
			return none, err
		}
		ops = append(ops, next)
	}
	return join(ops), nil
}

// bracketed parses what stands between the opening token under p.tok and
// close (what names what may come before close, for the error), one
// nesting level deeper.
func bracketed[E any](p *parser, close tokKind, what string, inner func() (E, *Error)) (E, *Error) {
	var none E
	if err := p.enter(); err != nil {
		return none, err
	}
	if err := p.advance(); err != nil {
		return none, err
	}
	e, err := inner()
	if err != nil {
		return none, err
	}
	if _, err := p.expect(close, what); err != nil {
		return none, err
	}
	p.depth--
	return e, nil
}

// observation: '[' comparisonExpression ']' | '(' observationExpressions ')',
// followed by any qualifiers.
func (p *parser) observation() (*ObservationExpr, *Error) {
	var e *ObservationExpr
	switch p.tok.kind {
	case tokLBrack:
		c, err := bracketed(p, tokRBrack, "AND, OR or `]`", p.comparisonOr)
		if err != nil {
			return nil, err
		}
		e = &ObservationExpr{Op: ObsComparison, Comparison: c}
	case tokLParen:
		inner, err := bracketed(p, tokRParen, "AND, OR, FOLLOWEDBY, a qualifier or `)`", p.observationExprs)
		if err != nil {
			return nil, err
		}
		e = &ObservationExpr{Op: ObsGroup, Operands: []*ObservationExpr{inner}}
	default:
		if p.tok.kind == tokIdent || p.tok.kind == tokIdentHyphen {
			return nil, p.expected("`[` (a comparison such as file:name = 'x' goes inside square brackets)")
		}
		return nil, p.expected("`[` or `(`")
	}
	for {
		var q Qualifier
		pos := p.tok.pos
		var err *Error
		switch p.tok.kind {
		case tokWithin:
			q, err = p.within()
		case tokRepeats:
			q, err = p.repeats()
		case tokStart:
			q, err = p.startStop()
		default:
			return e, nil
		}
		if err != nil {
			return nil, err
		}
		if e.Op == ObsComparison {
			for _, prev := range e.Qualifiers {
				if prev.Kind == q.Kind {
					return nil, errAt(pos, "a second %s qualifier on one observation expression (put it in parentheses to qualify the group)", q.Kind)
				}
			}
		}
		e.Qualifiers = append(e.Qualifiers, q)
	}
}

// within: WITHIN (IntPosLiteral | FloatPosLiteral) SECONDS, the number positive.
func (p *parser) within() (Qualifier, *Error) {
	if err := p.advance(); err != nil {
		return Qualifier{}, err
	}
	t := p.tok
	if t.kind != tokInt && t.kind != tokFloat || t.raw[0] == '-' {
		return Qualifier{}, p.expected("a positive number of seconds after WITHIN")
	}
	if strings.Trim(t.val, "0.") == "" {
		return Qualifier{}, errAt(t.pos, "WITHIN must be a positive number of seconds, not %s", t.raw)
	}
	kind := Int
	if t.kind == tokFloat {
		kind = Float
	}
	if err := p.advance(); err != nil {
		return Qualifier{}, err
	}
	if _, err := p.expect(tokSeconds, "SECONDS (the only unit WITHIN takes)"); err != nil {
		return Qualifier{}, err
	}
	return Qualifier{Kind: Within, Value: Value{Kind: kind, Text: t.val}}, nil
}

// repeats: REPEATS IntPosLiteral TIMES, the count positive.
func (p *parser) repeats() (Qualifier, *Error) {
	if err := p.advance(); err != nil {
		return Qualifier{}, err
	}
	t := p.tok
	if t.kind != tokInt || t.raw[0] == '-' {
		return Qualifier{}, p.expected("a positive integer after REPEATS")
	}
	if t.val == "0" {
		return Qualifier{}, errAt(t.pos, "REPEATS must be a positive integer, not %s", t.raw)
	}
	if err := p.advance(); err != nil {
		return Qualifier{}, err
	}
	if _, err := p.expect(tokTimes, "TIMES after the REPEATS count"); err != nil {
		return Qualifier{}, err
	}
	return Qualifier{Kind: Repeats, Value: Value{Kind: Int, Text: t.val}}, nil
}

// startStop: START TimestampLiteral STOP TimestampLiteral.
func (p *parser) startStop() (Qualifier, *Error) {
	if err := p.advance(); err != nil {
		return Qualifier{}, err
	}
	start, err := p.expect(tokTimestamp, "a timestamp t'YYYY-MM-DDTHH:MM:SSZ' after START")
	if err != nil {
		return Qualifier{}, err
	}
	if _, err := p.expect(tokStop, "STOP after the START timestamp"); err != nil {
		return Qualifier{}, err
	}
	stop, err := p.expect(tokTimestamp, "a timestamp t'YYYY-MM-DDTHH:MM:SSZ' after STOP")
	if err != nil {
		return Qualifier{}, err
	}
	return Qualifier{Kind: StartStop, Start: Value{Kind: Timestamp, Text: start.val}, Stop: Value{Kind: Timestamp, Text: stop.val}}, nil
}

// comparisonOr: comparisonExpressionAnd (OR comparisonExpressionAnd)*.
func (p *parser) comparisonOr() (*ComparisonExpr, *Error) {
	return p.cmpChain(tokOr, CmpOr, p.comparisonAnd)
}

// comparisonAnd: propTest (AND propTest)*.
func (p *parser) comparisonAnd() (*ComparisonExpr, *Error) {
	return p.cmpChain(tokAnd, CmpAnd, p.propTest)
}

func (p *parser) cmpChain(sep tokKind, op ComparisonOp, operand func() (*ComparisonExpr, *Error)) (*ComparisonExpr, *Error) {
	return chain(p, sep, operand, func(ops []*ComparisonExpr) *ComparisonExpr { return &ComparisonExpr{Op: op, Operands: ops} })
}

var cmpOps = map[tokKind]string{
	tokEq: "=", tokNeq: "!=", tokGt: ">", tokLt: "<", tokGe: ">=", tokLe: "<=",
	tokIn: "IN", tokLike: "LIKE", tokMatches: "MATCHES", tokIsSubset: "ISSUBSET", tokIsSuperset: "ISSUPERSET",
}

// propTest: '(' comparisonExpression ')' | EXISTS objectPath |
// objectPath NOT? operator operand.
func (p *parser) propTest() (*ComparisonExpr, *Error) {
	switch p.tok.kind {
	case tokLParen:
		inner, err := bracketed(p, tokRParen, "AND, OR or `)`", p.comparisonOr)
		if err != nil {
			return nil, err
		}
		return &ComparisonExpr{Op: CmpGroup, Operands: []*ComparisonExpr{inner}}, nil
	case tokExists:
		if err := p.advance(); err != nil {
			return nil, err
		}
		typ, path, err := p.objectPath()
		if err != nil {
			return nil, err
		}
		return &ComparisonExpr{Op: CmpTest, Test: &Comparison{ObjectType: typ, Path: path, Op: "EXISTS"}}, nil
	}
	typ, path, err := p.objectPath()
	if err != nil {
		return nil, err
	}
	c := &Comparison{ObjectType: typ, Path: path}
	if p.tok.kind == tokNot {
		c.Negated = true
		if err := p.advance(); err != nil {
			return nil, err
		}
	}
	op, ok := cmpOps[p.tok.kind]
	if !ok {
		return nil, p.expected("a comparison operator (=, !=, <, <=, >, >=, IN, LIKE, MATCHES, ISSUBSET, ISSUPERSET)")
	}
	c.Op = op
	if err := p.advance(); err != nil {
		return nil, err
	}
	switch op {
	case "IN":
		if c.Values, err = p.set(); err != nil {
			return nil, err
		}
	case "=", "!=":
		v, err := p.literal(true, "a constant after "+op)
		if err != nil {
			return nil, err
		}
		c.Values = []Value{v}
	case ">", "<", ">=", "<=":
		v, err := p.literal(false, "an orderable constant (not a boolean) after "+op)
		if err != nil {
			return nil, err
		}
		c.Values = []Value{v}
	default:
		t, err := p.expect(tokString, "a string constant after "+op)
		if err != nil {
			return nil, err
		}
		c.Values = []Value{{Kind: String, Text: t.val}}
	}
	return &ComparisonExpr{Op: CmpTest, Test: c}, nil
}

var literalKinds = map[tokKind]Kind{
	tokString: String, tokInt: Int, tokFloat: Float, tokBool: Bool,
	tokBinary: Binary, tokHex: Hex, tokTimestamp: Timestamp,
}

// literal: primitiveLiteral (boolOK) or orderableLiteral.
func (p *parser) literal(boolOK bool, what string) (Value, *Error) {
	k, ok := literalKinds[p.tok.kind]
	if !ok || k == Bool && !boolOK {
		if p.tok.kind == tokIdent || p.tok.kind == tokIdentHyphen {
			what += " (strings go in single quotes)"
		}
		return Value{}, p.expected(what)
	}
	v := Value{Kind: k, Text: p.tok.val}
	return v, p.advance()
}

// set: '(' ')' | '(' primitiveLiteral (',' primitiveLiteral)* ')'.
func (p *parser) set() ([]Value, *Error) {
	if _, err := p.expect(tokLParen, "`(` to open the IN set"); err != nil {
		return nil, err
	}
	vals := []Value{}
	if p.tok.kind == tokRParen {
		return vals, p.advance()
	}
	for {
		v, err := p.literal(true, "a constant in the IN set")
		if err != nil {
			return nil, err
		}
		vals = append(vals, v)
		if p.tok.kind == tokRParen {
			return vals, p.advance()
		}
		if _, err := p.expect(tokComma, "`,` or `)` in the IN set"); err != nil {
			return nil, err
		}
	}
}

// objectPath: objectType ':' firstPathComponent objectPathComponent*, where
// the type is an identifier (hyphens allowed), a property name is an
// identifier without hyphens or a quoted string, and an index is an integer
// or '*'. The path comes back normalised (see Comparison.Path).
func (p *parser) objectPath() (string, string, *Error) {
	t := p.tok
	if t.kind != tokIdent && t.kind != tokIdentHyphen {
		return "", "", p.expected("an object type such as file or ipv4-addr")
	}
	if err := p.advance(); err != nil {
		return "", "", err
	}
	if p.tok.kind != tokColon {
		return "", "", p.expected("`:` after the object type " + t.raw)
	}
	if err := p.advance(); err != nil {
		return "", "", err
	}
	var b strings.Builder
	if err := p.pathKey(&b); err != nil {
		return "", "", err
	}
	for {
		switch p.tok.kind {
		case tokDot:
			if err := p.advance(); err != nil {
				return "", "", err
			}
			b.WriteByte('.')
			if err := p.pathKey(&b); err != nil {
				return "", "", err
			}
		case tokLBrack:
			if err := p.advance(); err != nil {
				return "", "", err
			}
			switch p.tok.kind {
			case tokInt, tokAsterisk:
				b.WriteString("[" + p.tok.val + "]")
			default:
				return "", "", p.expected("a list index (an integer or *)")
			}
			if err := p.advance(); err != nil {
				return "", "", err
			}
			if _, err := p.expect(tokRBrack, "`]` after the list index"); err != nil {
				return "", "", err
			}
		default:
			return t.raw, b.String(), nil
		}
	}
}

// pathKey reads one property name: an identifier without hyphens, or a
// string literal.
func (p *parser) pathKey(b *strings.Builder) *Error {
	t := p.tok
	switch t.kind {
	case tokIdent:
		b.WriteString(t.val)
	case tokString:
		b.WriteString(pathKey(t.val))
	case tokIdentHyphen:
		return errAt(t.pos, "property name %s has a hyphen: quote it, as in hashes.'SHA-256'", t.raw)
	default:
		return p.expected("a property name (an identifier or a quoted string)")
	}
	return p.advance()
}
