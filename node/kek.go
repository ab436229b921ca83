package node

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/tearline/tearline/datadir"
	"github.com/tearline/tearline/seal"
	"github.com/tearline/tearline/store"
)

// Key-encryption key (KEK) files and variables: package datadir owns them.
const (
	KEKFile     = datadir.KEKFile
	KEKNextFile = datadir.KEKNextFile
	EnvKEK      = datadir.EnvKEK
	EnvNewKEK   = datadir.EnvNewKEK
)

// loadKeys returns the node's KEK keyring: the KEK from EnvKEK or KEKFile,
// and the KEK of an unfinished rotation, if any, so that every data key
// opens whichever side of the rotation it is on. A node made before
// sealing existed gets a KEK file now, but only when its store holds no
// data keys: a missing KEK is never silently replaced.
func loadKeys(ctx context.Context, dir string, st store.Reader) (*seal.Keyring, error) {
	var cur, next *seal.KEK
	var err error
	if env := os.Getenv(EnvKEK); env != "" {
		if cur, err = datadir.ParseKEK([]byte(env)); err != nil {
			return nil, fmt.Errorf("$%s: %w", EnvKEK, err)
		}
		if env := os.Getenv(EnvNewKEK); env != "" {
			if next, err = datadir.ParseKEK([]byte(env)); err != nil {
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
			if cur, err = datadir.WriteKEKFile(path(dir, KEKFile)); err != nil {
				return nil, err
			}
		case err != nil:
			return nil, err
		default:
			if cur, err = datadir.ParseKEK(b); err != nil {
				return nil, fmt.Errorf("%s: %w", KEKFile, err)
			}
		}
		if b, err := os.ReadFile(path(dir, KEKNextFile)); err == nil {
			if next, err = datadir.ParseKEK(b); err != nil {
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

// checkKEK refuses to open a node whose KEK is not the one its store's data
// keys are wrapped under: a replica given another DIR's keys/kek, or another
// $TEARLINE_KEK, than the others would answer 500 for every object and seal
// new ones under a key no other replica holds. One data key that unwraps
// tells.
// kekProbes is how many data keys checkKEK tries: the KEK is the store's
// when one of them unwraps under it.
const kekProbes = 16

func checkKEK(ctx context.Context, st store.Reader, kek *seal.Keyring) error {
	// Up to kekProbes keys: a key bound to a row whose id or version was
	// rewritten does not unwrap under the right KEK either, and that row
	// must read as absent (the access MAC checks), not keep the node shut.
	keys, err := st.DataKeys(ctx, store.DataKey{}, kekProbes)
	if err != nil || len(keys) == 0 {
		return err
	}
	var first error
	for _, k := range keys {
		_, err := kek.Rewrap(seal.Where{ID: k.ID, Modified: k.ModifiedAt.UnixMicro()}, k.Wrapped)
		if err == nil {
			return nil
		}
		if first == nil {
			first = err
		}
	}
	return fmt.Errorf("the key-encryption key (%s, or $%s) is not the one the store's data keys are wrapped under; every process serving this node needs the same KEK: %w",
		KEKFile, EnvKEK, first)
}
