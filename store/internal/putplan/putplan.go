// Package putplan decides what storing a batch of object versions does,
// given what is stored already: the rules every backend applies, in one
// place. An identical resend stores nothing; the same version with other
// content is a conflict; nothing is stored after a revoked version or for
// a purged version; the rest is inserted, and the versions it supersedes
// are marked as having a newer one. Each rule applies within one instance
// of an id (store.ObjectVersion.Instance): instances never meet.
package putplan

import (
	"fmt"
	"time"

	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/store/internal/scan"
)

// Stored is a version already stored.
type Stored struct {
	Seq, ModUS, Class int64
	Instance          int64
	Digest            string
	Revoked           bool
}

// StoredColumns are the columns of the objects table ScanStored reads, in
// its order.
const StoredColumns = `seq, id, instance, modified_us, class, digest, revoked`

// Key is an instance of an object: what a version is a version of.
type Key struct {
	ID       string
	Instance int64
}

// KeyOf is v's instance.
func KeyOf(v *store.ObjectVersion) Key { return Key{v.ID, v.Instance} }

// storedRow is one row of StoredColumns.
type storedRow struct {
	id string
	Stored
}

// CollectStored reads rows of StoredColumns into stored, by id. Closing
// rows is left to the caller.
func CollectStored(rows scan.Rows, stored map[string][]Stored) error {
	rs, err := scan.Collect(rows, func(sc scan.Scanner) (storedRow, error) {
		var r storedRow
		err := sc.Scan(&r.Seq, &r.id, &r.Instance, &r.ModUS, &r.Class, &r.Digest, &r.Revoked)
		return r, err
	})
	if err != nil {
		return fmt.Errorf("stored versions: %w", err)
	}
	for _, r := range rs {
		stored[r.id] = append(stored[r.id], r.Stored)
	}
	return nil
}

// Version is a version of an object as the batch leaves it: stored before
// (V is nil) or inserted by the batch (V; Seq is V.Seq once inserted).
type Version struct {
	Stored
	V *store.ObjectVersion
}

// Plan is the outcome of a batch.
type Plan struct {
	// Created and Errs are by the batch's index: Errs holds ErrConflict,
	// ErrRevoked or ErrPurged for a refused version.
	Created []bool
	Errs    []error
	// Insert lists the versions to insert, in batch order; Newer[i] says
	// whether Insert[i] already has a later version (stored, or earlier in
	// the batch).
	Insert []*store.ObjectVersion
	Newer  []bool
	// MarkOlder lists inserted versions whose older versions (stored or
	// inserted) must be marked newer, once all are inserted.
	MarkOlder []*store.ObjectVersion
	// Versions holds every version of each instance of the batch after it.
	Versions map[Key][]Version
}

// Make plans storing vs in order. stored holds the stored versions by id
// (ids with none may be missing; every instance together), purged the
// tombstones by id (ids without one may be missing): a version its
// instance's tombstone refuses (store.Tombstone.Refuses) is ErrPurged. A
// version inserted without a DateAdded gets now, the next one now plus
// two microseconds, and so on.
func Make(vs []*store.ObjectVersion, stored map[string][]Stored, purged map[string][]store.Tombstone, now time.Time) Plan {
	p := Plan{
		Created:  make([]bool, len(vs)),
		Errs:     make([]error, len(vs)),
		Versions: make(map[Key][]Version, len(vs)),
	}
	for _, v := range vs {
		k := KeyOf(v)
		if _, ok := p.Versions[k]; ok {
			continue
		}
		var known []Version
		for _, s := range stored[v.ID] {
			if s.Instance == v.Instance {
				known = append(known, Version{Stored: s})
			}
		}
		p.Versions[k] = known
	}
	for i, v := range vs {
		modUS := v.ModifiedAt.UnixMicro()
		known := p.Versions[KeyOf(v)]
		var same, conflict, revokedBefore, newer, older bool
		for _, k := range known {
			switch {
			case k.ModUS == modUS && k.Digest == v.Digest:
				same = true
			case k.ModUS == modUS:
				conflict = true
			case k.Revoked && k.ModUS < modUS:
				revokedBefore = true
			}
			newer = newer || k.ModUS > modUS
			older = older || k.ModUS < modUS
		}
		switch {
		case same:
		case conflict:
			p.Errs[i] = fmt.Errorf("put %s version %s: %w", v.ID, v.Modified, store.ErrConflict)
		case revokedBefore:
			p.Errs[i] = fmt.Errorf("put %s version %s: %w", v.ID, v.Modified, store.ErrRevoked)
		case refused(purged[v.ID], v):
			p.Errs[i] = fmt.Errorf("put %s version %s: %w", v.ID, v.Modified, store.ErrPurged)
		default:
			if v.DateAdded.IsZero() {
				// Distinct for each version, two microseconds apart (the
				// store's precision is one): a TAXII poller that sends
				// the last date_added it saw back as added_after then
				// never skips a version that shared it, and a label item
				// fits before the version it precedes (node, taxii_read.go).
				v.DateAdded = now.Truncate(time.Microsecond).Add(time.Duration(2*len(p.Insert)) * time.Microsecond)
			}
			p.Created[i] = true
			p.Insert = append(p.Insert, v)
			p.Newer = append(p.Newer, newer)
			if older {
				p.MarkOlder = append(p.MarkOlder, v)
			}
			p.Versions[KeyOf(v)] = append(known, Version{Stored: Stored{ModUS: modUS, Class: v.Class, Instance: v.Instance, Digest: v.Digest, Revoked: v.Revoked}, V: v})
		}
	}
	return p
}

// refused reports whether a tombstone of v's instance refuses v.
func refused(ts []store.Tombstone, v *store.ObjectVersion) bool {
	for _, t := range ts {
		if t.Instance == v.Instance && t.Refuses(v.ModifiedAt) {
			return true
		}
	}
	return false
}

// Inserted copies the inserted versions' seqs into Versions: call it once
// the rows are in.
func (p *Plan) Inserted() {
	for _, ks := range p.Versions {
		for i := range ks {
			if ks[i].V != nil {
				ks[i].Seq = ks[i].V.Seq
			}
		}
	}
}

// Older returns the versions of v's instance older than v (after
// Inserted: with their seqs).
func (p *Plan) Older(v *store.ObjectVersion) []Version {
	var out []Version
	for _, k := range p.Versions[KeyOf(v)] {
		if k.ModUS < v.ModifiedAt.UnixMicro() {
			out = append(out, k)
		}
	}
	return out
}
