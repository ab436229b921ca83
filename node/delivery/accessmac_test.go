package delivery_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"path/filepath"
	"slices"
	"testing"

	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/federation"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/nodetest"
	"github.com/tearline/tearline/node/stack"
	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/store/backend"
)

// outboxItemOf is the outbox item to fra of the objects reference to id,
// if there is one.
func outboxItemOf(t *testing.T, n *stack.Node, id string) (store.OutboxItem, bool) {
	t.Helper()
	all, err := n.Store().OutboxItems(context.Background(), "fra", 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range all {
		var ref node.ObjectsRef
		if it.Kind == store.OutboxObjects && json.Unmarshal(it.Payload, &ref) == nil && ref.Object == id {
			return it, true
		}
	}
	return store.OutboxItem{}, false
}

// Written from the side of someone who can write the sender's database: a
// released version whose row is rewritten while its delivery waits (fra
// is down; the row's originator rewritten, as a forger of provenance
// would) is not sent once fra is back. Its delivery fails with
// access-mac, audited; the mismatch is reported; fra never holds it; the
// release queued after it is delivered.
func TestDeliveryRefusesRowFailingItsAccessMAC(t *testing.T) {
	ctx := context.Background()
	gbr, fra := nodetest.NewFedPair(t, "analysis")
	fra.Stop()
	// Released automatically (the pair's terms), not delivered: fra is down.
	bad := gbr.IngestAs(t, nodetest.Actor(nodetest.NewID("threat-actor"), nil), nodetest.OKBanner)
	nodetest.Eventually(t, "the release queued", func() bool { _, ok := outboxItemOf(t, gbr.N, bad); return ok })

	db, err := sql.Open("sqlite", filepath.Join(gbr.Dir, backend.SQLiteFile)+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `UPDATE objects SET originator = 'usa' WHERE id = ?`, bad); err != nil {
		t.Fatal(err)
	}
	good := gbr.IngestAs(t, nodetest.Actor(nodetest.NewID("threat-actor"), nil), nodetest.OKBanner)
	fra.Start(t)
	gbr.N.Outbox().Wake()

	nodetest.Eventually(t, "fra holds the untouched object", func() bool { return nodetest.Held(fra.N, good) })
	var it store.OutboxItem
	nodetest.Eventually(t, "the tampered one's delivery failed", func() bool {
		it, _ = outboxItemOf(t, gbr.N, bad)
		return !it.Failed.IsZero()
	})
	if it.Reason != string(federation.ReasonAccessMAC) || !it.Delivered.IsZero() {
		t.Errorf("failed item = reason %q, delivered %v; want %s, never delivered", it.Reason, it.Delivered, federation.ReasonAccessMAC)
	}
	if nodetest.Held(fra.N, bad) {
		t.Error("fra holds the tampered version")
	}
	nodetest.Eventually(t, "the refusal and the mismatch audited", func() bool {
		evs := nodetest.AuditLog(t, gbr.N.Store())
		refused := nodetest.FindEvents(evs, func(e audit.Event) bool {
			return e.Action == audit.ActionFederationRefuse && e.Object == bad && slices.Contains(e.Reasons, string(federation.ReasonAccessMAC))
		})
		mismatch := nodetest.FindEvents(evs, func(e audit.Event) bool { return e.Action == audit.ActionAccessMismatch && e.Object == bad })
		return len(refused) == 1 && len(mismatch) == 1
	})
}
