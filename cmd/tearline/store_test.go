package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tearline/tearline/internal/pgtest"
	"github.com/tearline/tearline/store/backend"
)

// TestStoreFlag runs the commands that open a node against PostgreSQL,
// given by --store or by TEARLINE_STORE.
func TestStoreFlag(t *testing.T) {
	dsn := pgtest.DSN(t)
	dir := filepath.Join(t.TempDir(), "n")
	if out, err := runCLI(t, "init", "--data", dir, "--name", "alpha", "--store", dsn); err != nil {
		t.Fatalf("init --store: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(dir, backend.SQLiteFile)); err == nil {
		t.Errorf("init --store made %s", backend.SQLiteFile)
	}
	if out, err := runCLI(t, "user", "add", "--data", dir, "--store", dsn, "--name", "alice", "--nationality", "GBR", "--clearance", "NATO:SECRET"); err != nil {
		t.Fatalf("user add --store: %v\n%s", err, out)
	}
	// Without the URL the node is not opened on an empty SQLite file.
	if out, err := runCLI(t, "user", "list", "--data", dir); err == nil || !strings.Contains(err.Error(), "--store") {
		t.Errorf("user list without --store = %q, %v; want an error naming --store", out, err)
	}

	t.Setenv(storeEnv, dsn)
	if out, err := runCLI(t, "user", "list", "--data", dir); err != nil || !strings.Contains(out, "alice") {
		t.Errorf("user list with %s = %q, %v; want alice", storeEnv, out, err)
	}
	if out, err := runCLI(t, "audit", "checkpoint", "--data", dir); err != nil {
		t.Fatalf("audit checkpoint: %v\n%s", err, out)
	}
	if out, err := runCLI(t, "audit", "verify", "--data", dir); err != nil || !strings.Contains(out, "intact: 3 entries, 1 signed") {
		t.Errorf("audit verify = %q, %v", out, err)
	}
	if out, err := runCLI(t, "audit", "export", "--data", dir); err != nil || strings.Count(out, "\n") != 3 {
		t.Errorf("audit export = %q, %v; want 3 lines", out, err)
	}
	// --help shows no URL from the environment: it may hold a password.
	if out, _ := runCLI(t, "serve", "--help"); strings.Contains(out, dsn) || !strings.Contains(out, "--store") {
		t.Errorf("serve --help shows the store URL, or no --store:\n%s", out)
	}
}
