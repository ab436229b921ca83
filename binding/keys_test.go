package binding

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"
	"time"
)

func TestKeyID(t *testing.T) {
	pub := seededKey("golden").Public().(ed25519.PublicKey)
	id := KeyIDOf(pub)
	if !isKeyID(id) || len(id) != len("ed25519:")+32 {
		t.Fatalf("key id %q", id)
	}
	// Pinned: key ids are in bindings and configuration.
	if id != "ed25519:9a6eba6e8e75eaeb35eeddc8046234ff" {
		t.Fatalf("key id changed: %s", id)
	}
}

func TestPrivateKeyFile(t *testing.T) {
	k, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	pemBytes, err := MarshalPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(pemBytes, []byte("-----BEGIN PRIVATE KEY-----\n")) {
		t.Fatalf("unexpected PEM:\n%s", pemBytes)
	}
	got, err := ParsePrivateKey(pemBytes)
	if err != nil || !got.Equal(k) {
		t.Fatalf("round trip: %v", err)
	}
	if _, err := MarshalPrivateKey(k[:10]); err == nil {
		t.Error("short key marshalled")
	}

	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecDER, _ := x509.MarshalPKCS8PrivateKey(ec)
	for name, in := range map[string][]byte{
		"empty":       nil,
		"not PEM":     []byte("hello"),
		"wrong type":  pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte{1}}),
		"headers":     pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Headers: map[string]string{"Proc-Type": "4,ENCRYPTED"}, Bytes: []byte{1}}),
		"trailing":    append(append([]byte(nil), pemBytes...), "junk"...),
		"bad DER":     pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1, 2, 3}}),
		"ECDSA key":   pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ecDER}),
		"two PEM key": append(append([]byte(nil), pemBytes...), pemBytes...),
	} {
		if _, err := ParsePrivateKey(in); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestPublicKeyText(t *testing.T) {
	pub := seededKey("golden").Public().(ed25519.PublicKey)
	s := MarshalPublicKey(pub)
	got, err := ParsePublicKey(s)
	if err != nil || !bytes.Equal(got, pub) {
		t.Fatalf("round trip %q: %v", s, err)
	}
	for _, bad := range []string{"", "ed25519:", "ed25519:AAAA", s[len("ed25519:"):], "rsa:" + s[8:], KeyIDOf(pub), s[:len(s)-2] + "=="} {
		if _, err := ParsePublicKey(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if _, err := ParsePublicKey(KeyIDOf(pub)); err == nil || !strings.Contains(err.Error(), "key id") {
		t.Errorf("key id given as public key: %v", err)
	}
}

func TestKeyring(t *testing.T) {
	pub := seededKey("golden").Public().(ed25519.PublicKey)
	pub2 := seededKey("other").Public().(ed25519.PublicKey)
	now := time.Now()
	for name, keys := range map[string][]Key{
		"short key":        {{Node: "n1", Public: pub[:31]}},
		"key id mismatch":  {{Node: "n1", Public: pub, KeyID: KeyIDOf(pub2)}},
		"no node":          {{Public: pub}},
		"duplicate":        {{Node: "n1", Public: pub}, {Node: "n2", Public: pub}},
		"inverted periods": {{Node: "n1", Public: pub, NotBefore: now, NotAfter: now.Add(-time.Second)}},
	} {
		if _, err := NewKeyring(keys...); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	keys := []Key{{Node: "n2", Public: pub2}, {Node: "n1", Public: bytes.Clone(pub), KeyID: KeyIDOf(pub)}}
	r, err := NewKeyring(keys...)
	if err != nil {
		t.Fatal(err)
	}
	keys[1].Public[0] ^= 1 // the ring holds copies
	k, ok := r.Lookup(KeyIDOf(pub))
	if !ok || k.Node != "n1" || k.KeyID != KeyIDOf(pub) || KeyIDOf(k.Public) != k.KeyID {
		t.Fatalf("Lookup: %+v %v", k, ok)
	}
	if _, ok := r.Lookup("ed25519:" + strings.Repeat("0", 32)); ok {
		t.Error("Lookup found an unknown key")
	}
	if all := r.Keys(); len(all) != 2 || all[0].Node != "n1" {
		t.Errorf("Keys: %+v", all)
	}
	r2, err := r.With(Key{Node: "n1", Public: k.Public, RevokedAt: now})
	if err != nil {
		t.Fatal(err)
	}
	if k2, _ := r2.Lookup(k.KeyID); k2.RevokedAt.IsZero() {
		t.Error("With did not replace the key")
	}
	if k1, _ := r.Lookup(k.KeyID); !k1.RevokedAt.IsZero() {
		t.Error("With changed the original ring")
	}
	if _, err := r.With(Key{Node: "n1"}); err == nil {
		t.Error("With accepted a bad key")
	}
}
