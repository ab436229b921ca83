package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/tearline/tearline/store"
)

func scanNodeKey(row interface{ Scan(...any) error }) (store.NodeKey, error) {
	var k store.NodeKey
	var us int64
	if err := row.Scan(&k.Name, &k.Wrapped, &us); err != nil {
		return k, err
	}
	k.Created = time.UnixMicro(us).UTC()
	return k, nil
}

func (r reader) NodeKey(ctx context.Context, name string) (store.NodeKey, error) {
	k, err := scanNodeKey(r.q.QueryRowContext(ctx, `SELECT name, wrapped, created_us FROM node_keys WHERE name = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return k, fmt.Errorf("node key %q: %w", name, store.ErrNotFound)
	}
	if err != nil {
		return k, fmt.Errorf("node key %q: %w", name, err)
	}
	return k, nil
}

func (r reader) NodeKeys(ctx context.Context) ([]store.NodeKey, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT name, wrapped, created_us FROM node_keys ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("node keys: %w", err)
	}
	defer rows.Close()
	var out []store.NodeKey
	for rows.Next() {
		k, err := scanNodeKey(rows)
		if err != nil {
			return nil, fmt.Errorf("node keys: %w", err)
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("node keys: %w", err)
	}
	return out, nil
}

func (t *tx) AddNodeKey(ctx context.Context, k store.NodeKey) (store.NodeKey, error) {
	if _, err := t.t.ExecContext(ctx, `INSERT INTO node_keys (name, wrapped, created_us) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING`,
		k.Name, k.Wrapped, k.Created.UnixMicro()); err != nil {
		return store.NodeKey{}, fmt.Errorf("add node key %q: %w", k.Name, err)
	}
	return t.NodeKey(ctx, k.Name)
}

func (t *tx) RewrapNodeKey(ctx context.Context, name string, wrapped []byte) error {
	res, err := t.t.ExecContext(ctx, `UPDATE node_keys SET wrapped = ? WHERE name = ?`, wrapped, name)
	if err != nil {
		return fmt.Errorf("rewrap node key %q: %w", name, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("rewrap node key %q: %w", name, err)
	} else if n == 0 {
		return fmt.Errorf("rewrap node key %q: %w", name, store.ErrNotFound)
	}
	return nil
}
