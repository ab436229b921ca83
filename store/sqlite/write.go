package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tearline/tearline/store"
)

type tx struct {
	t *sql.Tx
	q txQuerier // t, with the writer's prepared queries
	reader
	audit auditState // see audit.go
	rows  *rowStmts  // insertRows' prepared statements; nil before the store is open

	// The id index as this transaction sees it (ids.go): the shared tail,
	// caught up once while this transaction holds the write lock, and
	// what this transaction stored and purged, which the tail learns at
	// the commit.
	ids      *idIndex
	caughtUp bool
	added    map[string][]idEntry
	purgedID []string
}

// versionRows returns where the versions of ids are stored: the tail, what
// this transaction stored, and object_ids.
func (t *tx) versionRows(ctx context.Context, ids []string) ([]idRow, error) {
	if !t.caughtUp {
		if err := t.ids.catchUp(ctx, t.t); err != nil {
			return nil, err
		}
		t.caughtUp = true
	}
	out := t.ids.lookup(ids, nil)
	for _, id := range ids {
		for _, e := range t.added[id] {
			out = append(out, idRow{id, e})
		}
	}
	return indexedRows(ctx, t.t, ids, out)
}

// stored records a version this transaction inserted.
func (t *tx) stored(r idRow) {
	if t.added == nil {
		t.added = map[string][]idEntry{}
	}
	t.added[r.id] = append(t.added[r.id], r.idEntry)
}

// committed tells the tail what the committed transaction stored and purged.
func (t *tx) committed() {
	if len(t.added) > 0 {
		rs := make([]idRow, 0, len(t.added))
		for id, es := range t.added {
			for _, e := range es {
				rs = append(rs, idRow{id, e})
			}
		}
		t.ids.add(rs)
		t.ids.stored()
	}
	t.ids.forget(t.purgedID)
}

func (t *tx) PutLabel(ctx context.Context, id string, raw []byte) error {
	if _, err := t.t.ExecContext(ctx, `INSERT INTO labels (id, raw) VALUES (?, ?) ON CONFLICT (id) DO NOTHING`, id, raw); err != nil {
		return fmt.Errorf("put label %s: %w", id, err)
	}
	return nil
}

func (t *tx) AccessClass(ctx context.Context, labelIDs []string) (int64, error) {
	key := strings.Join(labelIDs, ",")
	var id int64
	err := t.t.QueryRowContext(ctx, `SELECT id FROM access_classes WHERE key = ?`, key).Scan(&id)
	if err == nil {
		return id, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("access class: %w", err)
	}
	res, err := t.t.ExecContext(ctx, `INSERT INTO access_classes (key) VALUES (?)`, key)
	if err != nil {
		return 0, fmt.Errorf("access class: %w", err)
	}
	return res.LastInsertId()
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (t *tx) PutUser(ctx context.Context, u store.User) error {
	return t.writeUser(ctx, `INSERT INTO users (`+userCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, u, true)
}

func (t *tx) UpdateUser(ctx context.Context, u store.User) error {
	return t.writeUser(ctx, `UPDATE users SET id = ?, name = ?, role = ?, nationality = ?, org = ?, clearances = ?, compartments = ?, default_label = ?, created_us = ?, disabled = ? WHERE id = ?`, u, false)
}

func (t *tx) writeUser(ctx context.Context, q string, u store.User, insert bool) error {
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

func (t *tx) PutToken(ctx context.Context, tok store.Token) error {
	if _, err := t.t.ExecContext(ctx, `INSERT INTO tokens (`+tokenCols+`) VALUES (?, ?, ?, ?, ?, ?)`,
		tok.ID, tok.UserID, tok.Hash, tok.Created.UnixMicro(), toMicro(tok.Expires), toMicro(tok.RevokedAt)); err != nil {
		return fmt.Errorf("put token for %s: %w", tok.UserID, err)
	}
	return nil
}

func (t *tx) RevokeToken(ctx context.Context, id string, at time.Time) error {
	res, err := t.t.ExecContext(ctx, `UPDATE tokens SET revoked_us = ? WHERE id = ? AND revoked_us = 0`, at.UnixMicro(), id)
	if err != nil {
		return fmt.Errorf("revoke token %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("revoke token %s: %w", id, store.ErrNotFound)
	}
	return nil
}

func (t *tx) CapTokenExpiry(ctx context.Context, limit time.Time) (int64, error) {
	res, err := t.t.ExecContext(ctx, `UPDATE tokens SET expires_us = ? WHERE revoked_us = 0 AND (expires_us = 0 OR expires_us > ?)`, limit.UnixMicro(), limit.UnixMicro())
	if err != nil {
		return 0, fmt.Errorf("cap token expiry: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

func (t *tx) AppendAudit(ctx context.Context, entries ...[]byte) (int64, error) {
	return t.appendAudit(ctx, entries)
}
