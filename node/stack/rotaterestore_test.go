package stack_test

import (
	"bytes"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"

	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/nodetest"
	"github.com/tearline/tearline/node/oversight"
	"github.com/tearline/tearline/node/stack"
	"github.com/tearline/tearline/seal"
	"github.com/tearline/tearline/store/backend"
)

// A KEK rotation leaves the data key of a row rewritten in the database
// (its id, here) under the KEK it retires (node.TestRotateKEKOverRewrittenRows).
// A backup taken after the rotation still restores: that key's version
// reads as absent, before and after; every other object reads. A backup
// taken before the rotation is still refused.
func TestRestoreAfterRotationOverRewrittenRow(t *testing.T) {
	ctx := t.Context()
	n := nodetest.New(t, "gbr", "GBR")
	p, tok := nodetest.AddUser(t, n, nodetest.AdminSpec())
	victim, _, _ := sealedObject(t, n, p)
	kept, keptRaw, _ := sealedObject(t, n, p)
	before := filepath.Join(t.TempDir(), "before.db")
	if err := n.Oversight.Backup(ctx, "test", before); err != nil {
		t.Fatalf("Backup: %v", err)
	}
	db, err := sql.Open("sqlite", filepath.Join(n.Dir(), backend.SQLiteFile)+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	renamed := nodetest.NewID("threat-actor")
	if _, err := db.ExecContext(ctx, `UPDATE objects SET id = ? WHERE id = ?`, renamed, victim); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, _, err := n.RotateKEK(ctx, "test"); err != nil {
		t.Fatalf("RotateKEK over a rewritten row: %v", err)
	}
	after := filepath.Join(t.TempDir(), "after.db")
	if err := n.Oversight.Backup(ctx, "test", after); err != nil {
		t.Fatalf("Backup: %v", err)
	}
	dir := n.Dir()
	n.Close()

	if _, err := oversight.Restore(ctx, dir, before, backend.NewSQLiteRestore(dir, before), oversight.RestoreOptions{}); !errors.Is(err, seal.ErrUnknownKEK) {
		t.Errorf("restore of a backup from before the rotation: %v, want ErrUnknownKEK", err)
	}
	if _, err := oversight.Restore(ctx, dir, after, backend.NewSQLiteRestore(dir, after), oversight.RestoreOptions{}); err != nil {
		t.Fatalf("restore of a backup from after the rotation: %v", err)
	}
	n, err = stack.Open(ctx, dir, node.Options{OpenStore: backend.Opener("")})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if p, err = n.Authenticate(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if got, err := n.Get(ctx, p, kept); err != nil || !bytes.Equal(got.Raw, keptRaw) {
		t.Errorf("kept object after the restore: %v", err)
	}
	for _, id := range []string{victim, renamed} {
		if _, err := n.Get(ctx, p, id); !nodetest.IsNotFound(err) {
			t.Errorf("rewritten row (%s) after the restore: %v, want not found", id, err)
		}
	}
}
