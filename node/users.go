package node

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/datadir"
	"github.com/tearline/tearline/label"
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

// UserSpec describes a new user.
type UserSpec struct {
	Name         string
	Role         string
	Nationality  string
	Org          string
	Clearances   map[string]string // policy -> level
	Compartments []string
	DefaultLabel string // banner
	TokenTTL     time.Duration
}

var userName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9._@-]{0,127}$`)

func (n *Node) checkUserSpec(s *UserSpec) error {
	if !userName.MatchString(s.Name) {
		return fmt.Errorf("name %q: want letters, digits, '.', '_', '@' or '-'", s.Name)
	}
	if !slices.Contains(Roles, s.Role) {
		return fmt.Errorf("role %q: want one of %s", s.Role, strings.Join(Roles, ", "))
	}
	s.Nationality = strings.ToUpper(s.Nationality)
	if !datadir.ValidCountry(s.Nationality) {
		return fmt.Errorf("nationality %q: want an ISO 3166 alpha-3 code such as GBR", s.Nationality)
	}
	clr := map[string]string{}
	for p, l := range s.Clearances {
		p, l = strings.ToUpper(p), strings.ToUpper(l)
		if _, ok := n.reg.Rank(p, l); !ok {
			return fmt.Errorf("clearance %s:%s: no such policy and level", p, l)
		}
		clr[p] = l
	}
	s.Clearances = clr
	comp := make([]string, 0, len(s.Compartments))
	for _, c := range s.Compartments {
		if c = strings.ToUpper(strings.TrimSpace(c)); c != "" {
			comp = append(comp, c)
		}
	}
	slices.Sort(comp)
	s.Compartments = slices.Compact(comp)
	if s.DefaultLabel != "" {
		l, err := n.reg.ParseBanner(s.DefaultLabel)
		if err != nil {
			return fmt.Errorf("default label: %w", err)
		}
		l = n.completeLabel(l)
		if err := n.reg.Validate(l); err != nil {
			return fmt.Errorf("default label: %w", err)
		}
		// A default label the user could not read would make everything
		// they publish without a label vanish from their own view.
		subj := policy.Subject{Nationality: s.Nationality, Clearances: s.Clearances, Compartments: s.Compartments}
		if d := policy.CanRead(n.reg, subj, []label.Label{l}); !d.Allow {
			return fmt.Errorf("default label %q: the user could not read what they publish under it (%s)", n.reg.Banner(l), strings.Join(reasonStrings(d.Reasons), ", "))
		}
		s.DefaultLabel = n.reg.Banner(l)
	}
	return nil
}

// AddUser creates a user and a first API token, returned in clear once.
func (n *Node) AddUser(ctx context.Context, p *Principal, s UserSpec) (store.User, string, error) {
	if err := authorize(p, ActUserAdmin); err != nil {
		return store.User{}, "", fmt.Errorf("add user: %w", err)
	}
	actor := p.Actor()
	if err := n.checkUserSpec(&s); err != nil {
		return store.User{}, "", fmt.Errorf("add user: %w: %w", ErrInvalid, err)
	}
	u := store.User{
		ID: "user--" + randHex(16), Name: s.Name, Role: s.Role, Nationality: s.Nationality, Org: s.Org,
		Clearances: s.Clearances, Compartments: s.Compartments, DefaultLabel: s.DefaultLabel, Created: n.now(),
	}
	tok, secret, err := n.newToken(u.ID, s.TokenTTL)
	if err != nil {
		return u, "", err
	}
	err = n.st.Update(ctx, func(tx store.Tx) error {
		if err := tx.PutUser(ctx, u); err != nil {
			return err
		}
		if err := tx.PutToken(ctx, tok); err != nil {
			return err
		}
		return n.appendAudit(ctx, tx,
			audit.Event{Actor: actor, Action: audit.ActionUserAdd, Subject: u.Name,
				Detail: fmt.Sprintf("role=%s nationality=%s clearances=%s compartments=%s", u.Role, u.Nationality, clearanceString(u.Clearances), strings.Join(u.Compartments, ","))},
			audit.Event{Actor: actor, Action: audit.ActionTokenIssue, Subject: u.Name + "/" + tok.ID})
	})
	if err != nil {
		return u, "", fmt.Errorf("add user %s: %w", s.Name, err)
	}
	return u, secret, nil
}

// UserChange is a change to an existing user; nil fields stay as they are.
type UserChange struct {
	Role         *string
	Clearances   map[string]string // replaces all when non-nil
	Compartments []string          // replaces all when non-nil
	// Applied after the replacements above, inside the same transaction,
	// so that two administrators adding different clearances both win.
	AddClearances      map[string]string // policy -> level, set or raised/lowered
	RemoveClearances   []string          // policy names
	AddCompartments    []string
	RemoveCompartments []string
	DefaultLabel       *string
	Disabled           *bool
}

// UpdateUser changes a user. It takes effect at the user's next request.
func (n *Node) UpdateUser(ctx context.Context, p *Principal, name string, c UserChange) (store.User, error) {
	if err := authorize(p, ActUserAdmin); err != nil {
		return store.User{}, fmt.Errorf("update user %s: %w", name, err)
	}
	actor := p.Actor()
	var out store.User
	err := n.st.Update(ctx, func(tx store.Tx) error {
		u, err := tx.UserByName(ctx, name)
		if err != nil {
			return err
		}
		s := UserSpec{Name: u.Name, Role: u.Role, Nationality: u.Nationality, Org: u.Org,
			Clearances: u.Clearances, Compartments: u.Compartments, DefaultLabel: u.DefaultLabel}
		if c.Role != nil {
			s.Role = *c.Role
		}
		if c.Clearances != nil {
			s.Clearances = c.Clearances
		}
		if c.Compartments != nil {
			s.Compartments = c.Compartments
		}
		if len(c.AddClearances) > 0 || len(c.RemoveClearances) > 0 {
			clr := maps.Clone(s.Clearances)
			if clr == nil {
				clr = map[string]string{}
			}
			for _, p := range c.RemoveClearances {
				p = strings.ToUpper(p)
				if _, ok := clr[p]; !ok {
					return fmt.Errorf("%w: remove clearance %s: the user holds none under that policy", ErrInvalid, p)
				}
				delete(clr, p)
			}
			for p, l := range c.AddClearances {
				clr[strings.ToUpper(p)] = l
			}
			s.Clearances = clr
		}
		if len(c.AddCompartments) > 0 || len(c.RemoveCompartments) > 0 {
			comp := slices.Clone(s.Compartments)
			for _, rm := range c.RemoveCompartments {
				rm = strings.ToUpper(strings.TrimSpace(rm))
				i := slices.Index(comp, rm)
				if i < 0 {
					return fmt.Errorf("%w: remove compartment %s: the user is not in it", ErrInvalid, rm)
				}
				comp = slices.Delete(comp, i, i+1)
			}
			s.Compartments = append(comp, c.AddCompartments...)
		}
		if c.DefaultLabel != nil {
			s.DefaultLabel = *c.DefaultLabel
		}
		if err := n.checkUserSpec(&s); err != nil {
			return fmt.Errorf("%w: %w", ErrInvalid, err)
		}
		u.Role, u.Clearances, u.Compartments, u.DefaultLabel = s.Role, s.Clearances, s.Compartments, s.DefaultLabel
		if c.Disabled != nil {
			u.Disabled = *c.Disabled
		}
		if err := tx.UpdateUser(ctx, u); err != nil {
			return err
		}
		out = u
		return n.appendAudit(ctx, tx, audit.Event{Actor: actor, Action: audit.ActionUserUpdate, Subject: u.Name,
			Detail: fmt.Sprintf("role=%s clearances=%s compartments=%s disabled=%t", u.Role, clearanceString(u.Clearances), strings.Join(u.Compartments, ","), u.Disabled)})
	})
	if err != nil {
		return out, fmt.Errorf("update user %s: %w", name, err)
	}
	return out, nil
}

// Users lists every user.
func (n *Node) Users(ctx context.Context, p *Principal) ([]store.User, error) {
	if err := authorize(p, ActUserAdmin); err != nil {
		return nil, fmt.Errorf("users: %w", err)
	}
	return n.st.Users(ctx)
}

// Tokens lists a user's tokens (never their secrets).
func (n *Node) Tokens(ctx context.Context, p *Principal, name string) ([]store.Token, error) {
	if err := authorize(p, ActUserAdmin); err != nil {
		return nil, fmt.Errorf("tokens of %s: %w", name, err)
	}
	u, err := n.st.UserByName(ctx, name)
	if err != nil {
		return nil, err
	}
	return n.st.Tokens(ctx, u.ID)
}

// IssueToken makes a new token for a user.
func (n *Node) IssueToken(ctx context.Context, p *Principal, name string, ttl time.Duration) (string, error) {
	if err := authorize(p, ActUserAdmin); err != nil {
		return "", fmt.Errorf("issue token for %s: %w", name, err)
	}
	actor := p.Actor()
	var secret string
	err := n.st.Update(ctx, func(tx store.Tx) error {
		u, err := tx.UserByName(ctx, name)
		if err != nil {
			return err
		}
		tok, s, err := n.newToken(u.ID, ttl)
		if err != nil {
			return err
		}
		secret = s
		if err := tx.PutToken(ctx, tok); err != nil {
			return err
		}
		return n.appendAudit(ctx, tx, audit.Event{Actor: actor, Action: audit.ActionTokenIssue, Subject: u.Name + "/" + tok.ID})
	})
	if err != nil {
		return "", fmt.Errorf("issue token for %s: %w", name, err)
	}
	return secret, nil
}

// RevokeToken revokes one token by id, or every live token of a user when
// target is a user name. Revocation takes effect at the next request.
func (n *Node) RevokeToken(ctx context.Context, p *Principal, target string) (int, error) {
	if err := authorize(p, ActUserAdmin); err != nil {
		return 0, fmt.Errorf("revoke %s: %w", target, err)
	}
	actor := p.Actor()
	count := 0
	err := n.st.Update(ctx, func(tx store.Tx) error {
		var ids []string
		if _, err := tx.Token(ctx, target); err == nil {
			ids = []string{target}
		} else if u, err := tx.UserByName(ctx, target); err == nil {
			toks, err := tx.Tokens(ctx, u.ID)
			if err != nil {
				return err
			}
			for _, t := range toks {
				if t.RevokedAt.IsZero() {
					ids = append(ids, t.ID)
				}
			}
		} else {
			return fmt.Errorf("%q is neither a token id nor a user: %w", target, store.ErrNotFound)
		}
		for _, id := range ids {
			if err := tx.RevokeToken(ctx, id, n.now()); err != nil {
				return err
			}
			if err := n.appendAudit(ctx, tx, audit.Event{Actor: actor, Action: audit.ActionTokenRevoke, Subject: id}); err != nil {
				return err
			}
		}
		count = len(ids)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("revoke %s: %w", target, err)
	}
	return count, nil
}

// Tokens look like tl_<id>_<secret>: the id finds the row, the secret is
// checked against its SHA-256. A long random secret needs no slow hash.
const tokenPrefix = "tl_"

func (n *Node) newToken(userID string, ttl time.Duration) (store.Token, string, error) {
	if ttl == 0 {
		ttl = n.cfg.TokenTTL
	}
	if err := n.checkTokenTTL(ttl); err != nil {
		return store.Token{}, "", err
	}
	id := randHex(8)
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return store.Token{}, "", err
	}
	s := base64.RawURLEncoding.EncodeToString(secret)
	h := sha256.Sum256([]byte(s))
	now := n.now()
	t := store.Token{ID: id, UserID: userID, Hash: h[:], Created: now, Expires: now.Add(ttl)}
	return t, tokenPrefix + id + "_" + s, nil
}

// checkTokenTTL refuses a token lifetime that is not positive or is longer
// than the node allows: a token that never expires, or expires before it
// is made, is a mistake on every route that makes one.
func (n *Node) checkTokenTTL(ttl time.Duration) error {
	if ttl <= 0 || ttl > n.cfg.TokenMaxTTL {
		return fmt.Errorf("%w: token lifetime %s: want a positive duration up to %s (token_max_ttl in tearline.yaml)", ErrInvalid, ttl, n.cfg.TokenMaxTTL)
	}
	return nil
}

// CapTokens gives every unrevoked token that never expires, or expires
// later than the longest lifetime allowed from now, that lifetime from
// now, and audits how many it changed. Open runs it, so tokens made before
// lifetimes were bounded (or before token_max_ttl was lowered) are bounded
// from the upgrade on; it changes nothing the second time.
func (n *Node) CapTokens(ctx context.Context) (int64, error) {
	limit := n.now().Add(n.cfg.TokenMaxTTL)
	var capped int64
	err := n.st.Update(ctx, func(tx store.Tx) error {
		var err error
		if capped, err = tx.CapTokenExpiry(ctx, limit); err != nil || capped == 0 {
			return err
		}
		return n.appendAudit(ctx, tx, audit.Event{Actor: "node", Action: audit.ActionTokenCap, Subject: "tokens",
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
	p, why := n.authenticate(ctx, token)
	if why == "" {
		return p, nil
	}
	id := "?"
	if rest, ok := strings.CutPrefix(token, tokenPrefix); ok {
		if i := strings.IndexByte(rest, '_'); i > 0 && i <= 16 {
			id = rest[:i]
		}
	}
	err := n.st.Update(ctx, func(tx store.Tx) error {
		return n.appendAudit(ctx, tx, audit.Event{Actor: "token:" + id, Action: audit.ActionAuthRefuse, Decision: audit.Deny, Reasons: []string{why}})
	})
	if err != nil {
		return nil, fmt.Errorf("authenticate: %w", err)
	}
	return nil, ErrUnauthenticated
}

func (n *Node) authenticate(ctx context.Context, token string) (*Principal, string) {
	rest, ok := strings.CutPrefix(token, tokenPrefix)
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

func randHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return hex.EncodeToString(b)
}

func clearanceString(c map[string]string) string {
	parts := make([]string, 0, len(c))
	for p, l := range c {
		parts = append(parts, p+":"+l)
	}
	slices.Sort(parts)
	return strings.Join(parts, ",")
}
