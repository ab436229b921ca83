package users

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/policy"
	"github.com/tearline/tearline/store"
)

// Web sessions (docs/UI.md): a user signs in with name and password and
// gets a session token, which the web interface keeps in a cookie. The
// store keeps only the SHA-256 of the token, so that every replica knows
// the session and a restart keeps it. The user is read afresh on every
// request, so a disabled user, a changed role or clearance applies to open
// sessions at once; a disabled user's sessions are ended at their next use.

// SessionPrefix begins every session token: ts_<secret>.
const SessionPrefix = "ts_"

// touchEvery is how stale a session's last-seen time may get before a
// request writes it again: an idle timeout is minutes, so recording every
// request would make every page view a write for nothing.
const touchEvery = 30 * time.Second

// ErrLoginRefused is every refused login, whatever the reason (unknown
// name, wrong password, locked, disabled): the reason is audited, never
// told to whoever tries.
var ErrLoginRefused = fmt.Errorf("%w: name or password not accepted", node.ErrUnauthenticated)

func sessionID(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// short names a session in the audit log without giving its id away.
func short(id string) string { return "session:" + id[:12] }

func principalOf(u store.User) *node.Principal {
	return &node.Principal{User: u, TokenID: "session", Subject: policy.Subject{
		Nationality: u.Nationality, Clearances: u.Clearances, Compartments: u.Compartments}}
}

// SetPassword sets name's web password, clears any lockout and ends the
// user's open sessions (a changed password is often a suspected one).
func (us *Service) SetPassword(ctx context.Context, p *node.Principal, name, password string) error {
	if err := node.Authorize(p, node.ActUserAdmin); err != nil {
		return fmt.Errorf("set password of %s: %w", name, err)
	}
	if err := checkPasswordStrength(password); err != nil {
		return fmt.Errorf("set password of %s: %w: %w", name, node.ErrInvalid, err)
	}
	hash, err := us.hash(ctx, password)
	if err != nil {
		return fmt.Errorf("set password of %s: %w", name, err)
	}
	err = us.n.Store().Update(ctx, func(tx store.Tx) error {
		u, err := tx.UserByName(ctx, name)
		if err != nil {
			return err
		}
		if err := tx.PutPassword(ctx, store.Password{UserID: u.ID, Hash: hash, Changed: us.n.Now()}); err != nil {
			return err
		}
		ended, err := tx.DeleteUserSessions(ctx, u.ID)
		if err != nil {
			return err
		}
		return us.n.AppendAudit(ctx, tx, audit.Event{Actor: p.Actor(), Action: audit.ActionPasswordSet, Subject: u.Name, Count: int(ended),
			Detail: "password set; count is the open sessions it ended"})
	})
	if errors.Is(err, store.ErrNotFound) {
		err = fmt.Errorf("%w: %w", node.ErrNotFound, err)
	}
	if err != nil {
		return fmt.Errorf("set password of %s: %w", name, err)
	}
	return nil
}

// hash hashes a password, a few at a time: each hash takes 19 MiB.
func (us *Service) hash(ctx context.Context, password string) (string, error) {
	select {
	case us.hashing <- struct{}{}:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	defer func() { <-us.hashing }()
	return hashPassword(password)
}

func (us *Service) check(ctx context.Context, hash, password string) (bool, error) {
	select {
	case us.hashing <- struct{}{}:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	defer func() { <-us.hashing }()
	return checkPassword(hash, password), nil
}

// Login checks name and password and opens a session, returning its token
// (in clear, once) and the principal. Every refusal is ErrLoginRefused and
// is audited with its reason; the LockoutFailures-th consecutive failure
// locks the account for LockoutDuration, audited as a lockout. A locked
// account refuses even the right password until the lock ends.
func (us *Service) Login(ctx context.Context, name, password string) (string, *node.Principal, error) {
	cfg := us.n.Config().UI
	u, err := us.n.Store().UserByName(ctx, name)
	known := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return "", nil, fmt.Errorf("login: %w", err)
	}
	pw := store.Password{Hash: dummyHash}
	hasPassword := false
	if known {
		switch got, err := us.n.Store().Password(ctx, u.ID); {
		case err == nil:
			pw, hasPassword = got, true
		case !errors.Is(err, store.ErrNotFound):
			return "", nil, fmt.Errorf("login: %w", err)
		}
	}
	// The hash is checked whatever else is wrong, so a refusal takes as
	// long for an unknown name as for a wrong password.
	match, err := us.check(ctx, pw.Hash, password)
	if err != nil {
		return "", nil, fmt.Errorf("login: %w", err)
	}
	var token string
	var refused string
	err = us.n.Store().Update(ctx, func(tx store.Tx) error {
		now := us.n.Now()
		refused, token = "", ""
		if !known {
			refused = "unknown-user"
			return us.n.AppendAudit(ctx, tx, audit.Event{Actor: "anonymous", Action: audit.ActionLoginRefuse, Decision: audit.Deny, Reasons: []string{refused}})
		}
		actor := "user:" + u.Name
		// Read again inside the transaction: concurrent failures must all
		// count towards the lockout.
		cur, err := tx.Password(ctx, u.ID)
		switch {
		case errors.Is(err, store.ErrNotFound) || !hasPassword:
			refused = "no-password"
		case err != nil:
			return err
		case u.Disabled:
			refused = "user-disabled"
		case !cur.LockedUntil.IsZero() && now.Before(cur.LockedUntil):
			refused = "locked"
		case cur.Hash != pw.Hash:
			refused = "password-changed" // changed while this login was checked: try again
		case !match:
			refused = "bad-password"
		}
		if refused != "" {
			events := []audit.Event{{Actor: actor, Action: audit.ActionLoginRefuse, Subject: u.Name, Decision: audit.Deny, Reasons: []string{refused}}}
			if refused == "bad-password" {
				cur.Failures++
				if cfg.LockoutFailures > 0 && cur.Failures >= cfg.LockoutFailures {
					cur.Failures, cur.LockedUntil = 0, now.Add(cfg.LockoutDuration)
					events = append(events, audit.Event{Actor: "node", Action: audit.ActionLockout, Subject: u.Name,
						Detail: fmt.Sprintf("%d failed logins; locked until %s", cfg.LockoutFailures, cur.LockedUntil.UTC().Format(time.RFC3339))})
				}
				if err := tx.PutPassword(ctx, cur); err != nil {
					return err
				}
			}
			return us.n.AppendAudit(ctx, tx, events...)
		}
		if cur.Failures != 0 || !cur.LockedUntil.IsZero() {
			cur.Failures, cur.LockedUntil = 0, time.Time{}
			if err := tx.PutPassword(ctx, cur); err != nil {
				return err
			}
		}
		// Sessions nobody ended are swept at each login, so the table
		// holds live sessions only.
		if _, err := tx.DeleteStaleSessions(ctx, now.Add(-cfg.IdleTimeout), now.Add(-cfg.SessionLifetime)); err != nil {
			return err
		}
		t := SessionPrefix + randToken()
		s := store.Session{ID: sessionID(t), UserID: u.ID, Created: now, LastSeen: now}
		if err := tx.PutSession(ctx, s); err != nil {
			return err
		}
		token = t
		return us.n.AppendAudit(ctx, tx, audit.Event{Actor: actor, Action: audit.ActionLogin, Subject: short(s.ID), Decision: audit.Allow})
	})
	if err != nil {
		return "", nil, fmt.Errorf("login: %w", err)
	}
	if refused != "" {
		return "", nil, ErrLoginRefused
	}
	return token, principalOf(u), nil
}

// Session resolves a session token to its principal, with the user as
// stored now. A session idle longer than IdleTimeout, older than
// SessionLifetime, or of a user since disabled is ended (and audited) and
// answers node.ErrUnauthenticated, as does a token that names no session.
func (us *Service) Session(ctx context.Context, token string) (*node.Principal, error) {
	if !strings.HasPrefix(token, SessionPrefix) || len(token) > 128 {
		return nil, node.ErrUnauthenticated
	}
	id := sessionID(token)
	st := us.n.Store()
	s, err := st.Session(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, node.ErrUnauthenticated
	}
	if err != nil {
		return nil, fmt.Errorf("session: %w", err)
	}
	u, err := st.User(ctx, s.UserID)
	if err != nil {
		return nil, fmt.Errorf("session: %w", err)
	}
	cfg, now := us.n.Config().UI, us.n.Now()
	why := ""
	switch {
	case u.Disabled:
		why = "user-disabled"
	case !now.Before(s.Created.Add(cfg.SessionLifetime)):
		why = "lifetime"
	case !now.Before(s.LastSeen.Add(cfg.IdleTimeout)):
		why = "idle"
	}
	if why != "" {
		err := st.Update(ctx, func(tx store.Tx) error {
			if err := tx.DeleteSession(ctx, id); err != nil {
				return err
			}
			return us.n.AppendAudit(ctx, tx, audit.Event{Actor: "node", Action: audit.ActionSessionEnd, Subject: short(id),
				Decision: audit.Deny, Reasons: []string{why}, Detail: "user " + u.Name})
		})
		if err != nil {
			return nil, fmt.Errorf("session: %w", err)
		}
		return nil, node.ErrUnauthenticated
	}
	if now.Sub(s.LastSeen) >= touchEvery {
		err := st.Update(ctx, func(tx store.Tx) error { return tx.TouchSession(ctx, id, now) })
		if errors.Is(err, store.ErrNotFound) {
			return nil, node.ErrUnauthenticated // ended meanwhile (logout, password change)
		}
		if err != nil {
			return nil, fmt.Errorf("session: %w", err)
		}
	}
	return principalOf(u), nil
}

// Logout ends the session of token and audits it; a token that names no
// session is no error (it may have timed out).
func (us *Service) Logout(ctx context.Context, token string) error {
	id := sessionID(token)
	err := us.n.Store().Update(ctx, func(tx store.Tx) error {
		s, err := tx.Session(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		u, err := tx.User(ctx, s.UserID)
		if err != nil {
			return err
		}
		if err := tx.DeleteSession(ctx, id); err != nil {
			return err
		}
		return us.n.AppendAudit(ctx, tx, audit.Event{Actor: "user:" + u.Name, Action: audit.ActionLogout, Subject: short(id)})
	})
	if err != nil {
		return fmt.Errorf("logout: %w", err)
	}
	return nil
}
