package node

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/policy"
	"github.com/tearline/tearline/store"
)

// Roles a user may hold.
const (
	RoleAnalyst  = "analyst"
	RoleReleaser = "releaser"
	RoleAdmin    = "admin"
	RoleAuditor  = "auditor"
)

// Roles lists the known roles.
var Roles = []string{RoleAnalyst, RoleReleaser, RoleAdmin, RoleAuditor}

// Principal is an authenticated caller.
type Principal struct {
	User    store.User
	TokenID string
	Subject policy.Subject
	actor   string // the audit actor, when not user:NAME (ConsoleAdmin)
}

// Actor names the principal in the audit log.
func (p *Principal) Actor() string {
	switch {
	case p == nil:
		return "anonymous"
	case p.actor != "":
		return p.actor
	}
	return "user:" + p.User.Name
}

// capTokens gives every unrevoked token that never expires, or expires
// later than the longest lifetime allowed from now, that lifetime from
// now, and audits how many it changed. Open runs it, so tokens made before
// lifetimes were bounded (or before token_max_ttl was lowered) are bounded
// from the upgrade on; it changes nothing the second time.
func capTokens(ctx context.Context, n *Node) (int64, error) {
	limit := n.now().Add(n.cfg.TokenMaxTTL)
	var capped int64
	err := n.st.Update(ctx, func(tx store.Tx) error {
		var err error
		if capped, err = tx.CapTokenExpiry(ctx, limit); err != nil || capped == 0 {
			return err
		}
		return n.AppendAudit(ctx, tx, audit.Event{Actor: "node", Action: audit.ActionTokenCap, Subject: "tokens",
			Detail: fmt.Sprintf("%d token(s) now expire at %s (token_max_ttl %s)", capped, limit.Format(time.RFC3339), n.cfg.TokenMaxTTL)})
	})
	if err != nil {
		return 0, fmt.Errorf("cap token lifetimes: %w", err)
	}
	return capped, nil
}

// Authenticate resolves a bearer token to a principal. It reads the user
// afresh every time, so a revoked token or a changed clearance takes effect
// on the next request. Failures are audited.
func (n *Node) Authenticate(ctx context.Context, token string) (*Principal, error) {
	p, why := authenticate(ctx, n, token)
	if why == "" {
		return p, nil
	}
	id := "?"
	if rest, ok := strings.CutPrefix(token, TokenPrefix); ok {
		if i := strings.IndexByte(rest, '_'); i > 0 && i <= 16 {
			id = rest[:i]
		}
	}
	// A refusal is committed with concurrent reads (group commit), and
	// answered only once it is durable.
	if err := n.RecordReads(ctx, audit.Event{Actor: "token:" + id, Action: audit.ActionAuthRefuse, Decision: audit.Deny, Reasons: []string{why}}); err != nil {
		return nil, fmt.Errorf("authenticate: %w", err)
	}
	return nil, ErrUnauthenticated
}

func authenticate(ctx context.Context, n *Node, token string) (*Principal, string) {
	rest, ok := strings.CutPrefix(token, TokenPrefix)
	if !ok {
		return nil, "malformed"
	}
	id, secret, ok := strings.Cut(rest, "_")
	if !ok || id == "" || secret == "" {
		return nil, "malformed"
	}
	// The token and its user in one read: this runs on every request.
	t, u, err := n.st.TokenUser(ctx, id)
	if err != nil {
		return nil, "unknown"
	}
	h := sha256.Sum256([]byte(secret))
	if subtle.ConstantTimeCompare(h[:], t.Hash) != 1 {
		return nil, "bad-secret"
	}
	now := n.now()
	if !t.RevokedAt.IsZero() {
		return nil, "revoked"
	}
	if !t.Expires.IsZero() && !now.Before(t.Expires) {
		return nil, "expired"
	}
	if u.Disabled {
		return nil, "user-disabled"
	}
	return &Principal{User: u, TokenID: t.ID, Subject: policy.Subject{
		Nationality: u.Nationality, Clearances: u.Clearances, Compartments: u.Compartments,
	}}, ""
}

// ConsoleAdmin is the operator at the node's console (the CLI on the data
// directory, or the admin socket in it, which only the node's owner can
// reach): whoever can read the signing key may act as admin anyway. It has
// the admin role and no clearance, so it acts on objects only where the
// admin role acts on every level or no object is read (authority.go). It is
// audited as ConsoleActor.
func ConsoleAdmin() *Principal {
	return &Principal{User: store.User{Name: "console", Role: RoleAdmin}, TokenID: "console", actor: ConsoleActor}
}

// PrincipalByName acts as a named user at the console, with that user's
// role and clearances: releases and approvals need a named person, and the
// role rules apply as over the API.
func (n *Node) PrincipalByName(ctx context.Context, name string) (*Principal, error) {
	u, err := n.st.UserByName(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("user %s: %w", name, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("user %s: %w", name, err)
	}
	if u.Disabled {
		return nil, fmt.Errorf("user %s is disabled: %w", name, ErrForbidden)
	}
	return &Principal{User: u, TokenID: "console", Subject: policy.Subject{
		Nationality: u.Nationality, Clearances: u.Clearances, Compartments: u.Compartments,
	}}, nil
}

// TokenPrefix begins every token: tl_<id>_<secret>. The id finds the row,
// the secret is checked against its SHA-256; a long random secret needs no
// slow hash.
const TokenPrefix = "tl_"
