package policy

import (
	"slices"
	"time"

	"github.com/tearline/tearline/label"
)

// decideLocal decides use of an object by a local user: the read rule
// (CanRead) on the whole and on each part, so parts the user may not read
// are cut; and, for an object received from a partner, the purposes and
// retention of the terms it arrived under. Whether the agreement is still
// active does not matter: what was received lawfully may be used within
// its terms until retention runs out.
func decideLocal(a *Agreement, obj ObjectFacts, user Subject, purpose string, now time.Time) ReleaseDecision {
	d := ReleaseDecision{Terms: -1}
	var reg *label.Registry
	if a != nil {
		reg = a.reg
	}
	if obj.Originator != "" {
		n := len(obj.Provenance)
		if n == 0 || obj.Provenance[n-1].Agreement == nil {
			d.Reasons = SetProvenance
			return d
		}
		last := obj.Provenance[n-1]
		t := last.Agreement.termBetween(last.From, last.To)
		if t == nil {
			d.Reasons = SetProvenance
			return d
		}
		reg = last.Agreement.reg
		d.Terms, d.Retention = t.index, t.retention
		if !slices.Contains(t.purposes, purpose) {
			d.Reasons |= SetPurpose
		}
		if obj.ReceivedAt.IsZero() || !now.Before(obj.ReceivedAt.Add(t.retention)) {
			d.Reasons |= SetRetention
		}
	}
	if reg == nil {
		d.Reasons |= SetNoTerms // nothing to read labels with
		return d
	}
	d.Reasons |= readReasons(reg, user, obj.Labels)
	if len(obj.Parts) > MaxParts {
		d.Reasons |= SetTooManyParts
	}
	if d.Reasons != 0 {
		return d
	}
	d.Cut, d.Reasons = cutUnreadable(reg, user, obj.Parts)
	if d.Cut != 0 {
		d.Outcome = Tearline
	} else {
		d.Outcome = Release
	}
	return d
}

// readBits are the reasons CanRead can give.
const readBits = SetUnlabelled | SetUnknownPolicy | SetNoClearance | SetClearance | SetCompartment | SetReleasability | SetOriginatorOnly

func readReasons(reg *label.Registry, user Subject, labels []label.Label) ReasonSet {
	var rs ReasonSet
	for _, r := range CanRead(reg, user, labels).Reasons {
		rs |= readBit(r)
	}
	return rs
}

func cutUnreadable(reg *label.Registry, user Subject, parts []Part) (PartSet, ReasonSet) {
	var cut PartSet
	var rs ReasonSet
	for i := range parts {
		if why := readReasons(reg, user, []label.Label{parts[i].Label}); why != 0 {
			cut |= 1 << uint(i)
			rs |= why
		}
	}
	if cut != 0 {
		rs |= SetPartsCut
	}
	return cut, rs
}

func readBit(r Reason) ReasonSet {
	switch r {
	case ReasonUnlabelled:
		return SetUnlabelled
	case ReasonUnknownPolicy:
		return SetUnknownPolicy
	case ReasonNoClearance:
		return SetNoClearance
	case ReasonClearance:
		return SetClearance
	case ReasonCompartment:
		return SetCompartment
	case ReasonReleasability:
		return SetReleasability
	case ReasonOriginatorOnly:
		return SetOriginatorOnly
	}
	return SetUnknownPolicy
}
