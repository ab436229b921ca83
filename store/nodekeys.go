package store

import (
	"context"
	"time"
)

// Node secrets (docs/STORAGE.md, "Node keys"): keys the node makes for
// itself, such as the page-cursor key, kept in the store so that every
// replica of the node uses the same one and a restart keeps it. A key is
// stored only wrapped under the node's KEK (package seal), like a data key:
// the database and its backups never hold it in the clear.

// NodeKey is one node secret.
type NodeKey struct {
	Name    string // what the key is for, e.g. "cursor"
	Wrapped []byte // the key, wrapped under the KEK (seal.Keyring.WrapKey)
	Created time.Time
}

// NodeKeyReader reads node secrets. Reader embeds it.
type NodeKeyReader interface {
	// NodeKey returns the key named name; ErrNotFound when there is none.
	NodeKey(ctx context.Context, name string) (NodeKey, error)
	// NodeKeys returns every node key, by name.
	NodeKeys(ctx context.Context) ([]NodeKey, error)
}

// NodeKeyWriter writes node secrets. Tx embeds it.
type NodeKeyWriter interface {
	// AddNodeKey stores k unless a key of that name is stored already, and
	// returns the key stored under that name: k, or the one that was there.
	// Two replicas that make a key at once thus agree on one (the first
	// committed): each uses what this returns, never what it made.
	AddNodeKey(ctx context.Context, k NodeKey) (NodeKey, error)
	// RewrapNodeKey replaces the wrapped form of the key named name (a KEK
	// rotation); ErrNotFound when there is none.
	RewrapNodeKey(ctx context.Context, name string, wrapped []byte) error
}
