package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"

	"github.com/tearline/tearline/node"
)

// An object the user may read can name objects they may not (a
// relationship's source, a report's object_refs). The interface shows no
// trace of those: every reference (a "_ref" or "_refs" property, at any
// depth) is read through node.Get as the user, and what they may not read
// is withheld, its id too.

// maxRefs caps the references an object's page reads; past it the rest
// are withheld and the page says how many.
const maxRefs = 200

// withheld replaces a single reference the user may not read.
const withheld = "(withheld)"

type Refs struct {
	readable map[string]node.Object
	withheld int // references not shown: unreadable, or past the cap
}

// collectRefs lists the references in an object's JSON, in order, without
// repeats.
func collectRefs(v any, out *[]string) {
	switch v := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			switch x := v[k].(type) {
			case string:
				if strings.HasSuffix(k, "_ref") && !slices.Contains(*out, x) {
					*out = append(*out, x)
				}
			case []any:
				if strings.HasSuffix(k, "_refs") {
					for _, e := range x {
						if s, ok := e.(string); ok && !slices.Contains(*out, s) {
							*out = append(*out, s)
						}
					}
					continue
				}
			}
			collectRefs(v[k], out)
		}
	case []any:
		for _, e := range v {
			collectRefs(e, out)
		}
	}
}

func decodeJSON(raw []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	return v, d.Decode(&v)
}

// readRefs reads every object raw refers to that the user may read.
func (s *Server) ReadRefs(ctx context.Context, p *node.Principal, raw []byte) (Refs, error) {
	out := Refs{readable: map[string]node.Object{}}
	v, err := decodeJSON(raw)
	if err != nil {
		return out, nil // not JSON: shown raw, no references to follow
	}
	var ids []string
	collectRefs(v, &ids)
	for i, id := range ids {
		if i == maxRefs {
			break
		}
		o, err := s.n.Get(ctx, p, id)
		switch {
		case errors.Is(err, node.ErrNotFound):
		case err != nil:
			return out, err
		default:
			out.readable[id] = o
		}
	}
	return out, nil
}

// redact returns raw without the references the user may not read: a
// single one replaced by "(withheld)", dropped from a list. It counts
// what it withheld into rs.
func (rs *Refs) Redact(raw []byte) []byte {
	v, err := decodeJSON(raw)
	if err != nil {
		return raw
	}
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false) // shown as text, escaped by the template
	if err := e.Encode(rs.redactValue(v)); err != nil {
		return raw
	}
	return bytes.TrimSpace(b.Bytes())
}

func (rs *Refs) redactValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			switch x := x.(type) {
			case string:
				if strings.HasSuffix(k, "_ref") {
					if _, ok := rs.readable[x]; !ok {
						v[k] = withheld
						rs.withheld++
					}
					continue
				}
			case []any:
				if strings.HasSuffix(k, "_refs") {
					kept := x[:0:0]
					for _, e := range x {
						if s, ok := e.(string); ok {
							if _, ok := rs.readable[s]; !ok {
								rs.withheld++
								continue
							}
						}
						kept = append(kept, e)
					}
					v[k] = kept
					continue
				}
			}
			v[k] = rs.redactValue(x)
		}
		return v
	case []any:
		for i, e := range v {
			v[i] = rs.redactValue(e)
		}
		return v
	}
	return v
}
