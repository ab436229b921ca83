package oversight_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/nodetest"
	"github.com/tearline/tearline/node/stack"
	"github.com/tearline/tearline/node/users"
	"github.com/tearline/tearline/store"
)

// appendReads appends n object.read entries by actors user:u0..u999 on
// objects indicator--...0..9999, in transactions of 1,000.
func appendReads(tb testing.TB, n *stack.Node, from, count int) {
	tb.Helper()
	ctx := context.Background()
	for done := 0; done < count; done += 1000 {
		evs := make([]audit.Event, 0, 1000)
		for i := from + done; i < from+min(done+1000, count); i++ {
			evs = append(evs, audit.Event{Actor: fmt.Sprintf("user:u%d", i%1000), Action: audit.ActionRead,
				Object: fmt.Sprintf("indicator--00000000-0000-4000-8000-%012d", i%10000), Decision: audit.Allow})
		}
		if err := n.Store().Update(ctx, func(tx store.Tx) error { return n.AppendAudit(ctx, tx, evs...) }); err != nil {
			tb.Fatal(err)
		}
	}
}

// TestIndexAuditCatchesUp: entries appended between two searches are found
// by the second without anything else indexing them, each once.
func TestIndexAuditCatchesUp(t *testing.T) {
	ctx := context.Background()
	n := nodetest.New(t, "gbr", "GBR")
	aud, _ := nodetest.AddUser(t, n, users.UserSpec{Name: "audrey", Role: node.RoleAuditor, Nationality: "GBR"})
	appendReads(t, n, 0, 2500)
	es, err := n.Oversight.FindAudit(ctx, aud, store.AuditFilter{Actor: "user:u7"})
	if err != nil || len(es) != 3 {
		t.Fatalf("u7's entries = %d, %v; want 3", len(es), err)
	}
	appendReads(t, n, 2500, 1000)
	es, err = n.Oversight.FindAudit(ctx, aud, store.AuditFilter{Actor: "user:u7"})
	if err != nil || len(es) != 4 || es[0].Index <= es[1].Index {
		t.Fatalf("u7's entries after more = %d, %v; want 4, newest first", len(es), err)
	}
	if done, err := n.Oversight.IndexAudit(ctx); err != nil || done != 0 {
		t.Errorf("IndexAudit with nothing new = %d, %v", done, err)
	}
	ana, _ := nodetest.AddUser(t, n, users.UserSpec{Name: "ana", Role: node.RoleAnalyst, Nationality: "GBR"})
	if _, err := n.Oversight.FindAudit(ctx, ana, store.AuditFilter{}); err == nil {
		t.Error("an analyst searched the audit log")
	}
}

// BenchmarkAuditIndex measures what the audit index costs: IndexAudit's
// rate over entries appended since its last pass (the work serve does
// every checkpoint interval, off the append path), and a filtered page by
// actor and by object over the whole log. Run with
// go test ./node/oversight -run '^$' -bench AuditIndex -benchtime 1x
// (TEARLINE_AUDIT_ENTRIES sets the log's size, default 200,000).
func BenchmarkAuditIndex(b *testing.B) {
	ctx := context.Background()
	total := 200_000
	if v, err := strconv.Atoi(os.Getenv("TEARLINE_AUDIT_ENTRIES")); err == nil && v > 0 {
		total = v
	}
	n := nodetest.New(b, "gbr", "GBR")
	aud, _ := nodetest.AddUser(b, n, users.UserSpec{Name: "audrey", Role: node.RoleAuditor, Nationality: "GBR"})
	appendReads(b, n, 0, total)
	b.Run("index", func(b *testing.B) {
		for b.Loop() {
			start := time.Now()
			done, err := n.Oversight.IndexAudit(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if done > 0 {
				b.ReportMetric(float64(done)/time.Since(start).Seconds(), "entries/s")
			}
		}
	})
	for _, f := range []store.AuditFilter{{Actor: "user:u500", Limit: 100}, {Object: "indicator--00000000-0000-4000-8000-000000004242", Limit: 100}} {
		name := "actor"
		if f.Object != "" {
			name = "object"
		}
		b.Run("find-"+name, func(b *testing.B) {
			for b.Loop() {
				es, err := n.Oversight.FindAudit(ctx, aud, f)
				if err != nil || len(es) == 0 {
					b.Fatal(len(es), err)
				}
			}
		})
	}
}

// TestRunAuditIndexKeepsUp: serve's loop indexes entries appended while it
// runs, with no search asking, so an auditor's first search finds the
// index caught up.
func TestRunAuditIndexKeepsUp(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n := nodetest.New(t, "gbr", "GBR")
	done := make(chan struct{})
	go func() { defer close(done); n.Oversight.RunAuditIndex(ctx, 10*time.Millisecond) }()
	appendReads(t, n, 0, 1500)
	size, err := n.Store().AuditSize(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		indexed, err := n.Store().AuditIndexed(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if indexed >= size {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the loop indexed up to %d of %d entries", indexed, size)
		}
	}
	cancel()
	<-done
	if got, err := n.Oversight.IndexAudit(context.Background()); err != nil || got != 0 {
		t.Errorf("a search after the loop would index %d more, %v; want 0", got, err)
	}
}
