package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/tearline/tearline/admin"
	"github.com/tearline/tearline/datadir"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/store"
)

// How each command behaves on a node that is serving: carried out by the
// running node through its admin socket, picked up by every replica at its
// next use, or refused naming the serving processes (docs/STORAGE.md,
// "Commands on a serving node").

// holdNode opens the node in dir for a command that needs it alone
// (`key rotate-kek`, `restore`): registered in the serving registry, so no
// serve starts while it runs, and refused, changing nothing, while anything
// serves. release closes the node and gives the registration up.
func holdNode(cmd *cobra.Command, dir, storeURL, command string) (n *node.Node, release func(), err error) {
	ctx := cmd.Context()
	storeURL = resolveStore(storeURL)
	var reg *datadir.Registration
	if storeURL == "" {
		// SQLite: DIR's lock, taken before the database is opened.
		reg, err = datadir.Register(ctx, dir, nil, datadir.NewServer(command, version(), 0), true, nil)
		if err != nil {
			return nil, nil, refused(command, err)
		}
	}
	n, err = openNode(cmd, dir, storeURL)
	if err != nil {
		if reg != nil {
			reg.Close()
		}
		return nil, nil, err
	}
	if reg == nil {
		if reg, err = n.Register(ctx, command, version(), true); err != nil {
			n.Close()
			return nil, nil, refused(command, err)
		}
	}
	return n, func() { reg.Close(); n.Close() }, nil
}

// refused says that command changed nothing because the node is in use.
func refused(command string, err error) error {
	if datadir.IsBusy(err) {
		return fmt.Errorf("%s refused, nothing changed: %w; stop it first (docs/STORAGE.md, \"Commands on a serving node\")", command, err)
	}
	return fmt.Errorf("%s: %w", command, err)
}

// servingProcesses returns what serves the node in dir: read from DIR's
// lock for SQLite, from the store's registry for PostgreSQL (n open).
func servingProcesses(ctx context.Context, dir string, n *node.Node) ([]store.Server, error) {
	if n != nil {
		return n.Serving(ctx)
	}
	return datadir.Serving(ctx, dir, nil)
}

// purgeThroughServer asks a process serving the node to purge: one on this
// host with an admin socket (replicas share DIR, but a Unix socket is
// reachable only on its own host). ok is false when none could be reached.
func purgeThroughServer(ctx context.Context, servers []store.Server, req admin.PurgeRequest) (res admin.PurgeResult, via store.Server, ok bool, err error) {
	host, _ := os.Hostname()
	var lastErr error
	for _, s := range servers {
		if s.Command != "serve" || s.Admin == "" || s.Host != host {
			continue
		}
		res, err := admin.NewClient(s.Admin).Purge(ctx, req)
		if err == nil || errors.Is(err, admin.ErrNotFound) {
			return res, s, true, err
		}
		lastErr = err
	}
	return admin.PurgeResult{}, store.Server{}, false, lastErr
}
