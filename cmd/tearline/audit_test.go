package main

import (
	"bytes"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/stack"
	"github.com/tearline/tearline/node/users"
	"github.com/tearline/tearline/store/backend"
)

func runCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	c := root()
	var out bytes.Buffer
	c.SetOut(&out)
	c.SetErr(&out)
	c.SetArgs(args)
	err := c.ExecuteContext(t.Context())
	return out.String(), err
}

func TestAuditVerifyCLI(t *testing.T) {
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "n")
	if err := node.Init(t.Context(), dir, node.InitOptions{Name: "alpha", CreateStore: backend.Creator("")}); err != nil {
		t.Fatal(err)
	}
	n, err := stack.Open(t.Context(), dir, node.Options{OpenStore: backend.Opener("")})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"a", "b", "c"} {
		if _, _, err := n.Users.AddUser(t.Context(), node.ConsoleAdmin(), users.UserSpec{Name: name, Role: node.RoleAnalyst, Nationality: "GBR"}); err != nil {
			t.Fatal(err)
		}
	}
	n.Close()
	cp, err := runCLI(t, "audit", "checkpoint", "--data", dir)
	if err != nil {
		t.Fatal(err)
	}
	cpFile := filepath.Join(tmp, "cp")
	os.WriteFile(cpFile, []byte(cp), 0o600)
	export, err := runCLI(t, "audit", "export", "--data", dir)
	if err != nil {
		t.Fatal(err)
	}
	logFile := filepath.Join(tmp, "log.jsonl")
	os.WriteFile(logFile, []byte(export), 0o600)
	key, _ := runCLI(t, "audit", "key", "--data", dir)

	if out, err := runCLI(t, "audit", "verify", "--data", dir); err != nil || !strings.Contains(out, "intact") {
		t.Fatalf("verify --data = %q, %v", out, err)
	}
	if out, err := runCLI(t, "audit", "verify", "--log", logFile, "--checkpoint", cpFile, "--key", strings.TrimSpace(key)); err != nil {
		t.Fatalf("verify --log = %q, %v", out, err)
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, backend.SQLiteFile))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE audit SET data = CAST('{}' AS BLOB) WHERE idx = 2`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = runCLI(t, "audit", "verify", "--data", dir)
	if err == nil || !strings.Contains(err.Error(), "entry 2:") {
		t.Errorf("verify after tampering = %v, want entry 2 named", err)
	}
}
