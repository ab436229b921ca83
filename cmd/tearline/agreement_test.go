package main

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tearline/tearline/agreement"
	"github.com/tearline/tearline/binding"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/stack"
	"github.com/tearline/tearline/store/backend"
)

// TestAgreementAndReleaseCLI drives an agreement from import to active,
// explains and requests releases, approves a held one with two named
// releasers and reads the ledger, all from the console.
func TestAgreementAndReleaseCLI(t *testing.T) {
	ctx := context.Background()
	tmp, dir, usaKey, doc := gbrUSAAgreement(t)
	write := func(name string, d *agreement.Document) string {
		b, err := d.JSON()
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(tmp, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	docFile := write("gbr-usa.json", doc)
	signed := *doc
	s, err := signed.Sign("usa", usaKey)
	if err != nil {
		t.Fatal(err)
	}
	signed.Signatures = []agreement.Signature{s}
	signedFile := write("gbr-usa.usa-signed.json", &signed)

	must := func(want string, args ...string) string {
		t.Helper()
		out, err := runCLI(t, args...)
		if err != nil {
			t.Fatalf("tearline %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		if !strings.Contains(out, want) {
			t.Fatalf("tearline %s: output lacks %q:\n%s", strings.Join(args, " "), want, out)
		}
		return out
	}
	must("missing gbr, usa", "agreement", "import", docFile, "--data", dir)
	must("signed by gbr; missing usa", "agreement", "sign", "gbr-usa", "--data", dir)
	must("(proposed since", "agreement", "propose", "gbr-usa", "--data", dir)
	if out, err := runCLI(t, "agreement", "activate", "gbr-usa", "--data", dir); err == nil || !strings.Contains(err.Error(), "not signed by every party") {
		t.Fatalf("activate half-signed: %v\n%s", err, out)
	}
	must("signed by gbr, usa; missing none", "agreement", "add-signature", "gbr-usa", signedFile, "--data", dir)
	must("active", "agreement", "activate", "gbr-usa", "--data", dir)
	must("gbr-usa", "agreement", "list", "--data", dir)
	must("proposed -> active", "agreement", "show", "gbr-usa", "--data", dir)

	for _, u := range [][2]string{{"ann", "analyst"}, {"rob", "releaser"}, {"rita", "releaser"}} {
		must("added user", "user", "add", "--data", dir, "--name", u[0], "--role", u[1], "--nationality", "GBR", "--clearance", "NATO:SECRET")
	}
	n, err := stack.Open(ctx, dir, node.Options{OpenStore: backend.Opener("")})
	if err != nil {
		t.Fatal(err)
	}
	id := "threat-actor--2f3c6a8e-6a43-4d3a-9a53-2b1c1f9a7e01"
	obj := `{"type":"threat-actor","spec_version":"2.1","id":"` + id + `","created":"2026-01-10T10:00:00.000Z","modified":"2026-01-10T10:00:00.000Z","name":"Bear"}`
	res, err := n.Ingest(ctx, node.ConsoleAdmin(), []byte(obj), node.IngestOptions{Label: "NATO SECRET // DISC SIGINT // TOPIC CYBER"})
	n.Close()
	if err != nil || len(res.Refused) > 0 {
		t.Fatalf("ingest: %v %+v", err, res)
	}

	must("purpose: the agreement does not permit use for this purpose", "release", "explain", id, "--to", "usa", "--purpose", "law-enforcement", "--data", dir, "--as", "ann")
	out := must("HOLD", "release", "request", id, "--to", "usa", "--data", dir, "--as", "ann")
	_, after, _ := strings.Cut(out, "request: ")
	req := strings.TrimSpace(strings.SplitN(after, "\n", 2)[0])
	must(req, "release", "queue", "--data", dir)
	must("HOLD", "release", "approve", req, "--data", dir, "--as", "rob")
	if out, err := runCLI(t, "release", "approve", req, "--data", dir, "--as", "rob"); err == nil {
		t.Fatalf("the same releaser twice: %s", out)
	}
	if out, err := runCLI(t, "release", "approve", req, "--data", dir, "--as", "ann"); err == nil {
		t.Fatalf("an analyst approved: %s", out)
	}
	must("RELEASE", "release", "approve", req, "--data", dir, "--as", "rita")
	out = must("usa", "audit", "ledger", "--data", dir, "--object", id)
	if !strings.Contains(out, "release") || !strings.Contains(out, "gbr-usa@1") {
		t.Fatalf("ledger:\n%s", out)
	}
	must("suspended", "agreement", "suspend", "gbr-usa", "--data", dir, "--note", "dispute")
	must("agreement-suspended", "release", "explain", id, "--to", "usa", "--data", dir, "--as", "ann")
}

// gbrUSAAgreement makes a node gbr in a temporary directory and a draft
// agreement gbr-usa between it (under its signing key) and a usa whose key
// the test holds: what the agreement CLI tests import, sign and move on.
func gbrUSAAgreement(t *testing.T) (tmp, dir string, usaKey ed25519.PrivateKey, doc *agreement.Document) {
	t.Helper()
	ctx := context.Background()
	tmp = t.TempDir()
	dir = filepath.Join(tmp, "gbr")
	if err := node.Init(ctx, dir, node.InitOptions{Name: "gbr", Country: "GBR", CreateStore: backend.Creator("")}); err != nil {
		t.Fatal(err)
	}
	pem, err := os.ReadFile(filepath.Join(dir, node.SigningKey))
	if err != nil {
		t.Fatal(err)
	}
	key, err := binding.ParsePrivateKey(pem)
	if err != nil {
		t.Fatal(err)
	}
	seed := sha256.Sum256([]byte("cli test key usa"))
	usaKey = ed25519.NewKeyFromSeed(seed[:])
	now := time.Now().UTC()
	lv := func(p, o, l string) agreement.Level { return agreement.Level{Policy: p, Owner: o, Level: l} }
	var table []agreement.Equivalence
	for _, p := range [][2]string{{"UNCLASSIFIED", "OFFICIAL"}, {"RESTRICTED", "RESTRICTED"}, {"CONFIDENTIAL", "CONFIDENTIAL"}, {"SECRET", "SECRET"}, {"TOP-SECRET", "TOP-SECRET"}} {
		table = append(table, agreement.Equivalence{Levels: []agreement.Level{lv("NATO", "", p[0]), lv("NATIONAL", "GBR", p[1]), lv("NATIONAL", "USA", p[1])}})
	}
	above := lv("NATO", "", "RESTRICTED")
	doc = &agreement.Document{ID: "gbr-usa", Title: "cli test", Version: 1,
		Effective: now.Add(-24 * time.Hour).Format(time.RFC3339), Expires: now.Add(365 * 24 * time.Hour).Format(time.RFC3339),
		Parties: []agreement.Party{
			{Name: "gbr", PublicKey: binding.MarshalPublicKey(key.Public().(ed25519.PublicKey)), Country: "GBR", Organisation: "gbr"},
			{Name: "usa", PublicKey: binding.MarshalPublicKey(usaKey.Public().(ed25519.PublicKey)), Country: "USA", Organisation: "usa"},
		},
		Equivalence: table,
		Terms: []agreement.Terms{{From: []string{"gbr", "usa"}, To: []string{"gbr", "usa"}, Topics: []string{"CYBER"}, Disciplines: []string{"SIGINT"},
			MaxClassification: lv("NATO", "", "SECRET"), Purposes: []string{"analysis"}, RetentionDays: 30, Onward: agreement.OnwardParties,
			Release: agreement.Release{Mode: agreement.ModeTwo, Above: &above}}},
	}
	return tmp, dir, usaKey, doc
}
