package store

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// Purges (crypto-shredding: docs/STORAGE.md) destroy versions of one
// instance of an object, or of every instance, and keep a content-free
// tombstone per instance for good: the shred journal a restore replays, and
// what refuses a purged version if it is submitted again.

// AllInstances in a Purge selects every instance of the id.
const AllInstances int64 = -1

// Purge selects what PurgeVersions destroys.
type Purge struct {
	ID string
	// Instance is the instance purged, or AllInstances.
	Instance int64
	// Versions are the ModifiedAt of the versions purged (matched to the
	// microsecond, the store's precision); nil purges every version, and
	// makes the tombstone whole.
	Versions []time.Time
	PurgedAt time.Time
	Reason   string // "retention", "recall", "admin", ...
	// Record keeps the Versions named that are not stored in the
	// tombstone too, so that they cannot arrive later (a restore carrying
	// its journal into an older database); otherwise they are passed over
	// (a retention time of a version purged since).
	Record bool
}

// Retained is a version that must be purged at Until (retention).
type Retained struct {
	ID         string
	Instance   int64
	ModifiedAt time.Time
	Until      time.Time
}

// WholeObject selects every version of every instance of id.
func WholeObject(id string, at time.Time, reason string) Purge {
	return Purge{ID: id, Instance: AllInstances, PurgedAt: at, Reason: reason}
}

// Tombstone records what was purged of one instance of an object: what
// was destroyed, when and why. It holds no content, and it is kept
// forever.
type Tombstone struct {
	ID       string
	Instance int64
	// Versions are the Modified of each version destroyed, and VersionsAt
	// their ModifiedAt (nil for a tombstone older than purges by version,
	// schema 19, which is Whole).
	Versions   []string
	VersionsAt []time.Time
	PurgedAt   time.Time // of the first purge
	Reason     string    // of the first purge
	// Classes are the access classes of the versions destroyed, sorted;
	// nil for a tombstone older than instances (schema 14), which is taken
	// as readable by everyone: a purge stays forever for every submitter.
	Classes []int64
	// Whole says the instance was purged to its last version: no version
	// of it is stored again. Otherwise only the versions purged are
	// refused (ErrPurged) when submitted again.
	Whole bool
}

// Refuses reports whether the tombstone refuses a version of its instance
// modified at.
func (t Tombstone) Refuses(at time.Time) bool {
	if t.Whole {
		return true
	}
	us := at.UnixMicro()
	for _, v := range t.VersionsAt {
		if v.UnixMicro() == us {
			return true
		}
	}
	return false
}

// TombstoneReader reads the shred journal. Reader embeds it.
type TombstoneReader interface {
	// Tombstones returns every tombstone, by id and instance.
	Tombstones(ctx context.Context) ([]Tombstone, error)
	// TombstonesOf returns the tombstones of those of ids that have any,
	// by id (each id's by instance), in one read.
	TombstonesOf(ctx context.Context, ids []string) (map[string][]Tombstone, error)
}

// PurgeWriter purges. Tx embeds it.
type PurgeWriter interface {
	// PurgeVersions deletes the versions p selects and their data keys
	// (and their access MAC rows, and the retention rows of every version
	// named, stored or not), and records for each
	// instance it touches a tombstone: the versions deleted now are added
	// to the instance's tombstone (the first purge's time and reason
	// stay), their classes merged in, and it becomes Whole when p names no
	// versions or the instance has no version left. It returns what it
	// deleted now, a tombstone per instance with only those versions
	// (oldest first); nothing when p matched nothing. The versions left
	// are marked as a purge leaves them (the latest of its instance is no
	// longer "newer"-shadowed).
	//
	// A Purge of AllInstances of an id with no versions, or of an instance
	// with none, still records a Whole tombstone for it (instance 0 for
	// AllInstances), classes unknown: a recall of an id not held, and a
	// restore carrying its journal into a database that predates it, use
	// that so the id cannot arrive later.
	PurgeVersions(ctx context.Context, p Purge) ([]Tombstone, error)
}

// Selection names what a purge destroys, for a caller that names versions
// by their Modified (the console): some or all versions of some or all
// instances of one object.
type Selection struct {
	ID string
	// Instances are the instances purged; nil for every one.
	Instances []int64
	// Versions are the Modified of each version purged (in the instances
	// selected); nil for every version.
	Versions []string
	Reason   string
}

// Purges turns s into purges of the id whose stored versions are all, one
// per instance (AllInstances when s names neither). A version named that is
// not stored in the instances selected is ErrNotFound.
func (s Selection) Purges(all []ObjectVersion, at time.Time) ([]Purge, error) {
	base := Purge{ID: s.ID, Instance: AllInstances, PurgedAt: at, Reason: s.Reason}
	if s.Instances == nil && s.Versions == nil {
		return []Purge{base}, nil
	}
	insts := s.Instances
	if insts == nil {
		for _, v := range all {
			if !slices.Contains(insts, v.Instance) {
				insts = append(insts, v.Instance)
			}
		}
	}
	for _, m := range s.Versions {
		if !slices.ContainsFunc(all, func(v ObjectVersion) bool { return v.Modified == m && slices.Contains(insts, v.Instance) }) {
			return nil, fmt.Errorf("version %.64s: %w", m, ErrNotFound)
		}
	}
	var out []Purge
	for _, k := range insts {
		p := base
		p.Instance = k
		if s.Versions != nil {
			p.Versions = []time.Time{}
			for _, v := range all {
				if v.Instance == k && slices.Contains(s.Versions, v.Modified) {
					p.Versions = append(p.Versions, v.ModifiedAt)
				}
			}
		}
		out = append(out, p)
	}
	return out, nil
}

// PurgedVersions flattens the versions of ts.
func PurgedVersions(ts []Tombstone) []string {
	out := []string{}
	for _, t := range ts {
		out = append(out, t.Versions...)
	}
	return out
}
