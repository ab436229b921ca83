package store

import "context"

// Instance origins (docs/FEDERATION.md, "Instances on the wire"). A partner
// that sends a version names the instance it belongs to at its originator
// (the originator's instance number, stable there); the receiver keeps,
// per local instance it started for a partner's delivery, which
// originator's instance it holds, so that two instances of one id from one
// originator stay apart here too, and a recall of one is applied to that
// one alone.

// InstanceOrigin says that local instance Instance of ObjectID holds
// instance OriginInstance of that id as its originator Originator numbers
// it.
type InstanceOrigin struct {
	ObjectID       string
	Instance       int64
	Originator     string
	OriginInstance int64
}

// InstanceOriginReader reads instance origins. Reader embeds it.
type InstanceOriginReader interface {
	// InstanceOrigins returns the recorded origins of the instances of
	// ids, by id then instance; an instance with none recorded is absent
	// (a partner's instance received before origins were recorded is its
	// originator's instance 0).
	InstanceOrigins(ctx context.Context, ids []string) ([]InstanceOrigin, error)
}

// InstanceOriginWriter records instance origins. Tx embeds it.
type InstanceOriginWriter interface {
	// PutInstanceOrigin records o; an origin recorded for (o.ObjectID,
	// o.Instance) before is kept (an instance's origin never changes).
	PutInstanceOrigin(ctx context.Context, o InstanceOrigin) error
}
