package seal

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
)

func kek(t testing.TB) *KEK {
	t.Helper()
	key, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	k, err := NewKEK(key)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSealOpenBindsRow(t *testing.T) {
	r := NewKeyring(kek(t))
	w := Where{ID: "report--1", Modified: 42, Digest: "abc"}
	plain := []byte(`{"type":"report","name":"secret"}`)
	ct, wrapped, err := r.Seal(w, plain)
	if err != nil || bytes.Contains(ct, []byte("secret")) {
		t.Fatalf("Seal: %v", err)
	}
	if got, err := r.Open(w, ct, wrapped); err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("Open = %q, %v", got, err)
	}
	for name, other := range map[string]Where{
		"id":      {ID: "report--2", Modified: 42, Digest: "abc"},
		"version": {ID: "report--1", Modified: 43, Digest: "abc"},
		"digest":  {ID: "report--1", Modified: 42, Digest: "abd"},
	} {
		if _, err := r.Open(other, ct, wrapped); !errors.Is(err, ErrOpen) {
			t.Errorf("Open under another %s = %v, want ErrOpen", name, err)
		}
	}
	bad := bytes.Clone(ct)
	bad[len(bad)-1] ^= 1
	if _, err := r.Open(w, bad, wrapped); !errors.Is(err, ErrOpen) {
		t.Errorf("Open of altered content = %v, want ErrOpen", err)
	}
	if _, err := NewKeyring(kek(t)).Open(w, ct, wrapped); !errors.Is(err, ErrUnknownKEK) {
		t.Errorf("Open under another KEK = %v, want ErrUnknownKEK", err)
	}
}

func TestRewrap(t *testing.T) {
	old, next := kek(t), kek(t)
	w := Where{ID: "report--1", Modified: 1, Digest: "d"}
	ct, wrapped, err := NewKeyring(old).Seal(w, []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	re, err := NewKeyring(next, old).Rewrap(w, wrapped)
	if err != nil {
		t.Fatal(err)
	}
	if id, _ := WrappedBy(re); id != next.ID() {
		t.Errorf("WrappedBy = %s, want %s", id, next.ID())
	}
	if got, err := NewKeyring(next).Open(w, ct, re); err != nil || string(got) != "x" {
		t.Errorf("Open after rewrap = %q, %v", got, err)
	}
	if _, err := NewKeyring(old).Open(w, ct, re); !errors.Is(err, ErrUnknownKEK) {
		t.Errorf("old KEK after rewrap = %v, want ErrUnknownKEK", err)
	}
}

// Content that compresses is stored compressed (format 2), content that
// does not stays format 1; both open, and a format byte changed in the
// database does not authenticate under the other format.
func TestSealCompresses(t *testing.T) {
	r := NewKeyring(kek(t))
	w := Where{ID: "report--1", Modified: 42, Digest: "abc"}
	text := []byte(`{"type":"report","name":"` + strings.Repeat("secret exfiltration campaign ", 60) + `"}`)
	random := make([]byte, 2000)
	if _, err := rand.Read(random); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		plain  []byte
		format byte
	}{
		{"text", text, formatS2},
		{"random", random, formatV1},
		{"small", []byte(`{"type":"x"}`), formatV1},
		{"empty", []byte{}, formatV1},
	} {
		ct, wrapped, err := r.Seal(w, tc.plain)
		if err != nil {
			t.Fatalf("%s: Seal: %v", tc.name, err)
		}
		if ct[0] != tc.format {
			t.Errorf("%s: format %d, want %d", tc.name, ct[0], tc.format)
		}
		if tc.format == formatS2 && len(ct) >= len(tc.plain)/2 {
			t.Errorf("%s: sealed %d bytes of %d: not compressed", tc.name, len(ct), len(tc.plain))
		}
		if bytes.Contains(ct, []byte("secret")) {
			t.Errorf("%s: plaintext in the sealed bytes", tc.name)
		}
		got, err := r.Open(w, ct, wrapped)
		if err != nil || !bytes.Equal(got, tc.plain) {
			t.Fatalf("%s: Open = %d bytes, %v", tc.name, len(got), err)
		}
		for _, f := range []byte{formatV1, formatS2, 3, 0} {
			if f == ct[0] {
				continue
			}
			bad := bytes.Clone(ct)
			bad[0] = f
			if _, err := r.Open(w, bad, wrapped); !errors.Is(err, ErrOpen) {
				t.Errorf("%s: format byte %d → %d: Open = %v, want ErrOpen", tc.name, ct[0], f, err)
			}
		}
	}
}

// Content sealed as format 1 before compression existed still opens.
func TestOpenFormat1(t *testing.T) {
	k := kek(t)
	w := Where{ID: "indicator--1", Modified: 7, Digest: "d"}
	plain := []byte(`{"type":"indicator","description":"` + strings.Repeat("a", 500) + `"}`)
	ct, wrapped := sealRaw(t, k, w, formatV1, plain, []byte("tearline content v1\x00indicator--1\x007\x00d"))
	if got, err := NewKeyring(k).Open(w, ct, wrapped); err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("Open of format 1 = %q, %v", got, err)
	}
}

// Any content comes back byte for byte, compressed or not.
func FuzzSealRoundTrip(f *testing.F) {
	f.Add([]byte(`{"type":"indicator","pattern":"[ipv4-addr:value = '10.0.0.1']"}`))
	f.Add([]byte(strings.Repeat("ab", 200)))
	f.Add([]byte{})
	r := NewKeyring(kek(f))
	w := Where{ID: "indicator--1", Modified: 1, Digest: "d"}
	f.Fuzz(func(t *testing.T, plain []byte) {
		ct, wrapped, err := r.Seal(w, plain)
		if err != nil {
			t.Fatal(err)
		}
		got, err := r.Open(w, ct, wrapped)
		if err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("Open(Seal(%d bytes)) = %d bytes, %v", len(plain), len(got), err)
		}
	})
}

// Authentic format 2 content whose compressed block claims more than
// maxPlain bytes is refused before anything that size is allocated.
func TestOpenRefusesHugeClaim(t *testing.T) {
	k := kek(t)
	w := Where{ID: "indicator--1", Modified: 7, Digest: "d"}
	for name, body := range map[string][]byte{
		"over the bound": binary.AppendUvarint(nil, maxPlain+1),
		"corrupt":        {0x05, 0xff},
	} {
		ct, wrapped := sealRaw(t, k, w, formatS2, body, w.contentAAD(formatS2))
		if got, err := NewKeyring(k).Open(w, ct, wrapped); err == nil {
			t.Errorf("%s: Open = %d bytes, want an error", name, len(got))
		}
	}
}

// sealRaw seals body as format under a new data key wrapped by k, with the
// additional data given: content as Seal would not write it.
func sealRaw(t *testing.T, k *KEK, w Where, format byte, body, aad []byte) (sealed, wrapped []byte) {
	t.Helper()
	dek, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	aead, err := newGCM(dek)
	if err != nil {
		t.Fatal(err)
	}
	if wrapped, err = k.wrap(w, dek); err != nil {
		t.Fatal(err)
	}
	nonce := make([]byte, nonceLen)
	return aead.Seal(append([]byte{format}, nonce...), nonce, body, aad), wrapped
}
