// Package health reports a running node's state for its administrators
// (docs/UI.md, "Administrator"): the outbox's depth by state, the audit
// log's latest signed checkpoint and its age, each peer with its
// certificate, signing keys, witness state and open split views, the data
// directory's size on disk and the store backend. It measures nothing new:
// every number is a store read the metrics already make, or a stat of the
// data directory's files.
package health

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"time"

	"github.com/tearline/tearline/binding"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/store"
)

// Report is the node's health at one instant.
type Report struct {
	At      time.Time
	Backend string // "SQLite" or "PostgreSQL"
	// Outbox counts the messages not delivered, by state (store.DeliveryQueued,
	// DeliveryRetrying, DeliveryFailed): retrying and failed are the
	// failing deliveries.
	Outbox map[string]int
	// Checkpoint is the latest signed checkpoint of the audit log; zero
	// Size and Created when none was signed yet.
	Checkpoint store.AuditCheckpoint
	Peers      []Peer
	// DataBytes and DataFiles are the data directory's regular files
	// (with PostgreSQL, the database is elsewhere and not counted).
	DataBytes int64
	DataFiles int
}

// Peer is one partner as this node trusts it now.
type Peer struct {
	node.Peer
	CertExpires time.Time
	Keys        []binding.Key // its signing keys in this node's keyring
	// CosignedSize is the largest size of this node's log the peer
	// cosigned, when it is a witness (Peer.Witness) and has cosigned.
	CosignedSize int64
	Cosigned     time.Time
	// OpenSplitViews counts the split views of its log not acknowledged:
	// deliveries to it are paused while there are any.
	OpenSplitViews int
}

// Read reports n's health. Administrators only.
func Read(ctx context.Context, n *node.Node, p *node.Principal) (Report, error) {
	if err := node.Authorize(p, node.ActHealthRead); err != nil {
		return Report{}, fmt.Errorf("health: %w", err)
	}
	st := n.Store()
	r := Report{At: n.Now(), Backend: backend(st)}
	var err error
	if r.Outbox, err = st.OutboxCounts(ctx); err != nil {
		return r, fmt.Errorf("health: outbox: %w", err)
	}
	if r.Checkpoint, err = st.LatestAuditCheckpoint(ctx); err != nil && !errors.Is(err, store.ErrNotFound) {
		return r, fmt.Errorf("health: checkpoint: %w", err)
	}
	svs, err := st.SplitViews(ctx, "", true)
	if err != nil {
		return r, fmt.Errorf("health: split views: %w", err)
	}
	open := map[string]int{}
	for _, s := range svs {
		open[s.Peer]++
	}
	peers, err := n.Peers()
	if err != nil {
		return r, fmt.Errorf("health: peers: %w", err)
	}
	ring, err := n.Keyring()
	if err != nil {
		return r, fmt.Errorf("health: keyring: %w", err)
	}
	for _, pp := range peers {
		hp := Peer{Peer: pp, OpenSplitViews: open[pp.Name]}
		if c := pp.Cert(); c != nil {
			hp.CertExpires = c.NotAfter
		}
		for _, k := range ring.Keys() {
			if k.Node == pp.Name {
				hp.Keys = append(hp.Keys, k)
			}
		}
		if pp.Witness {
			cs, err := st.LatestAuditCosignature(ctx, pp.Name)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return r, fmt.Errorf("health: cosignature of %s: %w", pp.Name, err)
			}
			hp.CosignedSize, hp.Cosigned = cs.Size, cs.Created
		}
		r.Peers = append(r.Peers, hp)
	}
	r.DataBytes, r.DataFiles, err = diskUse(ctx, n.Dir())
	if err != nil {
		return r, fmt.Errorf("health: data directory: %w", err)
	}
	return r, nil
}

// backend names the store's kind from its package.
func backend(st store.Store) string {
	if strings.Contains(fmt.Sprintf("%T", st), "postgres") {
		return "PostgreSQL"
	}
	return "SQLite"
}

// diskUse adds up the sizes of the regular files under dir.
func diskUse(ctx context.Context, dir string) (int64, int, error) {
	var size int64
	var files int
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // a file removed while we walk (a WAL checkpoint)
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		fi, err := d.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		size += fi.Size()
		files++
		return nil
	})
	return size, files, err
}
