// Package retention purges what has outlived its retention: an agreement
// may say how long a partner may keep what it receives, and the receiving
// node records the time with the object (ingest); serve sweeps for expired
// objects and crypto-shreds them (node's Purge), audited with the reason
// "retention".
package retention

import (
	"context"
	"fmt"
	"time"

	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/store"
)

// Service purges the expired objects of one node.
type Service struct {
	n *node.Node
}

// New returns the retention sweep of n.
func New(n *node.Node) *Service { return &Service{n: n} }

// PurgeExpired purges every object whose retention has passed and returns
// how many it purged.
func (s *Service) PurgeExpired(ctx context.Context) (int, error) {
	n := s.n
	purged := 0
	for {
		ids, err := n.Store().Expired(ctx, n.Now(), 100)
		if err != nil {
			return purged, fmt.Errorf("retention: %w", err)
		}
		if len(ids) == 0 {
			break
		}
		err = n.Store().Update(ctx, func(tx store.Tx) error {
			for _, id := range ids {
				// An id with no versions left still loses its retention row.
				if _, err := n.PurgeIn(ctx, tx, "node:"+n.Config().Name, store.WholeObject(id, n.Now(), node.PurgeRetention)); err != nil {
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

// Run purges expired objects every interval until ctx ends. serve
// runs it beside the API.
func (s *Service) Run(ctx context.Context, interval time.Duration) {
	n := s.n
	if interval <= 0 {
		interval = DefaultRetentionInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if c, err := s.PurgeExpired(ctx); err != nil && ctx.Err() == nil {
			n.Logger().Error("retention sweep", "err", err)
		} else if c > 0 {
			n.Logger().Info("retention sweep", "purged", c)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
