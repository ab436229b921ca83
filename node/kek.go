package node

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/tearline/tearline/seal"
	"github.com/tearline/tearline/store"
)

// Key-encryption key (KEK) sources. The KEK never enters the database, so
// neither a copy of the database nor a backup holds a key that opens it.
const (
	// KEKFile holds the KEK, base64, made by Init unless EnvKEK is set.
	KEKFile = "keys/kek"
	// KEKNextFile is the KEK a rotation is moving to; it exists only while
	// a rotation is unfinished (see RotateKEK).
	KEKNextFile = "keys/kek.next"
	// EnvKEK, when set, is the KEK (base64 of 32 bytes) and KEKFile is
	// neither read nor written: for deployments whose secrets come from a
	// secret manager.
	EnvKEK = "TEARLINE_KEK"
	// EnvNewKEK is the KEK a rotation moves to when EnvKEK is in use.
	EnvNewKEK = "TEARLINE_NEW_KEK"
)

// parseKEK decodes a base64 KEK.
func parseKEK(text []byte) (*seal.KEK, error) {
	key, err := base64.StdEncoding.DecodeString(string(bytes.TrimSpace(text)))
	if err != nil {
		return nil, fmt.Errorf("key-encryption key: not base64: %w", err)
	}
	defer clear(key)
	return seal.NewKEK(key)
}

// writeKEKFile makes a new random KEK in file (which must not exist), 0600
// and synced, and returns it.
func writeKEKFile(file string) (*seal.KEK, error) {
	key, err := seal.GenerateKey()
	if err != nil {
		return nil, err
	}
	defer clear(key)
	if err := writeSecret(file, []byte(base64.StdEncoding.EncodeToString(key)+"\n")); err != nil {
		return nil, fmt.Errorf("write %s: %w", file, err)
	}
	return seal.NewKEK(key)
}

func writeSecret(file string, b []byte) error {
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// ensureKEK makes the node's KEK file at init, unless the KEK comes from
// the environment.
func ensureKEK(dir string) error {
	if os.Getenv(EnvKEK) != "" {
		_, err := parseKEK([]byte(os.Getenv(EnvKEK)))
		return err
	}
	_, err := writeKEKFile(path(dir, KEKFile))
	return err
}

// loadKeys returns the node's KEK keyring: the KEK from EnvKEK or KEKFile,
// and the KEK of an unfinished rotation, if any, so that every data key
// opens whichever side of the rotation it is on. A node made before
// sealing existed gets a KEK file now, but only when its store holds no
// data keys: a missing KEK is never silently replaced.
func loadKeys(ctx context.Context, dir string, st store.Reader) (*seal.Keyring, error) {
	var cur, next *seal.KEK
	var err error
	if env := os.Getenv(EnvKEK); env != "" {
		if cur, err = parseKEK([]byte(env)); err != nil {
			return nil, fmt.Errorf("$%s: %w", EnvKEK, err)
		}
		if env := os.Getenv(EnvNewKEK); env != "" {
			if next, err = parseKEK([]byte(env)); err != nil {
				return nil, fmt.Errorf("$%s: %w", EnvNewKEK, err)
			}
		}
	} else {
		b, err := os.ReadFile(path(dir, KEKFile))
		switch {
		case errors.Is(err, os.ErrNotExist):
			keys, kerr := st.DataKeys(ctx, store.DataKey{}, 1)
			if kerr != nil {
				return nil, kerr
			}
			if len(keys) > 0 {
				return nil, fmt.Errorf("no key-encryption key (%s, or $%s), and the store holds sealed objects", KEKFile, EnvKEK)
			}
			if err := os.MkdirAll(filepath.Dir(path(dir, KEKFile)), 0o700); err != nil {
				return nil, err
			}
			if cur, err = writeKEKFile(path(dir, KEKFile)); err != nil {
				return nil, err
			}
		case err != nil:
			return nil, err
		default:
			if cur, err = parseKEK(b); err != nil {
				return nil, fmt.Errorf("%s: %w", KEKFile, err)
			}
		}
		if b, err := os.ReadFile(path(dir, KEKNextFile)); err == nil {
			if next, err = parseKEK(b); err != nil {
				return nil, fmt.Errorf("%s: %w", KEKNextFile, err)
			}
		} else if !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
	}
	if next != nil {
		return seal.NewKeyring(cur, next), nil
	}
	return seal.NewKeyring(cur), nil
}
