package delivery_test

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tearline/tearline/node/nodetest"
)

// TestDeliveryMetrics: Prometheus counts each delivery state. While the
// partner is down, releases to it show as retrying (the gauge, read from
// the store) and the retries are counted; once it is back, they are counted
// delivered and nothing waits.
func TestDeliveryMetrics(t *testing.T) {
	gbr, fra := nodetest.NewFedPair(t, "analysis")
	reg := prometheus.NewRegistry()
	reg.MustRegister(gbr.N.Deliveries.DeliveryMetrics())
	gauge := func(state string) float64 {
		t.Helper()
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() != "tearline_federation_deliveries" {
				continue
			}
			for _, m := range mf.GetMetric() {
				for _, l := range m.GetLabel() {
					if l.GetName() == "state" && l.GetValue() == state {
						return m.GetGauge().GetValue()
					}
				}
			}
		}
		return -1
	}
	counted := func(state string) float64 {
		t.Helper()
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() != "tearline_federation_deliveries_total" {
				continue
			}
			for _, m := range mf.GetMetric() {
				for _, l := range m.GetLabel() {
					if l.GetName() == "state" && l.GetValue() == state {
						return m.GetCounter().GetValue()
					}
				}
			}
		}
		return 0
	}

	fra.Stop()
	var ids []string
	for range 2 {
		id := gbr.IngestAs(t, nodetest.Actor(nodetest.NewID("threat-actor"), nil), nodetest.OKBanner)
		nodetest.MustRelease(t, gbr.N, gbr.Admin, id, "fra")
		ids = append(ids, id)
	}
	nodetest.Eventually(t, "both deliveries to show as retrying", func() bool {
		return gauge("retrying") >= 2 && counted("retrying") >= 2
	})
	if counted("delivered") != 0 {
		t.Fatalf("delivered counted while the partner was down: %v", counted("delivered"))
	}
	fra.Start(t)
	for _, id := range ids {
		nodetest.Eventually(t, "fra to hold "+id, func() bool { return nodetest.Held(fra.N, id) })
	}
	nodetest.Eventually(t, "the deliveries to be counted delivered and nothing to wait", func() bool {
		return counted("delivered") >= 2 && gauge("retrying") == 0 && gauge("queued") == 0 && gauge("failed") == 0
	})
}
