package sqlite

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// mergeCounts is what the id index's background merges did.
type mergeCounts struct {
	mu       sync.Mutex
	merges   int64
	failures int64
	seconds  float64
}

func (m *mergeCounts) record(took time.Duration, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.merges++
	m.seconds += took.Seconds()
	if err != nil {
		m.failures++
	}
}

func (m *mergeCounts) read() (merges, failures int64, seconds float64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.merges, m.failures, m.seconds
}

// Collector returns the store's metrics for an operator: the id index's
// tail (ids waiting in memory for a merge) and its background merges, and
// the group commits of read audit entries (CommitAudit).
// A tail that keeps growing while merges fail means the next start reads
// more rows back.
func (s *Store) Collector() prometheus.Collector {
	return collectors{storeCollector{s}, s.audit}
}

// collectors is several collectors as one.
type collectors []prometheus.Collector

func (cs collectors) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range cs {
		c.Describe(ch)
	}
}

func (cs collectors) Collect(ch chan<- prometheus.Metric) {
	for _, c := range cs {
		c.Collect(ch)
	}
}

type storeCollector struct{ s *Store }

var (
	tailDesc = prometheus.NewDesc("tearline_sqlite_id_tail_entries",
		"Object versions indexed in memory only, waiting for the next merge into object_ids.", nil, nil)
	mergesDesc = prometheus.NewDesc("tearline_sqlite_id_merges_total",
		"Background merges of the id index's tail into object_ids.", nil, nil)
	mergeFailuresDesc = prometheus.NewDesc("tearline_sqlite_id_merge_failures_total",
		"Background merges that failed (the tail is kept; the next merge retries).", nil, nil)
	mergeSecondsDesc = prometheus.NewDesc("tearline_sqlite_id_merge_seconds_total",
		"Time spent in background merges of the id index.", nil, nil)
)

func (c storeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- tailDesc
	ch <- mergesDesc
	ch <- mergeFailuresDesc
	ch <- mergeSecondsDesc
}

func (c storeCollector) Collect(ch chan<- prometheus.Metric) {
	merges, failures, seconds := c.s.merging.read()
	ch <- prometheus.MustNewConstMetric(tailDesc, prometheus.GaugeValue, float64(c.s.ids.TailSize()))
	ch <- prometheus.MustNewConstMetric(mergesDesc, prometheus.CounterValue, float64(merges))
	ch <- prometheus.MustNewConstMetric(mergeFailuresDesc, prometheus.CounterValue, float64(failures))
	ch <- prometheus.MustNewConstMetric(mergeSecondsDesc, prometheus.CounterValue, seconds)
}
