package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tearline/tearline/store"
)

// nodeKeysSchema (migration 13): the SQLite store's migration 13 says what
// it keeps. It only creates an empty table: trivial at any size.
const nodeKeysSchema = `
CREATE TABLE node_keys (
	name       text   PRIMARY KEY,
	wrapped    bytea  NOT NULL,
	created_us bigint NOT NULL
);
`

func scanNodeKey(row pgx.Row) (store.NodeKey, error) {
	var k store.NodeKey
	var us int64
	if err := row.Scan(&k.Name, &k.Wrapped, &us); err != nil {
		return k, err
	}
	k.Created = time.UnixMicro(us).UTC()
	return k, nil
}

func (r reader) NodeKey(ctx context.Context, name string) (store.NodeKey, error) {
	k, err := scanNodeKey(r.q.QueryRow(ctx, `SELECT name, wrapped, created_us FROM node_keys WHERE name = $1`, name))
	if errors.Is(err, pgx.ErrNoRows) {
		return k, fmt.Errorf("node key %q: %w", name, store.ErrNotFound)
	}
	if err != nil {
		return k, fmt.Errorf("node key %q: %w", name, err)
	}
	return k, nil
}

func (r reader) NodeKeys(ctx context.Context) ([]store.NodeKey, error) {
	rows, err := r.q.Query(ctx, `SELECT name, wrapped, created_us FROM node_keys ORDER BY name`)
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

// AddNodeKey: under READ COMMITTED, a replica inserting the same name at
// once waits on the primary key for the first to commit, then inserts
// nothing; the SELECT that follows (a new snapshot per statement) sees the
// committed key.
func (t *tx) AddNodeKey(ctx context.Context, k store.NodeKey) (store.NodeKey, error) {
	if _, err := t.t.Exec(ctx, `INSERT INTO node_keys (name, wrapped, created_us) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING`,
		k.Name, k.Wrapped, k.Created.UnixMicro()); err != nil {
		return store.NodeKey{}, fmt.Errorf("add node key %q: %w", k.Name, err)
	}
	return t.NodeKey(ctx, k.Name)
}

func (t *tx) RewrapNodeKey(ctx context.Context, name string, wrapped []byte) error {
	tag, err := t.t.Exec(ctx, `UPDATE node_keys SET wrapped = $1 WHERE name = $2`, wrapped, name)
	if err != nil {
		return fmt.Errorf("rewrap node key %q: %w", name, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("rewrap node key %q: %w", name, store.ErrNotFound)
	}
	return nil
}
