package node

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"
	"slices"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/tearline/tearline/binding"
)

// keyringEntry is one public signing key in keyring.yaml: a partner's, or
// one of this node's retired keys, with the period in which its bindings are
// valid.
type keyringEntry struct {
	Node      string    `yaml:"node"`
	Public    string    `yaml:"public"` // "ed25519:<base64>"
	NotBefore time.Time `yaml:"not_before,omitempty"`
	NotAfter  time.Time `yaml:"not_after,omitempty"`
	RevokedAt time.Time `yaml:"revoked_at,omitempty"`
}

func loadKeyring(dir string) ([]binding.Key, error) {
	b, err := os.ReadFile(path(dir, KeyringFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	var entries []keyringEntry
	if err := yaml.Unmarshal(b, &entries); err != nil {
		return nil, fmt.Errorf("keyring %s: %w", KeyringFile, err)
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

// LoadKeyring returns the keyring of the node in dir without opening its
// database: its own public key and keyring.yaml. Offline verification uses it.
func LoadKeyring(dir string) (*binding.Keyring, error) {
	cfg, err := LoadConfig(path(dir, ConfigFile))
	if err != nil {
		return nil, err
	}
	pemKey, err := os.ReadFile(path(dir, SigningKey))
	if err != nil {
		return nil, err
	}
	key, err := binding.ParsePrivateKey(pemKey)
	if err != nil {
		return nil, err
	}
	keys, err := loadKeyring(dir)
	if err != nil {
		return nil, err
	}
	pub := key.Public().(ed25519.PublicKey)
	// The current key is listed in keyring.yaml only by a rotation that
	// stopped half way (RotateSigningKey); its listed terms then apply.
	if !slices.ContainsFunc(keys, func(k binding.Key) bool { return k.KeyID == binding.KeyIDOf(pub) }) {
		keys = append(keys, binding.Key{KeyID: binding.KeyIDOf(pub), Node: cfg.Name, Public: pub})
	}
	return binding.NewKeyring(keys...)
}
