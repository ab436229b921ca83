// Package purgeplan decides what a purge (store.PurgeWriter) does, given
// what is stored: the rows it deletes, the tombstones it writes and the
// rows it leaves as the latest of their instance, the rules every backend
// applies, in one place (as package putplan does for storing).
package purgeplan

import (
	"cmp"
	"slices"
	"time"

	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/store/internal/scan"
)

// Row is a stored version of the id purged.
type Row struct {
	Seq, Instance, ModUS, Class int64
	Modified                    string
}

// RowColumns are the columns of the objects table a Row is read from, in
// ScanRow's order.
const RowColumns = `seq, instance, modified_us, class, modified`

// ScanRow reads RowColumns.
func ScanRow(sc scan.Scanner) (Row, error) {
	var r Row
	err := sc.Scan(&r.Seq, &r.Instance, &r.ModUS, &r.Class, &r.Modified)
	return r, err
}

// Plan is what a purge does.
type Plan struct {
	// Delete are the seqs of the rows deleted, with their data keys and
	// access MACs.
	Delete []int64
	// Latest are the seqs of rows left that are now the latest of their
	// instance: no longer marked newer.
	Latest []int64
	// Write are the tombstones to store, whole (each replaces the row of
	// its id and instance, if any).
	Write []store.Tombstone
	// Purged is what was deleted, per instance (store.PurgeWriter's
	// answer).
	Purged []store.Tombstone
	// Gone says the id has no version left.
	Gone bool
	// Unretain are the versions whose retention rows go: every version
	// deleted or named.
	Unretain []Version
}

// Version is one version of an instance of the id.
type Version struct{ Instance, ModUS int64 }

// Make plans p over the id's stored rows (every instance) and its
// tombstones.
func Make(p store.Purge, rows []Row, tombs []store.Tombstone) Plan {
	var plan Plan
	byInst := map[int64][]Row{}
	for _, r := range rows {
		byInst[r.Instance] = append(byInst[r.Instance], r)
	}
	var targets []int64
	switch {
	case p.Instance != store.AllInstances:
		targets = []int64{p.Instance}
	case len(byInst) == 0:
		targets = []int64{0}
	default:
		for k := range byInst {
			targets = append(targets, k)
		}
		slices.Sort(targets)
	}
	named := map[int64]time.Time{}
	for _, at := range p.Versions {
		named[at.UnixMicro()] = at
	}
	left := len(rows)
	for _, k := range targets {
		rs := byInst[k]
		slices.SortFunc(rs, func(a, b Row) int { return cmp.Compare(a.ModUS, b.ModUS) })
		var deleted, kept []Row
		found := map[int64]bool{}
		for _, r := range rs {
			if _, ok := named[r.ModUS]; p.Versions == nil || ok {
				deleted = append(deleted, r)
				found[r.ModUS] = true
			} else {
				kept = append(kept, r)
			}
		}
		// Versions named but not stored are recorded too when p says so
		// (a restore carries a journal into a database older than the
		// versions), unless the tombstone has them already.
		old, had := tombOf(tombs, k)
		var missing []int64
		for us := range named {
			plan.Unretain = append(plan.Unretain, Version{k, us})
			if !found[us] && p.Record && !slices.ContainsFunc(old.VersionsAt, func(t time.Time) bool { return t.UnixMicro() == us }) {
				missing = append(missing, us)
			}
		}
		slices.Sort(missing)
		if len(deleted) == 0 && len(missing) == 0 && (had || len(rs) > 0 || p.Versions != nil) {
			continue // nothing to do: p names no version of k
		}
		t := old
		if !had {
			t = store.Tombstone{ID: p.ID, Instance: k, PurgedAt: p.PurgedAt, Reason: p.Reason, Versions: []string{}}
		}
		t.Versions, t.VersionsAt = slices.Clone(t.Versions), slices.Clone(t.VersionsAt)
		var classes []int64
		now := store.Tombstone{ID: p.ID, Instance: k, PurgedAt: p.PurgedAt, Reason: p.Reason}
		for _, r := range deleted {
			if p.Versions == nil {
				plan.Unretain = append(plan.Unretain, Version{k, r.ModUS})
			}
			now.Versions = append(now.Versions, r.Modified)
			now.VersionsAt = append(now.VersionsAt, scan.FromUS(r.ModUS))
			classes = scan.MergeClasses(classes, []int64{r.Class})
			plan.Delete = append(plan.Delete, r.Seq)
		}
		now.Classes = classes
		for _, us := range missing {
			at := named[us].UTC()
			t.Versions = append(t.Versions, at.Format(time.RFC3339Nano))
			t.VersionsAt = append(t.VersionsAt, at)
		}
		t.Versions = append(t.Versions, now.Versions...)
		t.VersionsAt = append(t.VersionsAt, now.VersionsAt...)
		// Classes unknown on either side stay unknown, the stricter: an
		// unknown tombstone is taken as readable by every submitter.
		switch {
		case len(deleted) == 0 && !had:
			t.Classes = nil
		case len(deleted) == 0:
		case had && old.Classes == nil:
		default:
			t.Classes = scan.MergeClasses(t.Classes, classes)
		}
		t.Whole = t.Whole || p.Versions == nil || len(kept) == 0
		now.Whole = t.Whole
		plan.Write = append(plan.Write, t)
		if len(deleted) > 0 {
			plan.Purged = append(plan.Purged, now)
			left -= len(deleted)
			if len(kept) > 0 {
				plan.Latest = append(plan.Latest, kept[len(kept)-1].Seq)
			}
		}
	}
	plan.Gone = left == 0
	return plan
}

func tombOf(ts []store.Tombstone, inst int64) (store.Tombstone, bool) {
	for _, t := range ts {
		if t.Instance == inst {
			return t, true
		}
	}
	return store.Tombstone{}, false
}
