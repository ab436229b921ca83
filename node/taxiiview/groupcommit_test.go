package taxiiview_test

import (
	"sync"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/nodetest"
	"github.com/tearline/tearline/node/users"
	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/taxii"
)

// Partners' pulls are read from a snapshot and their ledger and audit
// entries committed with concurrent reads (group commit): when a pull is
// answered, every object it served has its ledger entry and its read entry,
// and the log verifies. Refused TAXII authentications are committed the
// same way.
func TestPartnerPullsLandTheirLedgerAndAudit(t *testing.T) {
	ctx := t.Context()
	f := newRelFixture(t)
	var ids []string
	for range 4 {
		ids = append(ids, f.ingestLabelled(t, actor(nodetest.NewID("threat-actor"), nil), okBanner))
	}
	before := len(nodetest.AuditLog(t, f.n.Store()))
	const pulls = 8
	var wg sync.WaitGroup
	for i := range pulls {
		wg.Go(func() {
			q := taxii.Query{}
			if i%2 == 1 {
				q.Object = ids[i%len(ids)]
			}
			pg, err := partnerRead(ctx, f.n, &node.Peer{Name: "usa"}, q)
			if err != nil || len(pg.Items) == 0 {
				t.Errorf("pull %d: %d items, %v", i, len(pg.Items), err)
			}
		})
	}
	// A token under another user's name is refused, and audited.
	_, tok := nodetest.AddUser(t, f.n, users.UserSpec{Name: "ada", Role: node.RoleAnalyst, Nationality: "GBR"})
	if _, err := f.n.TAXII.Authenticate(ctx, "someone-else", tok); err == nil {
		t.Error("a token under another user's name was accepted")
	}
	wg.Wait()
	evs := nodetest.AuditLog(t, f.n.Store())[before:]
	reads := nodetest.FindEvents(evs, func(e audit.Event) bool { return e.Action == audit.ActionRead && e.Actor == "peer:usa" })
	// Four whole pages of four objects, four objects by id.
	if want := pulls/2*len(ids) + pulls/2; len(reads) != want {
		t.Errorf("%d partner read entries, want %d", len(reads), want)
	}
	if refused := nodetest.FindEvents(evs, func(e audit.Event) bool { return e.Action == audit.ActionAuthRefuse }); len(refused) != 1 {
		t.Errorf("%d refused authentications audited, want 1", len(refused))
	}
	for _, id := range ids {
		les, err := f.n.Store().Ledger(ctx, store.LedgerQuery{ObjectID: id})
		if err != nil {
			t.Fatal(err)
		}
		// Each object: once in each of the four pages, and in the pulls by
		// id that named it.
		want := pulls / 2
		for i := 1; i < pulls; i += 2 {
			if ids[i%len(ids)] == id {
				want++
			}
		}
		if len(les) != want {
			t.Errorf("ledger of %s: %d entries, want %d", id, len(les), want)
		}
	}
	v, _ := note.NewVerifier(f.n.AuditLogKey())
	if _, err := audit.Verify(ctx, f.n.Store(), v); err != nil {
		t.Errorf("audit.Verify: %v", err)
	}
}
