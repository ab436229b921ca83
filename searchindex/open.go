package searchindex

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/seal"
	"github.com/tearline/tearline/store"
)

// backfillBatch is how many versions one transaction of the backfill
// indexes, and backfillBudget how many postings its second pass holds at
// once (16 bytes each: 128 MiB).
const (
	backfillBatch  = 2048
	backfillBudget = 8 << 20
)

// Auditor writes the backfill's audit entry: the node core, whose audit
// log is the one writer.
type Auditor interface {
	AppendAudit(ctx context.Context, tx store.Tx, events ...audit.Event) error
}

// Options are what Open needs of the node.
type Options struct {
	Key   []byte        // the index key (KeyName), KeySize bytes; Open keeps no reference
	Keys  *seal.Keyring // opens the content of versions the backfill indexes
	Audit Auditor
	Actor string // who the audit entry names, "node:NAME"
	Log   *slog.Logger
}

// Open wraps st (the node's sealed store: the index sits outermost, so it
// sees every write) in the index, and first indexes the versions stored
// before the index existed (once: the store records when it is done),
// with one search.backfill audit entry.
func Open(ctx context.Context, st store.Store, o Options) (*Store, error) {
	h, err := NewHasher(o.Key)
	if err != nil {
		return nil, err
	}
	lg := o.Log
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	ix := Wrap(st, h, SealedOpener(o.Keys))
	started := time.Now()
	count, err := ix.Backfill(ctx, backfillBatch, backfillBudget)
	if err != nil {
		return nil, err
	}
	if count > 0 {
		lg.Info("search index: indexed the versions stored before it", "versions", count, "took", time.Since(started).Round(time.Millisecond))
		err := st.Update(ctx, func(tx store.Tx) error {
			return o.Audit.AppendAudit(ctx, tx, audit.Event{Actor: o.Actor, Action: audit.ActionSearchBackfill,
				Decision: audit.Accept, Count: int(count)})
		})
		if err != nil {
			return nil, fmt.Errorf("search index backfill: %w", err)
		}
	}
	return ix, nil
}

// SealedOpener opens a version's content with keys (sealed, or plain in a
// row older than sealing), leaving the version as it is.
func SealedOpener(keys *seal.Keyring) Opener {
	return func(v *store.ObjectVersion) ([]byte, error) {
		c := *v
		c.Raw = bytes.Clone(v.Raw)
		if err := keys.OpenVersion(&c); err != nil {
			return nil, err
		}
		return c.Raw, nil
	}
}
