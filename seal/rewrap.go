package seal

import (
	"context"
	"errors"
	"fmt"

	"github.com/tearline/tearline/store"
)

// Rewrapped is what RewrapDataKeys did.
type Rewrapped struct {
	// Count is how many data keys it re-wrapped.
	Count int
	// Unopened are the data keys that did not open under their row's id
	// and version (ErrOpen): the row, or its wrapped key, was rewritten in
	// the database. They are left as they are, wrapped under the KEK being
	// retired; their versions already read as absent (their access MAC
	// no longer matches), and once that KEK is gone they never open.
	Unopened []store.DataKey
}

// RewrapDataKeys re-wraps every data key under ring's current KEK, in tx
// (a KEK rotation), a page at a time. A key that does not authenticate
// where its row now stands does not stop the rotation for the rest of the
// node: it is skipped and listed. A key under a KEK ring does not hold
// (ErrUnknownKEK), or any other error, fails the whole rotation: nothing
// says that key's row was tampered with.
func RewrapDataKeys(ctx context.Context, tx store.Tx, ring *Keyring) (Rewrapped, error) {
	var out Rewrapped
	var after store.DataKey
	for {
		keys, err := tx.DataKeys(ctx, after, 1000)
		if err != nil {
			return Rewrapped{}, err
		}
		if len(keys) == 0 {
			return out, nil
		}
		for _, k := range keys {
			w, err := ring.Rewrap(Where{ID: k.ID, Modified: k.ModifiedAt.UnixMicro()}, k.Wrapped)
			if errors.Is(err, ErrOpen) {
				out.Unopened = append(out.Unopened, k)
				continue
			}
			if err != nil {
				return Rewrapped{}, err
			}
			k.Wrapped = w
			if err := tx.UpdateDataKey(ctx, k); err != nil {
				return Rewrapped{}, fmt.Errorf("data key of %s (seq %d): %w", k.ID, k.Seq, err)
			}
			out.Count++
		}
		after = keys[len(keys)-1]
	}
}
