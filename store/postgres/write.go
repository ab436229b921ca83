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

// PutObject stores one version: PutObjects with a batch of one, so the
// rules (store/internal/putplan) are decided in one place.
func (t *tx) PutObject(ctx context.Context, v *store.ObjectVersion) (bool, error) {
	created, errs, err := t.PutObjects(ctx, []*store.ObjectVersion{v})
	if err != nil {
		return false, err
	}
	return created[0], errs[0]
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

func (t *tx) CapTokenExpiry(ctx context.Context, limit time.Time) (int64, error) {
	if err := t.lock(ctx); err != nil {
		return 0, fmt.Errorf("cap token expiry: %w", err)
	}
	tag, err := t.t.Exec(ctx, `UPDATE tokens SET expires_us = $1 WHERE revoked_us = 0 AND (expires_us = 0 OR expires_us > $1)`, limit.UnixMicro())
	if err != nil {
		return 0, fmt.Errorf("cap token expiry: %w", err)
	}
	return tag.RowsAffected(), nil
}
