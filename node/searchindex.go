package node

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/searchindex"
	"github.com/tearline/tearline/store"
)

// The search index (docs/SEARCH.md): the node's store is wrapped by
// package searchindex, outermost, so that every version stored (ingest,
// receipt, TAXII) is indexed and every purge (recall, retention, restore's
// shred journal, an admin's) prunes the index, each in the same
// transaction as the write. Ingest's workers hash a version's terms beside
// sealing it (ingest.go), off the single writer's path. The key is a node
// key like the access MAC and cursor keys.

// searchBackfillBatch is how many versions one transaction of the backfill
// indexes.
const searchBackfillBatch = 2048

// openSearchIndex loads (or makes) the index key, wraps st in the index
// and indexes the versions stored before the index existed (once: the
// store records when it is done).
func openSearchIndex(ctx context.Context, n *Node, st store.Store) (*searchindex.Store, error) {
	key, err := nodeKey(ctx, st, n.sealed.Keys(), n.now(), searchindex.KeyName)
	if err != nil {
		return nil, fmt.Errorf("search index key: %w", err)
	}
	h, err := searchindex.NewHasher(key)
	clear(key)
	if err != nil {
		return nil, err
	}
	ix := searchindex.Wrap(st, h, sealedOpener(n))
	started := time.Now()
	count, err := ix.Backfill(ctx, searchBackfillBatch)
	if err != nil {
		return nil, err
	}
	if count > 0 {
		n.log.Info("search index: indexed the versions stored before it", "versions", count, "took", time.Since(started).Round(time.Millisecond))
		err := st.Update(ctx, func(tx store.Tx) error {
			return n.AppendAudit(ctx, tx, audit.Event{Actor: "node:" + n.cfg.Name, Action: audit.ActionSearchBackfill,
				Decision: audit.Accept, Count: int(count)})
		})
		if err != nil {
			return nil, fmt.Errorf("search index backfill: %w", err)
		}
	}
	return ix, nil
}

// sealedOpener opens a version's content with the node's current KEK
// (sealed, or plain in a row older than sealing), leaving the version as
// it is.
func sealedOpener(n *Node) searchindex.Opener {
	return func(v *store.ObjectVersion) ([]byte, error) {
		c := *v
		c.Raw = bytes.Clone(v.Raw)
		if err := n.sealed.Keys().OpenVersion(&c); err != nil {
			return nil, err
		}
		return c.Raw, nil
	}
}
