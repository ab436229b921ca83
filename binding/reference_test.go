package binding

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"testing"

	"github.com/google/uuid"
	"github.com/gowebpki/jcs"
)

// A second implementation of the signing procedure in docs/BINDING.md,
// written the way a partner would (generic JSON, another canonicaliser,
// another UUID library). Tests use it to check that the documented
// algorithm and the package agree, and to forge bindings as an attacker who
// knows the algorithm.

func refDecode(t testing.TB, raw []byte) map[string]any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatalf("decode: %v", err)
	}
	return m
}

func refCanon(t testing.TB, m map[string]any) []byte {
	t.Helper()
	j, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	c, err := jcs.Transform(j)
	if err != nil {
		t.Fatalf("jcs: %v", err)
	}
	return c
}

// refSigningInput: step 1 of the documented procedure: the canonical JSON of
// the binding without signature.value.
func refSigningInput(t testing.TB, m map[string]any) []byte {
	t.Helper()
	c := clone(t, m)
	delete(c["signature"].(map[string]any), "value")
	return refCanon(t, c)
}

// refID: the id derivation: UUIDv5 in the extension's namespace over the
// signing input without the "id" member.
func refID(t testing.TB, m map[string]any) string {
	t.Helper()
	c := clone(t, m)
	delete(c, "id")
	delete(c["signature"].(map[string]any), "value")
	ns := uuid.MustParse(ExtensionID[len("extension-definition--"):])
	return Type + "--" + uuid.NewSHA1(ns, refCanon(t, c)).String()
}

func clone(t testing.TB, m map[string]any) map[string]any {
	t.Helper()
	j, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return refDecode(t, j)
}

// refResign applies mutate to the binding, then re-derives the id and
// re-signs with key (an attacker's or a stolen key). With key nil the old
// signature value is kept.
func refResign(t testing.TB, raw []byte, key ed25519.PrivateKey, mutate func(m map[string]any)) []byte {
	t.Helper()
	m := refDecode(t, raw)
	mutate(m)
	m["id"] = refID(t, m)
	if key != nil {
		sig := ed25519.Sign(key, refSigningInput(t, m))
		m["signature"].(map[string]any)["value"] = base64.StdEncoding.EncodeToString(sig)
	}
	return refCanon(t, m)
}

// refVerify checks raw as a partner would, without this package.
func refVerify(t testing.TB, raw []byte, pub ed25519.PublicKey) {
	t.Helper()
	m := refDecode(t, raw)
	if got, want := m["id"], refID(t, m); got != want {
		t.Errorf("reference: id %v, derived %v", got, want)
	}
	sig, err := base64.StdEncoding.DecodeString(m["signature"].(map[string]any)["value"].(string))
	if err != nil {
		t.Fatal(err)
	}
	if !ed25519.Verify(pub, refSigningInput(t, m), sig) {
		t.Error("reference: signature does not verify")
	}
	if c := refCanon(t, m); !bytes.Equal(c, raw) {
		t.Errorf("reference: Raw is not canonical:\n%s\n%s", raw, c)
	}
}
