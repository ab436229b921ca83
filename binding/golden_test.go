package binding

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/golden.json")

const goldenFile = "testdata/golden.json"

// TestGolden pins the wire format: a fixed key, time, object and labels must
// give these exact bytes. If this fails, the change breaks every partner's
// verifier; bump FormatVersion instead (see docs/BINDING.md).
func TestGolden(t *testing.T) {
	f := newFixture(t)
	b := f.bind(t)
	if *update {
		if err := os.WriteFile(goldenFile, append(append([]byte(nil), b.Raw...), '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(goldenFile)
	if err != nil {
		t.Fatal(err)
	}
	want = bytes.TrimSuffix(want, []byte("\n"))
	if !bytes.Equal(b.Raw, want) {
		t.Fatalf("binding format changed:\ngot  %s\nwant %s", b.Raw, want)
	}
	// The golden binding verifies by the documented procedure alone.
	refVerify(t, want, f.signer.PublicKey())
	p, err := Parse(want)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.ring.Verify(p, f.obj, f.labels); err != nil {
		t.Fatal(err)
	}
}

// TestDocsExample checks that docs/BINDING.md shows the golden binding, the
// key that verifies it and the intermediate values of the procedure, so the
// document cannot drift from the code.
func TestDocsExample(t *testing.T) {
	doc, err := os.ReadFile("../docs/BINDING.md")
	if err != nil {
		t.Skipf("docs not found: %v", err)
	}
	f := newFixture(t)
	b := f.bind(t)

	example := jsonBlockAfter(t, string(doc), "<!-- example-binding -->")
	p, err := Parse([]byte(example))
	if err != nil {
		t.Fatalf("docs example: %v", err)
	}
	if !bytes.Equal(p.Raw, b.Raw) {
		t.Fatalf("docs example differs from the golden binding; regenerate it:\n%s", indent(t, b.Raw))
	}
	for name, want := range map[string]string{
		"public key":     MarshalPublicKey(f.signer.PublicKey()),
		"key id":         f.signer.KeyID(),
		"object digest":  b.ObjectDigest,
		"label digest":   b.Labels[0].Digest,
		"signing input":  string(p.st.signed),
		"canonical raw":  string(b.Raw),
		"canonical obj":  string(f.obj),
		"binding id":     b.ID,
		"signature":      b.Signature,
		"label part dig": b.PartLabels[0].Digest,
	} {
		if !strings.Contains(string(doc), want) {
			t.Errorf("docs/BINDING.md lacks the %s:\n%s", name, want)
		}
	}
}

func jsonBlockAfter(t *testing.T, doc, marker string) string {
	t.Helper()
	_, rest, ok := strings.Cut(doc, marker)
	if !ok {
		t.Fatalf("marker %q not found", marker)
	}
	_, rest, ok = strings.Cut(rest, "```json\n")
	if !ok {
		t.Fatal("no json block after marker")
	}
	block, _, ok := strings.Cut(rest, "```")
	if !ok {
		t.Fatal("unterminated json block")
	}
	return block
}

func indent(t *testing.T, raw []byte) []byte {
	var out bytes.Buffer
	if err := json.Indent(&out, raw, "", "  "); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}
