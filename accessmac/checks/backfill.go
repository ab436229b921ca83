package checks

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/tearline/tearline/accessmac"
	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/store"
)

// backfillBatch is how many versions one transaction of the backfill seals.
const backfillBatch = 4096

// backfill computes the MAC of every version stored before access MACs
// existed that has none, and records that it is done, in an audit entry
// too when there were any. It runs at every open and costs one query and
// one small write once done.
func backfill(ctx context.Context, st store.Store, s *accessmac.Sealer, a Auditor, actor string, lg *slog.Logger) error {
	started := time.Now()
	classes := map[int64][]string{}
	var after, count int64
	for {
		vs, err := st.PendingAccessMACs(ctx, after, backfillBatch)
		if err != nil {
			return fmt.Errorf("access MAC backfill: %w", err)
		}
		if len(vs) == 0 {
			break
		}
		macs := make([]store.AccessMAC, len(vs))
		for i := range vs {
			v := &vs[i]
			ids, ok := classes[v.Class]
			if !ok {
				cs, err := st.AccessClasses(ctx, 0)
				if err != nil {
					return fmt.Errorf("access MAC backfill: %w", err)
				}
				for _, c := range cs {
					classes[c.ID] = c.LabelIDs
				}
				// A class the row names but the store lacks gets no
				// labels: the MAC then never matches a class made later.
				ids = classes[v.Class]
			}
			macs[i] = store.AccessMAC{Seq: v.Seq, MAC: s.Sum(accessmac.FactsOf(v, ids))}
		}
		if err := st.Update(ctx, func(tx store.Tx) error { return tx.PutAccessMACs(ctx, macs) }); err != nil {
			return fmt.Errorf("access MAC backfill: %w", err)
		}
		after, count = vs[len(vs)-1].Seq, count+int64(len(vs))
	}
	err := st.Update(ctx, func(tx store.Tx) error {
		if err := tx.FinishAccessMACs(ctx); err != nil {
			return err
		}
		if count == 0 {
			return nil
		}
		return a.AppendAudit(ctx, tx, audit.Event{Actor: actor, Action: audit.ActionAccessBackfill, Decision: audit.Accept,
			Count: int(count), Detail: "up to seq " + strconv.FormatInt(after, 10)})
	})
	if err != nil {
		return fmt.Errorf("access MAC backfill: %w", err)
	}
	if count > 0 {
		lg.Info("access MACs computed for versions stored before them", "versions", count, "took", time.Since(started).Round(time.Millisecond))
	}
	return nil
}
