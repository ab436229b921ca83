package store

import (
	"context"
	"time"
)

// The web interface's credentials (docs/UI.md): a password per user and
// the sessions signed in with it, kept in the store so that every replica
// of a node knows them and a restart keeps them. Only hashes are kept: a
// password as argon2id, a session as the SHA-256 of its cookie secret.

// Password is a user's web password and the state of its lockout.
type Password struct {
	UserID      string
	Hash        string // argon2id in PHC string form
	Changed     time.Time
	Failures    int       // consecutive failed logins since the last success
	LockedUntil time.Time // zero: not locked
}

// Session is one signed-in browser session.
type Session struct {
	ID       string // hex SHA-256 of the cookie's secret
	UserID   string
	Created  time.Time
	LastSeen time.Time
}

// SessionReader reads web passwords and sessions. Reader embeds it.
type SessionReader interface {
	// Password returns the password of userID; ErrNotFound when the user
	// has none.
	Password(ctx context.Context, userID string) (Password, error)
	// Session returns the session id; ErrNotFound when there is none.
	Session(ctx context.Context, id string) (Session, error)
}

// SessionWriter writes web passwords and sessions. Tx embeds it.
type SessionWriter interface {
	// PutPassword stores p, replacing the user's password and lockout
	// state.
	PutPassword(ctx context.Context, p Password) error
	PutSession(ctx context.Context, s Session) error
	// TouchSession sets the session's LastSeen; ErrNotFound when there is
	// no such session.
	TouchSession(ctx context.Context, id string, at time.Time) error
	// DeleteSession ends one session; ending one that is gone is no error.
	DeleteSession(ctx context.Context, id string) error
	// DeleteUserSessions ends every session of userID and returns how many.
	DeleteUserSessions(ctx context.Context, userID string) (int64, error)
	// DeleteStaleSessions ends every session last seen before idle or
	// created before created, and returns how many.
	DeleteStaleSessions(ctx context.Context, idle, created time.Time) (int64, error)
}
