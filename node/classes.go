package node

import (
	"context"
	"fmt"
	"sync"

	"github.com/tearline/tearline/label"
	"github.com/tearline/tearline/policy"
	"github.com/tearline/tearline/store"
)

// Classes mirrors the store's access classes with their labels parsed.
// Classes are immutable once made, so the cache only ever grows; another
// process (user add, a replica) may add classes, which a refresh picks up.
type Classes struct {
	reg *label.Registry

	mu      sync.Mutex
	last    int64
	byID    map[int64]policy.Class
	ordered []policy.Class
}

func newClasses(reg *label.Registry) *Classes {
	return &Classes{reg: reg, byID: map[int64]policy.Class{}}
}

// Classes returns the node's access classes.
func (n *Node) Classes() *Classes { return n.classes }

// all returns every access class, refreshed from r.
func (cs *Classes) all(ctx context.Context, r store.Reader) ([]policy.Class, error) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	fresh, err := r.AccessClasses(ctx, cs.last)
	if err != nil {
		return nil, err
	}
	for _, c := range fresh {
		labels := make([]label.Label, 0, len(c.LabelIDs))
		for _, id := range c.LabelIDs {
			raw, err := r.Label(ctx, id)
			if err != nil {
				return nil, fmt.Errorf("access class %d: %w", c.ID, err)
			}
			l, ours, err := label.ParseMarkingDefinition(raw)
			if err != nil || !ours {
				return nil, fmt.Errorf("access class %d: label %s: stored label does not parse (%v)", c.ID, id, err)
			}
			labels = append(labels, l)
		}
		pc := policy.Class{ID: c.ID, LabelIDs: c.LabelIDs, Labels: labels}
		cs.byID[c.ID] = pc
		cs.ordered = append(cs.ordered, pc)
		cs.last = c.ID
	}
	return cs.ordered, nil
}

// Of returns one class, refreshing if it is not known yet.
func (cs *Classes) Of(ctx context.Context, r store.Reader, id int64) (policy.Class, error) {
	cs.mu.Lock()
	c, ok := cs.byID[id]
	cs.mu.Unlock()
	if ok {
		return c, nil
	}
	if _, err := cs.all(ctx, r); err != nil {
		return policy.Class{}, err
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	c, ok = cs.byID[id]
	if !ok {
		return c, fmt.Errorf("access class %d: %w", id, store.ErrNotFound)
	}
	return c, nil
}

// Visible is the pushed-down read rule for s.
func (cs *Classes) Visible(ctx context.Context, r store.Reader, s policy.Subject) ([]int64, error) {
	all, err := cs.all(ctx, r)
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
	cs.mu.Lock()
	c, ok := cs.byID[id]
	cs.mu.Unlock()
	if ok {
		return c, nil
	}
	c = policy.Class{ID: id, LabelIDs: labelIDs}
	for _, lid := range labelIDs {
		raw, err := r.Label(ctx, lid)
		if err != nil {
			return policy.Class{}, fmt.Errorf("access class %d: %w", id, err)
		}
		l, ours, err := label.ParseMarkingDefinition(raw)
		if err != nil || !ours {
			return policy.Class{}, fmt.Errorf("access class %d: label %s does not parse (%v)", id, lid, err)
		}
		c.Labels = append(c.Labels, l)
	}
	return c, nil
}
