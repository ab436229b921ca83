package sqlite

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/tearline/tearline/store"
)

func appendEntry(t *testing.T, s store.Store, entry string) {
	t.Helper()
	if err := s.Update(t.Context(), func(tx store.Tx) error {
		_, err := tx.AppendAudit(t.Context(), []byte(entry))
		return err
	}); err != nil {
		t.Fatal(err)
	}
}

func auditSizeAt(t *testing.T, path string) int64 {
	t.Helper()
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer s.Close()
	n, err := s.AuditSize(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestStageSwap: a staged backup is the backup's state, the live file is
// untouched until Swap, and Swap keeps the replaced file beside it.
func TestStageSwap(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	live := filepath.Join(dir, "tearline.db")
	s, err := Open(ctx, live)
	if err != nil {
		t.Fatal(err)
	}
	appendEntry(t, s, `{"n":1}`)
	backup := filepath.Join(dir, "backup.db")
	if err := s.Backup(ctx, backup); err != nil {
		t.Fatal(err)
	}
	if err := s.Backup(ctx, backup); !errors.Is(err, os.ErrExist) {
		t.Errorf("Backup over an existing file = %v, want ErrExist", err)
	}
	appendEntry(t, s, `{"n":2}`)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	staged, err := Stage(ctx, live, backup)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := staged.Store().AuditSize(ctx); err != nil || n != 1 {
		t.Fatalf("staged audit size = %d, %v; want the backup's 1", n, err)
	}
	appendEntry(t, staged.Store(), `{"n":"restore"}`)
	if n := auditSizeAt(t, live); n != 2 {
		t.Fatalf("live audit size before Swap = %d, want 2", n)
	}
	replaced, err := staged.Swap()
	if err != nil {
		t.Fatal(err)
	}
	if replaced == "" {
		t.Fatal("Swap kept no replaced database")
	}
	if n := auditSizeAt(t, live); n != 2 { // the backup's entry and the one added while staged
		t.Errorf("live audit size after Swap = %d, want 2", n)
	}
	if n := auditSizeAt(t, replaced); n != 2 {
		t.Errorf("replaced audit size = %d, want 2", n)
	}
	if _, err := os.Stat(live + ".restoring"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("staged file left behind: %v", err)
	}
}

// TestStageDiscard: a discarded stage leaves the live database as it was
// and no staged file.
func TestStageDiscard(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	live := filepath.Join(dir, "tearline.db")
	s, err := Open(ctx, live)
	if err != nil {
		t.Fatal(err)
	}
	backup := filepath.Join(dir, "backup.db")
	if err := s.Backup(ctx, backup); err != nil {
		t.Fatal(err)
	}
	appendEntry(t, s, `{"n":1}`)
	s.Close()
	staged, err := Stage(ctx, live, backup)
	if err != nil {
		t.Fatal(err)
	}
	staged.Discard()
	for _, f := range []string{live + ".restoring", live + ".restoring-wal"} {
		if _, err := os.Stat(f); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s after Discard: %v", filepath.Base(f), err)
		}
	}
	if n := auditSizeAt(t, live); n != 1 {
		t.Errorf("live audit size after Discard = %d, want 1", n)
	}
	if _, err := Stage(ctx, live, filepath.Join(dir, "missing.db")); err == nil {
		t.Error("Stage of a missing backup succeeded")
	}
}
