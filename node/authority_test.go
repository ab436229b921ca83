package node

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/tearline/tearline/store"
)

// sameError checks that hidden (an action on an object the caller may not
// read) fails exactly as missing (the same action on an id that does not
// exist): the same sentinel, and the same message once each id is named
// alike.
func sameError(t *testing.T, what string, hidden error, hiddenID string, missing error, missingID string) {
	t.Helper()
	if !errors.Is(missing, ErrNotFound) {
		t.Fatalf("%s of a missing id: %v, want ErrNotFound", what, missing)
	}
	if !errors.Is(hidden, ErrNotFound) {
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
	f := newRelFixture(t)
	n := f.n
	low := map[string]string{"NATO": "UNCLASSIFIED"}
	lou, _ := addUser(t, n, UserSpec{Name: "lou", Role: RoleReleaser, Nationality: "GBR", Clearances: low})
	lee, _ := addUser(t, n, UserSpec{Name: "lee", Role: RoleAnalyst, Nationality: "GBR", Clearances: low})

	secret := f.ingestLabelled(t, actor(newID("threat-actor"), nil), okBanner, nil)
	req := mustRelease(t, n, f.rob, secret, "fra")
	if req.Outcome != "hold" || req.Request == "" {
		t.Fatalf("request: %+v", req)
	}
	missingReq := "release--00000000-0000-4000-8000-000000000000"
	missingObj := newID("threat-actor")

	// Approving and refusing a request for the hidden object.
	_, hidden := n.ApproveRelease(ctx, lou, req.Request)
	_, missing := n.ApproveRelease(ctx, lou, missingReq)
	sameError(t, "approve", hidden, req.Request, missing, missingReq)
	_, hidden = n.RefuseRelease(ctx, lou, req.Request, "no")
	_, missing = n.RefuseRelease(ctx, lou, missingReq, "no")
	sameError(t, "refuse", hidden, req.Request, missing, missingReq)

	// Explaining and releasing it.
	_, hidden = n.Explain(ctx, lou, secret, "fra", "analysis")
	_, missing = n.Explain(ctx, lou, missingObj, "fra", "analysis")
	sameError(t, "explain", hidden, secret, missing, missingObj)
	_, hidden = n.Release(ctx, lee, secret, "fra", "analysis")
	_, missing = n.Release(ctx, lee, missingObj, "fra", "analysis")
	sameError(t, "release", hidden, secret, missing, missingObj)

	// Recalling it: never released, originated here. For someone cleared
	// that is "never released" (ErrInvalid); for lou it is not there.
	_, hidden = n.Recall(ctx, lou, secret, "compromised")
	_, missing = n.Recall(ctx, lou, missingObj, "compromised")
	sameError(t, "recall", hidden, secret, missing, missingObj)
	if _, err := n.Recall(ctx, f.rob, secret, "compromised"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("cleared releaser recalls a never-released object: %v, want ErrInvalid", err)
	}

	// Consents: recorded and listed only for what the caller may read.
	_, hidden = n.RecordConsent(ctx, lou, secret, "fra", "usa")
	_, missing = n.RecordConsent(ctx, lou, missingObj, "fra", "usa")
	sameError(t, "record consent", hidden, secret, missing, missingObj)
	hc, herr := n.Consents(ctx, lou, secret)
	mc, merr := n.Consents(ctx, lou, missingObj)
	if herr != nil || merr != nil || hc != nil || mc != nil {
		t.Errorf("consents: hidden %v %v, missing %v %v; want both nil", hc, herr, mc, merr)
	}

	// The queue: lee and lou do not see the request; rob (cleared), the
	// auditor and the admin (metadata of every level) do.
	has := func(p *Principal) bool {
		t.Helper()
		qs, err := n.ReleaseQueue(ctx, p, "")
		if err != nil {
			t.Fatalf("queue of %s: %v", p.User.Name, err)
		}
		return slices.ContainsFunc(qs, func(q store.ReleaseRequest) bool { return q.ID == req.Request })
	}
	for _, p := range []*Principal{lee, lou} {
		if has(p) {
			t.Errorf("%s (NATO UNCLASSIFIED) sees the request for a NATO SECRET object", p.User.Name)
		}
	}
	for _, p := range []*Principal{f.rob, f.auditor, f.admin} {
		if !has(p) {
			t.Errorf("%s does not see the request", p.User.Name)
		}
	}

	// The request was not touched: a cleared releaser still approves it,
	// and once it is no longer pending lou still learns nothing (not
	// "released, not pending").
	if _, err := n.ApproveRelease(ctx, f.rita, req.Request); err != nil {
		t.Fatalf("cleared approval: %v", err)
	}
	_, hidden = n.RefuseRelease(ctx, lou, req.Request, "no")
	sameError(t, "refuse a decided request", hidden, req.Request, missing2(ctx, n, lou, missingReq), missingReq)
}

func missing2(ctx context.Context, n *Node, p *Principal, id string) error {
	_, err := n.RefuseRelease(ctx, p, id, "no")
	return err
}

// TestAuthorityUserAdministration: node checks the role for user
// administration itself; no caller above it needs to.
func TestAuthorityUserAdministration(t *testing.T) {
	ctx := context.Background()
	n := newTestNode(t, "gbr", "GBR")
	admin, _ := addUser(t, n, adminSpec())
	ann, _ := addUser(t, n, UserSpec{Name: "ann", Role: RoleAnalyst, Nationality: "GBR", Clearances: map[string]string{"NATO": "SECRET"}})
	aud, _ := addUser(t, n, UserSpec{Name: "audrey", Role: RoleAuditor, Nationality: "GBR"})
	role := RoleAdmin
	for _, p := range []*Principal{ann, aud, nil} {
		if _, _, err := n.AddUser(ctx, p, UserSpec{Name: "mallory", Role: RoleAdmin, Nationality: "GBR"}); !errors.Is(err, ErrForbidden) {
			t.Errorf("AddUser as %s: %v, want ErrForbidden", p.Actor(), err)
		}
		if _, err := n.UpdateUser(ctx, p, "ann", UserChange{Role: &role}); !errors.Is(err, ErrForbidden) {
			t.Errorf("UpdateUser as %s: %v, want ErrForbidden", p.Actor(), err)
		}
		if _, err := n.Users(ctx, p); !errors.Is(err, ErrForbidden) {
			t.Errorf("Users as %s: %v, want ErrForbidden", p.Actor(), err)
		}
		if _, err := n.Tokens(ctx, p, "admin"); !errors.Is(err, ErrForbidden) {
			t.Errorf("Tokens as %s: %v, want ErrForbidden", p.Actor(), err)
		}
		if _, err := n.IssueToken(ctx, p, "admin", 0); !errors.Is(err, ErrForbidden) {
			t.Errorf("IssueToken as %s: %v, want ErrForbidden", p.Actor(), err)
		}
		if _, err := n.RevokeToken(ctx, p, "admin"); !errors.Is(err, ErrForbidden) {
			t.Errorf("RevokeToken as %s: %v, want ErrForbidden", p.Actor(), err)
		}
		if _, err := n.Purge(ctx, p, newID("indicator"), PurgeAdmin); !errors.Is(err, ErrForbidden) {
			t.Errorf("Purge as %s: %v, want ErrForbidden", p.Actor(), err)
		}
	}
	if u, _ := n.st.UserByName(ctx, "ann"); u.Role != RoleAnalyst {
		t.Fatalf("ann's role changed to %s", u.Role)
	}
	if _, err := n.UpdateUser(ctx, admin, "ann", UserChange{Role: &role}); err != nil {
		t.Fatalf("admin UpdateUser: %v", err)
	}
	if us, err := n.Users(ctx, admin); err != nil || len(us) != 3 {
		t.Fatalf("admin Users: %d, %v", len(us), err)
	}
}

// TestAuthorityTable: every action has at least one role, and only roles
// that exist.
func TestAuthorityTable(t *testing.T) {
	for _, act := range []Action{ActUserAdmin, ActPublish, ActTAXIIContent, ActPurge, ActProvenanceIn, ActConsent, ActConsentRead,
		ActLedgerRead, ActAuditRead, ActRecall, ActRecallRead, ActAgreementAdm, ActAgreementRd, ActRelease, ActReleaseQueue, ActApprove, ActSplitViewRd, ActSplitViewAck, ActDeliveryRetry} {
		r := authority(act)
		if len(r.roles) == 0 {
			t.Errorf("%s: no role may take it", act)
		}
		for _, role := range append(slices.Clone(r.roles), r.EveryLevel...) {
			if !slices.Contains(Roles, role) {
				t.Errorf("%s: unknown role %s", act, role)
			}
		}
		for _, role := range r.EveryLevel {
			if !slices.Contains(r.roles, role) {
				t.Errorf("%s: %s acts on every level but may not act", act, role)
			}
		}
	}
	if r := authority("no such action"); len(r.roles) != 0 {
		t.Error("an action not in the table is allowed")
	}
}
