package seal

import (
	"bytes"
	"errors"
	"testing"
)

func kek(t *testing.T) *KEK {
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
