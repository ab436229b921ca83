// Package retention purges what has outlived its retention: an agreement
// may say how long a partner may keep what it receives, and the receiving
// node records the time with each version received (per id, instance and
// version; ingest); serve sweeps for expired versions and crypto-shreds
// those versions alone (node's PurgeIn), audited with the reason
// "retention": the object's other versions and instances stay.
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

// PurgeExpired purges every version whose retention has passed and
// returns how many versions it purged.
func (s *Service) PurgeExpired(ctx context.Context) (int, error) {
	n := s.n
	purged := 0
	for {
		due, err := n.Store().Expired(ctx, n.Now(), 100)
		if err != nil {
			return purged, fmt.Errorf("retention: %w", err)
		}
		if len(due) == 0 {
			break
		}
		// One purge per instance, of its versions due. A version gone
		// since (purged otherwise) loses its retention row and is not
		// recorded again.
		type key struct {
			id   string
			inst int64
		}
		var order []key
		byInst := map[key][]time.Time{}
		for _, r := range due {
			k := key{r.ID, r.Instance}
			if _, ok := byInst[k]; !ok {
				order = append(order, k)
			}
			byInst[k] = append(byInst[k], r.ModifiedAt)
		}
		batch := 0
		err = n.Store().Update(ctx, func(tx store.Tx) error {
			batch = 0
			for _, k := range order {
				ts, err := n.PurgeIn(ctx, tx, "node:"+n.Config().Name,
					store.Purge{ID: k.id, Instance: k.inst, Versions: byInst[k], PurgedAt: n.Now(), Reason: node.PurgeRetention})
				if err != nil {
					return err
				}
				batch += len(store.PurgedVersions(ts))
			}
			return nil
		})
		if err != nil {
			return purged, fmt.Errorf("retention: %w", err)
		}
		purged += batch
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
