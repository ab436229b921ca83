package node

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/tearline/tearline/binding"
	"github.com/tearline/tearline/pki"
)

// readKeyringEntries reads keyring.yaml as written, for commands that change
// it; a missing file is an empty keyring.
func readKeyringEntries(dir string) ([]keyringEntry, error) {
	b, err := os.ReadFile(path(dir, KeyringFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	var entries []keyringEntry
	if err := yaml.NewDecoder(bytes.NewReader(b)).Decode(&entries); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("keyring %s: %w", KeyringFile, err)
	}
	return entries, nil
}

// writeKeyringEntries replaces keyring.yaml after checking that the entries
// make a valid keyring, so that no command leaves a node that cannot open.
func writeKeyringEntries(dir string, entries []keyringEntry) error {
	keys := make([]binding.Key, 0, len(entries))
	for i, e := range entries {
		pub, err := binding.ParsePublicKey(e.Public)
		if err != nil {
			return fmt.Errorf("keyring: entry %d (%s): %w", i, e.Node, err)
		}
		keys = append(keys, binding.Key{Node: e.Node, Public: pub, NotBefore: e.NotBefore, NotAfter: e.NotAfter, RevokedAt: e.RevokedAt})
	}
	if _, err := binding.NewKeyring(keys...); err != nil {
		return err
	}
	b, err := yaml.Marshal(entries)
	if err != nil {
		return fmt.Errorf("keyring: %w", err)
	}
	header := "# Public signing keys this node verifies bindings with: partners' and its own\n" +
		"# retired keys, each with its validity (tearline peer add, key rotate, key revoke).\n"
	return atomicWrite(path(dir, KeyringFile), append([]byte(header), b...), 0o644)
}

func readSigningKey(dir string) (ed25519.PrivateKey, error) {
	b, err := os.ReadFile(path(dir, SigningKey))
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	return binding.ParsePrivateKey(b)
}

// Rotation is the outcome of RotateSigningKey.
type Rotation struct {
	Old, New  string // key ids
	NewPublic string // the new public key, "ed25519:<base64>", for partners
	At        time.Time
}

// RotateSigningKey gives the node in dir a new Ed25519 signing key. The old
// public key goes into keyring.yaml with not_after = now, so bindings it made
// until now still verify here and, once partners record the same, there; the
// old private key is deleted, since nothing may sign with it any more.
// A running node signs with the key it was opened with: restart it.
//
// The steps are ordered so that a crash leaves a node that opens: the new key
// is written beside the old one, the keyring is updated (LoadKeyring takes a
// current key listed in keyring.yaml on its listed terms), then the new key
// replaces the old by a rename.
func RotateSigningKey(dir string, now time.Time) (Rotation, error) {
	now = now.UTC()
	cfg, err := LoadConfig(path(dir, ConfigFile))
	if err != nil {
		return Rotation{}, err
	}
	old, err := readSigningKey(dir)
	if err != nil {
		return Rotation{}, err
	}
	oldPub := old.Public().(ed25519.PublicKey)
	oldID := binding.KeyIDOf(oldPub)
	key, err := binding.GenerateKey()
	if err != nil {
		return Rotation{}, err
	}
	pemKey, err := binding.MarshalPrivateKey(key)
	if err != nil {
		return Rotation{}, err
	}
	entries, err := readKeyringEntries(dir)
	if err != nil {
		return Rotation{}, err
	}
	listed := false
	for i, e := range entries {
		if pub, err := binding.ParsePublicKey(e.Public); err == nil && binding.KeyIDOf(pub) == oldID {
			// Left by a rotation that stopped half way.
			entries[i].NotAfter, listed = now, true
		}
	}
	if !listed {
		entries = append(entries, keyringEntry{Node: cfg.Name, Public: binding.MarshalPublicKey(oldPub), NotAfter: now})
	}
	next := path(dir, SigningKey) + ".next"
	if err := atomicWrite(next, pemKey, 0o600); err != nil {
		return Rotation{}, fmt.Errorf("key rotate: %w", err)
	}
	defer os.Remove(next)
	if err := writeKeyringEntries(dir, entries); err != nil {
		return Rotation{}, fmt.Errorf("key rotate: %w", err)
	}
	if err := os.Rename(next, path(dir, SigningKey)); err != nil {
		return Rotation{}, fmt.Errorf("key rotate: %w", err)
	}
	pub := key.Public().(ed25519.PublicKey)
	return Rotation{Old: oldID, New: binding.KeyIDOf(pub), NewPublic: binding.MarshalPublicKey(pub), At: now}, nil
}

// RevokeSigningKey records in keyring.yaml that the key keyID (a partner's,
// or one of this node's retired keys) is revoked from at on: bindings it made
// at or after that time are refused, bindings made before still verify. An
// earlier revocation already recorded stands. The node's current key cannot
// be revoked: rotate first, then revoke the old key.
func RevokeSigningKey(dir, keyID string, at time.Time) (binding.Key, error) {
	cur, err := readSigningKey(dir)
	if err != nil {
		return binding.Key{}, err
	}
	if binding.KeyIDOf(cur.Public().(ed25519.PublicKey)) == keyID {
		return binding.Key{}, fmt.Errorf("key revoke: %s is this node's current signing key; run `tearline key rotate` first, then revoke it", keyID)
	}
	entries, err := readKeyringEntries(dir)
	if err != nil {
		return binding.Key{}, err
	}
	for i, e := range entries {
		pub, err := binding.ParsePublicKey(e.Public)
		if err != nil || binding.KeyIDOf(pub) != keyID {
			continue
		}
		if e.RevokedAt.IsZero() || at.Before(e.RevokedAt) {
			entries[i].RevokedAt = at.UTC()
		}
		if err := writeKeyringEntries(dir, entries); err != nil {
			return binding.Key{}, fmt.Errorf("key revoke: %w", err)
		}
		e = entries[i]
		return binding.Key{KeyID: keyID, Node: e.Node, Public: pub, NotBefore: e.NotBefore, NotAfter: e.NotAfter, RevokedAt: e.RevokedAt}, nil
	}
	return binding.Key{}, fmt.Errorf("key revoke: %s is not in %s", keyID, KeyringFile)
}

// Identity is what a partner needs to know this node: `tearline identity`
// prints it, and the partner's `tearline peer add` takes it.
type Identity struct {
	Name       string `json:"name" yaml:"name"`
	Country    string `json:"country" yaml:"country"`
	Org        string `json:"org" yaml:"org"`
	SigningKey string `json:"signing_key" yaml:"signing_key"` // current, "ed25519:<base64>"
	KeyID      string `json:"key_id" yaml:"key_id"`
	CertSHA256 string `json:"cert_sha256" yaml:"cert_sha256"`
	CertPEM    string `json:"cert" yaml:"cert"` // the TLS certificate (leaf), PEM
	// URL is where the node serves partners (https://host:port), when its
	// operator said so (`identity --url`); `peer add --identity` records it.
	URL string `json:"url,omitempty" yaml:"url,omitempty"`
}

// ReadIdentity reads the identity of the node in dir.
func ReadIdentity(dir string) (Identity, error) {
	cfg, err := LoadConfig(path(dir, ConfigFile))
	if err != nil {
		return Identity{}, err
	}
	key, err := readSigningKey(dir)
	if err != nil {
		return Identity{}, err
	}
	c, err := readTLSLeaf(dir)
	if err != nil {
		return Identity{}, err
	}
	pub := key.Public().(ed25519.PublicKey)
	return Identity{Name: cfg.Name, Country: cfg.Country, Org: cfg.Org,
		SigningKey: binding.MarshalPublicKey(pub), KeyID: binding.KeyIDOf(pub),
		CertSHA256: pki.Fingerprint(c), CertPEM: string(pki.MarshalCert(c))}, nil
}
