package node

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strings"
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
		raw, ok := strings.CutPrefix(e.Public, "ed25519:")
		pub, err := base64.StdEncoding.DecodeString(raw)
		if !ok || err != nil || len(pub) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("keyring %s: entry %d (%s): public: want ed25519:<base64 of 32 bytes>", KeyringFile, i, e.Node)
		}
		keys = append(keys, binding.Key{KeyID: binding.KeyIDOf(pub), Node: e.Node, Public: pub,
			NotBefore: e.NotBefore, NotAfter: e.NotAfter, RevokedAt: e.RevokedAt})
	}
	return keys, nil
}
