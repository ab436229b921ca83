package instance

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/tearline/tearline/store"
)

// Instances on the wire (docs/FEDERATION.md, "Instances on the wire"). An
// instance is numbered by the node that holds it, and numbers differ from
// node to node: a receiver numbers its instances above its own users'. So
// a sender names a version's instance as the object's originator numbers
// it (its origin instance, stable at the originator), and the receiver
// keeps, per instance it started for a partner, which (originator, origin
// instance) it holds (store.InstanceOrigin). A partner of an earlier
// version names none: its versions are of origin instance 0, as every
// instance received before origins were recorded.

// Origin is an instance as its originator numbers it.
type Origin struct {
	Originator string
	Instance   int64
}

// origins returns the origin of every instance of ids that has one: the
// recorded one, else, for an instance received from a partner before
// origins were recorded, the partner's instance 0. Instances started here
// (originated by self) have none.
func origins(ctx context.Context, r store.Reader, ids []string, stored []store.ObjectVersion, self string) (map[string]map[int64]Origin, error) {
	recorded, err := r.InstanceOrigins(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := map[string]map[int64]Origin{}
	set := func(id string, k int64, o Origin) {
		if out[id] == nil {
			out[id] = map[int64]Origin{}
		}
		out[id][k] = o
	}
	for _, o := range recorded {
		set(o.ObjectID, o.Instance, Origin{Originator: o.Originator, Instance: o.OriginInstance})
	}
	for _, v := range stored {
		if _, ok := out[v.ID][v.Instance]; !ok && v.Originator != self {
			set(v.ID, v.Instance, Origin{Originator: v.Originator})
		}
	}
	return out, nil
}

// AssignReceived sets the Instance of each of vs, versions a partner
// delivered, before they are stored: the instance here that holds the
// origin instance from[i] of v's originator (v.Originator), else a new
// instance numbered above every instance the id has had, whose origin it
// records. A version of an origin instance not held here of an id whose
// instance 0 has a tombstone and no version left is of instance 0 when it
// names origin instance 0 (so a purged object from a partner of an earlier
// version stays purged, as before instances: the store refuses it), else
// new. self is this node's name: its own instances have
// no origin and are never joined by a partner's version.
func AssignReceived(ctx context.Context, tx store.Tx, self string, vs []*store.ObjectVersion, from []int64) error {
	if len(from) != len(vs) {
		return fmt.Errorf("instances: %d versions, %d origins", len(vs), len(from))
	}
	ids := idsOf(vs)
	stored, err := tx.VersionsOf(ctx, ids)
	if err != nil {
		return fmt.Errorf("instances: %w", err)
	}
	tombs, err := tx.TombstonesOf(ctx, ids)
	if err != nil {
		return fmt.Errorf("instances: %w", err)
	}
	have, err := origins(ctx, tx, ids, stored, self)
	if err != nil {
		return fmt.Errorf("instances: %w", err)
	}
	nums := map[string][]int64{}
	for _, s := range stored {
		if !slices.Contains(nums[s.ID], s.Instance) {
			nums[s.ID] = append(nums[s.ID], s.Instance)
		}
	}
	for i, v := range vs {
		want := Origin{Originator: v.Originator, Instance: from[i]}
		found := false
		// Recorded origins outlive a purge: a purged instance is found,
		// and the store refuses the version as purged.
		for _, k := range slices.Sorted(maps.Keys(have[v.ID])) {
			if have[v.ID][k] == want {
				v.Instance, found = k, true
				break
			}
		}
		if found {
			continue
		}
		if want.Instance == 0 && !slices.Contains(nums[v.ID], 0) && slices.ContainsFunc(tombs[v.ID], func(t store.Tombstone) bool { return t.Instance == 0 }) {
			v.Instance = 0
			continue
		}
		ks := slices.Clone(nums[v.ID])
		for k := range have[v.ID] {
			ks = append(ks, k)
		}
		slices.Sort(ks)
		v.Instance = nextNumber(ks, tombs, v.ID)
		nums[v.ID] = append(nums[v.ID], v.Instance)
		if have[v.ID] == nil {
			have[v.ID] = map[int64]Origin{}
		}
		have[v.ID][v.Instance] = want
		if err := tx.PutInstanceOrigin(ctx, store.InstanceOrigin{ObjectID: v.ID, Instance: v.Instance, Originator: want.Originator, OriginInstance: want.Instance}); err != nil {
			return fmt.Errorf("instances: %w", err)
		}
	}
	return nil
}

// Local returns the instance here of id that holds origin o; false when
// none does (it never came, or only under another origin instance).
func Local(ctx context.Context, r store.Reader, self, id string, o Origin) (int64, bool, error) {
	stored, err := r.Versions(ctx, id)
	if err != nil {
		return 0, false, err
	}
	have, err := origins(ctx, r, []string{id}, stored, self)
	if err != nil {
		return 0, false, err
	}
	for _, k := range slices.Sorted(maps.Keys(have[id])) {
		if have[id][k] == o {
			return k, true, nil
		}
	}
	return 0, false, nil
}

// OriginOf returns the origin instance of v, a version held here, as the
// wire names it (the envelope's originator_instance): its recorded origin,
// else its own number when this node (self) originated it, else 0 (a
// partner's instance received before origins were recorded).
func OriginOf(ctx context.Context, r store.Reader, self string, v store.ObjectVersion) (int64, error) {
	recorded, err := r.InstanceOrigins(ctx, []string{v.ID})
	if err != nil {
		return 0, err
	}
	for _, o := range recorded {
		if o.Instance == v.Instance {
			return o.OriginInstance, nil
		}
	}
	if v.Originator == self {
		return v.Instance, nil
	}
	return 0, nil
}
