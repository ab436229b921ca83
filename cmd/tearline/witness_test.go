package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/datadir"
	"github.com/tearline/tearline/internal/demo"
	"github.com/tearline/tearline/node"
)

// TestAuditVerifyMinCosignatures: three nodes federating on loopback; gbr's
// checkpoints are cosigned by usa and fra over the network, and `audit
// verify --min-cosignatures` passes for them and fails clearly when more
// are required than given.
func TestAuditVerifyMinCosignatures(t *testing.T) {
	ctx := context.Background()
	var specs []demo.MemberSpec
	for _, s := range demo.ScenarioMembers() {
		if s.Name == "gbr" || s.Name == "usa" || s.Name == "fra" {
			specs = append(specs, s)
		}
	}
	c, err := demo.NewCluster(ctx, t.TempDir(), specs, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	for _, m := range c.Members {
		if err := c.Start(m); err != nil {
			t.Fatal(err)
		}
	}
	gbr := c.Member("gbr")
	if _, err := demo.Publish(ctx, gbr, demo.ScenarioReport()); err != nil {
		t.Fatal(err)
	}
	if err := gbr.Node.Oversight.CosignRound(ctx); err != nil {
		t.Fatal(err)
	}
	out, err := runCLI(t, "audit", "verify", "--data", gbr.Dir, "--witness", "usa", "--witness", "fra", "--min-cosignatures", "2")
	if err != nil || !strings.Contains(out, "intact") || !strings.Contains(out, "cosigned by 2 witnesses") {
		t.Fatalf("verify --min-cosignatures 2 = %q, %v", out, err)
	}
	// A witness named by its key, which cosigned nothing here: 3 of 3 fail.
	_, deuKey, err := audit.GenerateWitnessKey("deu/witness")
	if err != nil {
		t.Fatal(err)
	}
	_, err = runCLI(t, "audit", "verify", "--data", gbr.Dir, "--witness", "usa", "--witness", "fra",
		"--witness", "deu="+deuKey, "--min-cosignatures", "3")
	if err == nil || !strings.Contains(err.Error(), "too few witness cosignatures") {
		t.Fatalf("verify --min-cosignatures 3 with 2 cosigners: %v, want too few", err)
	}
	// Offline: the checkpoint as the API serves it carries the cosignature
	// lines, and --log verification counts them.
	cp, err := gbr.Node.Oversight.AuditCheckpoint(ctx, node.ConsoleAdmin())
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	cpFile, logFile := filepath.Join(tmp, "cp"), filepath.Join(tmp, "log.jsonl")
	export, err := runCLI(t, "audit", "export", "--data", gbr.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cpFile, cp.Note, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(logFile, []byte(export), 0o600); err != nil {
		t.Fatal(err)
	}
	key, err := datadir.ReadLogVerifierKey(gbr.Dir)
	if err != nil {
		t.Fatal(err)
	}
	var wflags []string
	for _, name := range []string{"usa", "fra"} {
		wid, err := node.ReadIdentity(c.Member(name).Dir)
		if err != nil {
			t.Fatal(err)
		}
		wflags = append(wflags, "--witness", name+"="+wid.WitnessKey)
	}
	args := append([]string{"audit", "verify", "--log", logFile, "--checkpoint", cpFile, "--key", key, "--min-cosignatures", "2"}, wflags...)
	if out, err := runCLI(t, args...); err != nil || !strings.Contains(out, "cosigned by 2 witnesses") {
		t.Fatalf("verify --log --min-cosignatures 2 = %q, %v", out, err)
	}
}
