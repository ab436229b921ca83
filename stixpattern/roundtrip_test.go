package stixpattern

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// gen builds random valid trees, and writes them both canonically and in a
// noisy spelling the grammar also takes (comments, odd whitespace, == and <>,
// quoted plain names, '+' signs, upper-case hex).
type gen struct {
	r *rand.Rand
}

func (g gen) pick(n int) int { return g.r.IntN(n) }

func (g gen) obs(depth int) *ObservationExpr {
	var e *ObservationExpr
	switch k := g.pick(6); {
	case depth <= 0 || k < 3:
		e = &ObservationExpr{Op: ObsComparison, Comparison: g.cmp(depth - 1)}
	case k == 3:
		e = &ObservationExpr{Op: ObsGroup, Operands: []*ObservationExpr{g.obs(depth - 1)}}
	default:
		ops := []ObservationOp{ObsAnd, ObsOr, ObsFollowedBy}
		e = &ObservationExpr{Op: ops[g.pick(3)]}
		for range 2 + g.pick(3) {
			e.Operands = append(e.Operands, g.obsOperand(e.Op, depth-1))
		}
		return e
	}
	used := map[QualifierKind]bool{}
	for range g.pick(4) {
		q := g.qualifier()
		if e.Op == ObsComparison && used[q.Kind] {
			continue
		}
		used[q.Kind] = true
		e.Qualifiers = append(e.Qualifiers, q)
	}
	return e
}

// obsOperand returns an operand that binds tighter than op, as the grammar
// requires of an operand written without parentheses.
func (g gen) obsOperand(op ObservationOp, depth int) *ObservationExpr {
	for {
		e := g.obs(depth)
		if e.Op == ObsComparison || e.Op == ObsGroup || tighter(e.Op, op) {
			return e
		}
	}
}

func tighter(inner, outer ObservationOp) bool {
	rank := map[ObservationOp]int{ObsAnd: 3, ObsOr: 2, ObsFollowedBy: 1}
	return rank[inner] > rank[outer]
}

func (g gen) cmp(depth int) *ComparisonExpr {
	switch k := g.pick(5); {
	case depth <= 0 || k < 3:
		return &ComparisonExpr{Op: CmpTest, Test: g.test()}
	case k == 3:
		return &ComparisonExpr{Op: CmpGroup, Operands: []*ComparisonExpr{g.cmp(depth - 1)}}
	default:
		op := []ComparisonOp{CmpAnd, CmpOr}[g.pick(2)]
		c := &ComparisonExpr{Op: op}
		for range 2 + g.pick(3) {
			var o *ComparisonExpr
			for o == nil || o.Op == op || (op == CmpAnd && o.Op == CmpOr) {
				o = g.cmp(depth - 1)
			}
			c.Operands = append(c.Operands, o)
		}
		return c
	}
}

var (
	genTypes = []string{"file", "ipv4-addr", "x-custom-thing", "x_a", "_"}
	genKeys  = []string{"value", "hashes", "SHA-256", "MD5", "a b", "it's", `back\slash`, "AND", "true", "", "x_1", "日本"}
	genOps   = []string{"=", "!=", ">", "<", ">=", "<=", "IN", "LIKE", "MATCHES", "ISSUBSET", "ISSUPERSET", "EXISTS"}
	genStrs  = []string{"", "198.51.100.1", "203.0.113.0/24", "it's", `C:\Windows\`, "日本語", "a\nb", "/* no comment */", "]) AND ["}
)

func (g gen) test() *Comparison {
	c := &Comparison{ObjectType: genTypes[g.pick(len(genTypes))]}
	var path strings.Builder
	path.WriteString(pathKey(genKeys[g.pick(len(genKeys))]))
	for range g.pick(4) {
		switch g.pick(3) {
		case 0:
			path.WriteString("." + pathKey(genKeys[g.pick(len(genKeys))]))
		case 1:
			path.WriteString("[*]")
		default:
			path.WriteString(fmt.Sprintf("[%d]", g.pick(21)-10))
		}
	}
	c.Path = path.String()
	c.Op = genOps[g.pick(len(genOps))]
	switch c.Op {
	case "EXISTS":
		return c
	case "IN":
		c.Values = []Value{}
		for range g.pick(4) {
			c.Values = append(c.Values, g.value(true))
		}
	case "=", "!=":
		c.Values = []Value{g.value(true)}
	case ">", "<", ">=", "<=":
		c.Values = []Value{g.value(false)}
	default:
		c.Values = []Value{{String, genStrs[g.pick(len(genStrs))]}}
	}
	c.Negated = g.pick(3) == 0
	return c
}

func (g gen) value(boolOK bool) Value {
	for {
		switch g.pick(7) {
		case 0:
			return Value{String, genStrs[g.pick(len(genStrs))]}
		case 1:
			return Value{Int, fmt.Sprint(g.r.Int64N(2000) - 1000)}
		case 2:
			return Value{Float, fmt.Sprintf("%d.%d", g.pick(2000)-1000, g.pick(100))}
		case 3:
			if boolOK {
				return Value{Bool, []string{"true", "false"}[g.pick(2)]}
			}
		case 4:
			return Value{Binary, []string{"AAAA", "dGhpcyBpcyBhIHRlc3Q=", "AB==", "+/+/"}[g.pick(4)]}
		case 5:
			return Value{Hex, []string{"", "ffd8", "00"}[g.pick(3)]}
		default:
			return Value{Timestamp, g.timestamp()}
		}
	}
}

func (g gen) timestamp() string {
	frac := []string{"", ".1", ".123456789"}[g.pick(3)]
	return fmt.Sprintf("%04d-%02d-%02dT%02d:%02d:%02d%sZ", 1970+g.pick(100), 1+g.pick(12), 1+g.pick(28), g.pick(24), g.pick(60), g.pick(61), frac)
}

func (g gen) qualifier() Qualifier {
	switch g.pick(3) {
	case 0:
		if g.pick(2) == 0 {
			return Qualifier{Kind: Within, Value: Value{Int, fmt.Sprint(1 + g.pick(1000))}}
		}
		return Qualifier{Kind: Within, Value: Value{Float, fmt.Sprintf("%d.%d5", g.pick(10), g.pick(10))}}
	case 1:
		return Qualifier{Kind: Repeats, Value: Value{Int, fmt.Sprint(1 + g.pick(1000))}}
	}
	return Qualifier{Kind: StartStop, Start: Value{Timestamp, g.timestamp()}, Stop: Value{Timestamp, g.timestamp()}}
}

// noisy writes e in a spelling other than the canonical one.
func (g gen) noisy(b *strings.Builder, e *ObservationExpr) {
	switch e.Op {
	case ObsComparison:
		b.WriteString("[" + g.ws())
		g.noisyCmp(b, e.Comparison)
		b.WriteString(g.ws() + "]")
	case ObsGroup:
		b.WriteString("(" + g.ws())
		g.noisy(b, e.Operands[0])
		b.WriteString(g.ws() + ")")
	default:
		for i, o := range e.Operands {
			if i > 0 {
				b.WriteString(g.ws1() + strings.TrimSpace(obsJoin[e.Op]) + g.ws1())
			}
			g.noisy(b, o)
		}
	}
	for _, q := range e.Qualifiers {
		b.WriteString(g.ws1())
		switch q.Kind {
		case Within:
			b.WriteString("WITHIN" + g.ws1() + g.noisyNum(q.Value) + g.ws1() + "SECONDS")
		case Repeats:
			b.WriteString("REPEATS" + g.ws1() + g.noisyNum(q.Value) + g.ws1() + "TIMES")
		default:
			b.WriteString("START" + g.ws1() + q.Start.String() + g.ws() + "STOP" + g.ws1() + q.Stop.String())
		}
	}
}

func (g gen) noisyCmp(b *strings.Builder, c *ComparisonExpr) {
	switch c.Op {
	case CmpTest:
		t := c.Test
		if t.Op == "EXISTS" {
			b.WriteString("EXISTS" + g.ws1() + t.ObjectType + g.ws() + ":" + g.ws() + g.noisyPath(t.Path))
			return
		}
		b.WriteString(t.ObjectType + g.ws() + ":" + g.ws() + g.noisyPath(t.Path) + g.ws1())
		if t.Negated {
			b.WriteString("NOT" + g.ws1())
		}
		op := t.Op
		if op == "=" && g.pick(2) == 0 {
			op = "=="
		} else if op == "!=" && g.pick(2) == 0 {
			op = "<>"
		}
		b.WriteString(op + g.ws1())
		if t.Op == "IN" {
			b.WriteString("(" + g.ws())
			for i, v := range t.Values {
				if i > 0 {
					b.WriteString(g.ws() + "," + g.ws())
				}
				b.WriteString(g.noisyVal(v))
			}
			b.WriteString(g.ws() + ")")
			return
		}
		b.WriteString(g.noisyVal(t.Values[0]))
	case CmpGroup:
		b.WriteString("(" + g.ws())
		g.noisyCmp(b, c.Operands[0])
		b.WriteString(g.ws() + ")")
	default:
		sep := "AND"
		if c.Op == CmpOr {
			sep = "OR"
		}
		for i, o := range c.Operands {
			if i > 0 {
				b.WriteString(g.ws1() + sep + g.ws1())
			}
			g.noisyCmp(b, o)
		}
	}
}

// noisyPath quotes some plain names and spaces the separators.
func (g gen) noisyPath(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); {
		switch c := p[i]; {
		case c == '.':
			b.WriteString(g.ws() + "." + g.ws())
			i++
		case c == '[':
			j := strings.IndexByte(p[i:], ']') + i
			idx := p[i+1 : j]
			if idx != "*" && idx[0] != '-' && g.pick(2) == 0 {
				idx = "+" + idx
			}
			b.WriteString(g.ws() + "[" + g.ws() + idx + g.ws() + "]")
			i = j + 1
		case c == '\'':
			_, end, err := scanQuoted(p, i)
			if err != nil {
				panic(err)
			}
			b.WriteString(p[i:end])
			i = end
		default:
			j := i
			for j < len(p) && isIdentPart(p[j]) {
				j++
			}
			name := p[i:j]
			if g.pick(2) == 0 {
				name = quoteString(name)
			}
			b.WriteString(name)
			i = j
		}
	}
	return b.String()
}

func (g gen) noisyNum(v Value) string {
	s := v.Text
	if g.pick(2) == 0 && s[0] != '-' {
		s = "+" + s
	}
	if v.Kind == Float && g.pick(2) == 0 {
		if s == "0.5" {
			return ".5"
		}
		if strings.HasPrefix(s, "0.") {
			return "00" + s[1:]
		}
	}
	return s
}

func (g gen) noisyVal(v Value) string {
	switch v.Kind {
	case Int, Float:
		return g.noisyNum(v)
	case Hex:
		return "h'" + strings.ToUpper(v.Text) + "'"
	}
	return v.String()
}

// ws is optional separation; ws1 is required separation (between words).
func (g gen) ws() string {
	if g.pick(3) == 0 {
		return ""
	}
	return g.ws1()
}

func (g gen) ws1() string {
	return []string{" ", "  ", "\t", "\n", " /* c */ ", "\u00a0", "\u3000", " // line\n"}[g.pick(8)]
}

// TestRoundTrip is the property: for random valid trees, the canonical form
// and a noisy spelling both parse to the tree, and the canonical form is a
// fixed point of Parse then String.
func TestRoundTrip(t *testing.T) {
	g := gen{rand.New(rand.NewPCG(17, 2026))}
	for i := range 3000 {
		want := &Pattern{Expr: g.obs(1 + i%5)}
		canon := want.String()
		got, err := Parse(canon)
		if err != nil {
			t.Fatalf("#%d: Parse(canonical %q): %v", i, canon, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("#%d: canonical %q parsed to another tree: %q", i, canon, got.String())
		}
		if got.String() != canon {
			t.Fatalf("#%d: canonical form not a fixed point: %q then %q", i, canon, got.String())
		}
		var b strings.Builder
		b.WriteString(g.ws())
		g.noisy(&b, want.Expr)
		b.WriteString(g.ws())
		noisy := b.String()
		got, err = Parse(noisy)
		if err != nil {
			t.Fatalf("#%d: Parse(noisy %q): %v (canonical %q)", i, noisy, err, canon)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("#%d: noisy %q parsed to %q, want %q", i, noisy, got.String(), canon)
		}
	}
}
