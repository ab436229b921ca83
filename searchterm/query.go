package searchterm

import (
	"errors"
	"fmt"
	"strings"
)

// Limits of one query.
const (
	MaxQueryBytes = 64 << 10 // a pasted list of a few thousand values
	MaxValues     = 500      // values of a pasted list
	MaxWords      = 32       // words of a free-text query
)

// ErrQuery is the error of a query that cannot be asked.
var ErrQuery = errors.New("invalid search query")

// Query is what one search box asks: either a list of exact values (every
// item of the input is one), each searched on its own (the results grouped
// by value), or free text, whose words and the values among them must all
// match (AND).
type Query struct {
	// List: the input was exact values only; Values holds them, each once,
	// in the order given, and any of them matches (OR).
	List   bool
	Values []Value
	// Words are the words of a free-text query (Words gives them), each
	// once; with List false, Values are the exact values it holds.
	Words []string
}

// Empty reports a query that asks for nothing.
func (q Query) Empty() bool { return len(q.Values) == 0 && len(q.Words) == 0 }

// Parse reads one search box. Items are separated by white space, new
// lines, commas or semicolons. When every item is an exact value
// (Classify), the query is a list of values; otherwise it is free text.
// The result is the same for any spelling of the same query (case, Unicode
// form, a value's canonical form).
func Parse(s string) (Query, error) {
	if len(s) > MaxQueryBytes {
		return Query{}, fmt.Errorf("%w: longer than %d bytes", ErrQuery, MaxQueryBytes)
	}
	items := fields(s)
	if len(items) == 0 {
		return Query{}, nil
	}
	var q Query
	seenV, seenW := map[Value]bool{}, map[string]bool{}
	list := true
	for _, it := range items {
		v, ok := Classify(it)
		if !ok {
			list = false
			for _, w := range Words(it) {
				if !seenW[w] {
					seenW[w] = true
					q.Words = append(q.Words, w)
				}
			}
			continue
		}
		if !seenV[v] {
			seenV[v] = true
			q.Values = append(q.Values, v)
		}
	}
	q.List = list
	switch {
	case list && len(q.Values) > MaxValues:
		return Query{}, fmt.Errorf("%w: %d values, at most %d", ErrQuery, len(q.Values), MaxValues)
	case !list && len(q.Words)+len(q.Values) > MaxWords:
		return Query{}, fmt.Errorf("%w: %d words, at most %d", ErrQuery, len(q.Words)+len(q.Values), MaxWords)
	}
	for _, v := range q.Values {
		if _, err := v.QueryTerms(); err != nil {
			return Query{}, fmt.Errorf("%w: %w", ErrQuery, err)
		}
	}
	return q, nil
}

// String is the query in a canonical spelling: values one per line for a
// list, else the words and values separated by spaces.
func (q Query) String() string {
	var parts []string
	for _, v := range q.Values {
		parts = append(parts, v.Text)
	}
	if q.List {
		return strings.Join(parts, "\n")
	}
	return strings.Join(append(q.Words, parts...), " ")
}

// Groups returns the terms the query asks for: each group is a set of
// terms any of which matches (OR); a result must match every group (AND).
// A list query has one group per value (searched one by one by the
// caller); free text one per word and one per value.
func (q Query) Groups() [][]string {
	var out [][]string
	for _, w := range q.Words {
		out = append(out, []string{Term(KindWord, w)})
	}
	for _, v := range q.Values {
		ts, _ := v.QueryTerms() // Parse checked every value
		out = append(out, ts)
	}
	return out
}
