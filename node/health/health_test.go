package health_test

import (
	"context"
	"errors"
	"testing"

	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/health"
	"github.com/tearline/tearline/node/nodetest"
	"github.com/tearline/tearline/node/users"
	"github.com/tearline/tearline/store"
)

// TestRead: admins only; the numbers are the store's and the data
// directory's.
func TestRead(t *testing.T) {
	n := nodetest.New(t, "gbr", "GBR")
	admin, _ := nodetest.AddUser(t, n, nodetest.AdminSpec())
	for _, role := range []string{node.RoleAnalyst, node.RoleReleaser, node.RoleAuditor} {
		p, _ := nodetest.AddUser(t, n, users.UserSpec{Name: "u-" + role, Role: role, Nationality: "GBR"})
		if _, err := health.Read(context.Background(), n.Node, p); !errors.Is(err, node.ErrForbidden) {
			t.Errorf("%s: %v, want ErrForbidden", role, err)
		}
	}
	r, err := health.Read(context.Background(), n.Node, admin)
	if err != nil {
		t.Fatal(err)
	}
	if r.Backend != "SQLite" || r.DataBytes <= 0 || r.DataFiles == 0 {
		t.Errorf("report %+v", r)
	}
	for _, s := range []string{store.DeliveryQueued, store.DeliveryRetrying, store.DeliveryFailed} {
		if r.Outbox[s] != 0 {
			t.Errorf("outbox %s = %d on a new node", s, r.Outbox[s])
		}
	}
}
