package stack_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/uuid"
	"golang.org/x/mod/sumdb/note"

	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/nodetest"
	"github.com/tearline/tearline/node/oversight"
	"github.com/tearline/tearline/node/stack"
	"github.com/tearline/tearline/store/backend"
)

// sealedObject ingests one object whose content carries a unique marker and
// returns its id, its JSON and the marker (as in node's seal_test.go).
func sealedObject(t *testing.T, n *stack.Node, p *node.Principal) (id string, raw, marker []byte) {
	t.Helper()
	marker = []byte("PLAINTEXT-MARKER-" + uuid.NewString())
	id = nodetest.NewID("threat-actor")
	raw = nodetest.SDO(id, nodetest.T0, nodetest.T1, map[string]any{"description": string(marker)})
	nodetest.MustLand(t, n, p, nodetest.Bundle(raw), "NATO SECRET // REL TO GBR, USA")
	return id, raw, marker
}

// dbBytes returns the SQLite database file and its WAL, as on disk now.
func dbBytes(t *testing.T, n *stack.Node) []byte {
	t.Helper()
	var all []byte
	for _, f := range []string{backend.SQLiteFile, backend.SQLiteFile + "-wal"} {
		b, err := os.ReadFile(filepath.Join(n.Dir(), f))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	return all
}

// verifyLog signs a checkpoint and verifies the whole audit log against it.
func verifyLog(t *testing.T, n *stack.Node) {
	t.Helper()
	if _, err := n.Oversight.SignAuditCheckpoint(t.Context()); err != nil {
		t.Fatalf("SignAuditCheckpoint: %v", err)
	}
	v, err := note.NewVerifier(n.AuditLogKey())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := audit.Verify(t.Context(), n.Store(), v); err != nil {
		t.Fatalf("audit.Verify: %v", err)
	}
}

// A backup holds no plaintext, and restoring it brings back no object
// purged since it was taken (the shred journal is applied again).
func TestBackupRestoreKeepsPurged(t *testing.T) {
	ctx := t.Context()
	n := nodetest.New(t, "gbr", "GBR")
	p, tok := nodetest.AddUser(t, n, nodetest.AdminSpec())
	gone, _, marker := sealedObject(t, n, p)
	kept, keptRaw, _ := sealedObject(t, n, p)
	backup := filepath.Join(t.TempDir(), "backup.db")
	if err := n.Oversight.Backup(ctx, "test", backup); err != nil {
		t.Fatalf("Backup: %v", err)
	}
	b, err := os.ReadFile(backup)
	if err != nil || bytes.Contains(b, marker) {
		t.Fatalf("backup readable %v; holds plaintext %v", err, bytes.Contains(b, marker))
	}
	if _, err := n.Purge(ctx, node.ConsoleAdmin(), node.PurgeTarget{ID: gone, Reason: node.PurgeRecall}); err != nil {
		t.Fatal(err)
	}
	dir := n.Dir()
	n.Close()

	res, err := oversight.Restore(ctx, dir, backup, backend.NewSQLiteRestore(dir, backup), oversight.RestoreOptions{})
	if err != nil {
		t.Fatalf("Restore: %v", err)
	}
	if res.Journal != 1 || res.Purged != 1 || res.Replaced == "" {
		t.Errorf("Restore = %+v", res)
	}
	n, err = stack.Open(ctx, dir, node.Options{OpenStore: backend.Opener("")})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	p, err = n.Authenticate(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Get(ctx, p, gone); !nodetest.IsNotFound(err) {
		t.Fatalf("purged object after restore: %v, want not found", err)
	}
	if got, err := n.Get(ctx, p, kept); err != nil || !bytes.Equal(got.Raw, keptRaw) {
		t.Fatalf("kept object after restore: %v", err)
	}
	if bytes.Contains(dbBytes(t, n), marker) {
		t.Error("restored database holds plaintext")
	}
	verifyLog(t, n)

	// Without the journal a restore is refused unless asked for.
	os.Rename(filepath.Join(dir, backend.SQLiteFile), filepath.Join(dir, "moved.db"))
	if _, err := oversight.Restore(ctx, dir, backup, backend.NewSQLiteRestore(dir, backup), oversight.RestoreOptions{}); err == nil {
		t.Error("restore without a journal source succeeded")
	}
}
