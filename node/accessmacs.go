package node

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tearline/tearline/accessmac"
	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/store"
)

// Stored access rules (docs/SECURITY.md, "Stored access rules"): the
// node's store is wrapped by package accessmac, which gives every version
// ingest stores a MAC over the facts a read decides on and checks it on
// every read and listing. This file holds what the node adds: the key, the
// backfill of rows older than the MACs, and the reports of mismatches.

// accessChecks reports the versions reads leave out because their access
// MAC does not match: a metric for each, and, once per version and
// process, a log line and an audit entry. Audit entries are written by a
// goroutine of their own: a mismatch may be met inside a write
// transaction, which must not wait on another.
type accessChecks struct {
	n          *Node
	mismatches *prometheus.CounterVec

	mu       sync.Mutex
	seen     map[int64]bool // versions reported, by seq
	pending  []audit.Event
	flushing bool
	wg       sync.WaitGroup // the flushing goroutine; Close waits for it
}

// maxSeen bounds the versions remembered as reported: past it the memory
// starts again, and versions are reported again.
const maxSeen = 1 << 20

func newAccessChecks(n *Node) *accessChecks {
	return &accessChecks{n: n, seen: map[int64]bool{},
		mismatches: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tearline_access_mac_mismatches_total",
			Help: "Stored object versions left out of a read because their access MAC does not match (a rewritten class, label or binding), by reason; each read that meets one counts."},
			[]string{"reason"})}
}

// Mismatch reports m (accessmac.Reporter).
func (a *accessChecks) Mismatch(m accessmac.Mismatch) {
	a.mismatches.WithLabelValues(m.Reason).Inc()
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.seen[m.Seq] {
		return
	}
	if len(a.seen) >= maxSeen {
		clear(a.seen)
	}
	a.seen[m.Seq] = true
	a.n.log.Error("stored object version fails its access MAC: it reads as absent", "object", m.ID, "modified", m.Modified,
		"seq", m.Seq, "class", m.Class, "reason", m.Reason)
	a.pending = append(a.pending, audit.Event{Actor: "node:" + a.n.cfg.Name, Action: audit.ActionAccessMismatch, Object: m.ID,
		Modified: m.Modified, Decision: audit.Deny, Reasons: []string{m.Reason},
		Detail: "seq=" + strconv.FormatInt(m.Seq, 10) + " class=" + strconv.FormatInt(m.Class, 10)})
	if !a.flushing {
		a.flushing = true
		a.wg.Add(1)
		go a.flush()
	}
}

// flush writes the pending audit entries until there are none.
func (a *accessChecks) flush() {
	defer a.wg.Done()
	for {
		a.mu.Lock()
		evs := a.pending
		a.pending = nil
		if len(evs) == 0 {
			a.flushing = false
			a.mu.Unlock()
			return
		}
		a.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		err := a.n.RecordReads(ctx, evs...)
		cancel()
		if err != nil {
			a.n.log.Error("audit of access MAC mismatches", "entries", len(evs), "err", err)
		}
	}
}

// AccessMACCollector returns the metric of access MAC mismatches.
func (n *Node) AccessMACCollector() prometheus.Collector { return n.checks.mismatches }

// openAccessMACs loads (or makes) the access MAC key, computes the MACs of
// the versions stored before MACs existed (once: the store records when it
// is done) and returns st wrapped in the checks.
func (n *Node) openAccessMACs(ctx context.Context, st store.Store) (*accessmac.Store, error) {
	key, err := nodeKey(ctx, st, n.sealed.Keys(), n.now(), accessmac.KeyName)
	if err != nil {
		return nil, fmt.Errorf("access MAC key: %w", err)
	}
	s, err := accessmac.New(key)
	clear(key)
	if err != nil {
		return nil, err
	}
	if err := n.backfillAccessMACs(ctx, st, s); err != nil {
		return nil, err
	}
	return accessmac.Wrap(st, s, n.classes, n.checks), nil
}

// backfillBatch is how many versions one transaction of the backfill seals.
const backfillBatch = 4096

// backfillAccessMACs computes the MAC of every version stored before
// access MACs existed that has none, and records that it is done, in an
// audit entry too when there were any. It runs at every Open and costs
// one query and one small write once done.
func (n *Node) backfillAccessMACs(ctx context.Context, st store.Store, s *accessmac.Sealer) error {
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
		return n.AppendAudit(ctx, tx, audit.Event{Actor: "node:" + n.cfg.Name, Action: audit.ActionAccessBackfill, Decision: audit.Accept,
			Count: int(count), Detail: "up to seq " + strconv.FormatInt(after, 10)})
	})
	if err != nil {
		return fmt.Errorf("access MAC backfill: %w", err)
	}
	if count > 0 {
		n.log.Info("access MACs computed for versions stored before them", "versions", count, "took", time.Since(started).Round(time.Millisecond))
	}
	return nil
}
