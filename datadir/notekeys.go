package datadir

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"golang.org/x/mod/sumdb/note"

	"github.com/tearline/tearline/audit"
)

// The note keys of the audit log and of the node as a witness (C2SP
// signed notes), kept beside the binding keys in DIR/keys.

// The audit log's own note key: checkpoints are signed with it, not with
// the binding key, so the two can be rotated and disclosed separately.
const (
	LogKey    = "keys/log.key" // note signer key (secret)
	LogPubKey = "keys/log.pub" // note verifier key, for oversight bodies
)

// EnsureLogKey creates the log key pair in dir if it is missing, named
// "<node name>/audit": the checkpoints' origin.
func EnsureLogKey(dir, name string) error {
	if _, err := os.Stat(Path(dir, LogKey)); err == nil {
		return nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("log key: %w", err)
	}
	skey, vkey, err := audit.GenerateLogKey(name + "/audit")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(Path(dir, "keys"), 0o700); err != nil {
		return fmt.Errorf("log key: %w", err)
	}
	if err := os.WriteFile(Path(dir, LogPubKey), []byte(vkey+"\n"), 0o644); err != nil {
		return fmt.Errorf("log key: %w", err)
	}
	// O_EXCL: two processes opening an old node at once keep one key.
	f, err := os.OpenFile(Path(dir, LogKey), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("log key: %w", err)
	}
	if _, err := f.WriteString(skey + "\n"); err != nil {
		f.Close()
		return fmt.Errorf("log key: %w", err)
	}
	return f.Close()
}

// LoadLogKey reads the log key pair in dir, creating it for nodes made
// before the log was signed: the signer and its verifier key.
func LoadLogKey(dir, name string) (note.Signer, string, error) {
	if err := EnsureLogKey(dir, name); err != nil {
		return nil, "", err
	}
	skey, err := os.ReadFile(Path(dir, LogKey))
	if err != nil {
		return nil, "", fmt.Errorf("log key: %w", err)
	}
	s, err := note.NewSigner(strings.TrimSpace(string(skey)))
	if err != nil {
		return nil, "", fmt.Errorf("log key %s: %w", LogKey, err)
	}
	vkey, err := ReadLogVerifierKey(dir)
	if err != nil {
		return nil, "", err
	}
	v, err := note.NewVerifier(vkey)
	if err != nil || v.Name() != s.Name() || v.KeyHash() != s.KeyHash() {
		return nil, "", fmt.Errorf("log key: %s does not match %s", LogPubKey, LogKey)
	}
	return s, vkey, nil
}

// ReadLogVerifierKey returns the verifier key of the log in dir.
func ReadLogVerifierKey(dir string) (string, error) {
	b, err := os.ReadFile(Path(dir, LogPubKey))
	if err != nil {
		return "", fmt.Errorf("log verifier key: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

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
	if _, err := os.Stat(Path(dir, WitnessKey)); err == nil {
		return nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("witness key: %w", err)
	}
	skey, vkey, err := audit.GenerateWitnessKey(name + "/witness")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(Path(dir, "keys"), 0o700); err != nil {
		return fmt.Errorf("witness key: %w", err)
	}
	// O_EXCL: two processes opening the node at once keep one key; the
	// public key is written after the secret one, by its writer only.
	f, err := os.OpenFile(Path(dir, WitnessKey), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
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
	if err := os.WriteFile(Path(dir, WitnessPubKey), []byte(vkey+"\n"), 0o644); err != nil {
		return fmt.Errorf("witness key: %w", err)
	}
	return nil
}

// ReadWitnessVerifierKey returns the cosignature verifier key of node name
// in dir, creating the key pair if the node has none yet.
func ReadWitnessVerifierKey(dir, name string) (string, error) {
	if err := EnsureWitnessKey(dir, name); err != nil {
		return "", err
	}
	b, err := os.ReadFile(Path(dir, WitnessPubKey))
	if err != nil {
		return "", fmt.Errorf("witness verifier key: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}
