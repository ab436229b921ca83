package oversight_test

import (
	"context"
	"errors"
	"testing"

	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/nodetest"
	"github.com/tearline/tearline/node/oversight"
	"github.com/tearline/tearline/node/users"
)

// TestRecentWorkOwnAndReadable: an analyst's recent work is what she
// published, newest first, once per object; not another user's work;
// and once her clearance is lowered, the work on what she may no longer
// read is gone, as it would be had it never been.
func TestRecentWorkOwnAndReadable(t *testing.T) {
	ctx := context.Background()
	n := nodetest.New(t, "gbr", "GBR")
	admin, _ := nodetest.AddUser(t, n, nodetest.AdminSpec())
	ann, _ := nodetest.AddUser(t, n, users.UserSpec{Name: "ann", Role: node.RoleAnalyst, Nationality: "GBR", Clearances: map[string]string{"NATO": "SECRET"}})
	bob, _ := nodetest.AddUser(t, n, users.UserSpec{Name: "bob", Role: node.RoleAnalyst, Nationality: "GBR", Clearances: map[string]string{"NATO": "SECRET"}})
	open, secret, bobs := nodetest.NewID("threat-actor"), nodetest.NewID("threat-actor"), nodetest.NewID("threat-actor")
	nodetest.MustLand(t, n, ann, nodetest.Bundle(nodetest.SDO(open, nodetest.T0, nodetest.T0, nil)), "NATO UNCLASSIFIED")
	nodetest.MustLand(t, n, ann, nodetest.Bundle(nodetest.SDO(secret, nodetest.T0, nodetest.T0, nil)), "NATO SECRET")
	nodetest.MustLand(t, n, bob, nodetest.Bundle(nodetest.SDO(bobs, nodetest.T0, nodetest.T0, nil)), "NATO UNCLASSIFIED")
	if _, err := n.Get(ctx, ann, bobs); err != nil { // a read is not work
		t.Fatal(err)
	}
	ids := func(ws []oversight.Work) []string {
		var out []string
		for _, w := range ws {
			if w.Action != audit.ActionIngest {
				t.Errorf("work %+v, want a publish", w)
			}
			out = append(out, w.ObjectID)
		}
		return out
	}
	ws, err := n.Oversight.RecentWork(ctx, ann, 10)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(ws); len(got) != 2 || got[0] != secret || got[1] != open {
		t.Fatalf("ann's work: %v, want [secret open]", got)
	}
	low := "RESTRICTED"
	if _, err := n.Users.UpdateUser(ctx, admin, "ann", users.UserChange{AddClearances: map[string]string{"NATO": low}}); err != nil {
		t.Fatal(err)
	}
	ann, err = n.PrincipalByName(ctx, "ann")
	if err != nil {
		t.Fatal(err)
	}
	ws, err = n.Oversight.RecentWork(ctx, ann, 10)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(ws); len(got) != 1 || got[0] != open {
		t.Fatalf("ann's work after her clearance was lowered: %v, want [open]", got)
	}
	if ws, err := n.Oversight.RecentWork(ctx, ann, 1); err != nil || len(ws) != 1 {
		t.Fatalf("capped: %v %v", ws, err)
	}
	if _, err := n.Oversight.RecentWork(ctx, nil, 10); !errors.Is(err, node.ErrForbidden) {
		t.Errorf("no principal: %v", err)
	}
}
