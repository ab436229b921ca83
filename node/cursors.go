package node

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"time"

	// Aliased: the partner view still has a cursor type of its own (taxii_read.go).
	pagecursor "github.com/tearline/tearline/cursor"
	"github.com/tearline/tearline/seal"
	"github.com/tearline/tearline/store"
)

// cursorKeyName names the page-cursor key among the node keys.
const cursorKeyName = "cursor"

// cursorState holds the cursor codec once its key is loaded; zero value
// ready.
type cursorState struct {
	mu    sync.Mutex
	codec *pagecursor.Codec
}

// nodeKeyWhere is where a node key's wrapping binds it: its name, so a
// wrapped key copied to another name does not open. No object id has this
// form (STIX ids are TYPE--UUID).
func nodeKeyWhere(name string) seal.Where { return seal.Where{ID: "tearline node key " + name} }

// nodeKey returns the node secret named name, making it on first use. Two
// replicas that make it at once agree on the one stored first
// (store.NodeKeyWriter.AddNodeKey); a restart reads it back. The key is
// stored only wrapped under the KEK.
func (n *Node) nodeKey(ctx context.Context, name string) ([]byte, error) {
	ring := n.sealed.Keys()
	k, err := n.st.NodeKey(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		fresh := make([]byte, seal.KeySize)
		if _, err := rand.Read(fresh); err != nil {
			return nil, fmt.Errorf("node key %s: %w", name, err)
		}
		wrapped, err := ring.WrapKey(nodeKeyWhere(name), fresh)
		clear(fresh)
		if err != nil {
			return nil, fmt.Errorf("node key %s: %w", name, err)
		}
		err = n.st.Update(ctx, func(tx store.Tx) error {
			var err error
			k, err = tx.AddNodeKey(ctx, store.NodeKey{Name: name, Wrapped: wrapped, Created: n.now()})
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

// rewrapNodeKeys re-wraps every node key under ring's current KEK, in tx (a
// KEK rotation), and returns how many.
func rewrapNodeKeys(ctx context.Context, tx store.Tx, ring *seal.Keyring) (int, error) {
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

// Cursors returns the cursor codec, loading (or making) its key on first
// use. A failure is not kept: the next call tries again.
func (n *Node) Cursors(ctx context.Context) (*pagecursor.Codec, error) {
	n.cur.mu.Lock()
	defer n.cur.mu.Unlock()
	if n.cur.codec != nil {
		return n.cur.codec, nil
	}
	key, err := n.nodeKey(ctx, cursorKeyName)
	if err != nil {
		return nil, fmt.Errorf("cursor key: %w", err)
	}
	defer clear(key)
	// The clock is read through n.now at each call, so a test's clock
	// applies to cursors too.
	c, err := pagecursor.New(key, func() time.Time { return n.now() })
	if err != nil {
		return nil, err
	}
	n.cur.codec = c
	return c, nil
}

// SealCursor returns the cursor for pos in a listing p asked for with
// scope (route and parameters; the user is added here).
func (n *Node) SealCursor(ctx context.Context, p *Principal, route string, params []string, pos pagecursor.Position) (string, error) {
	c, err := n.Cursors(ctx)
	if err != nil {
		return "", err
	}
	return c.Seal(pagecursor.Scope{User: cursorUser(p), Route: route, Params: params}, pos)
}

// OpenCursor returns the position of a cursor p sent with the same
// listing; an error wraps ErrBadCursor unless the key itself could not be
// had.
func (n *Node) OpenCursor(ctx context.Context, p *Principal, route string, params []string, s string) (pagecursor.Position, error) {
	c, err := n.Cursors(ctx)
	if err != nil {
		return pagecursor.Position{}, err
	}
	pos, err := c.Open(pagecursor.Scope{User: cursorUser(p), Route: route, Params: params}, s)
	if err != nil {
		return pagecursor.Position{}, fmt.Errorf("%w: %w", ErrBadCursor, err)
	}
	return pos, nil
}

// cursorUser is who a cursor is bound to: the user's id (a user deleted and
// made again under the same name is another user), else the actor (the
// console).
func cursorUser(p *Principal) string {
	if p.User.ID != "" {
		return "id:" + p.User.ID
	}
	return "actor:" + p.Actor()
}
