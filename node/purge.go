package node

import (
	"context"
	"fmt"
	"strings"

	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/store"
)

// Purge reasons, as recorded in the tombstone and the audit entry.
const (
	PurgeRetention = "retention" // its retention time passed (node/retention)
	PurgeRecall    = "recall"    // the originator recalled it
	PurgeAdmin     = "admin"     // an operator purged it
	PurgeRestore   = "restore"   // a restore re-applied an earlier purge
)

// Purge crypto-shreds every version of object id: its data keys and
// ciphertext are deleted and a content-free tombstone is kept, in one
// transaction with the audit entry. After it the content cannot be
// recovered with any key the node holds, from the database or from any
// backup (see docs/STORAGE.md for why backups too), and the id can never be
// stored again. It returns ErrNotFound when nothing of id is stored.
func (n *Node) Purge(ctx context.Context, p *Principal, id, reason string) ([]string, error) {
	if err := Authorize(p, ActPurge); err != nil {
		return nil, fmt.Errorf("purge %s: %w", id, err)
	}
	actor := p.Actor()
	if reason == "" || strings.ContainsAny(reason, " \t\n") {
		return nil, fmt.Errorf("purge %s: reason %q: want one word (retention, recall, admin)", id, reason)
	}
	var versions []string
	err := n.st.Update(ctx, func(tx store.Tx) error {
		var err error
		versions, err = n.PurgeIn(ctx, tx, actor, store.Tombstone{ID: id, PurgedAt: n.now(), Reason: reason})
		if err != nil {
			return err
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

// PurgeIn purges in tx and appends the audit entry.
func (n *Node) PurgeIn(ctx context.Context, tx store.Tx, actor string, ts store.Tombstone) ([]string, error) {
	versions, err := tx.PurgeObject(ctx, ts)
	if err != nil {
		return nil, err
	}
	if len(versions) == 0 && ts.Reason != PurgeRestore {
		return nil, nil
	}
	return versions, n.AppendAudit(ctx, tx, audit.Event{Actor: actor, Action: audit.ActionObjectPurge, Object: ts.ID,
		Decision: audit.Accept, Reasons: []string{ts.Reason}, Count: len(versions), Detail: "versions=" + strings.Join(versions, ",")})
}

// Scrub asks the store to drop deleted keys from its files. The purge has
// committed whatever happens here: a failure is logged, and the next
// checkpoint (SQLite) or autovacuum (PostgreSQL) finishes the job.
func (n *Node) Scrub(ctx context.Context) {
	if err := n.st.Scrub(ctx); err != nil {
		n.log.Warn("scrub after purge", "err", err)
	}
}
