package oversight

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/datadir"
	"github.com/tearline/tearline/internal/clip"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/seal"
	"github.com/tearline/tearline/store"
)

// backuper is a store that writes an online, consistent copy of itself
// (store/sqlite and store/postgres both are).
type backuper interface {
	Backup(ctx context.Context, path string) error
}

// Backup writes an online copy of the node's database to out, which must
// not exist, and audits it. The copy holds sealed content and wrapped data
// keys, never the KEK: keep the KEK (KEKFile or $TEARLINE_KEK) apart from
// backups, as docs/STORAGE.md explains.
func (ov *Service) Backup(ctx context.Context, actor, out string) error {
	b, ok := store.Base(ov.n.Store()).(backuper)
	if !ok {
		return fmt.Errorf("backup: %w", node.ErrNoBackup)
	}
	// Audited first, so the backup records that it was taken.
	if err := ov.n.Store().Update(ctx, func(tx store.Tx) error {
		return ov.n.AppendAudit(ctx, tx, audit.Event{Actor: actor, Action: audit.ActionBackup, Decision: audit.Accept,
			Subject: "kek:" + ov.n.Sealed().Keys().Current().ID(), Detail: "to=" + filepath.Base(out)})
	}); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if err := b.Backup(ctx, out); err != nil {
		return err
	}
	return os.Chmod(out, 0o600)
}

// RestoreOptions adjust Restore.
type RestoreOptions struct {
	// Journal is the shred journal that must stay applied: the tombstones
	// of the node's current database. When nil, Restore reads them from
	// the database it replaces.
	Journal []store.Tombstone
	// NoJournal allows a restore when there is no current database to read
	// the journal from. Objects purged after the backup was taken then come
	// back (unless the KEK was rotated since: see docs/STORAGE.md).
	NoJournal bool
	// Previous is the audit log of the database replaced; when it is
	// longer than the backup's, the restored log's first new entry is a
	// signed rollback statement (witnessrestore.go). Restore reads it from
	// the database it replaces when nil.
	Previous *LogState
	// Reason is said in the rollback statement.
	Reason string
}

// RestoreResult says what a restore did.
type RestoreResult struct {
	Replaced string // where the database it replaced was moved, if any
	Journal  int    // tombstones re-applied
	Purged   int    // objects of the backup that the journal purged again
}

// A Restorer is a backend's part of replacing a node's database with a
// backup (store/backend.SQLiteRestore): the files. Restore does the node's
// part between its steps: the keys check, the journal and the audit.
type Restorer interface {
	// Journal reads the tombstones of the database being replaced; found
	// is false when there is none.
	Journal(ctx context.Context) (ts []store.Tombstone, found bool, err error)
	// ReadReplaced calls fn with the database being replaced (its audit
	// log is read for the rollback statement); found is false when there
	// is none.
	ReadReplaced(ctx context.Context, fn func(store.Reader) error) (found bool, err error)
	// Stage makes the backup ready beside the live database and opens it.
	Stage(ctx context.Context) (store.Store, error)
	// Swap puts the staged backup in the live database's place and says
	// where the replaced one was kept ("" when there was none).
	Swap() (replaced string, err error)
	// Discard removes a staged backup that was not swapped in.
	Discard()
}

// Restore replaces the database of the (stopped) node in dir with the
// backup from, staged by r, then re-applies the shred journal to it: every
// object purged on this node (before or after the backup was taken) is
// purged again, so a restore never brings a crypto-shredded object back.
// The backup's data keys must open under a KEK the node holds. Only then
// does r swap it in; the replaced database is kept beside it, renamed.
func Restore(ctx context.Context, dir, from string, r Restorer, o RestoreOptions) (RestoreResult, error) {
	fail := func(err error) (RestoreResult, error) { return RestoreResult{}, fmt.Errorf("restore %s: %w", dir, err) }
	if _, err := os.Stat(datadir.Path(dir, node.ConfigFile)); err != nil {
		return fail(fmt.Errorf("no node here: %w", err))
	}
	if o.Previous == nil {
		var prev LogState
		found, err := r.ReadReplaced(ctx, func(rd store.Reader) error {
			var err error
			prev, err = ReadLogState(ctx, rd)
			return err
		})
		if err != nil {
			return fail(fmt.Errorf("read the audit log it replaces: %w", err))
		}
		if found {
			o.Previous = &prev
		}
	}
	if o.Journal == nil {
		ts, found, err := r.Journal(ctx)
		switch {
		case err != nil:
			return fail(fmt.Errorf("read the shred journal: %w", err))
		case found:
			o.Journal = ts
		case !o.NoJournal:
			return fail(errors.New("no current database to read the shred journal (tombstones) from; restoring without it could bring purged objects back (allow with --no-journal)"))
		}
	}
	raw, err := r.Stage(ctx)
	if err != nil {
		return fail(err)
	}
	ok := false
	defer func() {
		if !ok {
			r.Discard()
		}
	}()
	n, err := node.Open(ctx, dir, node.Options{Store: raw})
	if err != nil {
		return fail(err)
	}
	res, err := New(n).reapplyJournal(ctx, from, o.Journal, o.Previous, o.Reason)
	if cerr := n.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fail(err)
	}
	if res.Replaced, err = r.Swap(); err != nil {
		return fail(err)
	}
	ok = true
	return res, nil
}

// RestoreJournal re-applies journal to the node's own store: for a
// PostgreSQL node whose database was just restored with pg_restore, with
// the journal and the audit log (prev, nil if unknown) read from the
// database it replaced.
func (ov *Service) RestoreJournal(ctx context.Context, from string, journal []store.Tombstone, prev *LogState, reason string) (RestoreResult, error) {
	return ov.reapplyJournal(ctx, from, journal, prev, reason)
}

// versionReads reports whether the version of k reads through st, the
// node's store with its checks (its access MAC holds); one that does but does not open answers
// an error.
func versionReads(ctx context.Context, st store.Store, k store.DataKey) (bool, error) {
	vs, err := st.Versions(ctx, k.ID)
	if err != nil {
		return false, err
	}
	return slices.ContainsFunc(vs, func(v store.ObjectVersion) bool { return v.Seq == k.Seq }), nil
}

// reapplyJournal checks that every data key in the restored store opens
// under a KEK this node holds, then purges again every id in journal, in
// one transaction with the audit entries.
func (ov *Service) reapplyJournal(ctx context.Context, from string, journal []store.Tombstone, prev *LogState, reason string) (RestoreResult, error) {
	var res RestoreResult
	held := map[string]bool{}
	for _, id := range ov.n.Sealed().Keys().IDs() {
		held[id] = true
	}
	var after store.DataKey
	for {
		keys, err := ov.n.Store().DataKeys(ctx, after, 1000)
		if err != nil {
			return res, err
		}
		if len(keys) == 0 {
			break
		}
		for _, k := range keys {
			id, err := seal.WrappedBy(k.Wrapped)
			if err != nil {
				return res, fmt.Errorf("data key of %s: %w", k.ID, err)
			}
			if held[id] {
				continue
			}
			// A key a KEK rotation left under the KEK it retired because
			// its row was rewritten (node.RotateKEK) belongs to a version
			// that reads as absent: it stays so. A version that reads
			// refuses the backup.
			if reads, err := versionReads(ctx, ov.n.Store(), k); err != nil || reads {
				return res, fmt.Errorf("the backup's data keys are wrapped under kek:%s, which this node does not hold (rotated since the backup?): %w", id, seal.ErrUnknownKEK)
			}
		}
		after = keys[len(keys)-1]
	}
	actor := "node:" + ov.n.Config().Name
	err := ov.n.Store().Update(ctx, func(tx store.Tx) error {
		// First: the log says it went back, before any entry of its own.
		if err := ov.declareRollback(ctx, tx, prev, reason, from); err != nil {
			return err
		}
		res.Journal, res.Purged = len(journal), 0
		for _, ts := range journal {
			// Each instance's tombstone again: whole, or the versions it
			// names (a purge by version leaves the rest of the instance).
			p := store.Purge{ID: ts.ID, Instance: ts.Instance, PurgedAt: ts.PurgedAt, Reason: ts.Reason, Record: true}
			if !ts.Whole {
				p.Versions = ts.VersionsAt
			}
			purged, err := tx.PurgeVersions(ctx, p)
			if err != nil {
				return err
			}
			if len(purged) > 0 {
				res.Purged++
				versions := store.PurgedVersions(purged)
				if err := ov.n.AppendAudit(ctx, tx, audit.Event{Actor: actor, Action: audit.ActionObjectPurge, Object: ts.ID, Decision: audit.Accept,
					Reasons: []string{node.PurgeRestore, ts.Reason}, Count: len(versions),
					Detail: clip.String(fmt.Sprintf("purged again on restore: instance=%d versions=%s", ts.Instance, strings.Join(versions, ",")), 300)}); err != nil {
					return err
				}
			}
		}
		return ov.n.AppendAudit(ctx, tx, audit.Event{Actor: actor, Action: audit.ActionRestore, Decision: audit.Accept, Count: res.Purged,
			Detail: fmt.Sprintf("from=%s journal=%d", filepath.Base(from), len(journal))})
	})
	if err != nil {
		return res, err
	}
	ov.n.Scrub(ctx)
	return res, nil
}
