package policy

import "math/bits"

// Release-decision reasons (Decide, DecideInbound). The read reasons
// ReasonUnlabelled, ReasonUnknownPolicy, ReasonCompartment,
// ReasonReleasability and ReasonOriginatorOnly keep their meaning here.
const (
	ReasonNotActive        Reason = "agreement-not-active"    // the version is not active (draft, proposed, amended, expired)
	ReasonNotYetEffective  Reason = "agreement-not-effective" // before the effective date
	ReasonExpired          Reason = "agreement-expired"       // at or after the expiry date
	ReasonSuspended        Reason = "agreement-suspended"     // suspended, e.g. during a dispute
	ReasonTerminated       Reason = "agreement-terminated"    // terminated by a party
	ReasonNoTerms          Reason = "no-terms"                // no terms govern this direction between these parties
	ReasonPurpose          Reason = "purpose"                 // the purpose is not permitted by the terms
	ReasonTopic            Reason = "topic"                   // a topic outside the terms, or none when the terms need one
	ReasonDiscipline       Reason = "discipline"              // a discipline outside the terms, or none when the terms need one
	ReasonClassification   Reason = "classification"          // above the highest classification the terms release
	ReasonNoEquivalence    Reason = "no-equivalence"          // the classification is not in the equivalence table
	ReasonRelToRequired    Reason = "releasable-to-required"  // the terms require an explicit REL TO naming the recipient
	ReasonTLP              Reason = "tlp"                     // the TLP is stricter than the terms allow
	ReasonORCON            Reason = "orcon"                   // ORCON and no consent of the originator on record
	ReasonThirdParty       Reason = "third-party"             // an agreement the object came through forbids this onward release
	ReasonProvenance       Reason = "provenance"              // provenance missing or inconsistent
	ReasonCondition        Reason = "condition"               // the terms' CEL condition is false for this object
	ReasonConditionError   Reason = "condition-error"         // the CEL condition failed to evaluate (fail closed)
	ReasonRetention        Reason = "retention"               // the retention period has passed
	ReasonTooManyParts     Reason = "too-many-parts"          // more labelled parts than a decision can track
	ReasonApproval         Reason = "approval"                // held: one releaser must approve
	ReasonTwoPerson        Reason = "two-person"              // held: two distinct releasers must approve
	ReasonOriginatorReview Reason = "originator-review"       // held: our own ORCON material needs a releaser's consent
	ReasonPartsCut         Reason = "parts-cut"               // tearline: parts above the terms are cut
)

// releaseReasons fixes the bit of each reason in a ReasonSet. Append only:
// the bit positions may be stored.
func releaseReason(bit int) Reason {
	switch bit {
	case 0:
		return ReasonNotActive
	case 1:
		return ReasonNotYetEffective
	case 2:
		return ReasonExpired
	case 3:
		return ReasonSuspended
	case 4:
		return ReasonTerminated
	case 5:
		return ReasonNoTerms
	case 6:
		return ReasonPurpose
	case 7:
		return ReasonUnlabelled
	case 8:
		return ReasonUnknownPolicy
	case 9:
		return ReasonTopic
	case 10:
		return ReasonDiscipline
	case 11:
		return ReasonClassification
	case 12:
		return ReasonNoEquivalence
	case 13:
		return ReasonReleasability
	case 14:
		return ReasonRelToRequired
	case 15:
		return ReasonOriginatorOnly
	case 16:
		return ReasonCompartment
	case 17:
		return ReasonTLP
	case 18:
		return ReasonORCON
	case 19:
		return ReasonThirdParty
	case 20:
		return ReasonProvenance
	case 21:
		return ReasonCondition
	case 22:
		return ReasonConditionError
	case 23:
		return ReasonRetention
	case 24:
		return ReasonTooManyParts
	case 25:
		return ReasonApproval
	case 26:
		return ReasonTwoPerson
	case 27:
		return ReasonOriginatorReview
	case 28:
		return ReasonPartsCut
	case 29:
		return ReasonClearance
	case 30:
		return ReasonNoClearance
	}
	return ""
}

// ReasonSet is a set of reasons as a bit mask, so that a decision records
// its reasons without allocating. Render it with Reasons or Explain.
type ReasonSet uint64

// Bits of ReasonSet, in releaseReason order.
const (
	SetNotActive ReasonSet = 1 << iota
	SetNotYetEffective
	SetExpired
	SetSuspended
	SetTerminated
	SetNoTerms
	SetPurpose
	SetUnlabelled
	SetUnknownPolicy
	SetTopic
	SetDiscipline
	SetClassification
	SetNoEquivalence
	SetReleasability
	SetRelToRequired
	SetOriginatorOnly
	SetCompartment
	SetTLP
	SetORCON
	SetThirdParty
	SetProvenance
	SetCondition
	SetConditionError
	SetRetention
	SetTooManyParts
	SetApproval
	SetTwoPerson
	SetOriginatorReview
	SetPartsCut
	SetClearance
	SetNoClearance
)

// Has reports whether s contains every reason in t.
func (s ReasonSet) Has(t ReasonSet) bool { return s&t == t && t != 0 }

// Reasons returns the reason codes in s, in bit order (which is the order
// in which Decide checks them).
func (s ReasonSet) Reasons() []Reason {
	out := make([]Reason, 0, bits.OnesCount64(uint64(s)))
	for v := uint64(s); v != 0; v &= v - 1 {
		out = append(out, releaseReason(bits.TrailingZeros64(v)))
	}
	return out
}

// Explain renders every reason in s in words, one per element.
func (s ReasonSet) Explain() []string {
	rs := s.Reasons()
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = Explain(r)
	}
	return out
}

// explainRelease gives the words for the release reasons; Explain in
// read.go falls back to it.
func explainRelease(r Reason) (string, bool) {
	switch r {
	case ReasonNotActive:
		return "the agreement is not active: it is not yet signed by every party, or this version was replaced or has ended", true
	case ReasonNotYetEffective:
		return "the agreement has not yet come into effect", true
	case ReasonExpired:
		return "the agreement has expired", true
	case ReasonSuspended:
		return "the agreement is suspended", true
	case ReasonTerminated:
		return "the agreement has been terminated", true
	case ReasonNoTerms:
		return "the agreement has no terms for sharing in this direction between these parties", true
	case ReasonPurpose:
		return "the agreement does not permit use for this purpose", true
	case ReasonTopic:
		return "the object's topic is outside the agreed scope", true
	case ReasonDiscipline:
		return "the object's intelligence discipline is outside the agreed scope", true
	case ReasonClassification:
		return "the classification is above the highest the agreement releases", true
	case ReasonNoEquivalence:
		return "the classification has no agreed equivalent between the parties' policies", true
	case ReasonRelToRequired:
		return "the agreement requires the label to name the recipient's country in REL TO", true
	case ReasonTLP:
		return "the TLP marking is stricter than the agreement allows", true
	case ReasonORCON:
		return "the object is ORCON and the originator has not consented to this release", true
	case ReasonThirdParty:
		return "the agreement under which we received the object does not allow passing it on to this recipient (third-party rule)", true
	case ReasonProvenance:
		return "the object's origin or the agreement it came through is unknown", true
	case ReasonCondition:
		return "the object does not meet the agreement's additional condition", true
	case ReasonConditionError:
		return "the agreement's additional condition could not be evaluated, so the object is held back", true
	case ReasonRetention:
		return "the agreed retention period for the object has passed", true
	case ReasonTooManyParts:
		return "the object has too many separately labelled parts to decide automatically", true
	case ReasonApproval:
		return "a releaser must approve this release", true
	case ReasonTwoPerson:
		return "two different releasers must approve this release (two-person rule)", true
	case ReasonOriginatorReview:
		return "the object is ORCON: as its originator we release it only when a releaser approves", true
	case ReasonPartsCut:
		return "parts of the object above the agreement are cut out (tearline)", true
	}
	return "", false
}
