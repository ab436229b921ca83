package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/store"
)

// BenchmarkPublishToPartnerLatency times, per object, from the moment a
// release is acknowledged at GBR (Ingest and Release have both returned:
// the ledger entry and its outbox row are committed) to the moment the
// object is readable at the USA (its version is returned by the USA
// store's Versions, the read path of the API), both nodes idle otherwise,
// on loopback over mutual TLS. Readability is checked every 100µs, which
// bounds the measurement's resolution.
func BenchmarkPublishToPartnerLatency(b *testing.B) {
	ctx := context.Background()
	c := newScenario(b, sqliteBackend, "gbr", "usa")
	gbr, usa := c.Member("gbr"), c.Member("usa")
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		id, err := Publish(ctx, gbr, smallObject(i))
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		res, err := gbr.Node.Releases.Release(ctx, gbr.Analyst, id, "usa", "analysis")
		if err != nil || res.Outcome != "release" {
			b.Fatalf("release: %+v %v", res, err)
		}
		acked := time.Now()
		for {
			vs, err := usa.Node.Store().Versions(ctx, id)
			if err == nil && len(vs) == 1 {
				break
			}
			if time.Since(acked) > 10*time.Second {
				b.Fatalf("%s never arrived", id)
			}
			time.Sleep(100 * time.Microsecond)
		}
		lat = append(lat, time.Since(acked))
	}
	b.StopTimer()
	slices.Sort(lat)
	q := func(p float64) float64 { return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))]) / 1e6 }
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
}

// BenchmarkReplication times the delivery of a backlog: objects are
// published and released at GBR while its outbox is not running (not
// timed); then the clock starts, GBR's outbox starts, and the clock stops
// when the USA stores hold every object. What is timed is claim, read and
// unseal at GBR, the POST over mutual TLS, verification of every binding,
// the inbound decision, sealing, the store transaction and audit at the
// USA, and GBR recording the deliveries. Both nodes share the machine.
func BenchmarkReplication(b *testing.B) {
	const perRound = 4000
	ctx := context.Background()
	var total int
	var elapsed time.Duration
	for range b.N {
		b.StopTimer()
		c := newScenario(b, sqliteBackend, "gbr", "usa")
		gbr, usa := c.Member("gbr"), c.Member("usa")
		if err := c.Stop(gbr); err != nil {
			b.Fatal(err)
		}
		if err := c.Serve(gbr); err != nil {
			b.Fatal(err)
		}
		ids := publishMany(b, gbr, perRound)
		for _, id := range ids {
			if res, err := gbr.Node.Releases.Release(ctx, gbr.Analyst, id, "usa", "analysis"); err != nil || res.Outcome != "release" {
				b.Fatalf("release: %+v %v", res, err)
			}
		}
		b.StartTimer()
		start := time.Now()
		c.StartOutbox(gbr)
		// Delivery is in outbox order, so the last object arriving means
		// all have (checked below, outside the clock).
		last := ids[len(ids)-1]
		for {
			if vs, err := usa.Node.Store().Versions(ctx, last); err == nil && len(vs) == 1 {
				break
			}
			if time.Since(start) > 2*time.Minute {
				b.Fatal("the backlog never arrived")
			}
			time.Sleep(2 * time.Millisecond)
		}
		elapsed += time.Since(start)
		b.StopTimer()
		classes := allClassesOf(b, usa)
		if n, err := usa.Node.Store().Count(ctx, store.ListQuery{Types: []string{"threat-actor"}, Classes: classes}); err != nil || n != perRound {
			b.Fatalf("usa holds %d of %d (%v)", n, perRound, err)
		}
		total += perRound
		c.Close()
	}
	b.ReportMetric(float64(total)/elapsed.Seconds(), "objects/s")
}

func allClassesOf(b testing.TB, m *Member) []int64 { return allClasses(b, m) }

// publishMany ingests n small NATO RESTRICTED objects at m in one bundle.
func publishMany(b testing.TB, m *Member, n int) []string {
	b.Helper()
	reg := m.Node.Registry()
	l, err := reg.ParseBanner("NATO RESTRICTED // DISC OSINT // TOPIC CYBER")
	if err != nil {
		b.Fatal(err)
	}
	objs := []json.RawMessage{reg.MarkingDefinition(l)}
	ids := make([]string, n)
	for i := range n {
		ids[i] = "threat-actor--" + uuid.NewString()
		t := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC).Format("2006-01-02T15:04:05.000Z")
		raw, _ := json.Marshal(map[string]any{"type": "threat-actor", "spec_version": "2.1", "id": ids[i], "created": t, "modified": t,
			"name": fmt.Sprintf("actor %d", i), "description": "replicated in a benchmark", "object_marking_refs": []string{l.ID()}})
		objs = append(objs, raw)
	}
	bundle, _ := json.Marshal(map[string]any{"type": "bundle", "id": "bundle--" + uuid.NewString(), "objects": objs})
	res, err := m.Node.Ingest(context.Background(), m.Analyst, bundle, node.IngestOptions{})
	if err != nil || len(res.Refused) > 0 {
		b.Fatalf("ingest: %v %v", err, res.Refused)
	}
	return ids
}
