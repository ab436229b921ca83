package datadir

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"os"

	"github.com/tearline/tearline/seal"
)

// Key-encryption key (KEK) sources. The KEK never enters the database, so
// neither a copy of the database nor a backup holds a key that opens it.
const (
	// EnvKEK, when set, is the KEK (base64 of 32 bytes) and KEKFile is
	// neither read nor written: for deployments whose secrets come from a
	// secret manager.
	EnvKEK = "TEARLINE_KEK"
	// EnvNewKEK is the KEK a rotation moves to when EnvKEK is in use.
	EnvNewKEK = "TEARLINE_NEW_KEK"
)

// ParseKEK decodes a base64 KEK.
func ParseKEK(text []byte) (*seal.KEK, error) {
	key, err := base64.StdEncoding.DecodeString(string(bytes.TrimSpace(text)))
	if err != nil {
		return nil, fmt.Errorf("key-encryption key: not base64: %w", err)
	}
	defer clear(key)
	return seal.NewKEK(key)
}

// WriteKEKFile makes a new random KEK in file (which must not exist), 0600
// and synced, and returns it.
func WriteKEKFile(file string) (*seal.KEK, error) {
	key, err := seal.GenerateKey()
	if err != nil {
		return nil, err
	}
	defer clear(key)
	if err := WriteSecret(file, []byte(base64.StdEncoding.EncodeToString(key)+"\n")); err != nil {
		return nil, fmt.Errorf("write %s: %w", file, err)
	}
	return seal.NewKEK(key)
}

// EnsureKEK makes the node's KEK file at init, unless the KEK comes from
// the environment.
func EnsureKEK(dir string) error {
	if os.Getenv(EnvKEK) != "" {
		_, err := ParseKEK([]byte(os.Getenv(EnvKEK)))
		return err
	}
	_, err := WriteKEKFile(Path(dir, KEKFile))
	return err
}

// ReadKEKFile reads one KEK file; a missing file is (nil, nil).
func ReadKEKFile(dir, name string) (*seal.KEK, error) {
	b, err := os.ReadFile(Path(dir, name))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	k, err := ParseKEK(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return k, nil
}
