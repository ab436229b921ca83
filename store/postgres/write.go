package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/tearline/tearline/store"
)

type tx struct {
	t pgx.Tx
	reader
	locked bool       // holds the writer lock
	audit  auditState // see audit.go
}

// lock takes the writer lock (see the package comment) unless this
// transaction holds it already. Every write calls it first.
func (t *tx) lock(ctx context.Context) error {
	if t.locked {
		return nil
	}
	if _, err := t.t.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, writerLockKey); err != nil {
		return fmt.Errorf("take writer lock: %w", err)
	}
	t.locked = true
	return nil
}

// uniqueViolation reports whether err is PostgreSQL's unique_violation.
func uniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// nz returns b, or an empty slice for nil: pgx sends a nil []byte as NULL.
func nz(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

func (t *tx) PutLabel(ctx context.Context, id string, raw []byte) error {
	if err := t.lock(ctx); err != nil {
		return fmt.Errorf("put label %s: %w", id, err)
	}
	if _, err := t.t.Exec(ctx, `INSERT INTO labels (id, raw) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING`, id, nz(raw)); err != nil {
		return fmt.Errorf("put label %s: %w", id, err)
	}
	return nil
}

func (t *tx) AccessClass(ctx context.Context, labelIDs []string) (int64, error) {
	if err := t.lock(ctx); err != nil {
		return 0, fmt.Errorf("access class: %w", err)
	}
	key := strings.Join(labelIDs, ",")
	var id int64
	err := t.t.QueryRow(ctx, `SELECT id FROM access_classes WHERE key = $1`, key).Scan(&id)
	if err == nil {
		return id, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("access class: %w", err)
	}
	if err := t.t.QueryRow(ctx, `INSERT INTO access_classes (key) VALUES ($1) RETURNING id`, key).Scan(&id); err != nil {
		return 0, fmt.Errorf("access class: %w", err)
	}
	return id, nil
}

// putObject checks and inserts in one statement, one round trip per object
// of a batch. prior holds the object's stored versions (usually none or
// one): the checks need the version with the same modified time and any
// revoking one, and newer needs to know whether a later one exists. The
// insert happens only when there is no such version and no earlier revoking
// one; the row returned says which case held. The versions older than an
// inserted one are marked newer in the same statement.
const putObject = `
WITH prior AS (
	SELECT modified_us, digest, revoked FROM objects WHERE id = $1::text
), ins AS (
	INSERT INTO objects (id, type, modified, modified_us, created, revoked, digest, raw, bindings, class, date_added_us, originator, newer)
	SELECT $1::text, $2::text, $3::text, $4::bigint, $5::text, $6::boolean, $7::text, $8::bytea, $9::bytea, $10::bigint, $11::bigint, $12::text,
		EXISTS (SELECT 1 FROM prior WHERE modified_us > $4::bigint)
	WHERE NOT EXISTS (SELECT 1 FROM prior WHERE modified_us = $4::bigint OR (revoked AND modified_us < $4::bigint))
	AND NOT EXISTS (SELECT 1 FROM tombstones WHERE id = $1::text)
	RETURNING seq
), older AS (
	UPDATE objects SET newer = true
	WHERE id = $1::text AND modified_us < $4::bigint AND NOT newer
	AND EXISTS (SELECT 1 FROM ins) AND EXISTS (SELECT 1 FROM prior WHERE modified_us < $4::bigint)
), key AS (
	INSERT INTO data_keys (seq, wrapped)
	SELECT seq, $13::bytea FROM ins WHERE $13::bytea IS NOT NULL
)
SELECT
	(SELECT seq FROM ins),
	EXISTS (SELECT 1 FROM prior WHERE modified_us = $4::bigint AND digest = $7::text),
	EXISTS (SELECT 1 FROM prior WHERE modified_us = $4::bigint AND digest <> $7::text),
	EXISTS (SELECT 1 FROM prior WHERE revoked AND modified_us < $4::bigint),
	EXISTS (SELECT 1 FROM tombstones WHERE id = $1::text)`

func (t *tx) PutObject(ctx context.Context, v *store.ObjectVersion) (bool, error) {
	if err := t.lock(ctx); err != nil {
		return false, fmt.Errorf("put %s: %w", v.ID, err)
	}
	added := v.DateAdded
	if added.IsZero() {
		added = time.Now().UTC()
	}
	var seq *int64
	var same, conflict, revokedBefore, purged bool
	err := t.t.QueryRow(ctx, putObject,
		v.ID, v.Type, v.Modified, v.ModifiedAt.UnixMicro(), v.Created, v.Revoked, v.Digest, nz(v.Raw), nz(v.Bindings), v.Class, added.UnixMicro(), v.Originator,
		v.Key, // nil is NULL: no data key
	).Scan(&seq, &same, &conflict, &revokedBefore, &purged)
	if err != nil {
		return false, fmt.Errorf("put %s: %w", v.ID, err)
	}
	switch {
	case same:
		return false, nil
	case conflict:
		return false, fmt.Errorf("put %s version %s: %w", v.ID, v.Modified, store.ErrConflict)
	case revokedBefore:
		return false, fmt.Errorf("put %s version %s: %w", v.ID, v.Modified, store.ErrRevoked)
	case purged:
		return false, fmt.Errorf("put %s version %s: %w", v.ID, v.Modified, store.ErrPurged)
	case seq == nil:
		return false, fmt.Errorf("put %s version %s: not inserted", v.ID, v.Modified)
	}
	v.Seq, v.DateAdded = *seq, added
	return true, nil
}

func (t *tx) PutUser(ctx context.Context, u store.User) error {
	return t.writeUser(ctx, `INSERT INTO users (`+userCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, u, true)
}

func (t *tx) UpdateUser(ctx context.Context, u store.User) error {
	return t.writeUser(ctx, `UPDATE users SET id = $1, name = $2, role = $3, nationality = $4, org = $5, clearances = $6, compartments = $7, default_label = $8, created_us = $9, disabled = $10 WHERE id = $11`, u, false)
}

func (t *tx) writeUser(ctx context.Context, q string, u store.User, insert bool) error {
	if err := t.lock(ctx); err != nil {
		return fmt.Errorf("write user %s: %w", u.Name, err)
	}
	clr, err := json.Marshal(u.Clearances)
	if err != nil {
		return fmt.Errorf("write user %s: %w", u.Name, err)
	}
	if u.Compartments == nil {
		u.Compartments = []string{}
	}
	comp, err := json.Marshal(u.Compartments)
	if err != nil {
		return fmt.Errorf("write user %s: %w", u.Name, err)
	}
	args := []any{u.ID, u.Name, u.Role, u.Nationality, u.Org, string(clr), string(comp), u.DefaultLabel, u.Created.UnixMicro(), u.Disabled}
	if !insert {
		args = append(args, u.ID)
	}
	tag, err := t.t.Exec(ctx, q, args...)
	if err != nil {
		if insert && uniqueViolation(err) {
			return fmt.Errorf("user %s: %w", u.Name, store.ErrExists)
		}
		return fmt.Errorf("write user %s: %w", u.Name, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("user %s: %w", u.ID, store.ErrNotFound)
	}
	return nil
}

func (t *tx) PutToken(ctx context.Context, tok store.Token) error {
	if err := t.lock(ctx); err != nil {
		return fmt.Errorf("put token for %s: %w", tok.UserID, err)
	}
	if _, err := t.t.Exec(ctx, `INSERT INTO tokens (`+tokenCols+`) VALUES ($1, $2, $3, $4, $5, $6)`,
		tok.ID, tok.UserID, nz(tok.Hash), tok.Created.UnixMicro(), toMicro(tok.Expires), toMicro(tok.RevokedAt)); err != nil {
		return fmt.Errorf("put token for %s: %w", tok.UserID, err)
	}
	return nil
}

func (t *tx) RevokeToken(ctx context.Context, id string, at time.Time) error {
	if err := t.lock(ctx); err != nil {
		return fmt.Errorf("revoke token %s: %w", id, err)
	}
	tag, err := t.t.Exec(ctx, `UPDATE tokens SET revoked_us = $1 WHERE id = $2 AND revoked_us = 0`, at.UnixMicro(), id)
	if err != nil {
		return fmt.Errorf("revoke token %s: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("revoke token %s: %w", id, store.ErrNotFound)
	}
	return nil
}
