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
	reader
	audit auditState // see audit.go
	rows  *rowStmts  // insertRows' prepared statements; nil before the store is open

	// PutObject's statements, prepared on first use: parsing them again
	// for every object of a large batch costs more than running them.
	// database/sql closes them when the transaction ends.
	putSelect, putInsert, putPurged, putKey *sql.Stmt
}

// prepared returns *st, first preparing query in this transaction.
func (t *tx) prepared(ctx context.Context, st **sql.Stmt, query string) (*sql.Stmt, error) {
	if *st == nil {
		s, err := t.t.PrepareContext(ctx, query)
		if err != nil {
			return nil, err
		}
		*st = s
	}
	return *st, nil
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

func (t *tx) PutObject(ctx context.Context, v *store.ObjectVersion) (bool, error) {
	modUS := v.ModifiedAt.UnixMicro()
	sel, err := t.prepared(ctx, &t.putSelect, `SELECT modified_us, digest, revoked FROM objects WHERE id = ?`)
	if err != nil {
		return false, fmt.Errorf("put %s: %w", v.ID, err)
	}
	rows, err := sel.QueryContext(ctx, v.ID)
	if err != nil {
		return false, fmt.Errorf("put %s: %w", v.ID, err)
	}
	var same, conflict, revokedBefore, older, newer bool
	for rows.Next() {
		var m int64
		var d string
		var rev int
		if err := rows.Scan(&m, &d, &rev); err != nil {
			rows.Close()
			return false, err
		}
		switch {
		case m == modUS && d == v.Digest:
			same = true
		case m == modUS:
			conflict = true
		case rev == 1 && m < modUS:
			revokedBefore = true
		}
		older = older || m < modUS
		newer = newer || m > modUS
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return false, err
	}
	switch {
	case same:
		return false, nil
	case conflict:
		return false, fmt.Errorf("put %s version %s: %w", v.ID, v.Modified, store.ErrConflict)
	case revokedBefore:
		return false, fmt.Errorf("put %s version %s: %w", v.ID, v.Modified, store.ErrRevoked)
	}
	if purged, err := t.purged(ctx, v.ID); err != nil {
		return false, fmt.Errorf("put %s: %w", v.ID, err)
	} else if purged {
		return false, fmt.Errorf("put %s version %s: %w", v.ID, v.Modified, store.ErrPurged)
	}
	if v.DateAdded.IsZero() {
		v.DateAdded = time.Now().UTC()
	}
	ins, err := t.prepared(ctx, &t.putInsert, `INSERT INTO objects (id, type, modified, modified_us, created, revoked, digest, raw, bindings, class, date_added_us, originator, newer)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return false, fmt.Errorf("put %s: %w", v.ID, err)
	}
	res, err := ins.ExecContext(ctx,
		v.ID, v.Type, v.Modified, modUS, v.Created, boolInt(v.Revoked), v.Digest, v.Raw, v.Bindings, v.Class, v.DateAdded.UnixMicro(), v.Originator, boolInt(newer))
	if err != nil {
		return false, fmt.Errorf("put %s: %w", v.ID, err)
	}
	if v.Seq, err = res.LastInsertId(); err != nil {
		return false, fmt.Errorf("put %s: %w", v.ID, err)
	}
	if older {
		if err := t.markOlder(ctx, v.ID, modUS); err != nil {
			return false, fmt.Errorf("put %s: %w", v.ID, err)
		}
	}
	if v.Key != nil {
		ins, err := t.prepared(ctx, &t.putKey, `INSERT INTO data_keys (seq, wrapped) VALUES (?, ?)`)
		if err != nil {
			return false, fmt.Errorf("put %s: %w", v.ID, err)
		}
		if _, err := ins.ExecContext(ctx, v.Seq, v.Key); err != nil {
			return false, fmt.Errorf("put %s data key: %w", v.ID, err)
		}
	}
	return true, nil
}

// markOlder marks the versions of id older than modUS as having a newer one.
func (t *tx) markOlder(ctx context.Context, id string, modUS int64) error {
	_, err := t.t.ExecContext(ctx, `UPDATE objects SET newer = 1 WHERE id = ? AND modified_us < ? AND newer = 0`, id, modUS)
	return err
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

func (t *tx) AppendAudit(ctx context.Context, entries ...[]byte) (int64, error) {
	return t.appendAudit(ctx, entries)
}
