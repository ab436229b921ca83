package node

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/internal/clip"
	"github.com/tearline/tearline/store"
)

// Purge reasons, as recorded in the tombstone and the audit entry.
const (
	PurgeRetention = "retention" // its retention time passed (node/retention)
	PurgeRecall    = "recall"    // the originator recalled it
	PurgeAdmin     = "admin"     // an operator purged it
	PurgeRestore   = "restore"   // a restore re-applied an earlier purge
)

// PurgeTarget selects what Purge destroys (instances, versions; all if none).
type PurgeTarget = store.Selection

// Purge crypto-shreds the versions t selects: their data keys and
// ciphertext are deleted and a content-free tombstone per instance is
// kept, in one transaction with the audit entries. After it the content
// cannot be recovered with any key the node holds, from the database or
// from any backup (see docs/STORAGE.md for why backups too), and the
// versions can never be stored again (nor any of an instance purged to its
// last). It returns ErrNotFound when nothing selected is stored, or a
// version named is not.
func (n *Node) Purge(ctx context.Context, p *Principal, t PurgeTarget) ([]string, error) {
	id := t.ID
	if err := Authorize(p, ActPurge); err != nil {
		return nil, fmt.Errorf("purge %s: %w", id, err)
	}
	if t.Reason == "" || strings.ContainsAny(t.Reason, " \t\n") {
		return nil, fmt.Errorf("purge %s: reason %q: want one word (retention, recall, admin): %w", id, t.Reason, ErrInvalid)
	}
	var versions []string
	err := n.st.Update(ctx, func(tx store.Tx) error {
		all, err := tx.Versions(ctx, id)
		if err != nil {
			return err
		}
		sel, err := t.Purges(all, n.now())
		if err != nil { // only a version named that is not stored
			return fmt.Errorf("%w: %v", ErrNotFound, err)
		}
		versions = versions[:0]
		for _, s := range sel {
			purged, err := n.PurgeIn(ctx, tx, p.Actor(), s)
			if err != nil {
				return err
			}
			versions = append(versions, store.PurgedVersions(purged)...)
		}
		if len(versions) == 0 {
			return ErrNotFound
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("purge %s: %w", id, err)
	}
	n.Scrub(ctx)
	return versions, nil
}

// PurgeIn purges in tx and appends the audit entry: one per instance
// purged, naming it and the versions destroyed.
func (n *Node) PurgeIn(ctx context.Context, tx store.Tx, actor string, p store.Purge) ([]store.Tombstone, error) {
	purged, err := tx.PurgeVersions(ctx, p)
	if err != nil {
		return nil, err
	}
	for _, ts := range purged {
		if err := n.AppendAudit(ctx, tx, audit.Event{Actor: actor, Action: audit.ActionObjectPurge, Object: ts.ID, Decision: audit.Accept,
			Reasons: []string{p.Reason}, Count: len(ts.Versions),
			Detail: clip.String("instance="+strconv.FormatInt(ts.Instance, 10)+" versions="+strings.Join(ts.Versions, ","), 300)}); err != nil {
			return nil, err
		}
	}
	return purged, nil
}

// Scrub asks the store to drop deleted keys from its files. The purge has
// committed whatever happens here: a failure is logged, and the next
// checkpoint (SQLite) or autovacuum (PostgreSQL) finishes the job.
func (n *Node) Scrub(ctx context.Context) {
	if err := n.st.Scrub(ctx); err != nil {
		n.log.Warn("scrub after purge", "err", err)
	}
}
