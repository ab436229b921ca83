package users_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/nodetest"
	"github.com/tearline/tearline/node/users"
)

const goodPassword = "correct horse battery"

// TestLoginSessionLogout: a password set by an admin lets its user sign in;
// the session resolves to the user as stored now (a clearance change shows
// at once), and ends at logout. Each step is audited.
func TestLoginSessionLogout(t *testing.T) {
	ctx := t.Context()
	clock := &testClock{}
	n, _ := newNodeWithFixture(t, clock)
	admin := node.ConsoleAdmin()
	nodetest.AddUser(t, n, users.UserSpec{Name: "ana", Role: node.RoleAnalyst, Nationality: "GBR", Clearances: map[string]string{"NATO": "SECRET"}})
	if _, _, err := n.Users.Login(ctx, "ana", goodPassword); !errors.Is(err, users.ErrLoginRefused) {
		t.Fatalf("login before any password: %v, want ErrLoginRefused", err)
	}
	if err := n.Users.SetPassword(ctx, admin, "ana", "short"); !errors.Is(err, node.ErrInvalid) {
		t.Fatalf("SetPassword of a short password: %v, want ErrInvalid", err)
	}
	ana, _ := n.PrincipalByName(ctx, "ana")
	if err := n.Users.SetPassword(ctx, ana, "ana", goodPassword); !errors.Is(err, node.ErrForbidden) {
		t.Fatalf("SetPassword by an analyst: %v, want ErrForbidden", err)
	}
	if err := n.Users.SetPassword(ctx, admin, "ana", goodPassword); err != nil {
		t.Fatal(err)
	}
	tok, p, err := n.Users.Login(ctx, "ana", goodPassword)
	if err != nil || p.User.Name != "ana" {
		t.Fatalf("Login = %v, %v", p, err)
	}
	got, err := n.Users.Session(ctx, tok)
	if err != nil || got.User.Name != "ana" || got.Subject.Clearances["NATO"] != "SECRET" {
		t.Fatalf("Session = %+v, %v", got, err)
	}
	if _, err := n.Users.UpdateUser(ctx, admin, "ana", users.UserChange{AddClearances: map[string]string{"NATO": "RESTRICTED"}}); err != nil {
		t.Fatal(err)
	}
	if got, err := n.Users.Session(ctx, tok); err != nil || got.Subject.Clearances["NATO"] != "RESTRICTED" {
		t.Fatalf("Session after a clearance change = %+v, %v; want NATO RESTRICTED", got, err)
	}
	if _, err := n.Users.Session(ctx, tok+"x"); !errors.Is(err, node.ErrUnauthenticated) {
		t.Fatalf("Session of a wrong token: %v", err)
	}
	if err := n.Users.Logout(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Users.Session(ctx, tok); !errors.Is(err, node.ErrUnauthenticated) {
		t.Fatalf("Session after logout: %v, want ErrUnauthenticated", err)
	}
	log := nodetest.AuditLog(t, n.Store())
	for _, want := range []string{audit.ActionPasswordSet, audit.ActionLogin, audit.ActionLogout} {
		if len(nodetest.FindEvents(log, func(e audit.Event) bool { return e.Action == want })) == 0 {
			t.Errorf("no %s in the audit log", want)
		}
	}
	refusals := nodetest.FindEvents(log, func(e audit.Event) bool { return e.Action == audit.ActionLoginRefuse })
	if len(refusals) != 1 || !slices.Contains(refusals[0].Reasons, "no-password") {
		t.Errorf("login refusals = %+v, want one for no-password", refusals)
	}
}

// TestLockout: the fifth wrong password locks the account; the right one is
// refused until the lock ends, then accepted.
func TestLockout(t *testing.T) {
	ctx := t.Context()
	clock := &testClock{}
	n, _ := newNodeWithFixture(t, clock)
	nodetest.AddUser(t, n, users.UserSpec{Name: "ana", Role: node.RoleAnalyst, Nationality: "GBR"})
	if err := n.Users.SetPassword(ctx, node.ConsoleAdmin(), "ana", goodPassword); err != nil {
		t.Fatal(err)
	}
	for i := range n.Config().UI.LockoutFailures {
		if _, _, err := n.Users.Login(ctx, "ana", "wrong password "+string(rune('a'+i))); !errors.Is(err, users.ErrLoginRefused) {
			t.Fatalf("wrong password %d: %v", i, err)
		}
	}
	if _, _, err := n.Users.Login(ctx, "ana", goodPassword); !errors.Is(err, users.ErrLoginRefused) {
		t.Fatalf("right password while locked: %v, want ErrLoginRefused", err)
	}
	log := nodetest.AuditLog(t, n.Store())
	if l := nodetest.FindEvents(log, func(e audit.Event) bool { return e.Action == audit.ActionLockout && e.Subject == "ana" }); len(l) != 1 {
		t.Fatalf("lockouts = %+v, want one", l)
	}
	if l := nodetest.FindEvents(log, func(e audit.Event) bool {
		return e.Action == audit.ActionLoginRefuse && slices.Contains(e.Reasons, "locked")
	}); len(l) != 1 {
		t.Fatalf("refusals while locked = %+v, want one", l)
	}
	clock.Add(n.Config().UI.LockoutDuration)
	if _, _, err := n.Users.Login(ctx, "ana", goodPassword); err != nil {
		t.Fatalf("right password after the lock: %v", err)
	}
}

// TestSessionEnds: a session ends after the idle timeout, after its
// lifetime however busy, and when its user is disabled.
func TestSessionEnds(t *testing.T) {
	ctx := t.Context()
	clock := &testClock{}
	n, _ := newNodeWithFixture(t, clock)
	admin := node.ConsoleAdmin()
	nodetest.AddUser(t, n, users.UserSpec{Name: "ana", Role: node.RoleAnalyst, Nationality: "GBR"})
	if err := n.Users.SetPassword(ctx, admin, "ana", goodPassword); err != nil {
		t.Fatal(err)
	}
	cfg := n.Config().UI
	login := func() string {
		tok, _, err := n.Users.Login(ctx, "ana", goodPassword)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	idle := login()
	clock.Add(cfg.IdleTimeout - time.Second)
	if _, err := n.Users.Session(ctx, idle); err != nil {
		t.Fatalf("session just before the idle timeout: %v", err)
	}
	clock.Add(cfg.IdleTimeout)
	if _, err := n.Users.Session(ctx, idle); !errors.Is(err, node.ErrUnauthenticated) {
		t.Fatalf("session after the idle timeout: %v", err)
	}

	busy := login()
	for elapsed := time.Duration(0); elapsed < cfg.SessionLifetime-cfg.IdleTimeout/2; elapsed += cfg.IdleTimeout / 2 {
		clock.Add(cfg.IdleTimeout / 2)
		if _, err := n.Users.Session(ctx, busy); err != nil {
			t.Fatalf("busy session after %s: %v", elapsed, err)
		}
	}
	clock.Add(cfg.IdleTimeout / 2)
	if _, err := n.Users.Session(ctx, busy); !errors.Is(err, node.ErrUnauthenticated) {
		t.Fatalf("busy session past its lifetime: %v", err)
	}

	open := login()
	disabled := true
	if _, err := n.Users.UpdateUser(ctx, admin, "ana", users.UserChange{Disabled: &disabled}); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Users.Session(ctx, open); !errors.Is(err, node.ErrUnauthenticated) {
		t.Fatalf("session of a disabled user: %v", err)
	}
	if _, _, err := n.Users.Login(ctx, "ana", goodPassword); !errors.Is(err, users.ErrLoginRefused) {
		t.Fatalf("login of a disabled user: %v", err)
	}
	ends := nodetest.FindEvents(nodetest.AuditLog(t, n.Store()), func(e audit.Event) bool { return e.Action == audit.ActionSessionEnd })
	var why []string
	for _, e := range ends {
		why = append(why, e.Reasons...)
	}
	if !slices.Contains(why, "idle") || !slices.Contains(why, "lifetime") {
		t.Errorf("session ends audited with %v, want idle and lifetime", why)
	}
}
