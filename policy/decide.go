package policy

import (
	"slices"
	"time"

	"github.com/tearline/tearline/agreement"
	"github.com/tearline/tearline/label"
)

// Decide decides the release of one object to a recipient under agreement
// a, for a purpose, at time now. It is pure: everything it needs is in its
// arguments, and it reads no clock, so expiry and suspension take effect for
// the first decision made after them.
//
// The checks, in order (docs/AGREEMENTS.md):
//  1. the agreement: active, effective, not expired (refuse at once);
//  2. the recipient: terms from this node to it, and the purpose;
//  3. every label of the whole object against the terms: topic,
//     discipline, classification through the equivalence table,
//     releasability, compartments, TLP;
//  4. originator control: ORCON consent, and the onward terms of every
//     agreement the object came through (third-party rule, transitive);
//  5. the terms' CEL condition, only if nothing above refused;
//  6. the parts: a part that fails 3 or 4 is cut (tearline);
//  7. the release mode: approvals needed above the threshold, and always
//     for our own ORCON material.
//
// For a local user (to.User set) the decision is the read rule on the
// whole and each part (unreadable parts cut), plus, for an object received
// from a partner, the purposes and retention of the terms it came under
// (the last hop's agreement; a may be nil, or any agreement this node is a
// party to, which supplies the label registry for local objects).
func Decide(a *Agreement, obj ObjectFacts, to Recipient, purpose string, now time.Time) ReleaseDecision {
	if to.User != nil {
		return decideLocal(a, obj, *to.User, purpose, now)
	}
	d := ReleaseDecision{Terms: -1}
	if a == nil {
		d.Reasons = SetNoTerms
		return d
	}
	if d.Reasons = a.activeAt(now); d.Reasons != 0 {
		return d
	}
	pi, ok := a.partyIdx[to.Party]
	if !ok || pi == a.self || a.out[pi] < 0 {
		d.Reasons = SetNoTerms
		return d
	}
	t := &a.terms[a.out[pi]]
	dest := &a.parties[pi]
	d.Terms, d.Retention = t.index, t.retention
	if !slices.Contains(t.purposes, purpose) {
		d.Reasons |= SetPurpose
	}
	if len(obj.Labels) == 0 {
		d.Reasons |= SetUnlabelled
	}
	if len(obj.Parts) > MaxParts {
		d.Reasons |= SetTooManyParts
	}
	rank := -1
	orcon := false
	for i := range obj.Labels {
		l := &obj.Labels[i]
		rs, r := a.labelReasons(t, dest, l)
		d.Reasons |= rs
		rank = max(rank, r)
		orcon = orcon || l.HasCaveat(label.CaveatORCON)
	}
	ownORCON := false
	if orcon {
		if obj.Originator == "" {
			ownORCON = true
		} else if !consented(&obj, to.Party) {
			d.Reasons |= SetORCON
		}
	}
	d.Reasons |= a.provenanceReasons(&obj, to.Party)
	if d.Reasons == 0 && t.cond != nil {
		ok, err := t.cond.eval(&obj, purpose, dest.country)
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
	var cutWhy ReasonSet
	for i := range obj.Parts {
		l := &obj.Parts[i].Label
		rs, r := a.labelReasons(t, dest, l)
		if l.HasCaveat(label.CaveatORCON) {
			if obj.Originator != "" && !consented(&obj, to.Party) {
				rs |= SetORCON
			} else if rs == 0 {
				ownORCON = ownORCON || obj.Originator == ""
			}
		}
		if rs != 0 {
			d.Cut |= 1 << uint(i)
			cutWhy |= rs
			continue
		}
		rank = max(rank, r)
	}
	approvals := t.approvals
	if approvals > 0 && t.approveAbove >= 0 && rank <= t.approveAbove {
		approvals = 0
	}
	switch {
	case approvals == 2:
		d.Reasons |= SetTwoPerson
	case approvals == 1:
		d.Reasons |= SetApproval
	}
	if ownORCON {
		approvals = max(approvals, 1)
		d.Reasons |= SetOriginatorReview
	}
	d.Approvals = approvals
	if d.Cut != 0 {
		d.Reasons |= SetPartsCut | cutWhy
	}
	switch {
	case approvals > 0:
		d.Outcome = Hold
	case d.Cut != 0:
		d.Outcome = Tearline
	default:
		d.Outcome = Release
	}
	return d
}

// activeAt returns why a does not decide at now, or 0. The lifecycle state
// is checked first, then time: an expiry date passes whether or not anyone
// has recorded the expired state yet.
func (a *Agreement) activeAt(now time.Time) ReasonSet {
	var rs ReasonSet
	switch a.status.State {
	case agreement.StateActive:
	case agreement.StateSuspended:
		rs |= SetSuspended
	case agreement.StateTerminated:
		rs |= SetTerminated
	case agreement.StateExpired:
		rs |= SetExpired
	default:
		rs |= SetNotActive
	}
	if now.Before(a.effective) {
		rs |= SetNotYetEffective
	}
	if !now.Before(a.expires) {
		rs |= SetExpired
	}
	return rs
}

// labelReasons checks one label against the terms for a receiving party
// and returns what it breaks and its common rank (-1 if it has none).
func (a *Agreement) labelReasons(t *term, dest *party, l *label.Label) (ReasonSet, int) {
	var rs ReasonSet
	rank, ok := a.rankOf(l)
	if !ok {
		rs |= SetNoEquivalence
		rank = -1
	} else if rank > t.maxRank {
		rs |= SetClassification
	}
	if !t.anyTopic && !within(l.Topics, t.topics) {
		rs |= SetTopic
	}
	if !t.anyDisc && !within(l.Disciplines, t.disciplines) {
		rs |= SetDiscipline
	}
	for _, c := range l.Compartments {
		if !slices.Contains(t.compartments, c) {
			rs |= SetCompartment
			break
		}
	}
	if label.TLPRank(l.TLP) > t.maxTLP {
		rs |= SetTLP
	}
	rs |= a.releasable(t, dest, l)
	return rs, rank
}

// within reports whether every word is among allowed, and there is at least
// one word: an object says what it is about before it leaves.
func within(words, allowed []string) bool {
	if len(words) == 0 {
		return false
	}
	for _, w := range words {
		if !slices.Contains(allowed, w) {
			return false
		}
	}
	return true
}

// rankOf looks the label's level up in the equivalence table. A label under
// a policy this node treats as national is keyed by its originator (its
// owner); other policies have no owner, unless the table names one (a
// foreign national policy this node does not know).
func (a *Agreement) rankOf(l *label.Label) (int, bool) {
	if !slices.Contains(a.owned, l.Policy) {
		if r, ok := a.ranks[agreement.LevelKey{Policy: l.Policy, Level: l.Classification}]; ok {
			return r, true
		}
	}
	if l.Originator == "" {
		return 0, false
	}
	r, ok := a.ranks[agreement.LevelKey{Policy: l.Policy, Owner: l.Originator, Level: l.Classification}]
	return r, ok
}

// releasable checks that the receiving party's country may hold material
// under l: NOFORN admits only the originator's nationals; a REL TO list must
// name the country or a group it belongs to; without one, the policy's
// audience decides, unless the terms require an explicit REL TO.
func (a *Agreement) releasable(t *term, dest *party, l *label.Label) ReasonSet {
	if l.HasCaveat(label.CaveatNOFORN) {
		if l.Originator == "" || l.Originator != dest.country {
			return SetOriginatorOnly
		}
		return 0
	}
	if len(l.ReleasableTo) == 0 {
		if t.requireRel {
			return SetRelToRequired
		}
		if a.inAudience(dest, l) {
			return 0
		}
		return SetReleasability
	}
	for _, e := range l.ReleasableTo {
		if e == dest.country || slices.Contains(dest.groups, e) {
			return 0
		}
	}
	// A group the registry does not name in any audience: ask it (this
	// allocates, so it is the slow path).
	for _, e := range l.ReleasableTo {
		if len(e) != 3 && !slices.Contains(dest.groups, e) {
			if m, ok := a.reg.Group(e); ok && slices.Contains(m, dest.country) {
				return 0
			}
		}
	}
	return SetReleasability
}

// inAudience decides a label without REL TO: a multinational policy's
// configured audience, our own national policy's audience, and for a
// foreign national policy its owner alone.
func (a *Agreement) inAudience(dest *party, l *label.Label) bool {
	if i := slices.Index(a.owned, l.Policy); i >= 0 {
		if l.Originator != a.ownedBy[i] {
			return l.Originator != "" && l.Originator == dest.country
		}
	} else if !slices.Contains(a.policies, l.Policy) {
		return false
	}
	return slices.Contains(dest.audience, l.Policy)
}

func consented(obj *ObjectFacts, to string) bool {
	for _, c := range obj.Consents {
		if c.By == obj.Originator && c.To == to {
			return true
		}
	}
	return false
}

// provenanceReasons applies the third-party rule transitively: every
// agreement the object came through must allow it to go on to the
// recipient. Onward obligations hold whatever the state of the agreement
// that created them.
func (a *Agreement) provenanceReasons(obj *ObjectFacts, to string) ReasonSet {
	if obj.Originator == "" {
		if len(obj.Provenance) != 0 {
			return SetProvenance
		}
		return 0
	}
	hops := obj.Provenance
	if len(hops) == 0 || hops[0].From != obj.Originator || hops[len(hops)-1].To != a.parties[a.self].name {
		return SetProvenance
	}
	var rs ReasonSet
	for i := range hops {
		h := &hops[i]
		if i > 0 && h.From != hops[i-1].To {
			return SetProvenance
		}
		if h.Agreement == nil {
			return SetProvenance
		}
		t := h.Agreement.termBetween(h.From, h.To)
		if t == nil {
			return SetProvenance
		}
		switch t.onward {
		case agreement.OnwardParties:
			if !h.Agreement.HasParty(to) {
				rs |= SetThirdParty
			}
		case agreement.OnwardWithConsent:
			if !consented(obj, to) {
				rs |= SetThirdParty
			}
		default: // none, or anything unknown
			rs |= SetThirdParty
		}
	}
	return rs
}
