package recordstest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/store/storetest/internal/suite"
)

var followupTests = []suite.Test{
	{Name: "Followups", Fn: testFollowups},
}

// A follow-up row commits with its transaction or not at all, is listed
// until taken, is taken once, and keeps its failed runs.
func testFollowups(t *testing.T, s store.Store) {
	ctx := context.Background()
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	boom := errors.New("boom")
	if err := s.Update(ctx, func(tx store.Tx) error {
		if err := tx.AddFollowup(ctx, &store.Followup{Kind: store.FollowupAutoRelease, Actor: "alice", Payload: []byte("x"), Created: now}); err != nil {
			return err
		}
		return boom
	}); !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if got, err := s.PendingFollowups(ctx, 0, 10); err != nil || len(got) != 0 {
		t.Fatalf("after a rollback: %v %+v", err, got)
	}
	a := &store.Followup{Kind: store.FollowupAutoRelease, Actor: "alice", Payload: []byte(`[1]`), Created: now}
	b := &store.Followup{Kind: store.FollowupSighting, Actor: "auto-release", Source: "usa", Payload: []byte(`[2]`), Created: now}
	if err := s.Update(ctx, func(tx store.Tx) error {
		if err := tx.AddFollowup(ctx, a); err != nil {
			return err
		}
		return tx.AddFollowup(ctx, b)
	}); err != nil {
		t.Fatal(err)
	}
	if a.ID == 0 || b.ID <= a.ID {
		t.Fatalf("ids %d, %d", a.ID, b.ID)
	}
	got, err := s.PendingFollowups(ctx, 0, 10)
	if err != nil || len(got) != 2 || got[0].ID != a.ID || got[1].Source != "usa" || got[1].Kind != store.FollowupSighting ||
		string(got[0].Payload) != `[1]` || got[0].Actor != "alice" || !got[0].Created.Equal(now) {
		t.Fatalf("pending: %v %+v", err, got)
	}
	if got, err := s.PendingFollowups(ctx, a.ID, 10); err != nil || len(got) != 1 || got[0].ID != b.ID {
		t.Fatalf("pending after %d: %v %+v", a.ID, err, got)
	}
	if err := s.FollowupFailed(ctx, a.ID, "store busy"); err != nil {
		t.Fatal(err)
	}
	// Taken in a transaction that rolls back: still there.
	if err := s.Update(ctx, func(tx store.Tx) error {
		if ok, err := tx.TakeFollowup(ctx, a.ID); err != nil || !ok {
			t.Errorf("take: %v %v", ok, err)
		}
		return boom
	}); !errors.Is(err, boom) {
		t.Fatal(err)
	}
	got, err = s.PendingFollowups(ctx, 0, 10)
	if err != nil || len(got) != 2 || got[0].Attempts != 1 || got[0].LastError != "store busy" {
		t.Fatalf("after a failed run and a rolled-back take: %v %+v", err, got)
	}
	// Taken once.
	for i, want := range []bool{true, false} {
		if err := s.Update(ctx, func(tx store.Tx) error {
			ok, err := tx.TakeFollowup(ctx, a.ID)
			if err == nil && ok != want {
				t.Errorf("take %d = %v, want %v", i, ok, want)
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := s.PendingFollowups(ctx, 0, 10); err != nil || len(got) != 1 || got[0].ID != b.ID {
		t.Fatalf("after the take: %v %+v", err, got)
	}
}
