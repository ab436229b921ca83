package policy

import (
	"time"

	"github.com/tearline/tearline/label"
)

// ObjectFacts is what a release decision needs to know about one object
// version. The node builds it from the store; Decide reads nothing else.
type ObjectFacts struct {
	Type   string        // STIX type, e.g. "indicator"
	Labels []label.Label // labels of the whole object (its access class)
	Parts  []Part        // stricter labels of parts (granular markings); at most MaxParts

	// Originator is the node that originated the object; "" means this
	// node. Provenance lists how it came here, originator first: the last
	// hop's To is this node. A foreign object without provenance is refused.
	Originator string
	Provenance []Hop
	// Consents are the originator's recorded consents to onward release
	// (ORCON, third-party rule). The node verifies a consent before it puts
	// it here.
	Consents []Consent
	// ReceivedAt is when the object arrived here; retention runs from it.
	ReceivedAt time.Time

	// Raw is the object's JSON, decoded only when a terms entry has a CEL
	// condition. Decoded, when set, is used instead (decode once, decide
	// for many partners).
	Raw     []byte
	Decoded map[string]any
}

// Part is a part of an object, named by STIX granular-marking selectors,
// with its own label.
type Part struct {
	Selectors []string
	Label     label.Label
}

// MaxParts is the number of labelled parts a decision tracks; an object
// with more is refused (ReasonTooManyParts) rather than half-checked.
const MaxParts = 64

// Hop is one step of an object's journey between nodes: From released it to
// To under Agreement (the version it was released under). The node keeps
// every compiled version an object may have come through, because onward
// obligations outlive the agreement's expiry.
type Hop struct {
	Agreement *Agreement
	From, To  string
}

// Consent is the originator's recorded consent to release one object to
// one party.
type Consent struct {
	By string // the originator node
	To string // the party the object may go to
}

// Recipient is whom a decision is for: a partner node (Party, a party of
// the agreement), or a local user (User).
type Recipient struct {
	Party string
	User  *Subject
}

// Outcome is what happens to the object. The zero value is Refuse, so a
// decision nobody filled in releases nothing.
type Outcome uint8

const (
	Refuse   Outcome = iota // nothing goes
	Hold                    // waits for Approvals releasers (of a tearline if Cut is not empty)
	Tearline                // the object goes with the parts in Cut removed
	Release                 // the object goes whole
)

func (o Outcome) String() string {
	switch o {
	case Refuse:
		return "refuse"
	case Hold:
		return "hold"
	case Tearline:
		return "tearline"
	case Release:
		return "release"
	}
	return "unknown"
}

// PartSet is a set of indexes into ObjectFacts.Parts.
type PartSet uint64

// Has reports whether part i is in the set.
func (s PartSet) Has(i int) bool { return i >= 0 && i < MaxParts && s&(1<<uint(i)) != 0 }

// Selectors returns the selectors of the parts in s: what the node passes
// to stix.Redact to make the sanitised object.
func (s PartSet) Selectors(parts []Part) []string {
	var out []string
	for i, p := range parts {
		if s.Has(i) {
			out = append(out, p.Selectors...)
		}
	}
	return out
}

// ReleaseDecision is the outcome of Decide or DecideInbound.
type ReleaseDecision struct {
	Outcome Outcome
	// Reasons: for Refuse, every rule that refused; for Hold, why; for
	// Tearline, ReasonPartsCut and why the parts were cut. Empty for a
	// plain Release.
	Reasons   ReasonSet
	Approvals int     // releasers who must approve: 0, 1 or 2 (distinct)
	Cut       PartSet // parts to remove (Tearline, or a held tearline)
	// Terms is the index of the terms entry that decided in the agreement
	// document (-1: none applied), so the audit record can say which term
	// allowed or refused.
	Terms     int
	Retention time.Duration // how long the recipient may keep the object
	// Translated (DecideInbound only) holds the labels of the whole object
	// in this node's policies, in the order of ObjectFacts.Labels, when any
	// needed translation through the equivalence table; TranslatedParts
	// likewise for Parts. The node binds them as alternative labels; the
	// originator's binding stays as it is.
	Translated      []label.Label
	TranslatedParts []label.Label
}

// Released reports whether anything of the object goes now.
func (d ReleaseDecision) Released() bool { return d.Outcome == Release || d.Outcome == Tearline }
