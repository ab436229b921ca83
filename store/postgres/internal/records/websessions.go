package records

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tearline/tearline/store"
)

// WebSessionsSchema (migration 15): the SQLite store's migration 15 says
// what it keeps. It only creates empty tables: trivial at any size.
const WebSessionsSchema = `
CREATE TABLE web_passwords (
	user_id         text    PRIMARY KEY REFERENCES users (id),
	hash            text    NOT NULL,
	changed_us      bigint  NOT NULL,
	failures        integer NOT NULL,
	locked_until_us bigint  NOT NULL
);

CREATE TABLE web_sessions (
	id           text   PRIMARY KEY,
	user_id      text   NOT NULL REFERENCES users (id),
	created_us   bigint NOT NULL,
	last_seen_us bigint NOT NULL
);
CREATE INDEX web_sessions_user ON web_sessions (user_id);
`

func (r AccountReader) Password(ctx context.Context, userID string) (store.Password, error) {
	p := store.Password{UserID: userID}
	var changed, locked int64
	err := r.q.QueryRow(ctx, `SELECT hash, changed_us, failures, locked_until_us FROM web_passwords WHERE user_id = $1`, userID).
		Scan(&p.Hash, &changed, &p.Failures, &locked)
	if errors.Is(err, pgx.ErrNoRows) {
		return p, fmt.Errorf("password of %s: %w", userID, store.ErrNotFound)
	}
	if err != nil {
		return p, fmt.Errorf("password of %s: %w", userID, err)
	}
	p.Changed, p.LockedUntil = timeOrZero(changed), timeOrZero(locked)
	return p, nil
}

func (r AccountReader) Session(ctx context.Context, id string) (store.Session, error) {
	s := store.Session{ID: id}
	var created, seen int64
	err := r.q.QueryRow(ctx, `SELECT user_id, created_us, last_seen_us FROM web_sessions WHERE id = $1`, id).
		Scan(&s.UserID, &created, &seen)
	if errors.Is(err, pgx.ErrNoRows) {
		return s, fmt.Errorf("session: %w", store.ErrNotFound)
	}
	if err != nil {
		return s, fmt.Errorf("session: %w", err)
	}
	s.Created, s.LastSeen = timeOrZero(created), timeOrZero(seen)
	return s, nil
}

func (t AccountWriter) PutPassword(ctx context.Context, p store.Password) error {
	if _, err := t.t.Exec(ctx, `INSERT INTO web_passwords (user_id, hash, changed_us, failures, locked_until_us) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (user_id) DO UPDATE SET hash = excluded.hash, changed_us = excluded.changed_us, failures = excluded.failures, locked_until_us = excluded.locked_until_us`,
		p.UserID, p.Hash, usOrZero(p.Changed), p.Failures, usOrZero(p.LockedUntil)); err != nil {
		return fmt.Errorf("put password of %s: %w", p.UserID, err)
	}
	return nil
}

func (t AccountWriter) PutSession(ctx context.Context, s store.Session) error {
	if _, err := t.t.Exec(ctx, `INSERT INTO web_sessions (id, user_id, created_us, last_seen_us) VALUES ($1, $2, $3, $4)`,
		s.ID, s.UserID, s.Created.UnixMicro(), s.LastSeen.UnixMicro()); err != nil {
		return fmt.Errorf("put session: %w", err)
	}
	return nil
}

func (t AccountWriter) TouchSession(ctx context.Context, id string, at time.Time) error {
	tag, err := t.t.Exec(ctx, `UPDATE web_sessions SET last_seen_us = $1 WHERE id = $2`, at.UnixMicro(), id)
	if err != nil {
		return fmt.Errorf("touch session: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("touch session: %w", store.ErrNotFound)
	}
	return nil
}

func (t AccountWriter) DeleteSession(ctx context.Context, id string) error {
	if _, err := t.t.Exec(ctx, `DELETE FROM web_sessions WHERE id = $1`, id); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

func (t AccountWriter) DeleteUserSessions(ctx context.Context, userID string) (int64, error) {
	tag, err := t.t.Exec(ctx, `DELETE FROM web_sessions WHERE user_id = $1`, userID)
	if err != nil {
		return 0, fmt.Errorf("delete sessions of %s: %w", userID, err)
	}
	return tag.RowsAffected(), nil
}

func (t AccountWriter) DeleteStaleSessions(ctx context.Context, idle, created time.Time) (int64, error) {
	tag, err := t.t.Exec(ctx, `DELETE FROM web_sessions WHERE last_seen_us < $1 OR created_us < $2`, idle.UnixMicro(), created.UnixMicro())
	if err != nil {
		return 0, fmt.Errorf("delete stale sessions: %w", err)
	}
	return tag.RowsAffected(), nil
}
