package users_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/nodetest"
	"github.com/tearline/tearline/node/stack"
	"github.com/tearline/tearline/node/users"
)

// testClock is a node's clock: the system's, moved by Add.
type testClock struct {
	mu    sync.Mutex
	shift time.Duration
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().UTC().Add(c.shift)
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.shift += d
}

// newNodeWithFixture is a node on clock holding one object under each of
// the labels node's read tests use (NATO UNCLASSIFIED, NATO SECRET // REL
// TO GBR, USA, a HERON compartment, GBR SECRET // NOFORN, and a US
// NOFORN); it returns the id of the NATO SECRET one.
func newNodeWithFixture(t *testing.T, clock *testClock) (*stack.Node, string) {
	t.Helper()
	n := nodetest.NewWith(t, "gbr", "GBR", node.Options{Now: clock.Now})
	admin, _ := nodetest.AddUser(t, n, nodetest.AdminSpec())
	var secret string
	for _, b := range []struct{ name, banner string }{
		{"open", "NATO UNCLASSIFIED"},
		{"secret", "NATO SECRET // REL TO GBR, USA"},
		{"heron", "NATO SECRET // COMPARTMENTS HERON // REL TO FVEY"},
		{"national", "GBR SECRET // NOFORN"},
		{"usnoforn", "NATO SECRET // NOFORN // ORIG USA"},
	} {
		id := nodetest.NewID("threat-actor")
		nodetest.MustLand(t, n, admin, nodetest.SDO(id, nodetest.T0, nodetest.T0, map[string]any{"name": b.name}), b.banner)
		if b.name == "secret" {
			secret = id
		}
	}
	return n, secret
}

// Clearance changes, revocation, expiry and disabling take effect at the next
// request.
func TestReadAuthorityChangesTakeEffectAtOnce(t *testing.T) {
	ctx := context.Background()
	clock := &testClock{}
	n, secret := newNodeWithFixture(t, clock)
	spec := users.UserSpec{Name: "eve", Role: node.RoleAnalyst, Nationality: "GBR", Clearances: map[string]string{"NATO": "RESTRICTED"}}
	p, tok := nodetest.AddUser(t, n, spec)
	if _, err := n.Get(ctx, p, secret); !nodetest.IsNotFound(err) {
		t.Fatalf("before raise: %v", err)
	}
	if _, err := n.Users.UpdateUser(ctx, node.ConsoleAdmin(), "eve", users.UserChange{Clearances: map[string]string{"NATO": "SECRET"}}); err != nil {
		t.Fatal(err)
	}
	p, err := n.Authenticate(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Get(ctx, p, secret); err != nil {
		t.Errorf("after raise: %v", err)
	}
	if c, _ := n.Count(ctx, p, node.ListOptions{}); c != 2 {
		t.Errorf("after raise: Count = %d, want 2", c)
	}
	if _, err := n.Users.UpdateUser(ctx, node.ConsoleAdmin(), "eve", users.UserChange{Clearances: map[string]string{"NATO": "CONFIDENTIAL"}}); err != nil {
		t.Fatal(err)
	}
	p, _ = n.Authenticate(ctx, tok)
	if _, err := n.Get(ctx, p, secret); !nodetest.IsNotFound(err) {
		t.Errorf("after lowering: %v", err)
	}

	// Disabled.
	yes, no := true, false
	n.Users.UpdateUser(ctx, node.ConsoleAdmin(), "eve", users.UserChange{Disabled: &yes})
	if _, err := n.Authenticate(ctx, tok); err != node.ErrUnauthenticated {
		t.Errorf("disabled user: %v", err)
	}
	n.Users.UpdateUser(ctx, node.ConsoleAdmin(), "eve", users.UserChange{Disabled: &no})
	if _, err := n.Authenticate(ctx, tok); err != nil {
		t.Errorf("re-enabled user: %v", err)
	}

	// Revoked.
	if cnt, err := n.Users.RevokeToken(ctx, node.ConsoleAdmin(), p.TokenID); err != nil || cnt != 1 {
		t.Fatalf("RevokeToken = %d, %v", cnt, err)
	}
	if _, err := n.Authenticate(ctx, tok); err != node.ErrUnauthenticated {
		t.Errorf("revoked token: %v", err)
	}

	// Expired: move the node's clock past the token's life.
	tok2, err := n.Users.IssueToken(ctx, node.ConsoleAdmin(), "eve", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Authenticate(ctx, tok2); err != nil {
		t.Fatalf("fresh token: %v", err)
	}
	clock.Add(time.Hour)
	defer clock.Add(-time.Hour)
	if _, err := n.Authenticate(ctx, tok2); err != node.ErrUnauthenticated {
		t.Errorf("expired token: %v", err)
	}
	// A token with a wrong secret, and garbage.
	for _, bad := range []string{tok2[:len(tok2)-2] + "xx", "tl_", "garbage", ""} {
		if _, err := n.Authenticate(ctx, bad); err != node.ErrUnauthenticated {
			t.Errorf("token %q: %v", bad, err)
		}
	}
	reasons := map[string]bool{}
	for _, e := range nodetest.FindEvents(nodetest.AuditLog(t, n.Store()), func(e audit.Event) bool { return e.Action == audit.ActionAuthRefuse }) {
		if e.Decision != audit.Deny || len(e.Reasons) != 1 {
			t.Errorf("auth.refuse entry %+v", e)
			continue
		}
		reasons[e.Reasons[0]] = true
	}
	for _, want := range []string{"user-disabled", "revoked", "expired", "bad-secret", "malformed"} {
		if !reasons[want] {
			t.Errorf("no auth.refuse entry with reason %s (have %v)", want, reasons)
		}
	}
}

// A revoked or expired token stays refused when the clock is later; the
// user's other tokens are unaffected by revoking one; revoking by user
// name revokes all of them.
func TestRevokeTokenByUser(t *testing.T) {
	ctx := context.Background()
	n := nodetest.New(t, "gbr", "GBR")
	_, tok1 := nodetest.AddUser(t, n, nodetest.AdminSpec())
	tok2, err := n.Users.IssueToken(ctx, node.ConsoleAdmin(), "admin", 0)
	if err != nil {
		t.Fatal(err)
	}
	if cnt, err := n.Users.RevokeToken(ctx, node.ConsoleAdmin(), "admin"); err != nil || cnt != 2 {
		t.Fatalf("RevokeToken(user) = %d, %v; want 2", cnt, err)
	}
	for _, tok := range []string{tok1, tok2} {
		if _, err := n.Authenticate(ctx, tok); err != node.ErrUnauthenticated {
			t.Errorf("token of revoked user: %v", err)
		}
	}
	if _, err := n.Users.RevokeToken(ctx, node.ConsoleAdmin(), "nobody"); err == nil {
		t.Error("RevokeToken(nobody) succeeded")
	}
}

// New tokens: positive and bounded by token_max_ttl, on every route that
// makes one.
func TestTokenLifetimesBounded(t *testing.T) {
	ctx := context.Background()
	n := nodetest.New(t, "gbr", "GBR")
	nodetest.AddUser(t, n, nodetest.AdminSpec())
	for _, ttl := range []time.Duration{-time.Hour, n.Config().TokenMaxTTL + time.Second} {
		if _, err := n.Users.IssueToken(ctx, node.ConsoleAdmin(), "admin", ttl); !errors.Is(err, node.ErrInvalid) {
			t.Errorf("IssueToken(%s) = %v, want ErrInvalid", ttl, err)
		}
		s := nodetest.AdminSpec()
		s.Name, s.TokenTTL = "other", ttl
		if _, _, err := n.Users.AddUser(ctx, node.ConsoleAdmin(), s); !errors.Is(err, node.ErrInvalid) {
			t.Errorf("AddUser with TokenTTL %s = %v, want ErrInvalid", ttl, err)
		}
	}
}

// A user whose default label is unknown cannot be created.
func TestAddUserRefusesUnknownDefaultLabel(t *testing.T) {
	ctx := context.Background()
	n := nodetest.New(t, "gbr", "GBR")
	spec := nodetest.AdminSpec()
	spec.Name, spec.DefaultLabel = "bad", "NATO SEKRET"
	if _, _, err := n.Users.AddUser(ctx, node.ConsoleAdmin(), spec); err == nil {
		t.Error("AddUser accepted an unknown default label")
	}
}
