package node

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/store"
)

// Purge reasons, as recorded in the tombstone and the audit entry.
const (
	PurgeRetention = "retention" // its retention time passed (RunRetention)
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

// PurgeExpired purges every object whose retention has passed and returns
// how many it purged.
func (n *Node) PurgeExpired(ctx context.Context) (int, error) {
	purged := 0
	for {
		ids, err := n.st.Expired(ctx, n.now(), 100)
		if err != nil {
			return purged, fmt.Errorf("retention: %w", err)
		}
		if len(ids) == 0 {
			break
		}
		err = n.st.Update(ctx, func(tx store.Tx) error {
			for _, id := range ids {
				// An id with no versions left still loses its retention row.
				if _, err := n.PurgeIn(ctx, tx, "node:"+n.cfg.Name, store.Tombstone{ID: id, PurgedAt: n.now(), Reason: PurgeRetention}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return purged, fmt.Errorf("retention: %w", err)
		}
		purged += len(ids)
	}
	if purged > 0 {
		n.Scrub(ctx)
	}
	return purged, nil
}

// DefaultRetentionInterval is how often serve sweeps for expired objects.
const DefaultRetentionInterval = time.Minute

// RunRetention purges expired objects every interval until ctx ends. serve
// runs it beside the API.
func (n *Node) RunRetention(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = DefaultRetentionInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if c, err := n.PurgeExpired(ctx); err != nil && ctx.Err() == nil {
			n.log.Error("retention sweep", "err", err)
		} else if c > 0 {
			n.log.Info("retention sweep", "purged", c)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
