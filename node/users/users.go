// Package users administers a node's users and their API tokens: adding,
// changing, listing, issuing and revoking. Who may do it is node's to say
// (node.Authorize, ActUserAdmin); authenticating a token is node's too
// (node.Authenticate), since every request needs it.
package users

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
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
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/policy"
	"github.com/tearline/tearline/store"
)

// Service administers the users of one node.
type Service struct {
	n       *node.Node
	hashing chan struct{} // password hashes in progress (sessions.go)
}

// New returns the user administration of n.
func New(n *node.Node) *Service { return &Service{n: n, hashing: make(chan struct{}, 4)} }

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

func (us *Service) checkUserSpec(s *UserSpec) error {
	if !userName.MatchString(s.Name) {
		return fmt.Errorf("name %q: want letters, digits, '.', '_', '@' or '-'", s.Name)
	}
	if !slices.Contains(node.Roles, s.Role) {
		return fmt.Errorf("role %q: want one of %s", s.Role, strings.Join(node.Roles, ", "))
	}
	s.Nationality = strings.ToUpper(s.Nationality)
	if !datadir.ValidCountry(s.Nationality) {
		return fmt.Errorf("nationality %q: want an ISO 3166 alpha-3 code such as GBR", s.Nationality)
	}
	clr := map[string]string{}
	for p, l := range s.Clearances {
		p, l = strings.ToUpper(p), strings.ToUpper(l)
		if _, ok := us.n.Registry().Rank(p, l); !ok {
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
		l, err := us.n.Registry().ParseBanner(s.DefaultLabel)
		if err != nil {
			return fmt.Errorf("default label: %w", err)
		}
		l = us.n.CompleteLabel(l)
		if err := us.n.Registry().Validate(l); err != nil {
			return fmt.Errorf("default label: %w", err)
		}
		// A default label the user could not read would make everything
		// they publish without a label vanish from their own view.
		subj := policy.Subject{Nationality: s.Nationality, Clearances: s.Clearances, Compartments: s.Compartments}
		if d := policy.CanRead(us.n.Registry(), subj, []label.Label{l}); !d.Allow {
			return fmt.Errorf("default label %q: the user could not read what they publish under it (%s)", us.n.Registry().Banner(l), strings.Join(policy.ReasonStrings(d.Reasons), ", "))
		}
		s.DefaultLabel = us.n.Registry().Banner(l)
	}
	return nil
}

// AddUser creates a user and a first API token, returned in clear once.
func (us *Service) AddUser(ctx context.Context, p *node.Principal, s UserSpec) (store.User, string, error) {
	if err := node.Authorize(p, node.ActUserAdmin); err != nil {
		return store.User{}, "", fmt.Errorf("add user: %w", err)
	}
	actor := p.Actor()
	if err := us.checkUserSpec(&s); err != nil {
		return store.User{}, "", fmt.Errorf("add user: %w: %w", node.ErrInvalid, err)
	}
	u := store.User{
		ID: "user--" + randHex(16), Name: s.Name, Role: s.Role, Nationality: s.Nationality, Org: s.Org,
		Clearances: s.Clearances, Compartments: s.Compartments, DefaultLabel: s.DefaultLabel, Created: us.n.Now(),
	}
	tok, secret, err := us.newToken(u.ID, s.TokenTTL)
	if err != nil {
		return u, "", err
	}
	err = us.n.Store().Update(ctx, func(tx store.Tx) error {
		if err := tx.PutUser(ctx, u); err != nil {
			return err
		}
		if err := tx.PutToken(ctx, tok); err != nil {
			return err
		}
		return us.n.AppendAudit(ctx, tx,
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
func (us *Service) UpdateUser(ctx context.Context, p *node.Principal, name string, c UserChange) (store.User, error) {
	if err := node.Authorize(p, node.ActUserAdmin); err != nil {
		return store.User{}, fmt.Errorf("update user %s: %w", name, err)
	}
	actor := p.Actor()
	var out store.User
	err := us.n.Store().Update(ctx, func(tx store.Tx) error {
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
					return fmt.Errorf("%w: remove clearance %s: the user holds none under that policy", node.ErrInvalid, p)
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
					return fmt.Errorf("%w: remove compartment %s: the user is not in it", node.ErrInvalid, rm)
				}
				comp = slices.Delete(comp, i, i+1)
			}
			s.Compartments = append(comp, c.AddCompartments...)
		}
		if c.DefaultLabel != nil {
			s.DefaultLabel = *c.DefaultLabel
		}
		if err := us.checkUserSpec(&s); err != nil {
			return fmt.Errorf("%w: %w", node.ErrInvalid, err)
		}
		u.Role, u.Clearances, u.Compartments, u.DefaultLabel = s.Role, s.Clearances, s.Compartments, s.DefaultLabel
		if c.Disabled != nil {
			u.Disabled = *c.Disabled
		}
		if err := tx.UpdateUser(ctx, u); err != nil {
			return err
		}
		if u.Disabled {
			// A disabled user's web sessions end now, not at their next use.
			if _, err := tx.DeleteUserSessions(ctx, u.ID); err != nil {
				return err
			}
		}
		out = u
		return us.n.AppendAudit(ctx, tx, audit.Event{Actor: actor, Action: audit.ActionUserUpdate, Subject: u.Name,
			Detail: fmt.Sprintf("role=%s clearances=%s compartments=%s disabled=%t", u.Role, clearanceString(u.Clearances), strings.Join(u.Compartments, ","), u.Disabled)})
	})
	if err != nil {
		return out, fmt.Errorf("update user %s: %w", name, err)
	}
	return out, nil
}

// Users lists every user.
func (us *Service) Users(ctx context.Context, p *node.Principal) ([]store.User, error) {
	if err := node.Authorize(p, node.ActUserAdmin); err != nil {
		return nil, fmt.Errorf("users: %w", err)
	}
	return us.n.Store().Users(ctx)
}

// Tokens lists a user's tokens (never their secrets).
func (us *Service) Tokens(ctx context.Context, p *node.Principal, name string) ([]store.Token, error) {
	if err := node.Authorize(p, node.ActUserAdmin); err != nil {
		return nil, fmt.Errorf("tokens of %s: %w", name, err)
	}
	u, err := us.n.Store().UserByName(ctx, name)
	if err != nil {
		return nil, err
	}
	return us.n.Store().Tokens(ctx, u.ID)
}

// IssueToken makes a new token for a user.
func (us *Service) IssueToken(ctx context.Context, p *node.Principal, name string, ttl time.Duration) (string, error) {
	if err := node.Authorize(p, node.ActUserAdmin); err != nil {
		return "", fmt.Errorf("issue token for %s: %w", name, err)
	}
	actor := p.Actor()
	var secret string
	err := us.n.Store().Update(ctx, func(tx store.Tx) error {
		u, err := tx.UserByName(ctx, name)
		if err != nil {
			return err
		}
		tok, s, err := us.newToken(u.ID, ttl)
		if err != nil {
			return err
		}
		secret = s
		if err := tx.PutToken(ctx, tok); err != nil {
			return err
		}
		return us.n.AppendAudit(ctx, tx, audit.Event{Actor: actor, Action: audit.ActionTokenIssue, Subject: u.Name + "/" + tok.ID})
	})
	if err != nil {
		return "", fmt.Errorf("issue token for %s: %w", name, err)
	}
	return secret, nil
}

// RevokeToken revokes one token by id, or every live token of a user when
// target is a user name. Revocation takes effect at the next request.
func (us *Service) RevokeToken(ctx context.Context, p *node.Principal, target string) (int, error) {
	if err := node.Authorize(p, node.ActUserAdmin); err != nil {
		return 0, fmt.Errorf("revoke %s: %w", target, err)
	}
	actor := p.Actor()
	count := 0
	err := us.n.Store().Update(ctx, func(tx store.Tx) error {
		var ids []string
		if _, err := tx.Token(ctx, target); err == nil {
			ids = []string{target}
		} else if u, err := tx.UserByName(ctx, target); err == nil {
			// Revoking a user revokes their web sessions too.
			if _, err := tx.DeleteUserSessions(ctx, u.ID); err != nil {
				return err
			}
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
			if err := tx.RevokeToken(ctx, id, us.n.Now()); err != nil {
				return err
			}
			if err := us.n.AppendAudit(ctx, tx, audit.Event{Actor: actor, Action: audit.ActionTokenRevoke, Subject: id}); err != nil {
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

func (us *Service) newToken(userID string, ttl time.Duration) (store.Token, string, error) {
	if ttl == 0 {
		ttl = us.n.Config().TokenTTL
	}
	if err := us.checkTokenTTL(ttl); err != nil {
		return store.Token{}, "", err
	}
	id := randHex(8)
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return store.Token{}, "", err
	}
	s := base64.RawURLEncoding.EncodeToString(secret)
	h := sha256.Sum256([]byte(s))
	now := us.n.Now()
	t := store.Token{ID: id, UserID: userID, Hash: h[:], Created: now, Expires: now.Add(ttl)}
	return t, node.TokenPrefix + id + "_" + s, nil
}

// checkTokenTTL refuses a token lifetime that is not positive or is longer
// than the node allows: a token that never expires, or expires before it
// is made, is a mistake on every route that makes one.
func (us *Service) checkTokenTTL(ttl time.Duration) error {
	if ttl <= 0 || ttl > us.n.Config().TokenMaxTTL {
		return fmt.Errorf("%w: token lifetime %s: want a positive duration up to %s (token_max_ttl in tearline.yaml)", node.ErrInvalid, ttl, us.n.Config().TokenMaxTTL)
	}
	return nil
}

// randToken returns 32 random bytes, base64url.
func randToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
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
