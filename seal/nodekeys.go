package seal

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/tearline/tearline/store"
)

// Node keys (docs/STORAGE.md, "Node keys"): the node's own secrets (the
// access MAC, cursor and search index keys) kept in the store, wrapped
// under the KEK like data keys, so every replica has them and a KEK
// rotation re-wraps them.

// nodeKeyWhere is where a node key's wrapping binds it: its name, so a
// wrapped key copied to another name does not open. No object id has this
// form (STIX ids are TYPE--UUID).
func nodeKeyWhere(name string) Where { return Where{ID: "tearline node key " + name} }

// NodeKey returns the node secret named name from st, making it on first
// use (wrapped under ring's current KEK, dated now). Two replicas that make
// it at once agree on the one stored first (store.NodeKeyWriter.AddNodeKey);
// a restart reads it back. The key is stored only wrapped under the KEK.
func NodeKey(ctx context.Context, st store.Store, ring *Keyring, now time.Time, name string) ([]byte, error) {
	k, err := st.NodeKey(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		fresh := make([]byte, KeySize)
		if _, err := rand.Read(fresh); err != nil {
			return nil, fmt.Errorf("node key %s: %w", name, err)
		}
		wrapped, err := ring.WrapKey(nodeKeyWhere(name), fresh)
		clear(fresh)
		if err != nil {
			return nil, fmt.Errorf("node key %s: %w", name, err)
		}
		err = st.Update(ctx, func(tx store.Tx) error {
			var err error
			k, err = tx.AddNodeKey(ctx, store.NodeKey{Name: name, Wrapped: wrapped, Created: now})
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("node key %s: %w", name, err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("node key %s: %w", name, err)
	}
	key, err := ring.UnwrapKey(nodeKeyWhere(name), k.Wrapped)
	if err != nil {
		return nil, fmt.Errorf("node key %s: %w", name, err)
	}
	return key, nil
}

// RewrapNodeKeys re-wraps every node key under ring's current KEK, in tx (a
// KEK rotation), and returns how many.
func RewrapNodeKeys(ctx context.Context, tx store.Tx, ring *Keyring) (int, error) {
	keys, err := tx.NodeKeys(ctx)
	if err != nil {
		return 0, err
	}
	for _, k := range keys {
		w, err := ring.Rewrap(nodeKeyWhere(k.Name), k.Wrapped)
		if err != nil {
			return 0, fmt.Errorf("node key %s: %w", k.Name, err)
		}
		if err := tx.RewrapNodeKey(ctx, k.Name, w); err != nil {
			return 0, err
		}
	}
	return len(keys), nil
}
