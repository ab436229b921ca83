// Package accessclass mirrors the store's access classes (a distinct set
// of labels; objects that need the same labels to be read share one) with
// their labels parsed, so a read rule is decided once per class, not once
// per object. The node core keeps one (node.Node.Classes).
package accessclass

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/tearline/tearline/accessmac"
	"github.com/tearline/tearline/label"
	"github.com/tearline/tearline/policy"
	"github.com/tearline/tearline/store"
)

// Classes mirrors the store's access classes with their labels parsed.
// Classes are immutable once made, so the cache only ever grows; another
// process (user add, a replica) may add classes, which a refresh picks up.
//
// A class one of whose stored labels does not parse, or is not the label
// its id names (a label row rewritten in place), is untrusted: no one may
// read it (Visible leaves it out, Of and LabelIDs fail with
// accessmac.ErrUntrusted, so the store wrapper drops and reports its
// versions), and every other class keeps working.
type Classes struct {
	reg *label.Registry

	mu        sync.Mutex
	last      int64
	byID      map[int64]policy.Class
	untrusted map[int64]error // classes bearing a label that does not check, and why
	ordered   []policy.Class  // trusted classes only
}

// New returns an empty cache of the classes of labels in reg.
func New(reg *label.Registry) *Classes {
	return &Classes{reg: reg, byID: map[int64]policy.Class{}, untrusted: map[int64]error{}}
}

// All returns every trusted access class, refreshed from r.
func (cs *Classes) All(ctx context.Context, r store.Reader) ([]policy.Class, error) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	fresh, err := r.AccessClasses(ctx, cs.last)
	if err != nil {
		return nil, err
	}
	for _, c := range fresh {
		pc, err := classOf(ctx, r, c.ID, c.LabelIDs)
		if errors.Is(err, accessmac.ErrUntrusted) {
			cs.untrusted[c.ID], cs.last = err, c.ID
			continue
		}
		if err != nil {
			return nil, err
		}
		cs.last = c.ID
		cs.byID[c.ID] = pc
		cs.ordered = append(cs.ordered, pc)
	}
	return cs.ordered, nil
}

// classOf builds class id of labelIDs from the labels stored in r. A label
// that is missing, does not parse or is not the label its id names makes
// the class untrusted (accessmac.ErrUntrusted).
func classOf(ctx context.Context, r store.Reader, id int64, labelIDs []string) (policy.Class, error) {
	c := policy.Class{ID: id, LabelIDs: labelIDs, Labels: make([]label.Label, 0, len(labelIDs))}
	for _, lid := range labelIDs {
		raw, err := r.Label(ctx, lid)
		if errors.Is(err, store.ErrNotFound) {
			return policy.Class{}, fmt.Errorf("access class %d: label %s: %w: %w", id, lid, accessmac.ErrUntrusted, err)
		}
		if err != nil {
			return policy.Class{}, fmt.Errorf("access class %d: %w", id, err)
		}
		l, ours, err := label.ParseMarkingDefinition(raw)
		switch {
		case err != nil:
			return policy.Class{}, fmt.Errorf("access class %d: label %s: %w: %w", id, lid, accessmac.ErrUntrusted, err)
		case !ours:
			return policy.Class{}, fmt.Errorf("access class %d: label %s: %w: not a Tearline label", id, lid, accessmac.ErrUntrusted)
		case l.ID() != lid:
			// Content-addressed: a valid label of other content stored
			// under this id is a substitution.
			return policy.Class{}, fmt.Errorf("access class %d: label %s: %w: stored label is %s", id, lid, accessmac.ErrUntrusted, l.ID())
		}
		c.Labels = append(c.Labels, l)
	}
	return c, nil
}

// Of returns one class, refreshing if it is not known yet; an untrusted
// class is an error wrapping accessmac.ErrUntrusted.
func (cs *Classes) Of(ctx context.Context, r store.Reader, id int64) (policy.Class, error) {
	if c, ok, err := cs.cached(id); ok || err != nil {
		return c, err
	}
	if _, err := cs.All(ctx, r); err != nil {
		return policy.Class{}, err
	}
	if c, ok, err := cs.cached(id); ok || err != nil {
		return c, err
	}
	return policy.Class{}, fmt.Errorf("access class %d: %w", id, store.ErrNotFound)
}

func (cs *Classes) cached(id int64) (policy.Class, bool, error) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if err := cs.untrusted[id]; err != nil {
		return policy.Class{}, false, err
	}
	c, ok := cs.byID[id]
	return c, ok, nil
}

// LabelIDs returns the label ids of class id, as reads decide with them
// (accessmac.Classes).
func (cs *Classes) LabelIDs(ctx context.Context, r store.Reader, id int64) ([]string, error) {
	c, err := cs.Of(ctx, r, id)
	if err != nil {
		return nil, err
	}
	return c.LabelIDs, nil
}

// Visible is the pushed-down read rule for s: the trusted classes s may
// read.
func (cs *Classes) Visible(ctx context.Context, r store.Reader, s policy.Subject) ([]int64, error) {
	all, err := cs.All(ctx, r)
	if err != nil {
		return nil, err
	}
	return policy.Classes(cs.reg, s, all), nil
}

// Uncached returns class id (of labelIDs) from the cache if it is
// there, else built from the labels in r without caching it: the class may
// have been made in this very transaction, which may yet roll back, and the
// cache must only ever hold committed classes (an id can be reused).
func (cs *Classes) Uncached(ctx context.Context, r store.Reader, id int64, labelIDs []string) (policy.Class, error) {
	if c, ok, err := cs.cached(id); ok || err != nil {
		return c, err
	}
	return classOf(ctx, r, id, labelIDs)
}
