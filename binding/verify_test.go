package binding

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestBindVerify(t *testing.T) {
	f := newFixture(t)
	b := f.bind(t)
	if err := f.ring.Verify(b, f.obj, f.labels); err != nil {
		t.Fatalf("Verify fresh binding: %v", err)
	}
	p, err := Parse(b.Raw)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if err := f.ring.Verify(p, f.obj, f.labels); err != nil {
		t.Fatalf("Verify parsed binding: %v", err)
	}
	refVerify(t, b.Raw, f.signer.PublicKey())
}

func TestVerifyObjectTamper(t *testing.T) {
	f := newFixture(t)
	b := f.bind(t)
	changedByte := append([]byte(nil), f.obj...)
	i := strings.Index(string(changedByte), "c2.example.net")
	changedByte[i] = 'd'
	newVersion := canon(t, strings.Replace(testObjectJSON, `"modified": "2026-03-14T09:25:00.000Z"`, `"modified": "2026-03-14T09:25:00.001Z"`, 1))
	otherID := canon(t, strings.Replace(testObjectJSON, testObjectID, "indicator--00000000-0000-4000-8000-000000000001", 1))
	for name, obj := range map[string][]byte{
		"byte changed":      changedByte,
		"modified changed":  newVersion,
		"id changed":        otherID,
		"not canonical":     []byte(testObjectJSON),
		"not an object":     []byte(`[1]`),
		"empty":             nil,
		"trailing garbage":  append(append([]byte(nil), f.obj...), ' '),
		"object of no id":   []byte(`{"type":"x"}`),
		"canonical but SCO": canon(t, `{"type":"domain-name","id":"domain-name--00000000-0000-4000-8000-000000000002","value":"a.example"}`),
	} {
		if err := f.ring.Verify(b, obj, f.labels); !errors.Is(err, ErrObjectMismatch) {
			t.Errorf("%s: got %v, want ErrObjectMismatch", name, err)
		}
	}
}

func TestVerifyLabelTamper(t *testing.T) {
	f := newFixture(t)
	b := f.bind(t)
	cases := []struct {
		name   string
		edit   func(m map[string][]byte)
		target error
	}{
		{"label bytes changed", func(m map[string][]byte) {
			m[labelSecret] = canon(t, strings.Replace(labelSecretJSON, `"DEU"`, `"DEU", "FRA"`, 1))
		}, ErrLabelMismatch},
		{"part label bytes changed", func(m map[string][]byte) { m[labelPart] = m[labelSecret] }, ErrLabelMismatch},
		{"label ids swapped", func(m map[string][]byte) { m[labelSecret], m[labelPart] = m[labelPart], m[labelSecret] }, ErrLabelMismatch},
		{"label supplied under another id", func(m map[string][]byte) {
			m["marking-definition--00000000-0000-4000-8000-000000000003"] = m[labelSecret]
			delete(m, labelSecret)
		}, ErrMissingLabel},
		{"whole-object label missing", func(m map[string][]byte) { delete(m, labelSecret) }, ErrMissingLabel},
		{"part label missing", func(m map[string][]byte) { delete(m, labelPart) }, ErrMissingLabel},
		{"no labels", func(m map[string][]byte) { clear(m) }, ErrMissingLabel},
		{"extra label", func(m map[string][]byte) {
			m["marking-definition--00000000-0000-4000-8000-000000000004"] = []byte(`{}`)
		}, ErrLabelMismatch},
	}
	for _, c := range cases {
		m := f.copyLabels()
		c.edit(m)
		if err := f.ring.Verify(b, f.obj, m); !errors.Is(err, c.target) {
			t.Errorf("%s: got %v, want %v", c.name, err, c.target)
		}
	}
}

// TestVerifyBindingTamper changes signed fields as an attacker who knows the
// format: the id is re-derived so that Parse accepts the result, and the
// signature is kept, so only the signature can catch the change.
func TestVerifyBindingTamper(t *testing.T) {
	f := newFixture(t)
	b := f.bind(t)
	other := "marking-definition--00000000-0000-4000-8000-000000000005"
	cases := []struct {
		name   string
		mutate func(m map[string]any)
		want   error
	}{
		{"label digest", func(m map[string]any) {
			m["object_labels"].([]any)[0].(map[string]any)["digest"] = strings.Repeat("0", 64)
		}, ErrBadSignature},
		{"label ref swapped", func(m map[string]any) {
			m["object_labels"].([]any)[0].(map[string]any)["marking_ref"] = other
		}, ErrBadSignature},
		{"label replaced", func(m map[string]any) {
			m["object_labels"] = append(m["object_labels"].([]any), map[string]any{"marking_ref": other, "digest": strings.Repeat("1", 64)})
			m["object_labels"] = m["object_labels"].([]any)[1:]
		}, ErrBadSignature},
		{"label added", func(m map[string]any) {
			m["object_labels"] = append(m["object_labels"].([]any), map[string]any{"marking_ref": other, "digest": strings.Repeat("1", 64)})
		}, ErrBadSignature},
		{"part labels dropped", func(m map[string]any) { delete(m, "part_labels") }, ErrBadSignature},
		{"part selector", func(m map[string]any) {
			m["part_labels"].([]any)[0].(map[string]any)["selectors"] = []any{"name"}
		}, ErrBadSignature},
		{"created", func(m map[string]any) {
			m["created"], m["modified"] = "2026-03-14T09:26:53.590Z", "2026-03-14T09:26:53.590Z"
		}, ErrBadSignature},
		{"created_by_ref", func(m map[string]any) {
			m["created_by_ref"] = "identity--00000000-0000-4000-8000-000000000006"
		}, ErrBadSignature},
		{"object_ref", func(m map[string]any) { m["object_ref"] = "indicator--00000000-0000-4000-8000-000000000007" }, ErrBadSignature},
		{"object_modified", func(m map[string]any) { m["object_modified"] = "2026-03-14T09:25:00.001Z" }, ErrBadSignature},
		{"object_modified dropped", func(m map[string]any) { delete(m, "object_modified") }, ErrBadSignature},
		{"object_digest", func(m map[string]any) {
			m["object_digest"].(map[string]any)["value"] = strings.Repeat("a", 64)
		}, ErrBadSignature},
		{"kind", func(m map[string]any) {
			m["kind"], m["derived_from_ref"] = KindAlternative, "tearline-binding--00000000-0000-5000-8000-000000000008"
		}, ErrBadSignature},
		{"custom property added", func(m map[string]any) { m["x_note"] = "harmless?" }, ErrBadSignature},
		{"foreign extension added", func(m map[string]any) {
			m["extensions"].(map[string]any)["extension-definition--00000000-0000-4000-8000-000000000009"] = map[string]any{"extension_type": "toplevel-property-extension"}
		}, ErrBadSignature},
		{"key_id of another key of the node", func(m map[string]any) {
			m["signature"].(map[string]any)["key_id"] = KeyIDOf(seededKey("second key of the same node").Public().(ed25519.PublicKey))
		}, ErrBadSignature},
		{"key_id unknown", func(m map[string]any) {
			m["signature"].(map[string]any)["key_id"] = "ed25519:" + strings.Repeat("ab", 16)
		}, ErrUnknownKey},
		{"node", func(m map[string]any) { m["node"] = "deu-bnd-1" }, ErrKeyNotValid},
		{"created before key's not_before", func(m map[string]any) {
			m["created"], m["modified"] = "2020-01-01T00:00:00.000Z", "2020-01-01T00:00:00.000Z"
		}, ErrKeyNotValid},
	}
	for _, c := range cases {
		raw := refResign(t, b.Raw, nil, c.mutate)
		p, err := Parse(raw)
		if err != nil {
			t.Errorf("%s: Parse: %v", c.name, err)
			continue
		}
		if err := f.ring.Verify(p, f.obj, f.labels); !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, err, c.want)
		}
	}
}

// A changed field without a re-derived id is already refused by Parse.
func TestParseRefusesStaleID(t *testing.T) {
	f := newFixture(t)
	b := f.bind(t)
	raw := strings.Replace(string(b.Raw), `"node":"`+testNode+`"`, `"node":"deu-bnd-1"`, 1)
	_, err := Parse([]byte(raw))
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Property != "id" {
		t.Fatalf("got %v, want a ParseError on id", err)
	}
}

func TestVerifyForgedSignature(t *testing.T) {
	f := newFixture(t)
	b := f.bind(t)

	random := make([]byte, 64)
	rand.Read(random)
	attacker, _ := GenerateKey()
	cases := map[string]struct {
		raw  []byte
		want error
	}{
		"random bytes": {refResign(t, b.Raw, nil, func(m map[string]any) {
			m["signature"].(map[string]any)["value"] = base64.StdEncoding.EncodeToString(random)
		}), ErrBadSignature},
		"signed by another key, victim's key id": {refResign(t, b.Raw, attacker, func(map[string]any) {}), ErrBadSignature},
		"signed by another key with its own id": {refResign(t, b.Raw, attacker, func(m map[string]any) {
			m["signature"].(map[string]any)["key_id"] = KeyIDOf(attacker.Public().(ed25519.PublicKey))
		}), ErrUnknownKey},
		"object swapped and re-signed by another key": {refResign(t, b.Raw, attacker, func(m map[string]any) {
			m["object_digest"].(map[string]any)["value"] = strings.Repeat("b", 64)
		}), ErrBadSignature},
	}
	for name, c := range cases {
		p, err := Parse(c.raw)
		if err != nil {
			t.Errorf("%s: Parse: %v", name, err)
			continue
		}
		if err := f.ring.Verify(p, f.obj, f.labels); !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", name, err, c.want)
		}
	}
}

func TestVerifyKeyValidity(t *testing.T) {
	f := newFixture(t)
	pub := f.signer.PublicKey()
	bindAt := func(at time.Time) *Binding {
		b, err := f.signer.Bind(f.input, at)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	notBefore := testTime
	notAfter := testTime.Add(time.Hour)
	revoked := testTime.Add(30 * time.Minute)
	ring, err := NewKeyring(Key{Node: testNode, Public: pub, NotBefore: notBefore, NotAfter: notAfter})
	if err != nil {
		t.Fatal(err)
	}
	ringRevoked, err := ring.With(Key{Node: testNode, Public: pub, NotBefore: notBefore, NotAfter: notAfter, RevokedAt: revoked})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		ring *Keyring
		at   time.Time
		want error
	}{
		{"at not_before", ring, notBefore, nil},
		{"at not_after", ring, notAfter, nil},
		{"1ms before not_before", ring, notBefore.Add(-time.Millisecond), ErrKeyNotValid},
		{"1ms after not_after", ring, notAfter.Add(time.Millisecond), ErrKeyNotValid},
		{"revoked, made before revocation", ringRevoked, revoked.Add(-time.Millisecond), nil},
		{"revoked, made at revocation", ringRevoked, revoked, ErrKeyNotValid},
		{"revoked, made after revocation", ringRevoked, revoked.Add(time.Minute), ErrKeyNotValid},
		{"revocation does not touch the old ring", ring, revoked.Add(time.Minute), nil},
	}
	for _, c := range cases {
		err := c.ring.Verify(bindAt(c.at), f.obj, f.labels)
		if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, err, c.want)
		}
	}
}

// The exported fields are a view: changing them must not change what
// Verify checks, and a Binding built from Raw alone verifies.
func TestVerifyUsesRaw(t *testing.T) {
	f := newFixture(t)
	b := f.bind(t)
	b.ObjectDigest = strings.Repeat("0", 64)
	b.Labels[0].Digest = strings.Repeat("0", 64)
	b.KeyID = "ed25519:" + strings.Repeat("0", 32)
	if err := f.ring.Verify(b, f.obj, f.labels); err != nil {
		t.Fatalf("Verify after editing fields: %v", err)
	}
	if err := f.ring.Verify(&Binding{Raw: b.Raw}, f.obj, f.labels); err != nil {
		t.Fatalf("Verify of a Binding with only Raw: %v", err)
	}
	bad := &Binding{Raw: append([]byte(nil), b.Raw...)}
	bad.Raw[len(bad.Raw)-3] = 'X' // inside "type"
	if err := f.ring.Verify(bad, f.obj, f.labels); err == nil {
		t.Fatal("Verify accepted edited Raw")
	}
	if err := f.ring.Verify(nil, f.obj, f.labels); err == nil {
		t.Fatal("Verify accepted nil")
	}
}

func TestVerifyErrorNamesBindingAndObject(t *testing.T) {
	f := newFixture(t)
	b := f.bind(t)
	err := f.ring.Verify(b, f.obj, nil)
	if err == nil || !strings.Contains(err.Error(), b.ID) || !strings.Contains(err.Error(), testObjectID) {
		t.Fatalf("error %q should name %s and %s", err, b.ID, testObjectID)
	}
}

func TestVerifyConcurrent(t *testing.T) {
	f := newFixture(t)
	b := f.bind(t)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 20 {
				if err := f.ring.Verify(b, f.obj, f.labels); err != nil {
					t.Error(err)
					return
				}
				if _, err := f.signer.Bind(f.input, testTime); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}
