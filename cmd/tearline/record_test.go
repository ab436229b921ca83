package main

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/stack"
	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/store/backend"
)

// TestKeyRotationIsAudited runs `tearline key rotate` and finds its entry in
// the node's audit log: key and trust changes live in files, but the log
// must still hold them.
func TestKeyRotationIsAudited(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "gbr")
	if err := node.Init(ctx, dir, node.InitOptions{Name: "gbr-node", Country: "GBR", CreateStore: backend.Creator("")}); err != nil {
		t.Fatal(err)
	}
	c := root()
	var out bytes.Buffer
	c.SetOut(&out)
	c.SetErr(&out)
	c.SetArgs([]string{"key", "rotate", "--data", dir})
	if err := c.ExecuteContext(ctx); err != nil {
		t.Fatalf("key rotate: %v\n%s", err, out.String())
	}
	n, err := stack.Open(ctx, dir, node.Options{OpenStore: backend.Opener("")})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	st := n.Store()
	size, err := st.AuditSize(ctx)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := st.AuditEntries(ctx, 0, size)
	if err != nil {
		t.Fatal(err)
	}
	if !hasAction(t, entries, audit.ActionSigningKeyRotate) {
		t.Fatalf("no %s entry among %d audit entries", audit.ActionSigningKeyRotate, len(entries))
	}
}

func hasAction(t *testing.T, entries []store.AuditEntry, action string) bool {
	t.Helper()
	for _, e := range entries {
		ev, err := audit.Parse(e.Data)
		if err != nil {
			t.Fatal(err)
		}
		if ev.Action == action {
			return true
		}
	}
	return false
}
