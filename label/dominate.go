package label

import (
	"errors"
	"fmt"
	"slices"
)

// ErrNoCommonAudience reports an aggregate that no nation could read: the
// inputs' releasability sets do not intersect and there is no single
// originator to fall back to.
var ErrNoCommonAudience = errors.New("label: aggregate has no common releasability")

// Dominate computes the label of an aggregate of material carrying labels,
// following ADatP-4774.1 (dominant label):
//
//   - all labels must be valid and share one policy (map to a common policy
//     first, with an alternative label);
//   - classification: the highest;
//   - releasable_to (PERMISSIVE): the intersection of each input's
//     releasability after group expansion, where an input without REL TO
//     contributes its policy audience and a NOFORN input its originator. If
//     no input has REL TO the result has none. Complete groups are folded
//     back into group names. If the intersection is empty, only the
//     originator may read the aggregate: the result is NOFORN with that
//     originator, or ErrNoCommonAudience when the inputs have no single
//     originator;
//   - compartments (RESTRICTIVE), caveats, disciplines, topics: the union;
//   - tlp: the most restrictive;
//   - grading: the worst reliability and the worst credibility, or none if
//     any input is ungraded (an aggregate is graded only if every part is);
//   - originator: the one originator named by the inputs that name one, or
//     none if they differ. NOFORN with differing originators is an error:
//     nobody is a national of two originators.
//
// The result is validated before it is returned.
func Dominate(r *Registry, labels ...Label) (Label, error) {
	if r == nil {
		return Label{}, errors.New("label: dominate: nil registry")
	}
	if len(labels) == 0 {
		return Label{}, errors.New("label: dominate: no labels")
	}
	in := make([]Label, len(labels))
	for i, l := range labels {
		in[i] = r.Normalize(l)
		if err := r.Validate(in[i]); err != nil {
			return Label{}, fmt.Errorf("label: dominate: input %d: %w", i, err)
		}
	}
	out := Label{Policy: in[0].Policy, Classification: in[0].Classification}
	top, _ := r.Rank(out.Policy, out.Classification)
	graded := true
	worstRel, worstCred := byte(0), byte(0)
	origins := make(map[string]bool)
	anyRel := false
	for i, l := range in {
		if l.Policy != out.Policy {
			return Label{}, fmt.Errorf("label: dominate: input %d: %w", i,
				fieldErr("policy", l.Policy, "differs from "+out.Policy+"; map to a common policy first"))
		}
		if n, _ := r.Rank(l.Policy, l.Classification); n > top {
			top, out.Classification = n, l.Classification
		}
		anyRel = anyRel || len(l.ReleasableTo) > 0
		out.Compartments = append(out.Compartments, l.Compartments...)
		out.Caveats = append(out.Caveats, l.Caveats...)
		out.Disciplines = append(out.Disciplines, l.Disciplines...)
		out.Topics = append(out.Topics, l.Topics...)
		if TLPRank(l.TLP) > TLPRank(out.TLP) {
			out.TLP = l.TLP
		}
		if l.Grading == "" {
			graded = false
		} else {
			worstRel = max(worstRel, l.Grading[0])
			worstCred = max(worstCred, l.Grading[1])
		}
		if l.Originator != "" {
			origins[l.Originator] = true
		}
	}
	if graded {
		out.Grading = string([]byte{worstRel, worstCred})
	}
	if len(origins) == 1 {
		for o := range origins {
			out.Originator = o
		}
	}
	out = normalize(out)

	noforn := out.HasCaveat(CaveatNOFORN)
	switch {
	case noforn && out.Originator == "":
		return Label{}, fmt.Errorf("label: dominate: %w",
			fieldErr("originator", "", "NOFORN material from different originators cannot be aggregated"))
	case noforn:
		// NOFORN already limits the aggregate to the originator's nationals.
	case anyRel:
		set := r.Releasability(in[0])
		same := true
		for _, l := range in[1:] {
			set = intersectSorted(set, r.Releasability(l))
			same = same && slices.Equal(l.ReleasableTo, in[0].ReleasableTo)
		}
		switch {
		case same:
			out.ReleasableTo = slices.Clone(in[0].ReleasableTo) // keep the groups as written
		case len(set) > 0:
			out.ReleasableTo = r.compress(set)
		case out.Originator != "":
			if _, ok := r.caveats[CaveatNOFORN]; !ok {
				return Label{}, fmt.Errorf("label: dominate: %w (and NOFORN is not a configured caveat)", ErrNoCommonAudience)
			}
			out.Caveats = normList(append(out.Caveats, CaveatNOFORN))
		default:
			return Label{}, fmt.Errorf("label: dominate: %w", ErrNoCommonAudience)
		}
	}
	out = r.Normalize(out)
	if err := r.Validate(out); err != nil {
		return Label{}, fmt.Errorf("label: dominate: result: %w", err)
	}
	return out, nil
}

// intersectSorted returns the elements common to two sorted, unique slices.
func intersectSorted(a, b []string) []string {
	var out []string
	for i, j := 0, 0; i < len(a) && j < len(b); {
		switch {
		case a[i] < b[j]:
			i++
		case a[i] > b[j]:
			j++
		default:
			out = append(out, a[i])
			i++
			j++
		}
	}
	return out
}
