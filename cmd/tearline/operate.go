package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tearline/tearline/admin"
	"github.com/tearline/tearline/datadir"
	"github.com/tearline/tearline/node/stack"
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
func holdNode(cmd *cobra.Command, dir, storeURL, command string) (n *stack.Node, release func(), err error) {
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
func servingProcesses(ctx context.Context, dir string, n *stack.Node) ([]store.Server, error) {
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

// What a command does on a serving node, one of (docs/STORAGE.md,
// "Commands on a serving node", is the same table):
const (
	onRefused = "refused while anything serves the node: the message names each serving process (pid, host, " +
		"listen address), the exit status is 1 and nothing is changed. While it runs, no serve starts."
	onSocket = "carried out by the serving node, which this command reaches through its admin socket " +
		"(DIR/run/admin-HOST-PID.sock, mode 0600; on PostgreSQL a replica on this host); by this command when nothing serves."
	onFiles = "changes files in DIR; every process serving DIR (PostgreSQL replicas share it) uses them from its next " +
		"request, handshake, binding or delivery on."
	onStore  = "changes rows in the store; every serving process reads them at its next request."
	onOutbox = "writes to the store; serving processes take it up at once for what it decides, and deliver what it " +
		"queues at their outbox's next poll (serve --outbox-poll)."
	onRead   = "reads only; safe at any time."
	onOnline = "runs beside the serving node, in store transactions of its own."
	onClient = "a client of the serving node's HTTPS API."
	onNone   = "does not touch a node's data directory or store."
	onInit   = "refused when DIR already holds a node; never touches a serving one."
	onServe  = "SQLite: refused while another process serves DIR (DIR/serve.lock names it); PostgreSQL: replicas " +
		"register in the store and serve side by side, refused while a command holds the node alone."
)

// servingBehaviour is, per command path, what the command does on a serving
// node. Every runnable command has an entry (TestEveryCommandSaysHowItServes).
func servingBehaviour() map[string]string {
	m := map[string]string{
		"tearline init": onInit, "tearline serve": onServe, "tearline version": onNone, "tearline demo": onNone,
		"tearline publish": onClient, "tearline get": onClient, "tearline list": onClient, "tearline export": onClient,
		"tearline verify":  onRead,
		"tearline purge":   onSocket + " With --rotate-kek: " + onRefused,
		"tearline backup":  "online: " + onOnline,
		"tearline restore": onRefused, "tearline key rotate-kek": onRefused,
		"tearline key rotate": onFiles + " The running node signs with the new key from its next binding on.",
		"tearline key revoke": onFiles + " The next delivery or publish signed by the key at or after the time is refused.",
		"tearline key list":   onRead,
		"tearline identity":   onRead, "tearline cert request": onRead,
		"tearline cert install": onFiles + " The listener presents the new certificate from its next handshake on.",
		"tearline cert revoke":  onFiles + " The certificate is refused at the next handshake and on the next request of a connection admitted before.",
		"tearline peer add":     onFiles + " The peer's certificate is admitted, its signing key verifies and releases to it are delivered from then on.",
		"tearline peer remove":  onFiles, "tearline peer list": onRead,
		"tearline peer pull":      onOnline,
		"tearline peer ack-split": onStore,
		"tearline recall":         onOutbox, "tearline recall status": onRead,
		"tearline audit verify": onRead, "tearline audit export": onRead, "tearline audit key": onRead,
		"tearline audit checkpoint": onOnline, "tearline audit ledger": onRead, "tearline audit split-views": onRead,
		"tearline ca init": onNone, "tearline ca issue": onNone, "tearline ca sign": onNone,
	}
	for _, c := range []string{"add", "update", "revoke", "token", "passwd"} {
		m["tearline user "+c] = onStore
	}
	m["tearline user list"] = onRead
	for _, c := range []string{"import", "amend", "sign", "add-signature", "propose", "activate", "suspend", "resume", "expire", "terminate"} {
		m["tearline agreement "+c] = onStore + " The next release decision uses the agreement as it is then."
	}
	m["tearline agreement list"], m["tearline agreement show"] = onRead, onRead
	for _, c := range []string{"request", "approve", "refuse", "consent", "retry"} {
		m["tearline release "+c] = onOutbox
	}
	m["tearline release explain"], m["tearline release queue"] = onRead, onRead
	return m
}

// documentServing adds to the help of every command what it does on a
// serving node.
func documentServing(root *cobra.Command) {
	table := servingBehaviour()
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if text, ok := table[c.CommandPath()]; ok {
			long := c.Long
			if long == "" {
				long = c.Short + "."
			}
			c.Long = strings.TrimSpace(long) + "\n\nOn a serving node: " + text
		}
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	walk(root)
}
