package postgres

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tearline/tearline/internal/pgtest"
	"github.com/tearline/tearline/store"
)

func TestServerRegistry(t *testing.T) {
	s := openDSN(t, pgtest.DSN(t))
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Microsecond)
	a := store.Server{ID: "a", Command: "serve", Host: "h1", PID: 10, Listen: "127.0.0.1:1", Admin: "/d/run/a.sock",
		Version: "v", Schema: s.SchemaVersion(), Started: now, Heartbeat: now}
	b := a
	b.ID, b.Host, b.PID, b.Started = "b", "h2", 20, now.Add(time.Second)
	for _, sv := range []store.Server{a, b} {
		if err := s.RegisterServer(ctx, sv); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Servers(ctx, now.Add(-store.ServerStaleAfter))
	if err != nil || len(got) != 2 || got[0] != a || got[1] != b {
		t.Fatalf("Servers = %+v, %v; want a, b", got, err)
	}
	// b's heartbeats stop: once its last one is older than the bound, it
	// is stale and no longer listed.
	later := now.Add(store.ServerStaleAfter + time.Second)
	if err := s.HeartbeatServer(ctx, "a", later); err != nil {
		t.Fatal(err)
	}
	got, err = s.Servers(ctx, later.Add(-store.ServerStaleAfter))
	if err != nil || len(got) != 1 || got[0].ID != "a" || !got[0].Heartbeat.Equal(later) {
		t.Fatalf("Servers after b went stale = %+v, %v; want a alone", got, err)
	}
	if err := s.UnregisterServer(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Servers(ctx, time.Time{}); err != nil || len(got) != 1 || got[0].ID != "b" {
		t.Fatalf("Servers after a left = %+v, %v; want the stale b only", got, err)
	}
}

// A migration waits for no replica of an older schema that is still
// registered and alive; stale rows and replicas of the new schema do not
// hold it up.
func TestMigrationRefusedWhileOlderReplicasServe(t *testing.T) {
	s := openDSN(t, pgtest.DSN(t))
	ctx := t.Context()
	have := s.SchemaVersion()
	next := have + 1 // the version a newer binary would migrate to
	check := func() error {
		return pgx.BeginFunc(ctx, s.w, func(tx pgx.Tx) error { return checkNoOlderServers(ctx, tx, have, next) })
	}
	now := time.Now().UTC()
	old := store.Server{ID: "old", Command: "serve", Host: "h1", PID: 7, Listen: "10.0.0.1:8443", Schema: have, Started: now, Heartbeat: now}
	if err := s.RegisterServer(ctx, old); err != nil {
		t.Fatal(err)
	}
	err := check()
	if err == nil || !strings.Contains(err.Error(), "pid 7 on h1") || !strings.Contains(err.Error(), "10.0.0.1:8443") {
		t.Fatalf("migration with an older replica serving: %v, want a refusal naming it", err)
	}
	// Its heartbeats stopped long ago: stale, and the migration runs.
	if err := s.HeartbeatServer(ctx, "old", now.Add(-2*store.ServerStaleAfter)); err != nil {
		t.Fatal(err)
	}
	if err := check(); err != nil {
		t.Fatalf("migration with only a stale row: %v", err)
	}
	// A replica already of the new schema does not hold it up either.
	cur := old
	cur.ID, cur.Schema, cur.Heartbeat = "new", next, now
	if err := s.RegisterServer(ctx, cur); err != nil {
		t.Fatal(err)
	}
	if err := check(); err != nil {
		t.Fatalf("migration with a replica of the new schema: %v", err)
	}
	// And nothing to migrate is never refused.
	if err := s.RegisterServer(ctx, old); err != nil {
		t.Fatal(err)
	}
	if err := pgx.BeginFunc(ctx, s.w, func(tx pgx.Tx) error { return checkNoOlderServers(context.Background(), tx, have, have) }); err != nil {
		t.Fatalf("no migration to run: %v", err)
	}
}
