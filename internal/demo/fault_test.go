package demo

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/tearline/tearline/store"
)

// smallObject is a NATO RESTRICTED open-source object GBR may release to
// the USA automatically.
func smallObject(i int) Labelled {
	t := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second).Format("2006-01-02T15:04:05.000Z")
	return Labelled{Object: map[string]any{"type": "threat-actor", "spec_version": "2.1", "id": "threat-actor--" + uuid.NewString(),
		"created": t, "modified": t, "name": fmt.Sprintf("actor %d", i)},
		Banner: "NATO RESTRICTED // DISC OSINT // TOPIC CYBER"}
}

// TestFederationPartnerDown stops the partner while its peer keeps
// publishing, then starts it again: every permitted object arrives exactly
// once.
func TestFederationPartnerDown(t *testing.T) { eachBackend(t, testFederationPartnerDown) }

func testFederationPartnerDown(t *testing.T, b backend) {
	ctx := context.Background()
	c := newScenario(t, b, "gbr", "usa")
	gbr, usa := c.Member("gbr"), c.Member("usa")
	const total, downAt, upAt = 150, 30, 100
	var ids []string
	for i := range total {
		switch i {
		case downAt:
			if err := c.Stop(usa); err != nil {
				t.Fatal(err)
			}
		case upAt:
			if err := c.Start(usa); err != nil {
				t.Fatal(err)
			}
		}
		id, err := Publish(ctx, gbr, smallObject(i))
		if err != nil {
			t.Fatal(err)
		}
		res, err := gbr.Node.Releases.Release(ctx, gbr.Analyst, id, "usa", "analysis")
		if err != nil || res.Outcome != "release" {
			t.Fatalf("release %d: %+v %v", i, res, err)
		}
		ids = append(ids, id)
		if i == downAt+10 {
			// While the partner is down, the outbox waits with a failed attempt.
			items, err := gbr.Node.Store().OutboxItems(ctx, "usa", 0, 1000)
			if err != nil {
				t.Fatal(err)
			}
			failed := 0
			for _, it := range items {
				if it.Attempts > 0 && it.Delivered.IsZero() {
					failed++
				}
			}
			if failed == 0 {
				time.Sleep(100 * time.Millisecond) // let one attempt fail
			}
		}
	}
	waitFor(t, "every object at usa", func() bool {
		n, err := usa.Node.Store().Count(ctx, store.ListQuery{Types: []string{"threat-actor"}, Classes: allClasses(t, usa)})
		return err == nil && n == total
	})
	for _, id := range ids {
		if vs := versions(t, usa, id); len(vs) != 1 {
			t.Fatalf("%s: %d versions at usa, want exactly 1", id, len(vs))
		}
	}
	// The partner stores a batch before the sender hears back and records
	// the delivery: wait for gbr's side too.
	var items []store.OutboxItem
	waitFor(t, "gbr's outbox to record every delivery", func() bool {
		var err error
		if items, err = gbr.Node.Store().OutboxItems(ctx, "usa", 0, 10000); err != nil {
			t.Fatal(err)
		}
		for _, it := range items {
			if it.Delivered.IsZero() {
				return false
			}
		}
		return true
	})
	retried := 0
	for _, it := range items {
		if it.Delivered.IsZero() {
			t.Errorf("outbox %d not delivered: %s", it.ID, it.LastError)
		}
		if it.Attempts > 0 {
			retried++
		}
	}
	if len(items) != total || retried == 0 {
		t.Errorf("outbox: %d items, %d retried; want %d items and some retried", len(items), retried, total)
	}
	t.Logf("%d objects delivered, %d after at least one failed attempt", total, retried)
}

func allClasses(t testing.TB, m *Member) []int64 {
	t.Helper()
	cs, err := m.Node.Store().AccessClasses(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, c := range cs {
		ids = append(ids, c.ID)
	}
	return ids
}
