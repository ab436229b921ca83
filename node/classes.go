package node

import (
	"context"
	"fmt"

	"github.com/tearline/tearline/label"
	"github.com/tearline/tearline/policy"
	"github.com/tearline/tearline/store"
)

// classCache mirrors the store's access classes with their labels parsed.
// Classes are immutable once made, so the cache only ever grows; another
// process (user add, a replica) may add classes, which refresh picks up.
type classCache struct {
	last    int64
	byID    map[int64]policy.Class
	ordered []policy.Class
}

func newClassCache() *classCache { return &classCache{byID: map[int64]policy.Class{}} }

// classes returns every access class, refreshed from r.
func (n *Node) classesFrom(ctx context.Context, r store.Reader) ([]policy.Class, error) {
	n.classMu.Lock()
	defer n.classMu.Unlock()
	fresh, err := r.AccessClasses(ctx, n.classes.last)
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
		n.classes.byID[c.ID] = pc
		n.classes.ordered = append(n.classes.ordered, pc)
		n.classes.last = c.ID
	}
	return n.classes.ordered, nil
}

// Class returns one class, refreshing if it is not known yet.
func (n *Node) Class(ctx context.Context, r store.Reader, id int64) (policy.Class, error) {
	n.classMu.Lock()
	c, ok := n.classes.byID[id]
	n.classMu.Unlock()
	if ok {
		return c, nil
	}
	if _, err := n.classesFrom(ctx, r); err != nil {
		return policy.Class{}, err
	}
	n.classMu.Lock()
	defer n.classMu.Unlock()
	c, ok = n.classes.byID[id]
	if !ok {
		return c, fmt.Errorf("access class %d: %w", id, store.ErrNotFound)
	}
	return c, nil
}

// VisibleClasses is the pushed-down read rule for s.
func (n *Node) VisibleClasses(ctx context.Context, r store.Reader, s policy.Subject) ([]int64, error) {
	all, err := n.classesFrom(ctx, r)
	if err != nil {
		return nil, err
	}
	return policy.Classes(n.reg, s, all), nil
}

// UncachedClass returns class id (of labelIDs) from the cache if it is
// there, else built from the labels in r without caching it: the class may
// have been made in this very transaction, which may yet roll back, and the
// cache must only ever hold committed classes (an id can be reused).
func (n *Node) UncachedClass(ctx context.Context, r store.Reader, id int64, labelIDs []string) (policy.Class, error) {
	n.classMu.Lock()
	c, ok := n.classes.byID[id]
	n.classMu.Unlock()
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
