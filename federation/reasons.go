package federation

import (
	"errors"
	"strings"
)

// Reason is the code of a delivery's failure, sent by a receiver with its
// refusal (InboxMessageResult.Reason) and recorded by the sender with the
// delivery's state. One table, Reasons, classes every code as transient
// (retried with exponential backoff until the maximum age, then failed with
// ReasonExpired) or permanent (failed at once). docs/FEDERATION.md prints
// the same table.
type Reason string

// Reason codes.
const (
	// Transient: the next attempt may land.
	ReasonNetwork     Reason = "network"      // no answer: connection, TLS, timeout
	ReasonServerError Reason = "server-error" // the partner answered 5xx (or another non-200)
	ReasonLeaseLost   Reason = "lease-lost"   // the sender's claim ran out mid-delivery
	ReasonUnknownKey  Reason = "unknown-key"  // the partner has not loaded the signing key yet
	ReasonBusy        Reason = "busy"         // the partner could not store it now (its store failed)
	ReasonNoPeer      Reason = "no-peer"      // not (or no longer, or not yet) our peer, or no URL: peer add fixes it
	ReasonBuild       Reason = "build"        // the sender could not assemble the message (its store failed)
	ReasonPaused      Reason = "paused"       // deliveries to the partner are paused here (a split view)

	// Permanent: retrying cannot help; a releaser may retry by hand.
	ReasonRevokedKey   Reason = "revoked-key"   // the key may not sign this binding: revoked, expired, or another node's
	ReasonBadSignature Reason = "bad-signature" // a binding, label or object does not verify
	ReasonPolicy       Reason = "policy"        // the partner's inbound policy refuses it (agreements)
	ReasonInvalid      Reason = "invalid"       // not a valid message, object or label
	ReasonConflict     Reason = "conflict"      // the partner holds another version with that id, or purged it
	ReasonUnknownKind  Reason = "unknown-kind"  // the partner has no handler for the message kind
	ReasonRefused      Reason = "refused"       // refused for good, for a reason not named above
	ReasonExpired      Reason = "expired"       // transient failures outlasted the maximum age
	ReasonAccessMAC    Reason = "access-mac"    // the sender's stored version fails its access MAC: not sent
)

// ReasonInfo describes one code of the table.
type ReasonInfo struct {
	Code      Reason
	Transient bool
	What      string
}

// Reasons is the table, in the order docs/FEDERATION.md prints it.
var Reasons = []ReasonInfo{
	{ReasonNetwork, true, "no answer from the partner: connection refused, TLS, timeout"},
	{ReasonServerError, true, "the partner answered 5xx or another status than 200"},
	{ReasonLeaseLost, true, "the sender's claim on the message ran out before the answer was recorded"},
	{ReasonUnknownKey, true, "the partner does not (yet) hold the signing key of a binding"},
	{ReasonBusy, true, "the partner could not store the message now (its store failed)"},
	{ReasonNoPeer, true, "the partner is not a peer here, or has no URL"},
	{ReasonBuild, true, "the sender could not assemble the message (its store failed)"},
	{ReasonPaused, true, "deliveries to the partner are paused here"},
	{ReasonRevokedKey, false, "the signing key is revoked, expired or another node's"},
	{ReasonBadSignature, false, "a binding, label or object does not verify"},
	{ReasonPolicy, false, "the partner's agreements refuse the message inbound"},
	{ReasonInvalid, false, "the message, an object or a label is not valid"},
	{ReasonConflict, false, "the partner holds another version under that id, or purged the object"},
	{ReasonUnknownKind, false, "the partner has no handler for the message kind"},
	{ReasonRefused, false, "refused for good, for a reason not named above"},
	{ReasonExpired, false, "transient failures lasted longer than the maximum age"},
	{ReasonAccessMAC, false, "the sender's stored version fails its access MAC (its row was changed outside the node): not sent"},
}

// Transient reports whether a failure with code r may be retried. An
// unknown code (from a partner of a later version) is permanent when the
// partner said "refused" and transient when it said "retry": see Classify.
func (r Reason) Transient() bool {
	for _, i := range Reasons {
		if i.Code == r {
			return i.Transient
		}
	}
	return false
}

// Known reports whether r is a code of the table.
func (r Reason) Known() bool {
	for _, i := range Reasons {
		if i.Code == r {
			return true
		}
	}
	return false
}

// unknownKeyText is what a receiver's refusal says of a binding whose key
// it does not hold (binding.ErrUnknownKey): a receiver of the previous
// version answers "refused" with this text and no reason code.
const unknownKeyText = "unknown key"

// Classify returns the code of a receiver's answer that is not
// "accepted": the code the receiver sent when it is one of the table, else
// one read from the status and the message. A partner of the previous
// version refuses an unknown key "for good"; this table classes it as
// transient, so it is retried until the partner loads the key.
func Classify(status string, code Reason, msg string) Reason {
	if code.Known() {
		return code
	}
	if strings.Contains(msg, unknownKeyText) {
		return ReasonUnknownKey
	}
	if status == InboxRetry {
		return ReasonBusy
	}
	switch {
	case strings.Contains(msg, "key not valid"):
		return ReasonRevokedKey
	case strings.Contains(msg, "does not verify"), strings.Contains(msg, "bad signature"):
		return ReasonBadSignature
	case strings.Contains(msg, "refused under every agreement"):
		return ReasonPolicy
	case strings.Contains(msg, "unknown message kind"):
		return ReasonUnknownKind
	}
	return ReasonRefused
}

// Status is the inbox status a receiver answers for a failure with code r:
// InboxRetry for a transient one, InboxRefused for a permanent one.
func (r Reason) Status() string {
	if r.Transient() {
		return InboxRetry
	}
	return InboxRefused
}

// Error is a failure with its reason code: what a receiver's handler
// returns to say why, and what the sender records.
type Error struct {
	Reason Reason
	Err    error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// ReasonOf returns the code err carries (an *Error in its chain), or def.
func ReasonOf(err error, def Reason) Reason {
	var fe *Error
	if errors.As(err, &fe) {
		return fe.Reason
	}
	return def
}
