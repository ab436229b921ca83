package node

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/tearline/tearline/audit"
)

// The witness's own note key: its cosignatures (C2SP cosignature/v1) are
// signed with it, apart from the log key, so that a node's word as a
// witness and as a log are told apart.
const (
	WitnessKey    = "keys/witness.key" // note signer key (secret)
	WitnessPubKey = "keys/witness.pub" // cosignature/v1 verifier key, for partners and auditors
)

// EnsureWitnessKey creates the witness key pair in dir if it is missing,
// named "<node name>/witness".
func EnsureWitnessKey(dir, name string) error {
	if _, err := os.Stat(path(dir, WitnessKey)); err == nil {
		return nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("witness key: %w", err)
	}
	skey, vkey, err := audit.GenerateWitnessKey(name + "/witness")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(path(dir, "keys"), 0o700); err != nil {
		return fmt.Errorf("witness key: %w", err)
	}
	// O_EXCL: two processes opening the node at once keep one key; the
	// public key is written after the secret one, by its writer only.
	f, err := os.OpenFile(path(dir, WitnessKey), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("witness key: %w", err)
	}
	if _, err := f.WriteString(skey + "\n"); err != nil {
		f.Close()
		return fmt.Errorf("witness key: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("witness key: %w", err)
	}
	if err := os.WriteFile(path(dir, WitnessPubKey), []byte(vkey+"\n"), 0o644); err != nil {
		return fmt.Errorf("witness key: %w", err)
	}
	return nil
}

// ReadWitnessVerifierKey returns the cosignature verifier key of the node
// in dir, creating the key pair if the node has none yet.
func ReadWitnessVerifierKey(dir string) (string, error) {
	cfg, err := LoadConfig(path(dir, ConfigFile))
	if err != nil {
		return "", err
	}
	if err := EnsureWitnessKey(dir, cfg.Name); err != nil {
		return "", err
	}
	b, err := os.ReadFile(path(dir, WitnessPubKey))
	if err != nil {
		return "", fmt.Errorf("witness verifier key: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}
