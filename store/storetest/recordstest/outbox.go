package recordstest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/store/storetest/internal/suite"
)

var outboxTests = []suite.Test{
	{Name: "Outbox", Fn: testOutbox},
	{Name: "OutboxOrderAndBackoff", Fn: testOutboxOrder},
	{Name: "OutboxRollback", Fn: testOutboxRollback},
	{Name: "OutboxStates", Fn: testOutboxStates},
	{Name: "Cursors", Fn: testCursors},
}

func enqueue(t *testing.T, s store.Store, items ...*store.OutboxItem) {
	t.Helper()
	if err := s.Update(context.Background(), func(tx store.Tx) error { return tx.EnqueueOutbox(context.Background(), items...) }); err != nil {
		t.Fatal(err)
	}
}

func testOutbox(t *testing.T, s store.Store) {
	ctx := context.Background()
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	a := &store.OutboxItem{Peer: "usa", Kind: store.OutboxObjects, Payload: []byte(`{"a":1}`), Created: now}
	b := &store.OutboxItem{Peer: "fra", Kind: store.OutboxRecall, Payload: []byte(`{"b":2}`), Created: now}
	enqueue(t, s, a, b)
	if a.ID == 0 || b.ID <= a.ID {
		t.Fatalf("ids %d, %d: want increasing, set", a.ID, b.ID)
	}
	got, err := s.ClaimOutbox(ctx, "", now, 10, time.Minute)
	if err != nil || len(got) != 2 {
		t.Fatalf("claim: %v %+v", err, got)
	}
	// Leased: a second claimer gets nothing until the lease ends.
	if again, err := s.ClaimOutbox(ctx, "", now.Add(time.Second), 10, time.Minute); err != nil || len(again) != 0 {
		t.Fatalf("claim while leased: %v %+v", err, again)
	}
	if due, ok, err := s.NextOutboxDue(ctx); err != nil || !ok || !due.Equal(now.Add(time.Minute)) {
		t.Errorf("next due = %v %v %v, want the lease end", due, ok, err)
	}
	if again, err := s.ClaimOutbox(ctx, "usa", now.Add(2*time.Minute), 10, time.Minute); err != nil || len(again) != 1 || string(again[0].Payload) != `{"a":1}` {
		t.Fatalf("claim after the lease: %v %+v", err, again)
	}
	if err := s.MarkDelivered(ctx, now, a.ID, b.ID); err != nil {
		t.Fatal(err)
	}
	if got, err := s.ClaimOutbox(ctx, "", now.Add(time.Hour), 10, time.Minute); err != nil || len(got) != 0 {
		t.Fatalf("claim after delivery: %v %+v", err, got)
	}
	if _, ok, err := s.NextOutboxDue(ctx); err != nil || ok {
		t.Errorf("next due with nothing pending: %v %v", ok, err)
	}
	all, err := s.OutboxItems(ctx, "", 0, 10)
	if err != nil || len(all) != 2 || all[0].Delivered.IsZero() || all[0].Kind != store.OutboxObjects || all[1].Peer != "fra" {
		t.Fatalf("items: %v %+v", err, all)
	}
}

func testOutboxOrder(t *testing.T, s store.Store) {
	ctx := context.Background()
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	var items []*store.OutboxItem
	for range 3 {
		items = append(items, &store.OutboxItem{Peer: "usa", Kind: store.OutboxObjects, Payload: []byte("x"), Created: now})
	}
	items = append(items, &store.OutboxItem{Peer: "fra", Kind: store.OutboxObjects, Payload: []byte("y"), Created: now})
	enqueue(t, s, items...)
	got, err := s.ClaimOutbox(ctx, "usa", now, 1, time.Minute)
	if err != nil || len(got) != 1 || got[0].ID != items[0].ID {
		t.Fatalf("claim first: %v %+v", err, got)
	}
	// The first fails: it waits for its retry, and nothing of usa after it
	// may overtake it; fra is not held up.
	if err := s.MarkRetry(ctx, now.Add(time.Minute), "network", "connection refused", items[0].ID); err != nil {
		t.Fatal(err)
	}
	got, err = s.ClaimOutbox(ctx, "", now.Add(time.Second), 10, time.Minute)
	if err != nil || len(got) != 1 || got[0].Peer != "fra" {
		t.Fatalf("claim while usa backs off: %v %+v", err, got)
	}
	got, err = s.ClaimOutbox(ctx, "usa", now.Add(2*time.Minute), 10, time.Minute)
	if err != nil || len(got) != 3 || got[0].ID != items[0].ID || got[0].Attempts != 1 || got[0].LastError != "connection refused" {
		t.Fatalf("claim after backoff: %v %+v", err, got)
	}
	for i := 1; i < len(got); i++ {
		if got[i].ID <= got[i-1].ID {
			t.Errorf("claim order: %d after %d", got[i].ID, got[i-1].ID)
		}
	}
}

func testOutboxRollback(t *testing.T, s store.Store) {
	ctx := context.Background()
	err := s.Update(ctx, func(tx store.Tx) error {
		if err := tx.EnqueueOutbox(ctx, &store.OutboxItem{Peer: "usa", Kind: store.OutboxObjects, Payload: []byte("x"), Created: time.Now()}); err != nil {
			return err
		}
		return context.Canceled
	})
	if err == nil {
		t.Fatal("Update returned nil")
	}
	if items, err := s.OutboxItems(ctx, "", 0, 10); err != nil || len(items) != 0 {
		t.Errorf("a rolled-back enqueue left %+v (%v)", items, err)
	}
}

func testCursors(t *testing.T, s store.Store) {
	ctx := context.Background()
	if v, err := s.Cursor(ctx, "pull:usa"); err != nil || v != "" {
		t.Fatalf("unset cursor: %q %v", v, err)
	}
	for _, v := range []string{"2026-06-01T12:00:00.000001Z", "2026-06-01T12:00:01Z"} {
		if err := s.SetCursor(ctx, "pull:usa", v); err != nil {
			t.Fatal(err)
		}
		if got, err := s.Cursor(ctx, "pull:usa"); err != nil || got != v {
			t.Fatalf("cursor = %q %v, want %q", got, err, v)
		}
	}
}

// Each item has a delivery state: queued, retrying (attempts, next attempt,
// reason), delivered, failed (reason). A failed item holds nothing of its
// peer back, is found by its ledger entry, and can be made due again.
func testOutboxStates(t *testing.T, s store.Store) {
	ctx := context.Background()
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	a := &store.OutboxItem{Peer: "usa", Kind: store.OutboxObjects, Payload: []byte("a"), Created: now, Ledger: 7}
	b := &store.OutboxItem{Peer: "usa", Kind: store.OutboxObjects, Payload: []byte("b"), Created: now, Ledger: 8}
	c := &store.OutboxItem{Peer: "usa", Kind: store.OutboxRecall, Payload: []byte("c"), Created: now}
	enqueue(t, s, a, b, c)
	state := func(id int64) store.OutboxItem {
		t.Helper()
		all, err := s.OutboxItems(ctx, "usa", id-1, 1)
		if err != nil || len(all) != 1 || all[0].ID != id {
			t.Fatalf("item %d: %v %+v", id, err, all)
		}
		return all[0]
	}
	counts := func(want map[string]int) {
		t.Helper()
		got, err := s.OutboxCounts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("counts = %v, want %v", got, want)
				return
			}
		}
	}
	if it := state(a.ID); it.State() != store.DeliveryQueued || it.Ledger != 7 || !it.Queued.Equal(now) {
		t.Fatalf("new item: %+v", it)
	}
	counts(map[string]int{store.DeliveryQueued: 3, store.DeliveryRetrying: 0, store.DeliveryFailed: 0})
	// a: a transient failure, then a permanent one.
	if err := s.MarkRetry(ctx, now.Add(time.Minute), "unknown-key", "refused by usa: unknown key", a.ID); err != nil {
		t.Fatal(err)
	}
	if it := state(a.ID); it.State() != store.DeliveryRetrying || it.Attempts != 1 || it.Reason != "unknown-key" || !it.NextAttempt.Equal(now.Add(time.Minute)) {
		t.Fatalf("retrying: %+v", it)
	}
	counts(map[string]int{store.DeliveryQueued: 2, store.DeliveryRetrying: 1})
	if err := s.MarkFailed(ctx, now.Add(2*time.Minute), "policy", "refused by usa: no agreement", a.ID); err != nil {
		t.Fatal(err)
	}
	it := state(a.ID)
	if it.State() != store.DeliveryFailed || it.Reason != "policy" || it.LastError != "refused by usa: no agreement" || !it.Delivered.IsZero() {
		t.Fatalf("failed: %+v", it)
	}
	counts(map[string]int{store.DeliveryQueued: 2, store.DeliveryRetrying: 0, store.DeliveryFailed: 1})
	// A failed item does not hold later ones back, and is never claimed.
	got, err := s.ClaimOutbox(ctx, "", now.Add(time.Hour), 10, time.Minute)
	if err != nil || len(got) != 2 || got[0].ID != b.ID || got[1].ID != c.ID {
		t.Fatalf("claim past a failed item: %v %+v", err, got)
	}
	if err := s.MarkDelivered(ctx, now.Add(time.Hour), b.ID, c.ID); err != nil {
		t.Fatal(err)
	}
	// A failed item cannot be delivered late, nor marked for retry by the loop.
	if err := s.MarkRetry(ctx, now, "network", "x", a.ID); err != nil {
		t.Fatal(err)
	}
	if it := state(a.ID); it.State() != store.DeliveryFailed || it.Attempts != 1 {
		t.Fatalf("MarkRetry changed a failed item: %+v", it)
	}
	if _, ok, err := s.NextOutboxDue(ctx); err != nil || ok {
		t.Errorf("next due with only a failed item: %v %v", ok, err)
	}
	byLedger, err := s.OutboxOfLedger(ctx, []int64{7, 8, 9})
	if err != nil || len(byLedger) != 2 || byLedger[7].ID != a.ID || byLedger[8].State() != store.DeliveryDelivered {
		t.Fatalf("by ledger: %v %+v", err, byLedger)
	}
	// Retry by hand: queued again from now, and claimed again.
	later := now.Add(48 * time.Hour)
	if err := s.RetryOutbox(ctx, b.ID, later); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("retry of a delivered item = %v, want ErrNotFound", err)
	}
	if err := s.RetryOutbox(ctx, 1<<40, later); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("retry of no item = %v, want ErrNotFound", err)
	}
	if err := s.RetryOutbox(ctx, a.ID, later); err != nil {
		t.Fatal(err)
	}
	if it := state(a.ID); it.State() != store.DeliveryQueued || it.Attempts != 0 || it.Reason != "" || !it.Queued.Equal(later) {
		t.Fatalf("after retry: %+v", it)
	}
	got, err = s.ClaimOutbox(ctx, "", later, 10, time.Minute)
	if err != nil || len(got) != 1 || got[0].ID != a.ID {
		t.Fatalf("claim after retry: %v %+v", err, got)
	}
}

// DeliveryMigrationRow is one outbox row as the schema before delivery
// states held it (peer "usa"); a backend's migration test inserts them in
// order, then opens the store with the current schema.
type DeliveryMigrationRow struct {
	Kind        string
	Payload     []byte
	CreatedUS   int64
	DeliveredUS int64
	LastError   string
}

// DeliveryMigrationRows returns the rows: an object delivered, one refused
// for good (then marked delivered, with the refusal kept), a recall
// waiting.
func DeliveryMigrationRows() []DeliveryMigrationRow {
	return []DeliveryMigrationRow{
		{store.OutboxObjects, []byte(`{"ledger":5,"object":"indicator--a","modified":"m"}`), 100, 150, ""},
		{store.OutboxObjects, []byte(`{"ledger":6,"object":"indicator--b","modified":"m"}`), 200, 250, "refused by usa: binding x does not verify"},
		{store.OutboxRecall, []byte(`{"x":1}`), 300, 0, ""},
	}
}

// CheckDeliveryMigration checks a store opened on DeliveryMigrationRows:
// the delivered row is delivered, the refused one failed (not delivered),
// the waiting one queued; each objects row is found by its ledger entry.
func CheckDeliveryMigration(t *testing.T, s store.Store) {
	t.Helper()
	ctx := context.Background()
	all, err := s.OutboxItems(ctx, "", 0, 10)
	if err != nil || len(all) != 3 {
		t.Fatalf("items: %v %+v", err, all)
	}
	want := []struct {
		state  string
		ledger int64
	}{{store.DeliveryDelivered, 5}, {store.DeliveryFailed, 6}, {store.DeliveryQueued, 0}}
	for i, w := range want {
		it := all[i]
		if it.State() != w.state || it.Ledger != w.ledger || !it.Queued.Equal(it.Created) {
			t.Errorf("row %d: state %s ledger %d queued %v; want %s %d %v", i, it.State(), it.Ledger, it.Queued, w.state, w.ledger, it.Created)
		}
	}
	if all[1].Reason != "refused" || all[1].LastError == "" || !all[1].Delivered.IsZero() {
		t.Errorf("refused row: %+v", all[1])
	}
	byLedger, err := s.OutboxOfLedger(ctx, []int64{5, 6})
	if err != nil || byLedger[5].ID != all[0].ID || byLedger[6].ID != all[1].ID {
		t.Errorf("by ledger: %v %+v", err, byLedger)
	}
	// The waiting row is still claimed; the failed one is not.
	got, err := s.ClaimOutbox(ctx, "", time.Now(), 10, time.Minute)
	if err != nil || len(got) != 1 || got[0].ID != all[2].ID {
		t.Errorf("claim: %v %+v", err, got)
	}
}
