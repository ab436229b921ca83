// Package instance is polyinstantiation (docs/SECURITY.md, "Versions
// belong to their owner"): which instance of its id a submitted version
// joins (Assign, for a local submitter; AssignReceived, for a partner's
// delivery), and which instance a reader gets of an id (Pick).
//
// A submitted version joins an instance of its id only if the submitter
// may read every stored version of that instance and it comes from the
// node that originated the instance. Otherwise it starts an instance of
// its own, under its own label: the answer to a publish then never depends
// on what the publisher cannot read (a conflict, a revocation or a purge
// at a level it cannot read would tell it the id exists), and nothing a
// submitter cannot read is superseded, revoked or purged by what it
// submits.
//
// The package decides over what the store holds and what policy says; it
// imports nothing of the node, which calls it at ingest and on reads.
package instance

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/tearline/tearline/label"
	"github.com/tearline/tearline/policy"
	"github.com/tearline/tearline/store"
)

// ReadCheck reports whether the submitter may read an access class; nil
// for a partner's delivery, which joins by originator alone (the partner's
// clearance is what its agreement let it receive, not a local subject).
type ReadCheck func(ctx context.Context, class int64) (bool, error)

// Classes resolves an access class id to its labels (node.Classes).
type Classes interface {
	Of(ctx context.Context, r store.Reader, class int64) (policy.Class, error)
}

// Reads is the ReadCheck of a local subject: the rule of a read, over the
// classes as r holds them.
func Reads(cl Classes, reg *label.Registry, r store.Reader, s policy.Subject) ReadCheck {
	return func(ctx context.Context, class int64) (bool, error) {
		c, err := cl.Of(ctx, r, class)
		if err != nil {
			return false, err
		}
		return policy.CanRead(reg, s, c.Labels).Allow, nil
	}
}

// state is what deciding a join needs of one instance.
type state struct {
	classes    []int64
	originator string
}

// Assign sets the Instance of each of vs, in order, before they are
// stored (node.PutObjects). Tombstones (one per purged instance of an id)
// count only for a submitter who may read them (their classes all
// readable, or unknown: a purge older than instances); one it may not read
// is as if its versions never existed. Each version goes, in this order:
//
//   - into an instance whose tombstone it may read and that purged this
//     very version (the same modified): the store refuses it as purged (a
//     purge is forever for whoever could read what it destroyed);
//   - into the lowest-numbered live instance of its id that it may join
//     (one whose tombstone it may not read and that purged this version
//     is skipped: joining would be refused, telling it of the purge);
//   - into an instance purged to its last version whose tombstone it may
//     read: refused as purged, as before instances;
//   - else into a new instance, numbered above every instance the id has
//     had, purged ones included.
//
// Versions of one id later in vs see the instances earlier ones joined or
// started.
func Assign(ctx context.Context, tx store.Tx, vs []*store.ObjectVersion, reads ReadCheck) error {
	ids := idsOf(vs)
	stored, err := tx.VersionsOf(ctx, ids)
	if err != nil {
		return fmt.Errorf("instances: %w", err)
	}
	tombs, err := tx.TombstonesOf(ctx, ids)
	if err != nil {
		return fmt.Errorf("instances: %w", err)
	}
	byID := map[string]map[int64]*state{}
	for _, s := range stored {
		st := instanceOf(byID, s.ID, s.Instance)
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
	// known: the tombstones of each id the submitter may read, by
	// instance; hidden: those it may not.
	known, hidden := map[string]map[int64]store.Tombstone{}, map[string]map[int64]store.Tombstone{}
	for id, ts := range tombs {
		known[id], hidden[id] = map[int64]store.Tombstone{}, map[int64]store.Tombstone{}
		for _, t := range ts {
			ok := t.Classes == nil
			if !ok {
				if ok, err = readsAll(t.Classes); err != nil {
					return fmt.Errorf("instances of %s: %w", id, err)
				}
			}
			if ok {
				known[id][t.Instance] = t
			} else {
				hidden[id][t.Instance] = t
			}
		}
	}
	for _, v := range vs {
		insts := byID[v.ID]
		nums := slices.Sorted(maps.Keys(insts))
		if k, ok := refusing(known[v.ID], v, false); ok {
			v.Instance = k
			continue
		}
		joined := false
		for _, k := range nums {
			st := insts[k]
			if st.originator != v.Originator {
				continue
			}
			if t, ok := hidden[v.ID][k]; ok && t.Refuses(v.ModifiedAt) {
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
		if k, ok := refusing(known[v.ID], v, true); ok {
			v.Instance = k
			continue
		}
		v.Instance = nextNumber(nums, tombs, v.ID)
		instanceOf(byID, v.ID, v.Instance).originator = v.Originator
		byID[v.ID][v.Instance].classes = []int64{v.Class}
	}
	return nil
}

// refusing returns the lowest instance among ts whose tombstone purged v
// itself, or (whole) the lowest purged to its last version.
func refusing(ts map[int64]store.Tombstone, v *store.ObjectVersion, whole bool) (int64, bool) {
	best, found := int64(0), false
	for k, t := range ts {
		hit := t.Whole
		if !whole {
			hit = slices.ContainsFunc(t.VersionsAt, func(at time.Time) bool { return at.UnixMicro() == v.ModifiedAt.UnixMicro() })
		}
		if hit && (!found || k < best) {
			best, found = k, true
		}
	}
	return best, found
}

// nextNumber is the number a new instance of id takes: above every
// instance it has (nums, sorted) and every one purged.
func nextNumber(nums []int64, tombs map[string][]store.Tombstone, id string) int64 {
	next := int64(0)
	if len(nums) > 0 {
		next = nums[len(nums)-1] + 1
	}
	for _, t := range tombs[id] {
		next = max(next, t.Instance+1)
	}
	return next
}

func idsOf(vs []*store.ObjectVersion) []string {
	ids := make([]string, 0, len(vs))
	seen := make(map[string]bool, len(vs))
	for _, v := range vs {
		if !seen[v.ID] {
			seen[v.ID] = true
			ids = append(ids, v.ID)
		}
	}
	return ids
}

func instanceOf(byID map[string]map[int64]*state, id string, k int64) *state {
	insts := byID[id]
	if insts == nil {
		insts = map[int64]*state{}
		byID[id] = insts
	}
	st := insts[k]
	if st == nil {
		st = &state{}
		insts[k] = st
	}
	return st
}
