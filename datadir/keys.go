package datadir

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/tearline/tearline/binding"
)

// KeyringEntry is one public signing key in keyring.yaml: a partner's, or
// one of this node's retired keys, with the period in which its bindings are
// valid.
type KeyringEntry struct {
	Node      string    `yaml:"node"`
	Public    string    `yaml:"public"` // "ed25519:<base64>"
	NotBefore time.Time `yaml:"not_before,omitempty"`
	NotAfter  time.Time `yaml:"not_after,omitempty"`
	RevokedAt time.Time `yaml:"revoked_at,omitempty"`
}

// ReadKeyringEntries reads keyring.yaml as written, for commands that
// change it; a missing file is an empty keyring.
func ReadKeyringEntries(dir string) ([]KeyringEntry, error) {
	b, err := os.ReadFile(Path(dir, KeyringFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	var entries []KeyringEntry
	if err := yaml.NewDecoder(bytes.NewReader(b)).Decode(&entries); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("keyring %s: %w", KeyringFile, err)
	}
	return entries, nil
}

// WriteKeyringEntries replaces keyring.yaml after checking that the entries
// make a valid keyring, so that no command leaves a node that cannot open.
func WriteKeyringEntries(dir string, entries []KeyringEntry) error {
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
	return AtomicWrite(Path(dir, KeyringFile), append([]byte(header), b...), 0o644)
}

func loadKeyringKeys(dir string) ([]binding.Key, error) {
	entries, err := ReadKeyringEntries(dir)
	if err != nil {
		return nil, err
	}
	keys := make([]binding.Key, 0, len(entries))
	for i, e := range entries {
		pub, err := binding.ParsePublicKey(e.Public)
		if err != nil {
			return nil, fmt.Errorf("keyring %s: entry %d (%s): %w", KeyringFile, i, e.Node, err)
		}
		keys = append(keys, binding.Key{KeyID: binding.KeyIDOf(pub), Node: e.Node, Public: pub,
			NotBefore: e.NotBefore, NotAfter: e.NotAfter, RevokedAt: e.RevokedAt})
	}
	return keys, nil
}

// ReadSigningKey reads the node's current signing key.
func ReadSigningKey(dir string) (ed25519.PrivateKey, error) {
	b, err := os.ReadFile(Path(dir, SigningKey))
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	k, err := binding.ParsePrivateKey(b)
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	return k, nil
}

// WriteSigningKey writes a new node's first signing key.
func WriteSigningKey(dir string, key ed25519.PrivateKey) error {
	pemKey, err := binding.MarshalPrivateKey(key)
	if err != nil {
		return err
	}
	return WriteSecret(Path(dir, SigningKey), pemKey)
}

// keyring builds the keyring of a node named name whose current key is
// key, from keyring.yaml.
func keyring(dir, name string, key ed25519.PrivateKey) (*binding.Keyring, error) {
	keys, err := loadKeyringKeys(dir)
	if err != nil {
		return nil, err
	}
	pub := key.Public().(ed25519.PublicKey)
	// The current key is listed in keyring.yaml only by a rotation that
	// stopped half way (RotateSigningKey); its listed terms then apply.
	if !slices.ContainsFunc(keys, func(k binding.Key) bool { return k.KeyID == binding.KeyIDOf(pub) }) {
		keys = append(keys, binding.Key{KeyID: binding.KeyIDOf(pub), Node: name, Public: pub})
	}
	return binding.NewKeyring(keys...)
}

// LoadKeyring returns the keyring of the node in dir without opening its
// database: its own public key and keyring.yaml. Offline verification uses it.
func LoadKeyring(dir string) (*binding.Keyring, error) {
	cfg, err := LoadConfig(Path(dir, ConfigFile))
	if err != nil {
		return nil, err
	}
	key, err := ReadSigningKey(dir)
	if err != nil {
		return nil, err
	}
	return keyring(dir, cfg.Name, key)
}

// KeySet is the node's signing side and verifying side at one moment.
type KeySet struct {
	Signer  *binding.Signer
	Keyring *binding.Keyring
}

// Keys serves the current KeySet of a data directory: `key rotate`, `key
// revoke` and `peer add` change keys/signing.pem and keyring.yaml from
// another process, and a serving node signs and verifies with what they
// say from its next use on.
type Keys struct {
	w *Watched[KeySet]
}

// NewKeys returns the Keys of the node in dir, whose bindings name the node
// name and its STIX identity. The files are read at the first Current.
func NewKeys(dir, name, identity string) *Keys {
	load := func() (KeySet, error) {
		key, err := ReadSigningKey(dir)
		if err != nil {
			return KeySet{}, err
		}
		ring, err := keyring(dir, name, key)
		if err != nil {
			return KeySet{}, fmt.Errorf("keyring: %w", err)
		}
		return KeySet{Signer: binding.NewSigner(name, identity, key), Keyring: ring}, nil
	}
	return &Keys{w: NewWatched(load, Path(dir, SigningKey), Path(dir, KeyringFile))}
}

// Current returns the keys as the files now say.
func (k *Keys) Current() (KeySet, error) { return k.w.Get() }

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
// A serving node signs with the new key from its next binding on (Keys).
//
// The steps are ordered so that a crash leaves a node that opens: the new key
// is written beside the old one, the keyring is updated (a current key
// listed in keyring.yaml is taken on its listed terms), then the new key
// replaces the old by a rename. A serving node that reads between the two
// sees the old key with not_after = now and refuses to sign with it for a
// moment only if its clock passed now; the rename follows at once.
func RotateSigningKey(dir string, now time.Time) (Rotation, error) {
	now = now.UTC()
	cfg, err := LoadConfig(Path(dir, ConfigFile))
	if err != nil {
		return Rotation{}, err
	}
	old, err := ReadSigningKey(dir)
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
	entries, err := ReadKeyringEntries(dir)
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
		entries = append(entries, KeyringEntry{Node: cfg.Name, Public: binding.MarshalPublicKey(oldPub), NotAfter: now})
	}
	next := Path(dir, SigningKey) + ".next"
	if err := AtomicWrite(next, pemKey, 0o600); err != nil {
		return Rotation{}, fmt.Errorf("key rotate: %w", err)
	}
	defer os.Remove(next)
	if err := WriteKeyringEntries(dir, entries); err != nil {
		return Rotation{}, fmt.Errorf("key rotate: %w", err)
	}
	if err := os.Rename(next, Path(dir, SigningKey)); err != nil {
		return Rotation{}, fmt.Errorf("key rotate: %w", err)
	}
	syncDir(Path(dir, "keys"))
	pub := key.Public().(ed25519.PublicKey)
	return Rotation{Old: oldID, New: binding.KeyIDOf(pub), NewPublic: binding.MarshalPublicKey(pub), At: now}, nil
}

// RevokeSigningKey records in keyring.yaml that the key keyID (a partner's,
// or one of this node's retired keys) is revoked from at on: bindings it made
// at or after that time are refused, bindings made before still verify. An
// earlier revocation already recorded stands. The node's current key cannot
// be revoked: rotate first, then revoke the old key.
func RevokeSigningKey(dir, keyID string, at time.Time) (binding.Key, error) {
	cur, err := ReadSigningKey(dir)
	if err != nil {
		return binding.Key{}, err
	}
	if binding.KeyIDOf(cur.Public().(ed25519.PublicKey)) == keyID {
		return binding.Key{}, fmt.Errorf("key revoke: %s is this node's current signing key; run `tearline key rotate` first, then revoke it", keyID)
	}
	entries, err := ReadKeyringEntries(dir)
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
		if err := WriteKeyringEntries(dir, entries); err != nil {
			return binding.Key{}, fmt.Errorf("key revoke: %w", err)
		}
		e = entries[i]
		return binding.Key{KeyID: keyID, Node: e.Node, Public: pub, NotBefore: e.NotBefore, NotAfter: e.NotAfter, RevokedAt: e.RevokedAt}, nil
	}
	return binding.Key{}, fmt.Errorf("key revoke: %s is not in %s", keyID, KeyringFile)
}
