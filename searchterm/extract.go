package searchterm

import (
	"encoding/json"
	"strings"
	"time"
)

// MaxTerms bounds the distinct terms of one object version: what a long
// report's text gives past it is not indexed (docs/SEARCH.md).
const MaxTerms = 4096

// extractor gathers an object's terms, once each, in the order met.
type extractor struct {
	seen  map[string]bool
	terms []string
}

func (e *extractor) add(terms ...string) {
	for _, t := range terms {
		if len(e.terms) >= MaxTerms {
			return
		}
		if !e.seen[t] {
			e.seen[t] = true
			e.terms = append(e.terms, t)
		}
	}
}

func (e *extractor) value(v Value) { e.add(v.IndexTerms()...) }

// Extract returns the terms of one STIX object (its JSON): the words of
// every string property, every exact value a string property is or holds
// (white-space separated), the value of an observable as its type says,
// and the exact values of an indicator's STIX pattern. Timestamps are not
// indexed. An object that is not JSON has no terms.
func Extract(raw []byte) []string {
	var obj map[string]any
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil
	}
	e := &extractor{seen: map[string]bool{}}
	typ, _ := obj["type"].(string)
	if v, ok := obj["value"].(string); ok {
		e.observable(typ, v)
	}
	if p, ok := obj["pattern"].(string); ok && typ == "indicator" {
		if pt, _ := obj["pattern_type"].(string); pt == "" || pt == "stix" {
			e.add(PatternTerms(p)...)
		}
	}
	for k, v := range obj {
		if k == "pattern" && typ == "indicator" {
			continue // its literals are values (above); its paths are not words anyone searches
		}
		e.walk(v)
	}
	return e.terms
}

// observable adds the value of an observable of type typ as that type
// says, also where its spelling alone would not (a single-label domain
// name).
func (e *extractor) observable(typ, s string) {
	kind := ""
	switch typ {
	case "domain-name":
		kind = KindDomain
	case "email-addr":
		kind = KindEmail
	case "url":
		kind = KindURL
	case "ipv4-addr", "ipv6-addr":
		kind = KindIP
	default:
		return
	}
	if v, ok := Classify(s); ok && (v.Kind == kind || kind == KindIP && v.Kind == KindCIDR) {
		return // walk adds it
	}
	if kind != KindIP {
		e.add(Term(kind, Fold(strings.TrimSpace(s))))
	}
}

func (e *extractor) walk(v any) {
	switch v := v.(type) {
	case string:
		e.text(v)
	case []any:
		for _, x := range v {
			e.walk(x)
		}
	case map[string]any:
		for _, x := range v {
			e.walk(x)
		}
	}
}

// text adds the terms of one string property.
func (e *extractor) text(s string) {
	if len(s) >= 20 && len(s) <= 40 && s[4] == '-' {
		if _, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return
		}
	}
	if v, ok := Classify(s); ok {
		e.value(v)
	}
	if strings.ContainsFunc(s, func(r rune) bool { return r == ' ' || r == '\n' || r == '\t' || r == ',' }) {
		for _, f := range fields(s) {
			if v, ok := Classify(f); ok {
				e.value(v)
			}
		}
	}
	for _, w := range appendWords(nil, Fold(s)) {
		e.add(Term(KindWord, w))
	}
}
