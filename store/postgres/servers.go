package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tearline/tearline/store"
)

// serversSchema is the serving registry (store.ServerRegistry): one row per
// process working on the database, kept alive by heartbeats.
const serversSchema = `
CREATE TABLE servers (
	id           text    PRIMARY KEY,
	command      text    NOT NULL,
	host         text    NOT NULL,
	pid          integer NOT NULL,
	listen       text    NOT NULL,
	admin        text    NOT NULL,
	version      text    NOT NULL,
	schema       integer NOT NULL,
	started_us   bigint  NOT NULL,
	heartbeat_us bigint  NOT NULL
);
`

// serversMigration is the version of serversSchema.
const serversMigration = 10

var _ store.ServerRegistry = (*Store)(nil)

// SchemaVersion is the schema version this binary brings a database to:
// a registered server records it (checkNoOlderServers).
func (s *Store) SchemaVersion() int { return len(migrations) - 1 }

// RegisterServer implements store.ServerRegistry.
func (s *Store) RegisterServer(ctx context.Context, sv store.Server) error {
	_, err := s.w.Exec(ctx, `INSERT INTO servers (id, command, host, pid, listen, admin, version, schema, started_us, heartbeat_us)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		ON CONFLICT (id) DO UPDATE SET listen = EXCLUDED.listen, admin = EXCLUDED.admin, heartbeat_us = EXCLUDED.heartbeat_us`,
		sv.ID, sv.Command, sv.Host, sv.PID, sv.Listen, sv.Admin, sv.Version, sv.Schema, sv.Started.UnixMicro(), sv.Heartbeat.UnixMicro())
	if err != nil {
		return fmt.Errorf("register server: %w", err)
	}
	return nil
}

// HeartbeatServer implements store.ServerRegistry.
func (s *Store) HeartbeatServer(ctx context.Context, id string, at time.Time) error {
	if _, err := s.w.Exec(ctx, `UPDATE servers SET heartbeat_us = $2 WHERE id = $1`, id, at.UnixMicro()); err != nil {
		return fmt.Errorf("server heartbeat: %w", err)
	}
	return nil
}

// UnregisterServer implements store.ServerRegistry.
func (s *Store) UnregisterServer(ctx context.Context, id string) error {
	if _, err := s.w.Exec(ctx, `DELETE FROM servers WHERE id = $1`, id); err != nil {
		return fmt.Errorf("unregister server: %w", err)
	}
	return nil
}

// Servers implements store.ServerRegistry.
func (s *Store) Servers(ctx context.Context, since time.Time) ([]store.Server, error) {
	return servers(ctx, s.w, since)
}

func servers(ctx context.Context, q querier, since time.Time) ([]store.Server, error) {
	rows, err := q.Query(ctx, `SELECT id, command, host, pid, listen, admin, version, schema, started_us, heartbeat_us
		FROM servers WHERE heartbeat_us >= $1 ORDER BY started_us, id`, since.UnixMicro())
	if err != nil {
		return nil, fmt.Errorf("servers: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Server, error) {
		var sv store.Server
		var started, beat int64
		err := r.Scan(&sv.ID, &sv.Command, &sv.Host, &sv.PID, &sv.Listen, &sv.Admin, &sv.Version, &sv.Schema, &started, &beat)
		sv.Started, sv.Heartbeat = time.UnixMicro(started).UTC(), time.UnixMicro(beat).UTC()
		return sv, err
	})
	if err != nil {
		return nil, fmt.Errorf("servers: %w", err)
	}
	return out, nil
}

// checkNoOlderServers refuses a migration to version last while a process
// of an older schema version is registered and not stale: it would go on
// writing rows in the shape it knows into tables the migration changes.
// Stop the old replicas first (their rows go with them, or go stale within
// store.ServerStaleAfter).
func checkNoOlderServers(ctx context.Context, tx pgx.Tx, have, last int) error {
	if have < serversMigration || have >= last {
		return nil // no registry yet (older replicas did not register), or nothing to migrate
	}
	svs, err := servers(ctx, tx, time.Now().Add(-store.ServerStaleAfter))
	if err != nil {
		return err
	}
	for _, sv := range svs {
		if sv.Schema < last {
			return fmt.Errorf("migration to schema %d refused: %s runs schema %d; stop every replica of the previous version first (rows stale after %s are ignored)",
				last, sv, sv.Schema, store.ServerStaleAfter)
		}
	}
	return nil
}
