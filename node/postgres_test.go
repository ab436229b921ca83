package node

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/datadir"
	"github.com/tearline/tearline/internal/pgtest"
	"github.com/tearline/tearline/store/backend"
)

// TestPostgresStore runs a node on PostgreSQL: init, users, ingest, reads
// under policy, a restart, and the audit log verified against a signed
// checkpoint.
func TestPostgresStore(t *testing.T) {
	ctx := t.Context()
	dsn := pgtest.DSN(t)
	dir := filepath.Join(t.TempDir(), "gbr")
	if err := Init(ctx, dir, InitOptions{Name: "gbr", Country: "GBR", CreateStore: backend.Creator(dsn)}); err != nil {
		t.Fatalf("Init: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, backend.SQLiteFile)); err == nil {
		t.Errorf("Init with a PostgreSQL store made %s too", backend.SQLiteFile)
	}
	// The URL (which may hold a password) is written nowhere in dir.
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err == nil && bytes.Contains(b, []byte(dsn)) {
			t.Errorf("%s holds the store URL", p)
		}
		return err
	})

	// Opened without its URL, the node is refused, not started afresh on
	// an empty SQLite file.
	if n, err := Open(ctx, dir, Options{OpenStore: backend.Opener("")}); err == nil {
		n.Close()
		t.Error("Open without the store URL succeeded")
	}
	if _, err := os.Stat(filepath.Join(dir, backend.SQLiteFile)); err == nil {
		t.Errorf("Open without the store URL made %s", backend.SQLiteFile)
	}

	n, err := Open(ctx, dir, Options{OpenStore: backend.Opener(dsn)})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	admin, _ := addUser(t, n, adminSpec())
	low, _ := addUser(t, n, UserSpec{Name: "low", Role: RoleAnalyst, Nationality: "GBR", Clearances: map[string]string{"NATO": "RESTRICTED"}})
	open, secret := newID("threat-actor"), newID("threat-actor")
	openRaw := sdo(open, t0, t0, nil)
	mustLand(t, n, admin, openRaw, "NATO UNCLASSIFIED")
	mustLand(t, n, admin, sdo(secret, t0, t0, nil), "NATO SECRET // REL TO GBR, USA")
	newer := sdo(open, t0, t1, map[string]any{"name": "renamed"})
	mustLand(t, n, admin, newer, "NATO UNCLASSIFIED")

	if got, err := n.Get(ctx, low, open); err != nil || !bytes.Equal(got.Raw, newer) {
		t.Errorf("Get(open) as low = %s, %v; want the newer version", got.Raw, err)
	}
	if _, err := n.Get(ctx, low, secret); !isNotFound(err) {
		t.Errorf("Get(secret) as low: error = %v, want not found", err)
	}
	if vs, err := n.Versions(ctx, low, open); err != nil || len(vs) != 2 || !bytes.Equal(vs[0].Raw, openRaw) {
		t.Errorf("Versions(open) as low = %d versions, %v; want 2", len(vs), err)
	}
	page, err := n.List(ctx, admin, ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Objects) != 2 {
		t.Errorf("List as admin: %d objects, want 2", len(page.Objects))
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}

	// After a restart everything is there, and the log verifies.
	n, err = Open(ctx, dir, Options{OpenStore: backend.Opener(dsn)})
	if err != nil {
		t.Fatalf("Open again: %v", err)
	}
	t.Cleanup(func() { n.Close() })
	if got, err := n.Get(ctx, admin, secret); err != nil || got.ID != secret {
		t.Errorf("Get(secret) as admin after reopen = %s, %v", got.ID, err)
	}
	if _, err := n.Authenticate(ctx, "not a token"); err == nil {
		t.Error("Authenticate(junk) succeeded")
	}
	evs := auditLog(t, n.Store())
	if len(findEvents(evs, func(e audit.Event) bool { return e.Action == audit.ActionNodeInit })) != 1 {
		t.Error("audit log has no node-init entry")
	}
	if len(findEvents(evs, func(e audit.Event) bool { return e.Action == audit.ActionIngest })) != 3 {
		t.Error("audit log does not record the three ingests")
	}
	verifyAudit(t, n)

	// The database now serves a node: a second init on it is refused.
	err = Init(ctx, filepath.Join(t.TempDir(), "other"), InitOptions{Name: "other", CreateStore: backend.Creator(dsn)})
	if err == nil || !strings.Contains(err.Error(), "already holds") {
		t.Errorf("second Init on the same database: error = %v, want refusal", err)
	}
}

// verifyAudit signs a checkpoint and verifies the whole log against it.
func verifyAudit(t *testing.T, n *Node) {
	t.Helper()
	ctx := t.Context()
	if _, err := audit.Checkpoint(ctx, n.Store(), n.LogSigner(), n.Now()); err != nil {
		t.Fatalf("audit.Checkpoint: %v", err)
	}
	key, err := datadir.ReadLogVerifierKey(n.Dir())
	if err != nil {
		t.Fatal(err)
	}
	v, err := note.NewVerifier(key)
	if err != nil {
		t.Fatal(err)
	}
	size, err := n.Store().AuditSize(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r, err := audit.Verify(ctx, n.Store(), v)
	if err != nil {
		t.Fatalf("audit.Verify: %v", err)
	}
	if r.Size != size || r.Checkpoints == 0 {
		t.Errorf("audit.Verify = %+v, want %d entries and a checkpoint", r, size)
	}
}

// TestPostgresReplicas: two nodes on one data directory and one database,
// as two replicas behind a load balancer, ingest at once. Every object
// lands, the audit log stays dense and verifies.
func TestPostgresReplicas(t *testing.T) {
	ctx := t.Context()
	dsn := pgtest.DSN(t)
	dir := filepath.Join(t.TempDir(), "gbr")
	if err := Init(ctx, dir, InitOptions{Name: "gbr", CreateStore: backend.Creator(dsn)}); err != nil {
		t.Fatalf("Init: %v", err)
	}
	var replicas []*Node
	for range 2 {
		n, err := Open(ctx, dir, Options{OpenStore: backend.Opener(dsn)})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() { n.Close() })
		replicas = append(replicas, n)
	}
	admin, _ := addUser(t, replicas[0], adminSpec())
	const perReplica = 20
	var wg sync.WaitGroup
	ids := make([][]string, len(replicas))
	for r, n := range replicas {
		for i := range perReplica {
			ids[r] = append(ids[r], newID("threat-actor"))
			id := ids[r][i]
			wg.Go(func() {
				res, err := n.Ingest(ctx, admin, bundle(sdo(id, t0, t0, nil)), IngestOptions{Label: "NATO UNCLASSIFIED"})
				if err != nil || len(res.Refused) > 0 {
					t.Errorf("replica %d: Ingest = %+v, %v", r, res, err)
				}
			})
		}
	}
	wg.Wait()
	for r := range replicas {
		for _, id := range ids[r] {
			if _, err := replicas[1-r].Get(ctx, admin, id); err != nil {
				t.Errorf("Get(%s) from the other replica: %v", id, err)
			}
		}
	}
	auditLog(t, replicas[0].Store()) // dense from 0
	verifyAudit(t, replicas[1])
}
