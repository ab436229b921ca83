package agreement

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// State is where an agreement version is in its life. Only an active
// version decides anything.
type State string

const (
	StateDraft      State = "draft"      // being written; may change freely
	StateProposed   State = "proposed"   // sent to the parties for signature
	StateActive     State = "active"     // signed by every party, in force
	StateSuspended  State = "suspended"  // in force but not applied, e.g. during a dispute
	StateAmended    State = "amended"    // superseded by a newer version, signed again
	StateExpired    State = "expired"    // past its expiry date
	StateTerminated State = "terminated" // ended by a party, or abandoned before it began
)

// next lists the allowed moves from a state. Amended, expired and
// terminated are final: an agreement that ended is renewed as a new version
// or a new id, never revived, so no release can hide behind an old
// signature.
func next(from State) []State {
	switch from {
	case StateDraft:
		return []State{StateProposed, StateTerminated}
	case StateProposed:
		return []State{StateDraft, StateActive, StateTerminated}
	case StateActive:
		return []State{StateSuspended, StateAmended, StateExpired, StateTerminated}
	case StateSuspended:
		return []State{StateActive, StateAmended, StateExpired, StateTerminated}
	}
	return nil
}

// ErrTransition reports a move the lifecycle does not allow.
var ErrTransition = errors.New("agreement: transition not allowed")

// TransitionError is a move the lifecycle does not allow; it says where
// the agreement may go from its state, so that a person knows the next
// step. It matches ErrTransition.
type TransitionError struct {
	From, To State
}

func (e *TransitionError) Error() string {
	allowed := next(e.From)
	if len(allowed) == 0 {
		return fmt.Sprintf("%v: %s to %s (%s is final: make a new version or a new agreement)", ErrTransition, e.From, e.To, e.From)
	}
	names := make([]string, len(allowed))
	for i, s := range allowed {
		names[i] = string(s)
	}
	return fmt.Sprintf("%v: %s to %s (from %s it may become %s)", ErrTransition, e.From, e.To, e.From, strings.Join(names, " or "))
}

func (e *TransitionError) Is(target error) bool { return target == ErrTransition }

// Next lists the states an agreement in state from may move to.
func Next(from State) []State { return next(from) }

// Transition reports whether an agreement may move from one state to
// another.
func Transition(from, to State) error {
	for _, s := range next(from) {
		if s == to {
			return nil
		}
	}
	return &TransitionError{From: from, To: to}
}

// Status is the lifecycle state of one agreement version and when it began.
type Status struct {
	State State
	Since time.Time
}

// Event is one lifecycle transition. Each is an access event: the node
// writes it to the audit log in the same transaction as the new status.
type Event struct {
	Agreement string    `json:"agreement"`
	Version   int       `json:"version"`
	From      State     `json:"from"`
	To        State     `json:"to"`
	At        time.Time `json:"at"`
	By        string    `json:"by"`             // the party or user who made the move
	Note      string    `json:"note,omitempty"` // e.g. the reason for a suspension
}

// Advance moves the status of version d from cur to to at time at, checking
// what the move needs: activation needs a valid document signed by every
// party and not yet expired; expiry needs the expiry time to have come;
// amendment is done through Supersede. It returns the new status and the
// audit event.
func Advance(d *Document, cur Status, to State, at time.Time, by, note string) (Status, Event, error) {
	if err := Transition(cur.State, to); err != nil {
		return cur, Event{}, err
	}
	if by == "" {
		return cur, Event{}, errors.New("agreement: a transition needs an actor (by)")
	}
	switch to {
	case StateActive:
		if err := d.Validate(nil); err != nil {
			return cur, Event{}, err
		}
		if err := d.FullySigned(); err != nil {
			return cur, Event{}, err
		}
		if !at.Before(d.ExpiryTime()) {
			return cur, Event{}, fmt.Errorf("agreement: %s v%d expired at %s", d.ID, d.Version, d.Expires)
		}
	case StateExpired:
		if at.Before(d.ExpiryTime()) {
			return cur, Event{}, fmt.Errorf("agreement: %s v%d does not expire until %s", d.ID, d.Version, d.Expires)
		}
	case StateAmended:
		return cur, Event{}, errors.New("agreement: amendment happens through Supersede, when the new version is active")
	}
	return Status{State: to, Since: at}, event(d, cur.State, to, at, by, note), nil
}

// Supersede records that newer, a later version of the same agreement signed
// by every party, replaces prev (in state prevStatus): prev moves to amended
// and newer becomes active at the same instant, so exactly one version
// decides at any time. It returns both new statuses and both events.
func Supersede(prev *Document, prevStatus Status, newer *Document, at time.Time, by string) (Status, Status, []Event, error) {
	if err := Transition(prevStatus.State, StateAmended); err != nil {
		return Status{}, Status{}, nil, err
	}
	if newer.ID != prev.ID {
		return Status{}, Status{}, nil, fmt.Errorf("agreement: amendment of %s has id %s", prev.ID, newer.ID)
	}
	if newer.Version <= prev.Version {
		return Status{}, Status{}, nil, fmt.Errorf("agreement: amendment version %d is not above %d", newer.Version, prev.Version)
	}
	ns, ev, err := Advance(newer, Status{State: StateProposed}, StateActive, at, by, fmt.Sprintf("supersedes version %d", prev.Version))
	if err != nil {
		return Status{}, Status{}, nil, err
	}
	old := event(prev, prevStatus.State, StateAmended, at, by, fmt.Sprintf("superseded by version %d", newer.Version))
	return Status{State: StateAmended, Since: at}, ns, []Event{old, ev}, nil
}

func event(d *Document, from, to State, at time.Time, by, note string) Event {
	return Event{Agreement: d.ID, Version: d.Version, From: from, To: to, At: at.UTC(), By: by, Note: note}
}
