package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/tearline/tearline/admin"
	"github.com/tearline/tearline/datadir"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/oversight"
	"github.com/tearline/tearline/node/stack"
	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/store/backend"
)

// Encryption-at-rest operations: purge (crypto-shred), KEK rotation, backup
// and restore. See docs/STORAGE.md.

func purgeCmd() *cobra.Command {
	var dir, storeURL, reason string
	var rotate bool
	var instances []int64
	var versions []string
	c := &cobra.Command{
		Use:   "purge --data DIR --reason REASON ID",
		Short: "Crypto-shred an object, or some of its versions (audited; cannot be undone)",
		Long: `purge crypto-shreds every version of object ID, of every instance of it;
with --instance, of those instances only; with --version, only the versions
named (their modified, as stored). A version purged is never stored again;
an instance purged to its last version takes no new version.

On a serving node the purge is carried out by the running node, through its
admin socket in DIR (on PostgreSQL, by a replica on this host); when nothing
serves, by this command. With --rotate-kek it refuses while anything serves,
as key rotate-kek does, and changes nothing.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			storeURL = resolveStore(storeURL)
			req := admin.PurgeRequest{ID: args[0], Reason: reason, Actor: cliActor, Instances: instances, Versions: versions}
			if rotate {
				n, release, err := holdNode(cmd, dir, storeURL, "purge --rotate-kek")
				if err != nil {
					return err
				}
				defer release()
				return purgeHere(cmd, n, req, true)
			}
			var n *stack.Node
			if storeURL != "" {
				var err error
				if n, err = openNode(cmd, dir, storeURL); err != nil {
					return err
				}
				defer n.Close()
			}
			servers, err := servingProcesses(ctx, dir, n)
			if err != nil {
				return err
			}
			if len(servers) == 0 {
				if n == nil {
					if n, err = openNode(cmd, dir, storeURL); err != nil {
						return err
					}
					defer n.Close()
				}
				return purgeHere(cmd, n, req, false)
			}
			for _, s := range servers {
				if s.Command != "serve" {
					return refused("purge", &datadir.BusyError{Dir: dir, Holders: []store.Server{s}})
				}
			}
			res, via, ok, err := purgeThroughServer(ctx, servers, req)
			if !ok {
				return fmt.Errorf("purge: %w: no admin socket of it answers on this host (run purge on a host that serves): %v",
					&datadir.BusyError{Dir: dir, Holders: servers}, err)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "purged %s (%d versions) by the serving node (pid %d)\n", args[0], len(res.Versions), via.PID)
			return nil
		},
	}
	c.Flags().StringVar(&dir, "data", "", "data directory (required)")
	c.Flags().StringVar(&reason, "reason", node.PurgeAdmin, "why: admin, recall or retention")
	c.Flags().Int64SliceVar(&instances, "instance", nil, "purge only this instance of the id (repeatable; the versions listing's \"instance\"); default every instance")
	c.Flags().StringSliceVar(&versions, "version", nil, "purge only the version with this modified (repeatable); default every version")
	c.Flags().BoolVar(&rotate, "rotate-kek", false, "rotate the KEK afterwards, so that no backup taken before the purge opens with the node's keys (refused while the node serves)")
	addStoreFlag(c, &storeURL)
	_ = c.MarkFlagRequired("data")
	return c
}

// purgeHere purges with the node opened by this command (nothing serves).
func purgeHere(cmd *cobra.Command, n *stack.Node, req admin.PurgeRequest, rotate bool) error {
	versions, err := n.Purge(cmd.Context(), node.ConsoleAdmin(), purgeTarget(req))
	if err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "purged %s (%d versions)\n", req.ID, len(versions))
	if rotate {
		kid, count, err := n.RotateKEK(cmd.Context(), cliActor)
		if err != nil {
			return err
		}
		fmt.Fprintf(cmd.OutOrStdout(), "rotated the KEK to %s (%d data keys re-wrapped): backups taken before now no longer open\n", kid, count)
	}
	return nil
}

func keyCmd() *cobra.Command {
	c := &cobra.Command{Use: "key", Short: "Manage the key-encryption key that seals content at rest"}
	var dir, storeURL string
	rot := &cobra.Command{
		Use:   "rotate-kek --data DIR",
		Short: "Re-wrap every data key under a new KEK and destroy the old one (refused while the node serves)",
		Long: `rotate-kek re-wraps every data key under a new KEK and destroys the old one.

It refuses while anything serves the node (SQLite: the process holding
DIR/serve.lock; PostgreSQL: any replica registered in the store), naming
the processes, and changes nothing: a running node holds the old KEK in
memory and could open nothing sealed under the new one. While it runs, no
serve starts. Stop every replica, rotate, start them again.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			n, release, err := holdNode(cmd, dir, storeURL, "key rotate-kek")
			if err != nil {
				return err
			}
			defer release()
			id, count, err := n.RotateKEK(cmd.Context(), cliActor)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "KEK is now %s; %d data keys re-wrapped\n", id, count)
			if os.Getenv(node.EnvKEK) != "" {
				fmt.Fprintf(cmd.OutOrStdout(), "move $%s into $%s before the node next starts\n", node.EnvNewKEK, node.EnvKEK)
			}
			return nil
		},
	}
	rot.Flags().StringVar(&dir, "data", "", "data directory (required)")
	addStoreFlag(rot, &storeURL)
	_ = rot.MarkFlagRequired("data")
	c.AddCommand(rot)
	return c
}

func backupCmd() *cobra.Command {
	var dir, storeURL, out string
	c := &cobra.Command{
		Use:   "backup --data DIR --out FILE",
		Short: "Write an online, consistent backup of the node's database (SQLite; pg_dump for PostgreSQL)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			storeURL = resolveStore(storeURL)
			n, err := openNode(cmd, dir, storeURL)
			if err != nil {
				return err
			}
			defer n.Close()
			if err := n.Oversight.Backup(cmd.Context(), cliActor, out); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "backup written to %s (sealed content and wrapped keys; the KEK is not in it)\n", out)
			return nil
		},
	}
	c.Flags().StringVar(&dir, "data", "", "data directory (required)")
	c.Flags().StringVar(&out, "out", "", "backup file to write; must not exist (required)")
	addStoreFlag(c, &storeURL)
	_ = c.MarkFlagRequired("data")
	_ = c.MarkFlagRequired("out")
	return c
}

func restoreCmd() *cobra.Command {
	var dir, storeURL, from, journalStore, reason string
	var noJournal bool
	c := &cobra.Command{
		Use:   "restore --data DIR --from FILE",
		Short: "Replace the (stopped) node's database with a backup; objects purged since stay purged (refused while the node serves)",
		Long: `restore replaces the SQLite database of the node in DIR with the backup FILE,
then purges again every object in the node's shred journal (the tombstones of
the database it replaces), so no crypto-shredded object comes back.

It refuses while anything serves the node (SQLite: the process holding
DIR/serve.lock; PostgreSQL: any replica registered in the restored database
or in the one it replaces), naming the processes, and changes nothing: a
running node would go on with the database it has open. While it runs, no
serve starts.

For PostgreSQL, pg_restore the dump into the database first, then run
  tearline restore --data DIR --store RESTORED_URL --journal-store OLD_URL
to re-apply the journal of the database it replaces.

When the backup's audit log is shorter than the one it replaces, the restored
log's first new entry is a rollback statement signed with the log key; the
partners that witness the log are sent it and record an acknowledged rollback
rather than a split view (docs/AUDIT.md).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			storeURL = resolveStore(storeURL)
			if storeURL == "" {
				if from == "" {
					return errors.New("restore: --from FILE is required for a SQLite node")
				}
				reg, err := datadir.Register(ctx, dir, nil, datadir.NewServer("restore", version(), 0), true, nil)
				if err != nil {
					return refused("restore", err)
				}
				defer reg.Close()
				res, err := oversight.Restore(ctx, dir, from, backend.NewSQLiteRestore(dir, from), oversight.RestoreOptions{NoJournal: noJournal, Reason: reason})
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "restored %s: %d tombstones re-applied, %d objects of the backup purged again\n", from, res.Journal, res.Purged)
				if res.Replaced != "" {
					fmt.Fprintf(cmd.OutOrStdout(), "the replaced database is %s (its audit log continues past the backup's)\n", res.Replaced)
				}
				return nil
			}
			if journalStore == "" && !noJournal {
				return errors.New("restore: a PostgreSQL restore needs --journal-store URL (the database replaced), or --no-journal")
			}
			var journal []store.Tombstone
			var prev *oversight.LogState
			if journalStore != "" {
				old, err := backend.Open(ctx, dir, journalStore)
				if err != nil {
					return err
				}
				// Replicas still serving the database replaced would go on
				// with it: refuse while any is registered there.
				servers, err := datadir.Serving(ctx, dir, old)
				if err == nil && len(servers) > 0 {
					err = refused("restore", &datadir.BusyError{Dir: dir, Holders: servers})
				}
				if err == nil {
					journal, err = old.Tombstones(ctx)
				}
				if err == nil {
					var ls oversight.LogState
					ls, err = oversight.ReadLogState(ctx, old)
					prev = &ls
				}
				old.Close()
				if err != nil {
					return err
				}
			}
			n, release, err := holdNode(cmd, dir, storeURL, "restore")
			if err != nil {
				return err
			}
			defer release()
			res, err := n.Oversight.RestoreJournal(ctx, "pg_restore", journal, prev, reason)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%d tombstones re-applied, %d objects purged again\n", res.Journal, res.Purged)
			return nil
		},
	}
	c.Flags().StringVar(&dir, "data", "", "data directory (required)")
	c.Flags().StringVar(&from, "from", "", "backup file (SQLite)")
	c.Flags().StringVar(&journalStore, "journal-store", "", "PostgreSQL: URL of the database being replaced, to read its shred journal and audit log size")
	c.Flags().StringVar(&reason, "reason", "", "why, for the signed rollback statement witnesses receive (default: restore from FILE)")
	c.Flags().BoolVar(&noJournal, "no-journal", false, "restore without a shred journal (objects purged after the backup come back unless the KEK was rotated since)")
	addStoreFlag(c, &storeURL)
	_ = c.MarkFlagRequired("data")
	return c
}
