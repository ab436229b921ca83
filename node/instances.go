package node

import (
	"context"
	"fmt"
	"slices"

	"github.com/tearline/tearline/label"
	"github.com/tearline/tearline/policy"
	"github.com/tearline/tearline/store"
)

// Polyinstantiation (docs/SECURITY.md, "Versions belong to their owner").
//
// A submitted version joins an instance of its id only if the submitter may
// read every stored version of that instance and it comes from the node
// that originated the instance. Otherwise it starts an instance of its own,
// under its own label: the answer to a publish then never depends on what
// the publisher cannot read (a conflict, a revocation or a purge at a level
// it cannot read would tell it the id exists), and nothing a submitter
// cannot read is superseded, revoked or purged by what it submits.

// ReadCheck reports whether the submitter may read an access class; nil
// for a partner's delivery, which joins by originator alone (the partner's
// clearance is what its agreement let it receive, not a local subject).
type ReadCheck func(ctx context.Context, class int64) (bool, error)

// SubjectReads is the ReadCheck of a local principal: the rule of a read.
func (n *Node) SubjectReads(r store.Reader, p *Principal) ReadCheck {
	return func(ctx context.Context, class int64) (bool, error) {
		c, err := n.Classes().Of(ctx, r, class)
		if err != nil {
			return false, err
		}
		return policy.CanRead(n.reg, p.Subject, c.Labels).Allow, nil
	}
}

// instanceState is what deciding a join needs of one instance.
type instanceState struct {
	classes    []int64
	originator string
}

// AssignInstances sets the Instance of each of vs, in order, before they
// are stored (PutObjects): the lowest-numbered instance of its id that it
// may join, else a new one numbered above every instance the id has had,
// purged ones included. A tombstone the submitter may read (its classes
// all readable, or unknown: a purge older than instances) refuses the id
// as purged, as before instances; one it may not read is as if the id
// were fresh. Versions of one id later in vs see the instances earlier
// ones joined or started.
func AssignInstances(ctx context.Context, tx store.Tx, vs []*store.ObjectVersion, reads ReadCheck) error {
	ids := make([]string, 0, len(vs))
	seen := make(map[string]bool, len(vs))
	for _, v := range vs {
		if !seen[v.ID] {
			seen[v.ID] = true
			ids = append(ids, v.ID)
		}
	}
	stored, err := tx.VersionsOf(ctx, ids)
	if err != nil {
		return fmt.Errorf("instances: %w", err)
	}
	tombs, err := tx.TombstonesOf(ctx, ids)
	if err != nil {
		return fmt.Errorf("instances: %w", err)
	}
	byID := map[string]map[int64]*instanceState{}
	for _, s := range stored {
		insts := byID[s.ID]
		if insts == nil {
			insts = map[int64]*instanceState{}
			byID[s.ID] = insts
		}
		st := insts[s.Instance]
		if st == nil {
			st = &instanceState{}
			insts[s.Instance] = st
		}
		st.classes = append(st.classes, s.Class)
		st.originator = s.Originator // the latest's: versions come oldest first
	}
	readsAll := func(classes []int64) (bool, error) {
		if reads == nil {
			return true, nil
		}
		for _, c := range classes {
			ok, err := reads(ctx, c)
			if err != nil || !ok {
				return false, err
			}
		}
		return true, nil
	}
	for _, v := range vs {
		insts := byID[v.ID]
		if insts == nil {
			insts = map[int64]*instanceState{}
			byID[v.ID] = insts
		}
		nums := make([]int64, 0, len(insts))
		for k := range insts {
			nums = append(nums, k)
		}
		slices.Sort(nums)
		// A purge is forever for whoever could read what it destroyed:
		// the store refuses the version as purged (instance 0 is below
		// the tombstone's Instances), whatever instances came since.
		if t, ok := tombs[v.ID]; ok {
			known := t.Classes == nil
			if !known {
				if known, err = readsAll(t.Classes); err != nil {
					return fmt.Errorf("instances of %s: %w", v.ID, err)
				}
			}
			if known {
				v.Instance = 0
				continue
			}
		}
		joined := false
		for _, k := range nums {
			st := insts[k]
			if st.originator != v.Originator {
				continue
			}
			ok, err := readsAll(st.classes)
			if err != nil {
				return fmt.Errorf("instances of %s: %w", v.ID, err)
			}
			if ok {
				v.Instance, joined = k, true
				st.classes = append(st.classes, v.Class)
				break
			}
		}
		if joined {
			continue
		}
		next := int64(0)
		if len(nums) > 0 {
			next = nums[len(nums)-1] + 1
		}
		if t, ok := tombs[v.ID]; ok {
			next = max(next, t.Instances)
		}
		v.Instance = next
		insts[next] = &instanceState{classes: []int64{v.Class}, originator: v.Originator}
	}
	return nil
}

// higher reports whether class a is above class b: the labels of both
// together dominate to a's labels and not to b's. Classes that cannot be
// compared (other policies, differing originators) are not above each
// other.
func higher(reg *label.Registry, a, b policy.Class) bool {
	if len(a.Labels) == 0 || len(b.Labels) == 0 {
		return false
	}
	both, err := label.Dominate(reg, append(slices.Clone(a.Labels), b.Labels...)...)
	if err != nil {
		return false
	}
	da, err := label.Dominate(reg, a.Labels...)
	if err != nil {
		return false
	}
	db, err := label.Dominate(reg, b.Labels...)
	if err != nil {
		return false
	}
	return both.Equal(da) && !both.Equal(db)
}
