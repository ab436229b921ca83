package stack_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/nodetest"
	"github.com/tearline/tearline/node/stack"
	"github.com/tearline/tearline/node/users"
	"github.com/tearline/tearline/store"
)

// sameError checks that hidden (an action on an object the caller may not
// read) fails exactly as missing (the same action on an id that does not
// exist): the same sentinel, and the same message once each id is named
// alike.
func sameError(t *testing.T, what string, hidden error, hiddenID string, missing error, missingID string) {
	t.Helper()
	if !errors.Is(missing, node.ErrNotFound) {
		t.Fatalf("%s of a missing id: %v, want ErrNotFound", what, missing)
	}
	if !errors.Is(hidden, node.ErrNotFound) {
		t.Fatalf("%s of a hidden object: %v, want ErrNotFound as for a missing id", what, hidden)
	}
	h := strings.ReplaceAll(hidden.Error(), hiddenID, "ID")
	m := strings.ReplaceAll(missing.Error(), missingID, "ID")
	if h != m {
		t.Errorf("%s: hidden and missing differ:\n hidden  %s\n missing %s", what, h, m)
	}
}

// TestAuthorityHiddenIsMissing is written from the attacker's side: a
// releaser (and an analyst) cleared only for NATO UNCLASSIFIED act on a
// NATO SECRET object and its release request, and get exactly what a
// missing id gets, before anything about the object (its state, origin or
// releases) is told.
func TestAuthorityHiddenIsMissing(t *testing.T) {
	ctx := context.Background()
	f := nodetest.NewRelFixture(t)
	n := f.N
	low := map[string]string{"NATO": "UNCLASSIFIED"}
	lou, _ := nodetest.AddUser(t, n, users.UserSpec{Name: "lou", Role: node.RoleReleaser, Nationality: "GBR", Clearances: low})
	lee, _ := nodetest.AddUser(t, n, users.UserSpec{Name: "lee", Role: node.RoleAnalyst, Nationality: "GBR", Clearances: low})

	secret := f.IngestLabelled(t, nodetest.Actor(nodetest.NewID("threat-actor"), nil), nodetest.OKBanner, nil)
	req := nodetest.MustRelease(t, n, f.Rob, secret, "fra")
	if req.Outcome != "hold" || req.Request == "" {
		t.Fatalf("request: %+v", req)
	}
	missingReq := "release--00000000-0000-4000-8000-000000000000"
	missingObj := nodetest.NewID("threat-actor")

	// Approving and refusing a request for the hidden object.
	_, hidden := n.Releases.ApproveRelease(ctx, lou, req.Request)
	_, missing := n.Releases.ApproveRelease(ctx, lou, missingReq)
	sameError(t, "approve", hidden, req.Request, missing, missingReq)
	_, hidden = n.Releases.RefuseRelease(ctx, lou, req.Request, "no")
	_, missing = n.Releases.RefuseRelease(ctx, lou, missingReq, "no")
	sameError(t, "refuse", hidden, req.Request, missing, missingReq)

	// Explaining and releasing it.
	_, hidden = n.Releases.Explain(ctx, lou, secret, "fra", "analysis")
	_, missing = n.Releases.Explain(ctx, lou, missingObj, "fra", "analysis")
	sameError(t, "explain", hidden, secret, missing, missingObj)
	_, hidden = n.Releases.Release(ctx, lee, secret, "fra", "analysis")
	_, missing = n.Releases.Release(ctx, lee, missingObj, "fra", "analysis")
	sameError(t, "release", hidden, secret, missing, missingObj)

	// Recalling it: never released, originated here. For someone cleared
	// that is "never released" (node.ErrInvalid); for lou it is not there.
	_, hidden = n.Recalls.Recall(ctx, lou, secret, "compromised")
	_, missing = n.Recalls.Recall(ctx, lou, missingObj, "compromised")
	sameError(t, "recall", hidden, secret, missing, missingObj)
	if _, err := n.Recalls.Recall(ctx, f.Rob, secret, "compromised"); !errors.Is(err, node.ErrInvalid) {
		t.Fatalf("cleared releaser recalls a never-released object: %v, want ErrInvalid", err)
	}

	// Consents: recorded and listed only for what the caller may read.
	_, hidden = n.Releases.RecordConsent(ctx, lou, secret, "fra", "usa")
	_, missing = n.Releases.RecordConsent(ctx, lou, missingObj, "fra", "usa")
	sameError(t, "record consent", hidden, secret, missing, missingObj)
	hc, herr := n.Releases.Consents(ctx, lou, secret)
	mc, merr := n.Releases.Consents(ctx, lou, missingObj)
	if herr != nil || merr != nil || hc != nil || mc != nil {
		t.Errorf("consents: hidden %v %v, missing %v %v; want both nil", hc, herr, mc, merr)
	}

	// The queue: lee and lou do not see the request; rob (cleared), the
	// auditor and the admin (metadata of every level) do.
	has := func(p *node.Principal) bool {
		t.Helper()
		qs, err := n.Releases.ReleaseQueue(ctx, p, "")
		if err != nil {
			t.Fatalf("queue of %s: %v", p.User.Name, err)
		}
		return slices.ContainsFunc(qs, func(q store.ReleaseRequest) bool { return q.ID == req.Request })
	}
	for _, p := range []*node.Principal{lee, lou} {
		if has(p) {
			t.Errorf("%s (NATO UNCLASSIFIED) sees the request for a NATO SECRET object", p.User.Name)
		}
	}
	for _, p := range []*node.Principal{f.Rob, f.Auditor, f.Admin} {
		if !has(p) {
			t.Errorf("%s does not see the request", p.User.Name)
		}
	}

	// The request was not touched: a cleared releaser still approves it,
	// and once it is no longer pending lou still learns nothing (not
	// "released, not pending").
	if _, err := n.Releases.ApproveRelease(ctx, f.Rita, req.Request); err != nil {
		t.Fatalf("cleared approval: %v", err)
	}
	_, hidden = n.Releases.RefuseRelease(ctx, lou, req.Request, "no")
	sameError(t, "refuse a decided request", hidden, req.Request, missing2(ctx, n, lou, missingReq), missingReq)
}

func missing2(ctx context.Context, n *stack.Node, p *node.Principal, id string) error {
	_, err := n.Releases.RefuseRelease(ctx, p, id, "no")
	return err
}

// TestAuthorityUserAdministration: node checks the role for user
// administration itself; no caller above it needs to.
func TestAuthorityUserAdministration(t *testing.T) {
	ctx := context.Background()
	n := nodetest.New(t, "gbr", "GBR")
	admin, _ := nodetest.AddUser(t, n, nodetest.AdminSpec())
	ann, _ := nodetest.AddUser(t, n, users.UserSpec{Name: "ann", Role: node.RoleAnalyst, Nationality: "GBR", Clearances: map[string]string{"NATO": "SECRET"}})
	aud, _ := nodetest.AddUser(t, n, users.UserSpec{Name: "audrey", Role: node.RoleAuditor, Nationality: "GBR"})
	role := node.RoleAdmin
	for _, p := range []*node.Principal{ann, aud, nil} {
		if _, _, err := n.Users.AddUser(ctx, p, users.UserSpec{Name: "mallory", Role: node.RoleAdmin, Nationality: "GBR"}); !errors.Is(err, node.ErrForbidden) {
			t.Errorf("AddUser as %s: %v, want ErrForbidden", p.Actor(), err)
		}
		if _, err := n.Users.UpdateUser(ctx, p, "ann", users.UserChange{Role: &role}); !errors.Is(err, node.ErrForbidden) {
			t.Errorf("UpdateUser as %s: %v, want ErrForbidden", p.Actor(), err)
		}
		if _, err := n.Users.Users(ctx, p); !errors.Is(err, node.ErrForbidden) {
			t.Errorf("Users as %s: %v, want ErrForbidden", p.Actor(), err)
		}
		if _, err := n.Users.Tokens(ctx, p, "admin"); !errors.Is(err, node.ErrForbidden) {
			t.Errorf("Tokens as %s: %v, want ErrForbidden", p.Actor(), err)
		}
		if _, err := n.Users.IssueToken(ctx, p, "admin", 0); !errors.Is(err, node.ErrForbidden) {
			t.Errorf("IssueToken as %s: %v, want ErrForbidden", p.Actor(), err)
		}
		if _, err := n.Users.RevokeToken(ctx, p, "admin"); !errors.Is(err, node.ErrForbidden) {
			t.Errorf("RevokeToken as %s: %v, want ErrForbidden", p.Actor(), err)
		}
		if _, err := n.Purge(ctx, p, node.PurgeTarget{ID: nodetest.NewID("indicator"), Reason: node.PurgeAdmin}); !errors.Is(err, node.ErrForbidden) {
			t.Errorf("Purge as %s: %v, want ErrForbidden", p.Actor(), err)
		}
	}
	if u, _ := n.Store().UserByName(ctx, "ann"); u.Role != node.RoleAnalyst {
		t.Fatalf("ann's role changed to %s", u.Role)
	}
	if _, err := n.Users.UpdateUser(ctx, admin, "ann", users.UserChange{Role: &role}); err != nil {
		t.Fatalf("admin UpdateUser: %v", err)
	}
	if us, err := n.Users.Users(ctx, admin); err != nil || len(us) != 3 {
		t.Fatalf("admin Users: %d, %v", len(us), err)
	}
}
