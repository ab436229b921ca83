package checks

import (
	"context"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tearline/tearline/accessmac"
	"github.com/tearline/tearline/audit"
)

// reporter reports the versions reads leave out because their access MAC
// does not match: a metric for each, and, once per version and process, a
// log line and an audit entry. Audit entries are written by a goroutine
// of their own: a mismatch may be met inside a write transaction, which
// must not wait on another.
type reporter struct {
	audit      Auditor
	actor      string
	log        *slog.Logger
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

func newReporter(a Auditor, actor string, lg *slog.Logger) *reporter {
	return &reporter{audit: a, actor: actor, log: lg, seen: map[int64]bool{},
		mismatches: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tearline_access_mac_mismatches_total",
			Help: "Stored object versions left out of a read because their access MAC does not match (a rewritten class, label, binding, id, version or digest), by reason; each read that meets one counts."},
			[]string{"reason"})}
}

// Mismatch reports m (accessmac.Reporter).
func (r *reporter) Mismatch(m accessmac.Mismatch) {
	r.mismatches.WithLabelValues(m.Reason).Inc()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seen[m.Seq] {
		return
	}
	if len(r.seen) >= maxSeen {
		clear(r.seen)
	}
	r.seen[m.Seq] = true
	r.log.Error("stored object version fails its access MAC: it reads as absent", "object", m.ID, "modified", m.Modified,
		"seq", m.Seq, "class", m.Class, "reason", m.Reason)
	r.pending = append(r.pending, audit.Event{Actor: r.actor, Action: audit.ActionAccessMismatch, Object: m.ID,
		Modified: m.Modified, Decision: audit.Deny, Reasons: []string{m.Reason},
		Detail: "seq=" + strconv.FormatInt(m.Seq, 10) + " class=" + strconv.FormatInt(m.Class, 10)})
	if !r.flushing {
		r.flushing = true
		r.wg.Add(1)
		go r.flush()
	}
}

// flush writes the pending audit entries until there are none.
func (r *reporter) flush() {
	defer r.wg.Done()
	for {
		r.mu.Lock()
		evs := r.pending
		r.pending = nil
		if len(evs) == 0 {
			r.flushing = false
			r.mu.Unlock()
			return
		}
		r.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		err := r.audit.RecordReads(ctx, evs...)
		cancel()
		if err != nil {
			r.log.Error("audit of access MAC mismatches", "entries", len(evs), "err", err)
		}
	}
}
