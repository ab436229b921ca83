package node

import (
	"context"

	"github.com/tearline/tearline/datadir"
	"github.com/tearline/tearline/store"
)

// Register records this process in the serving registry of the node (see
// datadir.Register): in the store's table when the store keeps one
// (PostgreSQL), else with DIR's serving lock. With alone, it is refused
// while anything else works on the node.
func (n *Node) Register(ctx context.Context, command, version string, alone bool) (*datadir.Registration, error) {
	base := store.Base(n.st)
	who := datadir.NewServer(command, version, schemaVersion(base))
	return datadir.Register(ctx, n.dir, base, who, alone, n.log)
}

// Serving returns the processes registered as working on the node (serve
// replicas and commands holding it), stale ones left out.
func (n *Node) Serving(ctx context.Context) ([]store.Server, error) {
	return datadir.Serving(ctx, n.dir, store.Base(n.st))
}

// schemaVersion is the store schema a backend runs with, when it says.
func schemaVersion(st store.Store) int {
	if v, ok := st.(interface{ SchemaVersion() int }); ok {
		return v.SchemaVersion()
	}
	return 0
}
