package seal

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tearline/tearline/store"
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
	f.Add([]byte(`{"type":"indicator","pattern":"[ipv4-addr:value = '10.0.0.1']"}`), "indicator--1", int64(1))
	f.Add([]byte(strings.Repeat("ab", 200)), "x\x00y", int64(-1))
	f.Add([]byte{}, "", int64(0))
	r := NewKeyring(kek(f))
	f.Fuzz(func(t *testing.T, plain []byte, id string, modified int64) {
		w := Where{ID: id, Modified: modified, Digest: "d"}
		ct, wrapped, err := r.Seal(w, plain)
		if err != nil {
			t.Fatal(err)
		}
		got, err := r.Open(w, ct, wrapped)
		if err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("Open(Seal(%d bytes)) = %d bytes, %v", len(plain), len(got), err)
		}
		// In place, as reads open what they scanned; Open left ct as it was.
		v := store.ObjectVersion{ID: id, ModifiedAt: time.UnixMicro(modified), Digest: "d", Raw: ct, Key: wrapped}
		if err := r.OpenVersion(&v); err != nil || !bytes.Equal(v.Raw, plain) {
			t.Fatalf("OpenVersion(Seal(%d bytes)) = %d bytes, %v", len(plain), len(v.Raw), err)
		}
		// The next version's time is another place: it must not open there.
		ct, wrapped, err = r.Seal(w, plain)
		if err != nil {
			t.Fatal(err)
		}
		v = store.ObjectVersion{ID: id, ModifiedAt: time.UnixMicro(modified + 1), Digest: "d", Raw: ct, Key: wrapped}
		if err := r.OpenVersion(&v); err == nil {
			t.Fatalf("a version sealed for modified %d opened as %d", modified, modified+1)
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

// TestGolden opens values sealed by an earlier build under a fixed KEK, in
// both formats: what is in a database must open whatever the code that
// builds the AAD or lays out the bytes becomes.
func TestGolden(t *testing.T) {
	key := make([]byte, 32)
	for i := range key {
		key[i] = byte(i)
	}
	k, err := NewKEK(key)
	if err != nil {
		t.Fatal(err)
	}
	r := NewKeyring(k)
	w := Where{ID: "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", Modified: 1767225600123456, Digest: "sha256:" + strings.Repeat("ab", 32)}
	for _, g := range []struct{ plain, sealed, wrapped string }{
		{`{"type":"indicator","name":"short"}`,
			"01366de2aef80110c6edec277fc40b3796f96646589e845a855f1189e24369428c9301b2a5ed3892041beac559f318cb9a3e11675563c8c087df8fa4c463236d",
			"0159e8c6be88c7199ef65ef0838e6e2cc912f222c5746ba11dcbfaf761fb9b7304cd9dfa87e63021e14aa1244b92e4a1aefb4e81315dffb1814cf10f8d48b4f3b848df1087"},
		{`{"type":"indicator","description":"` + strings.Repeat("repeated text ", 20) + `"}`,
			"02f318622e8484e2834a08c6153bd40fed040c75ce3842278f1befc4f5230d38c22d8b3641934f91ad1aaacfcadff8e05927a2c481d97a7f9ed4a048cc6544b4d961bbe0487688cdca8f1413b638650c101d80befbdd7cfb3c",
			"0159e8c6be88c7199eacd9f8d81c2dd430fd087166eaf7a5cc21f3709f7cb5a7516664bffc34254dc31496afa64b5fca503f77d1e540ec1c0c420afdf09a4d099f87ddbedc"},
	} {
		sealed, err := hex.DecodeString(g.sealed)
		if err != nil {
			t.Fatal(err)
		}
		wrapped, err := hex.DecodeString(g.wrapped)
		if err != nil {
			t.Fatal(err)
		}
		got, err := r.Open(w, sealed, wrapped)
		if err != nil || string(got) != g.plain {
			t.Errorf("format %d: Open = %q, %v; want %q", sealed[0], got, err, g.plain)
		}
		// In place, as reads open the rows they scanned.
		v := store.ObjectVersion{ID: w.ID, ModifiedAt: time.UnixMicro(w.Modified), Digest: w.Digest, Raw: sealed, Key: wrapped}
		if err := r.OpenVersion(&v); err != nil || string(v.Raw) != g.plain || v.Key != nil || !v.Opened {
			t.Errorf("format %d: OpenVersion = %q, key %x, opened %t, %v; want %q", sealed[0], v.Raw, v.Key, v.Opened, err, g.plain)
		}
	}
}

// A version without a key (stored before sealing existed) is returned as
// stored and not marked opened: nothing vouches for its bytes.
func TestOpenVersionKeyless(t *testing.T) {
	v := store.ObjectVersion{ID: "indicator--1", Raw: []byte(`{"a":1}`)}
	if err := NewKeyring(kek(t)).OpenVersion(&v); err != nil || string(v.Raw) != `{"a":1}` || v.Opened {
		t.Errorf("OpenVersion(keyless) = %q, opened %t, %v; want it as stored, not opened", v.Raw, v.Opened, err)
	}
}
