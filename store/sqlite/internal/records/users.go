package records

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/store/internal/scan"
)

// AccountReader and AccountWriter read and write the accounts: users,
// their API tokens, and their web passwords and sessions (websessions.go).
type AccountReader struct{ q Querier }

// NewAccountReader returns the accounts' reader over q.
func NewAccountReader(q Querier) AccountReader { return AccountReader{q} }

type AccountWriter struct{ t *sql.Tx }

// NewAccountWriter returns the accounts' writer in t.
func NewAccountWriter(t *sql.Tx) AccountWriter { return AccountWriter{t} }

const userCols = `id, name, role, nationality, org, clearances, compartments, default_label, created_us, disabled`

func (r AccountReader) oneUser(ctx context.Context, where string, arg any) (store.User, error) {
	u, err := scan.User(r.q.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE `+where, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return u, fmt.Errorf("user %v: %w", arg, store.ErrNotFound)
	}
	return u, err
}

func (r AccountReader) User(ctx context.Context, id string) (store.User, error) {
	return r.oneUser(ctx, `id = ?`, id)
}

func (r AccountReader) UserByName(ctx context.Context, name string) (store.User, error) {
	return r.oneUser(ctx, `name = ?`, name)
}

func (r AccountReader) Users(ctx context.Context) ([]store.User, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT `+userCols+` FROM users ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("users: %w", err)
	}
	defer rows.Close()
	return scan.Collect(rows, scan.User)
}

const tokenCols = `id, user_id, hash, created_us, expires_us, revoked_us`

func toMicro(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func (r AccountReader) Token(ctx context.Context, id string) (store.Token, error) {
	t, err := scan.Token(r.q.QueryRowContext(ctx, `SELECT `+tokenCols+` FROM tokens WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return t, fmt.Errorf("token %s: %w", id, store.ErrNotFound)
	}
	return t, err
}

func (r AccountReader) TokenUser(ctx context.Context, id string) (store.Token, store.User, error) {
	if err := ctx.Err(); err != nil {
		return store.Token{}, store.User{}, err
	}
	// A point read on every request: without ctx's cancellation, which
	// costs database/sql and the driver a goroutine each per query to
	// watch (as the store's pointVersions).
	t, u, err := scan.TokenUser(r.q.QueryRowContext(context.WithoutCancel(ctx), `SELECT `+tokenUserCols+` FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return t, u, fmt.Errorf("token %s: %w", id, store.ErrNotFound)
	}
	return t, u, err
}

// tokenUserCols are tokenCols of t, then userCols of u.
const tokenUserCols = `t.id, t.user_id, t.hash, t.created_us, t.expires_us, t.revoked_us, ` +
	`u.id, u.name, u.role, u.nationality, u.org, u.clearances, u.compartments, u.default_label, u.created_us, u.disabled`

func (r AccountReader) Tokens(ctx context.Context, userID string) ([]store.Token, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT `+tokenCols+` FROM tokens WHERE user_id = ? ORDER BY created_us`, userID)
	if err != nil {
		return nil, fmt.Errorf("tokens of %s: %w", userID, err)
	}
	defer rows.Close()
	return scan.Collect(rows, scan.Token)
}

func (t AccountWriter) PutUser(ctx context.Context, u store.User) error {
	return t.writeUser(ctx, `INSERT INTO users (`+userCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, u, true)
}

func (t AccountWriter) UpdateUser(ctx context.Context, u store.User) error {
	return t.writeUser(ctx, `UPDATE users SET id = ?, name = ?, role = ?, nationality = ?, org = ?, clearances = ?, compartments = ?, default_label = ?, created_us = ?, disabled = ? WHERE id = ?`, u, false)
}

func (t AccountWriter) writeUser(ctx context.Context, q string, u store.User, insert bool) error {
	clr, err := json.Marshal(u.Clearances)
	if err != nil {
		return err
	}
	if u.Compartments == nil {
		u.Compartments = []string{}
	}
	comp, err := json.Marshal(u.Compartments)
	if err != nil {
		return err
	}
	args := []any{u.ID, u.Name, u.Role, u.Nationality, u.Org, string(clr), string(comp), u.DefaultLabel, u.Created.UnixMicro(), boolInt(u.Disabled)}
	if !insert {
		args = append(args, u.ID)
	}
	res, err := t.t.ExecContext(ctx, q, args...)
	if err != nil {
		if insert && strings.Contains(err.Error(), "UNIQUE") {
			return fmt.Errorf("user %s: %w", u.Name, store.ErrExists)
		}
		return fmt.Errorf("write user %s: %w", u.Name, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("user %s: %w", u.ID, store.ErrNotFound)
	}
	return nil
}

func (t AccountWriter) PutToken(ctx context.Context, tok store.Token) error {
	if _, err := t.t.ExecContext(ctx, `INSERT INTO tokens (`+tokenCols+`) VALUES (?, ?, ?, ?, ?, ?)`,
		tok.ID, tok.UserID, tok.Hash, tok.Created.UnixMicro(), toMicro(tok.Expires), toMicro(tok.RevokedAt)); err != nil {
		return fmt.Errorf("put token for %s: %w", tok.UserID, err)
	}
	return nil
}

func (t AccountWriter) RevokeToken(ctx context.Context, id string, at time.Time) error {
	res, err := t.t.ExecContext(ctx, `UPDATE tokens SET revoked_us = ? WHERE id = ? AND revoked_us = 0`, at.UnixMicro(), id)
	if err != nil {
		return fmt.Errorf("revoke token %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("revoke token %s: %w", id, store.ErrNotFound)
	}
	return nil
}

func (t AccountWriter) CapTokenExpiry(ctx context.Context, limit time.Time) (int64, error) {
	res, err := t.t.ExecContext(ctx, `UPDATE tokens SET expires_us = ? WHERE revoked_us = 0 AND (expires_us = 0 OR expires_us > ?)`, limit.UnixMicro(), limit.UnixMicro())
	if err != nil {
		return 0, fmt.Errorf("cap token expiry: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}
