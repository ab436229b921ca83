package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tearline/tearline/agreement"
)

// A partner signs what `agreement show --format yaml` prints, and
// `agreement add-signature` reads the signed copy back; each lifecycle
// refusal names the command that moves the agreement on.
func TestAgreementYAMLRoundTripAndNextSteps(t *testing.T) {
	tmp, dir, usaKey, doc := gbrUSAAgreement(t)
	y, err := doc.YAML()
	if err != nil {
		t.Fatal(err)
	}
	docFile := filepath.Join(tmp, "gbr-usa.yaml")
	if err := os.WriteFile(docFile, y, 0o600); err != nil {
		t.Fatal(err)
	}
	fails := func(want string, args ...string) {
		t.Helper()
		out, err := runCLI(t, args...)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("tearline %s: want an error containing %q, got %v\n%s", strings.Join(args, " "), want, err, out)
		}
	}
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
	fails("from draft it may become proposed or terminated", "agreement", "activate", "gbr-usa", "--data", dir)
	fails("next: 'tearline agreement propose gbr-usa' or 'tearline agreement terminate gbr-usa'", "agreement", "activate", "gbr-usa", "--data", dir)
	must("signed by gbr; missing usa", "agreement", "sign", "gbr-usa", "--data", dir)
	must("(proposed since", "agreement", "propose", "gbr-usa", "--data", dir)
	fails("next: sign with 'tearline agreement sign gbr-usa'", "agreement", "activate", "gbr-usa", "--data", dir)

	// The partner receives the YAML (gbr's signature in it), signs that very
	// document and sends it back.
	shown := must("signatures:", "agreement", "show", "gbr-usa", "--data", dir, "--format", "yaml")
	got, err := agreement.Parse([]byte(shown))
	if err != nil {
		t.Fatalf("show --format yaml does not parse: %v\n%s", err, shown)
	}
	if missing, err := got.VerifySignatures(); err != nil || len(missing) != 1 || missing[0] != "usa" {
		t.Fatalf("shown document: missing %v, %v", missing, err)
	}
	sig, err := got.Sign("usa", usaKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := got.AddSignature(sig); err != nil {
		t.Fatal(err)
	}
	back, err := got.YAML()
	if err != nil {
		t.Fatal(err)
	}
	backFile := filepath.Join(tmp, "gbr-usa.usa-signed.yaml")
	if err := os.WriteFile(backFile, back, 0o600); err != nil {
		t.Fatal(err)
	}
	must("signed by gbr, usa; missing none", "agreement", "add-signature", "gbr-usa", backFile, "--data", dir)
	must("active", "agreement", "activate", "gbr-usa", "--data", dir)
	must(`"id":"gbr-usa"`, "agreement", "show", "gbr-usa", "--data", dir, "--format", "json")
	fails(`--format "xml"`, "agreement", "show", "gbr-usa", "--data", dir, "--format", "xml")
	must("terminated", "agreement", "terminate", "gbr-usa", "--data", dir)
	fails("terminated is final", "agreement", "activate", "gbr-usa", "--data", dir)
}
