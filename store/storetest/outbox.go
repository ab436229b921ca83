package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/tearline/tearline/store"
)

var outboxTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"Outbox", testOutbox},
	{"OutboxOrderAndBackoff", testOutboxOrder},
	{"OutboxRollback", testOutboxRollback},
	{"Cursors", testCursors},
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
	if err := s.MarkFailed(ctx, now.Add(time.Minute), "connection refused", items[0].ID); err != nil {
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
