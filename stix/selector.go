package stix

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/go-json-experiment/json/jsontext"
)

// A selector (STIX 2.1 §7.2.3.1) is a dot-separated path from the object
// root: each component is a property name or dictionary key, or a list index
// written [n]. It must select content that exists; a string cannot be
// indexed, and a list cannot take a name.

// step is one parsed selector component: a name, or an index when idx >= 0.
type step struct {
	name string
	idx  int
}

func parseSelector(sel string) ([]step, error) {
	if sel == "" {
		return nil, errors.New("empty selector")
	}
	var steps []step
	for part := range strings.SplitSeq(sel, ".") {
		if part == "" {
			return nil, fmt.Errorf("selector %q has an empty component", sel)
		}
		if part[0] == '[' && part[len(part)-1] == ']' && len(part) > 2 {
			n, err := strconv.Atoi(part[1 : len(part)-1])
			if err != nil || n < 0 || part[1] == '+' || part[1] == '-' {
				return nil, fmt.Errorf("selector %q: %q is not a list index", sel, part)
			}
			steps = append(steps, step{idx: n})
			continue
		}
		steps = append(steps, step{name: part, idx: -1})
	}
	return steps, nil
}

// ResolveSelector checks a granular-marking selector against the object's
// raw JSON and returns nil if it selects existing content.
func ResolveSelector(raw []byte, selector string) error {
	if !jsontext.Value(raw).IsValid() {
		return errors.New("resolve selector: object is not valid JSON")
	}
	return resolveSelector(raw, selector)
}

// resolveSelector is ResolveSelector for raw JSON that is known to be valid.
func resolveSelector(raw []byte, selector string) error {
	steps, err := parseSelector(selector)
	if err != nil {
		return err
	}
	_, err = selectValue(raw[skipSpace(raw, 0):], steps)
	if err != nil {
		return fmt.Errorf("selector %q: %w", selector, err)
	}
	return nil
}

// selectValue follows steps from the value v and returns what they select.
func selectValue(v []byte, steps []step) ([]byte, error) {
	if kind(v) != '{' {
		return nil, errors.New("the root is not an object")
	}
	for i, s := range steps {
		next, err := child(v, s)
		if err != nil {
			return nil, fmt.Errorf("component %d: %w", i+1, err)
		}
		v = next
	}
	return v, nil
}

// child selects one step below v.
func child(v []byte, s step) ([]byte, error) {
	switch kind(v) {
	case '{':
		if s.idx >= 0 {
			return nil, fmt.Errorf("[%d]: an object cannot be indexed", s.idx)
		}
		it := newObjIter(v)
		for {
			name, val, ok := it.next()
			if !ok {
				return nil, fmt.Errorf("%q: no such property", s.name)
			}
			if string(name) == s.name {
				return val, nil
			}
		}
	case '[':
		if s.idx < 0 {
			return nil, fmt.Errorf("%q: a list cannot take a name", s.name)
		}
		it := newArrIter(v)
		for n := 0; ; n++ {
			e, ok := it.next()
			if !ok {
				return nil, fmt.Errorf("[%d]: index out of range (length %d)", s.idx, n)
			}
			if n == s.idx {
				return e, nil
			}
		}
	case '"':
		return nil, errors.New("a string cannot be indexed or take a name")
	default:
		return nil, errors.New("a number, boolean or null has no content to select")
	}
}

// redactNode is a trie of selectors: cut means the whole value goes.
type redactNode struct {
	cut   bool
	names map[string]*redactNode
	idx   map[int]*redactNode
}

func (n *redactNode) add(steps []step) {
	for _, s := range steps {
		if n.cut {
			return // an ancestor is removed already
		}
		var next *redactNode
		if s.idx >= 0 {
			if n.idx == nil {
				n.idx = make(map[int]*redactNode)
			}
			if next = n.idx[s.idx]; next == nil {
				next = &redactNode{}
				n.idx[s.idx] = next
			}
		} else {
			if n.names == nil {
				n.names = make(map[string]*redactNode)
			}
			if next = n.names[s.name]; next == nil {
				next = &redactNode{}
				n.names[s.name] = next
			}
		}
		n = next
	}
	n.cut, n.names, n.idx = true, nil, nil
}

// Redact returns a compacted copy of raw with the content selected by the
// selectors removed: properties are deleted and list items dropped, with
// indexes taken from the original (so "labels.[0]" and "labels.[1]" together
// remove the first two labels). Every selector must resolve. Redact does not
// adjust other granular_markings whose selectors pointed into removed
// content; that is the caller's policy.
func Redact(raw []byte, selectors []string) ([]byte, error) {
	if !jsontext.Value(raw).IsValid() {
		return nil, errors.New("redact: object is not valid JSON")
	}
	raw = raw[skipSpace(raw, 0):]
	root := &redactNode{}
	for _, sel := range selectors {
		steps, err := parseSelector(sel)
		if err != nil {
			return nil, fmt.Errorf("redact: %w", err)
		}
		if _, err := selectValue(raw, steps); err != nil {
			return nil, fmt.Errorf("redact: selector %q: %w", sel, err)
		}
		root.add(steps)
	}
	return redactValue(make([]byte, 0, len(raw)), raw, root), nil
}

func redactValue(dst, v []byte, n *redactNode) []byte {
	if n == nil || (n.names == nil && n.idx == nil) {
		out, _ := compact(dst, v)
		return out
	}
	switch kind(v) {
	case '{':
		dst = append(dst, '{')
		first := true
		it := newObjIter(v)
		for {
			start := it.i
			name, val, ok := it.next()
			if !ok {
				break
			}
			c := n.names[string(name)]
			if c != nil && c.cut {
				continue
			}
			if !first {
				dst = append(dst, ',')
			}
			first = false
			// Copy the member name as it was written (escapes included).
			q := v[skipSpace(v, start):]
			if q[0] == ',' {
				q = q[skipSpace(q, 1):]
			}
			dst = append(dst, q[:stringEnd(q, 0)]...)
			dst = append(dst, ':')
			dst = redactValue(dst, val, c)
		}
		return append(dst, '}')
	case '[':
		dst = append(dst, '[')
		first := true
		it := newArrIter(v)
		for i := 0; ; i++ {
			e, ok := it.next()
			if !ok {
				break
			}
			c := n.idx[i]
			if c != nil && c.cut {
				continue
			}
			if !first {
				dst = append(dst, ',')
			}
			first = false
			dst = redactValue(dst, e, c)
		}
		return append(dst, ']')
	}
	out, _ := compact(dst, v)
	return out
}
