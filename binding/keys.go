package binding

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
)

// keyIDPrefix starts every key id and every public key in text form; both
// name the algorithm so a later algorithm can coexist in one keyring.
const keyIDPrefix = "ed25519:"

// KeyIDOf returns the key id of an Ed25519 public key: "ed25519:" followed by
// the lowercase hex of the first 16 bytes of SHA-256 over the 32-byte public
// key. 128 bits keep ids short in logs and configuration while leaving
// collisions out of reach; the signature itself is always checked with the
// full key.
func KeyIDOf(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return keyIDPrefix + hex.EncodeToString(sum[:16])
}

// isKeyID reports whether s has the form KeyIDOf produces.
func isKeyID(s string) bool {
	if len(s) != len(keyIDPrefix)+32 || !strings.HasPrefix(s, keyIDPrefix) {
		return false
	}
	for i := len(keyIDPrefix); i < len(s); i++ {
		if !isLowerHex(s[i]) {
			return false
		}
	}
	return true
}

// GenerateKey returns a new Ed25519 private key from crypto/rand.
func GenerateKey() (ed25519.PrivateKey, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("binding: generate key: %w", err)
	}
	return priv, nil
}

const pemPrivateKey = "PRIVATE KEY"

// MarshalPrivateKey encodes k as a PEM "PRIVATE KEY" block (PKCS #8, RFC
// 8410), the form OpenSSL and other tools read.
func MarshalPrivateKey(k ed25519.PrivateKey) ([]byte, error) {
	if len(k) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("binding: marshal private key: length %d, want %d", len(k), ed25519.PrivateKeySize)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, fmt.Errorf("binding: marshal private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemPrivateKey, Bytes: der}), nil
}

// ParsePrivateKey decodes a key written by MarshalPrivateKey (or by
// `openssl genpkey -algorithm ed25519`). It refuses other key types, PEM
// headers (encrypted keys) and trailing data, so a wrong file is noticed.
func ParsePrivateKey(pemBytes []byte) (ed25519.PrivateKey, error) {
	block, rest := pem.Decode(pemBytes)
	if block == nil {
		return nil, errors.New("binding: parse private key: no PEM block")
	}
	if block.Type != pemPrivateKey {
		return nil, fmt.Errorf("binding: parse private key: PEM type %q, want %q", block.Type, pemPrivateKey)
	}
	if len(block.Headers) != 0 {
		return nil, errors.New("binding: parse private key: PEM headers present (encrypted keys are not supported)")
	}
	if len(bytes.TrimSpace(rest)) != 0 {
		return nil, errors.New("binding: parse private key: data after the PEM block")
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("binding: parse private key: %w", err)
	}
	priv, ok := key.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("binding: parse private key: %T is not an Ed25519 key", key)
	}
	return priv, nil
}

// MarshalPublicKey returns pub in the text form used in configuration:
// "ed25519:" followed by the standard base64 (with padding) of the 32 bytes.
func MarshalPublicKey(pub ed25519.PublicKey) string {
	return keyIDPrefix + base64.StdEncoding.EncodeToString(pub)
}

// ParsePublicKey reads the form MarshalPublicKey writes.
func ParsePublicKey(s string) (ed25519.PublicKey, error) {
	b64, ok := strings.CutPrefix(s, keyIDPrefix)
	if !ok {
		return nil, fmt.Errorf("binding: parse public key: missing %q prefix", keyIDPrefix)
	}
	if isKeyID(s) {
		// Both forms share the prefix; say so instead of a base64 error.
		return nil, errors.New("binding: parse public key: this is a key id, not a public key")
	}
	raw, err := base64.StdEncoding.Strict().DecodeString(b64)
	if err != nil {
		return nil, fmt.Errorf("binding: parse public key: %w", err)
	}
	if len(raw) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("binding: parse public key: %d bytes, want %d", len(raw), ed25519.PublicKeySize)
	}
	return ed25519.PublicKey(raw), nil
}
