package policy

import (
	"slices"
	"time"

	"github.com/tearline/tearline/label"
)

// DecideInbound decides whether to accept an object a party sends this node
// under agreement a, with the same compiled terms that govern that party's
// releases to us: the agreement must be active, the direction covered, and
// every label of the object and of its parts within the terms (a sender
// should have cut what is not; if it did not, the object is refused, not
// trimmed here). The sender's consent to its own release is implied, so
// ORCON and the third-party rule are the sender's to apply.
//
// When a label is under a policy this node does not hold as its own (a
// foreign national policy), Translated gives it in our policy through the
// equivalence table. Retention is how long we may keep the object.
func DecideInbound(a *Agreement, obj ObjectFacts, from string, now time.Time) ReleaseDecision {
	d := ReleaseDecision{Terms: -1}
	if a == nil {
		d.Reasons = SetNoTerms
		return d
	}
	if d.Reasons = a.activeAt(now); d.Reasons != 0 {
		return d
	}
	pi, ok := a.partyIdx[from]
	if !ok || pi == a.self || a.in[pi] < 0 {
		d.Reasons = SetNoTerms
		return d
	}
	t := &a.terms[a.in[pi]]
	me := &a.parties[a.self]
	d.Terms, d.Retention = t.index, t.retention
	if len(obj.Labels) == 0 {
		d.Reasons |= SetUnlabelled
	}
	if len(obj.Parts) > MaxParts {
		d.Reasons |= SetTooManyParts
	}
	if n := len(obj.Provenance); n > 0 && (obj.Provenance[n-1].From != from || obj.Provenance[n-1].To != me.name) {
		d.Reasons |= SetProvenance
	}
	for i := range obj.Labels {
		rs, _ := a.labelReasons(t, me, &obj.Labels[i])
		d.Reasons |= rs
	}
	for i := range obj.Parts {
		rs, _ := a.labelReasons(t, me, &obj.Parts[i].Label)
		d.Reasons |= rs
	}
	if d.Reasons == 0 && t.cond != nil {
		ok, err := t.cond.eval(&obj, "", me.country)
		switch {
		case err != nil:
			d.Reasons |= SetConditionError
		case !ok:
			d.Reasons |= SetCondition
		}
	}
	if d.Reasons != 0 {
		return d
	}
	var ok2 bool
	if d.Translated, ok2 = a.translateLabels(obj.Labels); ok2 && len(obj.Parts) > 0 {
		ls := make([]label.Label, len(obj.Parts))
		for i := range obj.Parts {
			ls[i] = obj.Parts[i].Label
		}
		d.TranslatedParts, ok2 = a.translateLabels(ls)
	}
	if !ok2 {
		d.Translated, d.TranslatedParts = nil, nil
		d.Reasons = SetNoEquivalence
		return d
	}
	d.Outcome = Release
	return d
}

// translateLabels returns ls in this node's policies, or nil when every
// label already is. ok is false when a label cannot be translated.
func (a *Agreement) translateLabels(ls []label.Label) (out []label.Label, ok bool) {
	for i := range ls {
		t, needed, ok := a.translate(ls[i])
		if !ok {
			return nil, false
		}
		if needed && out == nil {
			out = make([]label.Label, len(ls))
			copy(out, ls)
		}
		if out != nil {
			out[i] = t
		}
	}
	return out, true
}

// translate maps a label under a foreign policy to the level of ours in
// the same row of the equivalence table. Only the policy and classification
// change; an owned (national) target also takes its owner as originator, as
// the label model requires, so the originator's own binding is what keeps
// the true origin. NOFORN cannot move into our national policy: it would
// come to mean our nationals.
func (a *Agreement) translate(l label.Label) (out label.Label, needed, ok bool) {
	if a.isLocal(&l) {
		return l, false, true
	}
	rank, found := a.rankOf(&l)
	if !found || !a.rowHasTarget[rank] {
		return l, true, false
	}
	tgt := a.rowTarget[rank]
	out = l
	out.Policy, out.Classification = tgt.Policy, tgt.Level
	if tgt.Owner != "" {
		if l.HasCaveat(label.CaveatNOFORN) {
			return l, true, false
		}
		out.Originator = tgt.Owner
	}
	out = a.reg.Normalize(out)
	if a.reg.Validate(out) != nil {
		return l, true, false
	}
	return out, true, true
}

// isLocal reports whether l is under one of our policies as we hold it: a
// multinational policy, or our national policy with us as originator.
func (a *Agreement) isLocal(l *label.Label) bool {
	if i := slices.Index(a.owned, l.Policy); i >= 0 {
		return l.Originator == a.ownedBy[i]
	}
	return slices.Contains(a.policies, l.Policy)
}
