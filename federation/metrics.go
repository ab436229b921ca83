package federation

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tearline/tearline/store"
)

// Metrics counts deliveries by state for Prometheus:
//
//   - tearline_federation_deliveries_total{state}: state changes made by
//     this process's delivery loop (delivered, retrying, failed);
//   - tearline_federation_deliveries{state}: messages queued, retrying and
//     failed now, read from the store when scraped (every replica of a
//     PostgreSQL node sees the same).
//
// A nil *Metrics counts nothing.
type Metrics struct {
	st          store.Outbox
	transitions *prometheus.CounterVec
	now         *prometheus.Desc
}

// NewMetrics returns the delivery metrics over st.
func NewMetrics(st store.Outbox) *Metrics {
	return &Metrics{st: st,
		transitions: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tearline_federation_deliveries_total",
			Help: "Outbox messages that reached a delivery state in this process (delivered, retrying, failed)."}, []string{"state"}),
		now: prometheus.NewDesc("tearline_federation_deliveries", "Outbox messages now in each waiting state (queued, retrying, failed).", []string{"state"}, nil),
	}
}

func (m *Metrics) count(state string, n int) {
	if m == nil || n == 0 {
		return
	}
	m.transitions.WithLabelValues(state).Add(float64(n))
}

// Describe implements prometheus.Collector.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	m.transitions.Describe(ch)
	ch <- m.now
}

// Collect implements prometheus.Collector. A store that does not answer
// within a few seconds leaves the gauges out of this scrape.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	m.transitions.Collect(ch)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	counts, err := m.st.OutboxCounts(ctx)
	if err != nil {
		return
	}
	for _, s := range []string{store.DeliveryQueued, store.DeliveryRetrying, store.DeliveryFailed} {
		ch <- prometheus.MustNewConstMetric(m.now, prometheus.GaugeValue, float64(counts[s]), s)
	}
}
