package federation

import "testing"

// Every answer that is not "accepted" gets one code of the table, and a
// partner of the previous version (no code, "refused" for an unknown key)
// is classed by its message: transient, so the delivery is retried.
func TestClassify(t *testing.T) {
	for _, c := range []struct {
		status string
		code   Reason
		msg    string
		want   Reason
	}{
		// Previous version: no code.
		{InboxRefused, "", "threat-actor--1: binding binding--2 does not verify: binding: verify binding--2 of threat-actor--1: unknown key: ab12", ReasonUnknownKey},
		{InboxRefused, "", "threat-actor--1: binding binding--2 does not verify: binding: verify binding--2 of threat-actor--1: key ab12: key not valid for this binding: created 2026-01-01 is not before the key's revocation", ReasonRevokedKey},
		{InboxRefused, "", "threat-actor--1: binding binding--2 does not verify: binding: verify binding--2 of threat-actor--1: bad signature: key ab12", ReasonBadSignature},
		{InboxRefused, "", "threat-actor--1: refused under every agreement with gbr: a@1: classification", ReasonPolicy},
		{InboxRefused, "", "unknown message kind \"x\": refused", ReasonUnknownKind},
		{InboxRefused, "", "payload: unexpected end of JSON input", ReasonRefused},
		{InboxRetry, "", "store: database is locked", ReasonBusy},
		// This version: the code decides, whatever the message says.
		{InboxRetry, ReasonUnknownKey, "anything", ReasonUnknownKey},
		{InboxRefused, ReasonPolicy, "unknown key", ReasonPolicy},
		// A code this version does not know: as if there were none.
		{InboxRefused, "from-the-future", "no such thing", ReasonRefused},
		{InboxRetry, "from-the-future", "no such thing", ReasonBusy},
	} {
		if got := Classify(c.status, c.code, c.msg); got != c.want {
			t.Errorf("Classify(%s, %q, %q) = %s, want %s", c.status, c.code, c.msg, got, c.want)
		}
	}
}

// The table decides what is retried: the list of transient and
// permanent causes, each in its class.
func TestReasonClasses(t *testing.T) {
	for _, r := range []Reason{ReasonNetwork, ReasonServerError, ReasonLeaseLost, ReasonUnknownKey} {
		if !r.Transient() || r.Status() != InboxRetry {
			t.Errorf("%s: want transient", r)
		}
	}
	for _, r := range []Reason{ReasonRevokedKey, ReasonBadSignature, ReasonPolicy, ReasonExpired, Reason("from-the-future")} {
		if r.Transient() || r.Status() != InboxRefused {
			t.Errorf("%s: want permanent", r)
		}
	}
	seen := map[Reason]bool{}
	for _, i := range Reasons {
		if seen[i.Code] || i.What == "" {
			t.Errorf("table row %s: duplicate or undescribed", i.Code)
		}
		seen[i.Code] = true
	}
}
