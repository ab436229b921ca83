package oversight

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/tearline/tearline/node"
)

// Witnessing metrics are read from the store at each scrape: split views
// and rollbacks are rows there, so every replica reports the same counts
// and they survive restarts.
var (
	splitOpenDesc = prometheus.NewDesc("tearline_witness_split_views_open",
		"Split views of partners' audit logs not yet acknowledged (deliveries to those partners are paused), by peer.", []string{"peer"}, nil)
	splitTotalDesc = prometheus.NewDesc("tearline_witness_split_views_total",
		"Split views of partners' audit logs ever recorded.", nil, nil)
	rollbackDesc = prometheus.NewDesc("tearline_witness_rollbacks_acknowledged_total",
		"Rollbacks partners' logs declared by signed statements and this witness acknowledged.", nil, nil)
	cosignedDesc = prometheus.NewDesc("tearline_audit_cosigned_size",
		"The largest checkpoint size of this node's audit log each witness cosigned, by witness.", []string{"witness"}, nil)
)

// WitnessCollector returns the witnessing metrics of n.
func (ov *Service) WitnessCollector() prometheus.Collector { return witnessCollector{ov.n} }

type witnessCollector struct{ n *node.Node }

func (c witnessCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- splitOpenDesc
	ch <- splitTotalDesc
	ch <- rollbackDesc
	ch <- cosignedDesc
}

func (c witnessCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st := c.n.Store()
	svs, err := st.SplitViews(ctx, "", false)
	if err != nil {
		c.n.Logger().Warn("witness metrics", "err", err)
		return
	}
	open := map[string]int{}
	for _, s := range svs {
		if s.AckedAt.IsZero() {
			open[s.Peer]++
		}
	}
	for p, k := range open {
		ch <- prometheus.MustNewConstMetric(splitOpenDesc, prometheus.GaugeValue, float64(k), p)
	}
	ch <- prometheus.MustNewConstMetric(splitTotalDesc, prometheus.CounterValue, float64(len(svs)))
	logs, err := st.WitnessedLogs(ctx)
	if err != nil {
		c.n.Logger().Warn("witness metrics", "err", err)
		return
	}
	rbs := 0
	for _, l := range logs {
		rs, err := st.WitnessRollbacks(ctx, l.Origin)
		if err != nil {
			c.n.Logger().Warn("witness metrics", "err", err)
			return
		}
		rbs += len(rs)
	}
	ch <- prometheus.MustNewConstMetric(rollbackDesc, prometheus.CounterValue, float64(rbs))
	peers, err := c.n.Peers()
	if err != nil {
		return
	}
	for _, p := range peers {
		if !p.Witness {
			continue
		}
		cs, err := st.LatestAuditCosignature(ctx, p.Name)
		if err == nil {
			ch <- prometheus.MustNewConstMetric(cosignedDesc, prometheus.GaugeValue, float64(cs.Size), p.Name)
		}
	}
}
