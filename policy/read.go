// Package policy decides. It is pure: no I/O, no clock, no database, so every
// rule can be tested, fuzzed and explained on its own. Every read path in the
// node goes through CanRead; list queries push the same decision down to the
// store as a set of access classes decided here (see Classes).
package policy

import (
	"slices"

	"github.com/tearline/tearline/label"
)

// Reason is a stable code for why a decision went the way it did. Codes are
// recorded in the audit log; words for people come from Explain.
type Reason string

// Read-decision reasons.
const (
	ReasonUnlabelled     Reason = "unlabelled"      // no label at all: nothing is readable unlabelled
	ReasonUnknownPolicy  Reason = "unknown-policy"  // the label's policy is not configured on this node
	ReasonNoClearance    Reason = "no-clearance"    // the reader holds no clearance in the label's policy
	ReasonClearance      Reason = "clearance"       // the classification is above the reader's clearance
	ReasonCompartment    Reason = "compartment"     // a compartment the reader does not hold
	ReasonReleasability  Reason = "releasability"   // the reader's nationality is not in releasable-to / the audience
	ReasonOriginatorOnly Reason = "originator-only" // NOFORN: only nationals of the originator's country
)

var reasonText = map[Reason]string{
	ReasonUnlabelled:     "the object carries no confidentiality label",
	ReasonUnknownPolicy:  "the label's policy is not known on this node",
	ReasonNoClearance:    "the reader holds no clearance under the label's policy",
	ReasonClearance:      "the classification is above the reader's clearance",
	ReasonCompartment:    "the label names a compartment the reader is not read into",
	ReasonReleasability:  "the reader's nationality is not among those the label is releasable to",
	ReasonOriginatorOnly: "the label restricts the object to nationals of the originator's country",
}

// Explain renders a reason in words a releaser or auditor understands.
func Explain(r Reason) string {
	if s, ok := reasonText[r]; ok {
		return s
	}
	if s, ok := explainRelease(r); ok {
		return s
	}
	return string(r)
}

// Subject is who is reading.
type Subject struct {
	Nationality  string            // ISO 3166 alpha-3
	Clearances   map[string]string // policy -> highest level held
	Compartments []string
}

// Decision is the outcome of a rule and the reasons for it. Reasons are
// empty when Allow is true.
type Decision struct {
	Allow   bool
	Reasons []Reason
}

// CanRead decides whether s may read an object whose access class is labels:
// every label must be satisfied (a part labelled more strictly than the whole
// makes the whole object as strict, until tearlines cut it out).
//
// The rules follow the ADatP-4774 access-control decision: the clearance must
// be under the label's policy and dominate its classification; every
// compartment (RESTRICTIVE) must be held; the reader's nationality must be in
// the releasable-to set (PERMISSIVE), or in the policy's audience when the
// label names none; NOFORN admits only the originator's nationals. ORCON and
// TLP govern dissemination, not reading, and are enforced on release.
func CanRead(reg *label.Registry, s Subject, labels []label.Label) Decision {
	if len(labels) == 0 {
		return Decision{Reasons: []Reason{ReasonUnlabelled}}
	}
	var reasons []Reason
	add := func(r Reason) {
		if !slices.Contains(reasons, r) {
			reasons = append(reasons, r)
		}
	}
	for _, l := range labels {
		need, ok := reg.Rank(l.Policy, l.Classification)
		if !ok {
			add(ReasonUnknownPolicy)
			continue
		}
		held, hasPolicy := s.Clearances[l.Policy]
		if !hasPolicy {
			add(ReasonNoClearance)
		} else if have, ok := reg.Rank(l.Policy, held); !ok || have < need {
			add(ReasonClearance)
		}
		for _, c := range l.Compartments {
			if !slices.Contains(s.Compartments, c) {
				add(ReasonCompartment)
				break
			}
		}
		audience := l.ReleasableTo
		if len(audience) == 0 {
			if !slices.Contains(reg.Audience(l.Policy), s.Nationality) {
				add(ReasonReleasability)
			}
		} else if !slices.Contains(reg.Expand(audience), s.Nationality) {
			add(ReasonReleasability)
		}
		if slices.Contains(l.Caveats, "NOFORN") && s.Nationality != l.Originator {
			add(ReasonOriginatorOnly)
		}
	}
	return Decision{Allow: len(reasons) == 0, Reasons: reasons}
}

// Class is an access class as the policy sees it: an id the store knows and
// the labels its objects carry.
type Class struct {
	ID       int64
	LabelIDs []string // the labels' marking-definition ids, in Labels' order
	Labels   []label.Label
}

// Classes returns the ids of the classes s may read. It is the pushed-down
// form of CanRead: the store returns only objects in these classes, so a list
// query and a per-object check cannot disagree.
func Classes(reg *label.Registry, s Subject, classes []Class) []int64 {
	var ids []int64
	for _, c := range classes {
		if CanRead(reg, s, c.Labels).Allow {
			ids = append(ids, c.ID)
		}
	}
	return ids
}

// ReasonStrings is rs as strings, for audit events and messages.
func ReasonStrings(rs []Reason) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = string(r)
	}
	return out
}
