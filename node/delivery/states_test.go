package delivery_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/delivery"
	"github.com/tearline/tearline/node/nodetest"
	"github.com/tearline/tearline/node/users"
	"github.com/tearline/tearline/store"
)

// TestStatesFromTheAttackersSide: lou, a releaser cleared to NATO
// RESTRICTED, lists the deliveries to usa and of a NATO SECRET object
// released there, and retries that object's failed delivery. The secret
// one is not there: no row, nothing in "more", and the retry answers
// exactly as for a delivery that does not exist, changing nothing. A
// cleared releaser sees both rows, without the ledger's or the outbox's
// numbers, and retries; the auditor sees the numbers; an analyst may not
// read delivery states.
func TestStatesFromTheAttackersSide(t *testing.T) {
	ctx := context.Background()
	f := nodetest.NewRelFixture(t)
	n := f.N
	nodetest.AddPeerNode(t, n, "usa", "USA")
	lou, _ := nodetest.AddUser(t, n, users.UserSpec{Name: "lou", Role: node.RoleReleaser, Nationality: "GBR",
		Clearances: map[string]string{"NATO": "RESTRICTED"}})

	secret := f.IngestLabelled(t, nodetest.Actor(nodetest.NewID("threat-actor"), nil), nodetest.OKBanner, nil)
	open := f.IngestLabelled(t, nodetest.Actor(nodetest.NewID("threat-actor"), nil), "NATO RESTRICTED // DISC SIGINT // TOPIC CYBER", nil)
	var seqs []int64
	for _, id := range []string{secret, open} {
		res := nodetest.MustRelease(t, n, f.Admin, id, "usa")
		if res.Outcome != store.LedgerRelease || res.Delivery != store.DeliveryQueued || res.Ledger == 0 {
			t.Fatalf("release of %s: %+v", id, res)
		}
		seqs = append(seqs, res.Ledger)
	}
	// Both deliveries fail for good, as the delivery loop records a
	// partner's permanent refusal.
	its, err := n.Store().OutboxOfLedger(ctx, seqs)
	if err != nil || len(its) != 2 {
		t.Fatalf("outbox: %v %v", its, err)
	}
	for _, it := range its {
		if err := n.Store().MarkFailed(ctx, n.Now(), "revoked-key", "refused by usa", it.ID); err != nil {
			t.Fatal(err)
		}
	}

	list := func(p *node.Principal, q delivery.Query) ([]delivery.Entry, bool) {
		t.Helper()
		es, more, err := n.Deliveries.States(ctx, p, q)
		if err != nil {
			t.Fatalf("states of %s %+v: %v", p.User.Name, q, err)
		}
		return es, more
	}
	// gbr-usa is automatic: each object also went to usa when it landed,
	// and that delivery is still queued. lou sees the open object's two.
	for _, c := range []struct {
		q          delivery.Query
		rows       int
		more       bool
		failedOnly bool
	}{{delivery.Query{Party: "usa"}, 2, false, false}, {delivery.Query{Party: "usa", Failed: true}, 1, false, true}, {delivery.Query{Party: "usa", Limit: 1}, 1, true, false},
		{delivery.Query{ObjectID: open}, 2, false, false}} {
		es, more := list(lou, c.q)
		if len(es) != c.rows || more != c.more {
			t.Errorf("lou's deliveries %+v: %d rows, more %v; want %d, %v", c.q, len(es), more, c.rows, c.more)
		}
		for _, e := range es {
			if e.ObjectID != open || e.Seq != 0 || e.Delivery == nil || e.Delivery.Outbox != 0 || c.failedOnly && e.Delivery.State != store.DeliveryFailed {
				t.Errorf("lou's row: %+v %+v; want the open object's, no numbers", e, e.Delivery)
			}
		}
	}
	hidden, more := list(lou, delivery.Query{ObjectID: secret})
	missing, moreMissing := list(lou, delivery.Query{ObjectID: nodetest.NewID("threat-actor")})
	if len(hidden) != 0 || more || len(missing) != 0 || moreMissing {
		t.Errorf("lou's deliveries of the secret object: %+v %v; of a missing one: %+v %v", hidden, more, missing, moreMissing)
	}
	evs := nodetest.FindEvents(nodetest.AuditLog(t, n.Store()), func(e audit.Event) bool {
		return e.Action == audit.ActionDeliveryRead && e.Actor == lou.Actor()
	})
	if len(evs) != 6 || evs[0].Count != 2 || evs[4].Count != 0 || evs[5].Count != 0 {
		t.Errorf("lou's reads audited: %+v", evs)
	}

	// Rob (cleared) sees both, newest first, without numbers; the auditor
	// sees the numbers.
	es, _ := list(f.Rob, delivery.Query{Party: "usa", Failed: true})
	if len(es) != 2 || es[0].ObjectID != open || es[1].ObjectID != secret || es[1].Seq != 0 || es[1].Delivery.Outbox != 0 {
		t.Fatalf("rob's failed deliveries: %+v", es)
	}
	if all, _ := list(f.Rob, delivery.Query{Party: "usa"}); len(all) != 4 {
		t.Fatalf("rob's deliveries: %d, want 4", len(all))
	}
	if es, _ := list(f.Auditor, delivery.Query{Party: "usa", Failed: true}); len(es) != 2 || es[1].Seq != seqs[0] || es[1].Delivery.Outbox == 0 {
		t.Fatalf("the auditor's deliveries: %+v", es)
	}
	if _, _, err := n.Deliveries.States(ctx, f.Ann, delivery.Query{Party: "usa"}); !errors.Is(err, node.ErrForbidden) {
		t.Errorf("an analyst reads delivery states: %v", err)
	}
	if _, _, err := n.Deliveries.States(ctx, f.Rob, delivery.Query{}); !errors.Is(err, node.ErrInvalid) {
		t.Errorf("states of nothing named: %v", err)
	}

	// Retry: lou's of the secret object is a missing delivery's answer.
	missingID := nodetest.NewID("threat-actor")
	key := es[1].Key()
	_, hErr := n.Deliveries.Retry(ctx, lou, key)
	_, mErr := n.Deliveries.Retry(ctx, lou, delivery.Key{ObjectID: missingID, Modified: key.Modified, Party: "usa"})
	if !errors.Is(hErr, node.ErrNotFound) || !errors.Is(mErr, node.ErrNotFound) ||
		strings.ReplaceAll(hErr.Error(), secret, "ID") != strings.ReplaceAll(mErr.Error(), missingID, "ID") {
		t.Fatalf("retry of a hidden delivery: %v; of a missing one: %v; want the same", hErr, mErr)
	}
	if its, _ := n.Store().OutboxOfLedger(ctx, seqs[:1]); its[seqs[0]].State() != store.DeliveryFailed {
		t.Fatalf("lou's refused retry changed the delivery: %s", its[seqs[0]].State())
	}
	if _, err := n.Deliveries.Retry(ctx, f.Ann, key); !errors.Is(err, node.ErrForbidden) {
		t.Errorf("an analyst retries: %v", err)
	}
	d, err := n.Deliveries.Retry(ctx, f.Rob, key)
	if err != nil || d.State != store.DeliveryQueued || d.Outbox != 0 {
		t.Fatalf("rob's retry: %+v %v", d, err)
	}
	if _, err := n.Deliveries.Retry(ctx, f.Rob, key); !errors.Is(err, node.ErrNotFailed) {
		t.Errorf("a second retry: %v, want ErrNotFailed", err)
	}
	if es, _ := list(f.Rob, delivery.Query{Party: "usa", Failed: true}); len(es) != 1 || es[0].ObjectID != open {
		t.Errorf("failed after the retry: %+v", es)
	}
}
