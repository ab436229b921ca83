// Package verify checks an exported bundle offline, with no node and no
// network: every object that carries a tearline binding is verified against
// the keyring (the originator's signature over the object and the labels it
// names), and objects from other producers, which carry none, are listed
// (tearline verify, which fails on them only with --strict).
package verify

import (
	"fmt"

	"github.com/tearline/tearline/binding"
	"github.com/tearline/tearline/jcs"
	"github.com/tearline/tearline/stix"
)

// Verdict is the offline check of one object in a bundle.
type Verdict struct {
	ID       string `json:"id"`
	Modified string `json:"modified,omitempty"`
	OK       bool   `json:"ok"`
	// Unbound: the object carries no binding at all (another producer's
	// object, a TLP marking-definition): nothing to verify, which is not the
	// same as a binding that fails. Callers decide whether that is an error.
	Unbound  bool   `json:"unbound,omitempty"`
	Bindings int    `json:"bindings"`
	Problem  string `json:"problem,omitempty"`
}

// Bundle checks, without a database, every binding in a bundle under
// ring against its object and the label marking-definitions in the same
// bundle. Bundles may mix producers: an object that carries no binding is
// reported Unbound (not OK, no Problem), so a caller can list it apart from
// failures. Labels named by a binding, bindings and the extension
// definitions are not objects to verify.
func Bundle(data []byte, ring *binding.Keyring, lim stix.Limits) ([]Verdict, error) {
	objs, bad, err := stix.Parse(data, lim)
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	var out []Verdict
	for _, b := range bad {
		out = append(out, Verdict{ID: b.ID, Problem: b.Error()})
	}
	markings := map[string][]byte{}
	bindings := map[string][]*binding.Binding{}
	var targets []stix.Object
	for _, o := range objs {
		switch o.Type {
		case binding.Type:
			b, err := binding.Parse(o.Raw)
			if err != nil {
				out = append(out, Verdict{ID: o.ID, Problem: err.Error()})
				continue
			}
			k := b.ObjectRef + "\x00" + b.ObjectModified
			bindings[k] = append(bindings[k], b)
			continue
		case "marking-definition":
			canon, err := jcs.Canonicalize(o.Raw)
			if err != nil {
				out = append(out, Verdict{ID: o.ID, Problem: err.Error()})
				continue
			}
			markings[o.ID] = canon
		case "extension-definition":
			continue
		}
		targets = append(targets, o)
	}
	for _, o := range targets {
		v := Verdict{ID: o.ID, Modified: o.Version()}
		bs := bindings[o.ID+"\x00"+o.Version()]
		v.Bindings = len(bs)
		canon, err := jcs.Canonicalize(o.Raw)
		switch {
		case err != nil:
			v.Problem = err.Error()
		case len(bs) == 0:
			// A marking-definition that is a label is bound by the digests
			// of the bindings that name it; one nobody names is unbound.
			if o.Type == "marking-definition" && labelNamed(bindings, o.ID) {
				v.OK = true
			} else {
				v.Unbound = true
			}
		default:
			v.OK = true
			for _, b := range bs {
				if err := ring.Verify(b, canon, boundLabels(b, markings)); err != nil {
					v.OK, v.Problem = false, fmt.Sprintf("binding %s: %v", b.ID, err)
					break
				}
			}
		}
		out = append(out, v)
	}
	return out, nil
}

func labelNamed(bindings map[string][]*binding.Binding, id string) bool {
	for _, bs := range bindings {
		for _, b := range bs {
			for _, l := range b.Labels {
				if l.Ref == id {
					return true
				}
			}
			for _, l := range b.PartLabels {
				if l.Ref == id {
					return true
				}
			}
		}
	}
	return false
}

// boundLabels picks from the bundle's marking-definitions the ones b names:
// Verify refuses labels it was not asked to bind.
func boundLabels(b *binding.Binding, markings map[string][]byte) map[string][]byte {
	out := make(map[string][]byte, len(b.Labels)+len(b.PartLabels))
	for _, l := range b.Labels {
		if raw, ok := markings[l.Ref]; ok {
			out[l.Ref] = raw
		}
	}
	for _, l := range b.PartLabels {
		if raw, ok := markings[l.Ref]; ok {
			out[l.Ref] = raw
		}
	}
	return out
}
