package records

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/store/internal/scan"
)

// AccountReader and AccountWriter read and write the accounts: users,
// their API tokens, and their web passwords and sessions (websessions.go).
type AccountReader struct{ q Querier }

// NewAccountReader returns the accounts' reader over q.
func NewAccountReader(q Querier) AccountReader { return AccountReader{q} }

type AccountWriter struct {
	t    pgx.Tx
	lock func(context.Context) error // takes the store's writer lock
}

// NewAccountWriter returns the accounts' writer in t; lock takes the
// store's writer lock once per transaction.
func NewAccountWriter(t pgx.Tx, lock func(context.Context) error) AccountWriter {
	return AccountWriter{t, lock}
}

const userCols = `id, name, role, nationality, org, clearances, compartments, default_label, created_us, disabled`

func (r AccountReader) oneUser(ctx context.Context, where string, arg any) (store.User, error) {
	u, err := scan.User(r.q.QueryRow(ctx, `SELECT `+userCols+` FROM users WHERE `+where, arg))
	if errors.Is(err, pgx.ErrNoRows) {
		return u, fmt.Errorf("user %v: %w", arg, store.ErrNotFound)
	}
	if err != nil {
		return u, fmt.Errorf("user %v: %w", arg, err)
	}
	return u, nil
}

func (r AccountReader) User(ctx context.Context, id string) (store.User, error) {
	return r.oneUser(ctx, `id = $1`, id)
}

func (r AccountReader) UserByName(ctx context.Context, name string) (store.User, error) {
	return r.oneUser(ctx, `name = $1`, name)
}

func (r AccountReader) Users(ctx context.Context) ([]store.User, error) {
	rows, err := r.q.Query(ctx, `SELECT `+userCols+` FROM users ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("users: %w", err)
	}
	defer rows.Close()
	out, err := scan.Collect(rows, scan.User)
	if err != nil {
		return nil, fmt.Errorf("users: %w", err)
	}
	return out, nil
}

const tokenCols = `id, user_id, hash, created_us, expires_us, revoked_us`

// toMicro maps the zero time to 0 (scan.Token reads it back), as package
// sqlite does for optional times.
func toMicro(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func (r AccountReader) Token(ctx context.Context, id string) (store.Token, error) {
	t, err := scan.Token(r.q.QueryRow(ctx, `SELECT `+tokenCols+` FROM tokens WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return t, fmt.Errorf("token %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return t, fmt.Errorf("token %s: %w", id, err)
	}
	return t, nil
}

func (r AccountReader) TokenUser(ctx context.Context, id string) (store.Token, store.User, error) {
	t, u, err := scan.TokenUser(r.q.QueryRow(ctx, `SELECT `+tokenUserCols+` FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return t, u, fmt.Errorf("token %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return t, u, fmt.Errorf("token %s: %w", id, err)
	}
	return t, u, nil
}

// tokenUserCols are tokenCols of t, then userCols of u.
const tokenUserCols = `t.id, t.user_id, t.hash, t.created_us, t.expires_us, t.revoked_us, ` +
	`u.id, u.name, u.role, u.nationality, u.org, u.clearances, u.compartments, u.default_label, u.created_us, u.disabled`

func (r AccountReader) Tokens(ctx context.Context, userID string) ([]store.Token, error) {
	rows, err := r.q.Query(ctx, `SELECT `+tokenCols+` FROM tokens WHERE user_id = $1 ORDER BY created_us`, userID)
	if err != nil {
		return nil, fmt.Errorf("tokens of %s: %w", userID, err)
	}
	defer rows.Close()
	out, err := scan.Collect(rows, scan.Token)
	if err != nil {
		return nil, fmt.Errorf("tokens of %s: %w", userID, err)
	}
	return out, nil
}

func (t AccountWriter) PutUser(ctx context.Context, u store.User) error {
	return t.writeUser(ctx, `INSERT INTO users (`+userCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, u, true)
}

func (t AccountWriter) UpdateUser(ctx context.Context, u store.User) error {
	return t.writeUser(ctx, `UPDATE users SET id = $1, name = $2, role = $3, nationality = $4, org = $5, clearances = $6, compartments = $7, default_label = $8, created_us = $9, disabled = $10 WHERE id = $11`, u, false)
}

func (t AccountWriter) writeUser(ctx context.Context, q string, u store.User, insert bool) error {
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

func (t AccountWriter) PutToken(ctx context.Context, tok store.Token) error {
	if err := t.lock(ctx); err != nil {
		return fmt.Errorf("put token for %s: %w", tok.UserID, err)
	}
	if _, err := t.t.Exec(ctx, `INSERT INTO tokens (`+tokenCols+`) VALUES ($1, $2, $3, $4, $5, $6)`,
		tok.ID, tok.UserID, nz(tok.Hash), tok.Created.UnixMicro(), toMicro(tok.Expires), toMicro(tok.RevokedAt)); err != nil {
		return fmt.Errorf("put token for %s: %w", tok.UserID, err)
	}
	return nil
}

func (t AccountWriter) RevokeToken(ctx context.Context, id string, at time.Time) error {
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

func (t AccountWriter) CapTokenExpiry(ctx context.Context, limit time.Time) (int64, error) {
	if err := t.lock(ctx); err != nil {
		return 0, fmt.Errorf("cap token expiry: %w", err)
	}
	tag, err := t.t.Exec(ctx, `UPDATE tokens SET expires_us = $1 WHERE revoked_us = 0 AND (expires_us = 0 OR expires_us > $1)`, limit.UnixMicro())
	if err != nil {
		return 0, fmt.Errorf("cap token expiry: %w", err)
	}
	return tag.RowsAffected(), nil
}
