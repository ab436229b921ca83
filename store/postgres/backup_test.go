package postgres

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tearline/tearline/internal/pgtest"
	"github.com/tearline/tearline/store"
)

// TestBackupPgDump: Backup writes a pg_dump custom-format archive of the
// open store, and refuses to overwrite a file.
func TestBackupPgDump(t *testing.T) {
	if _, err := os.Stat("/usr/lib/postgresql"); err == nil {
		// The server binaries pgtest uses include pg_dump; put them on PATH
		// when the system has not.
		if dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin"); len(dirs) > 0 {
			t.Setenv("PATH", dirs[len(dirs)-1]+string(os.PathListSeparator)+os.Getenv("PATH"))
		}
	}
	s := openDSN(t, pgtest.DSN(t))
	ctx := t.Context()
	if err := s.Update(ctx, func(tx store.Tx) error {
		_, err := tx.AppendAudit(ctx, []byte(`{"n":1}`))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "node.dump")
	err := s.Backup(ctx, out)
	if errors.Is(err, ErrNoPgDump) {
		t.Skip("pg_dump not installed")
	}
	if err != nil {
		t.Fatalf("Backup: %v", err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("PGDMP")) {
		t.Errorf("backup is not a pg_dump custom archive: %q", b[:min(len(b), 16)])
	}
	if !bytes.Contains(b, []byte("audit")) {
		t.Error("backup holds no audit table")
	}
	if err := s.Backup(ctx, out); !errors.Is(err, os.ErrExist) {
		t.Errorf("Backup over an existing file = %v, want ErrExist", err)
	}
	if err := s.Backup(ctx, filepath.Join(t.TempDir(), "no", "such", "dir", "x.dump")); err == nil || strings.Contains(err.Error(), "password") {
		t.Errorf("Backup into a missing directory = %v, want a pg_dump error", err)
	}
}

func TestSplitPassword(t *testing.T) {
	for _, c := range []struct{ in, rest, password string }{
		{"postgres://u:s3cr3t@db:5432/tl?sslmode=disable", "postgres://u@db:5432/tl?sslmode=disable", "s3cr3t"},
		{"postgresql://u@/tl?host=%2Ftmp%2Fpg&password=s3cr3t", "postgresql://u@/tl?host=%2Ftmp%2Fpg", "s3cr3t"},
		{"postgres://db/tl", "postgres://db/tl", ""},
	} {
		rest, pw, err := splitPassword(c.in)
		if err != nil || rest != c.rest || pw != c.password {
			t.Errorf("splitPassword(%q) = %q, %q, %v; want %q, %q", c.in, rest, pw, err, c.rest, c.password)
		}
	}
	if _, _, err := splitPassword("host=db password=s3cr3t"); err == nil || strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("key=value DSN: %v, want a refusal without the password", err)
	}
}
