package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tearline/tearline/node/recalls"
	"github.com/tearline/tearline/store"
)

// recallCmd is `tearline recall`: recall an object this node originated
// from every partner it went to, and `recall status` to see who has
// acknowledged (docs/FEDERATION.md, "Recall").
func recallCmd() *cobra.Command {
	var f nodeFlags
	var reason string
	c := &cobra.Command{
		Use:   "recall OBJECT --data DIR --reason R [--as USER]",
		Short: "Recall an object from every partner it was released to (signed notice; partners purge and acknowledge)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if strings.TrimSpace(reason) == "" {
				return errors.New("--reason is required: partners are told why")
			}
			n, p, err := f.open(cmd)
			if err != nil {
				return err
			}
			defer n.Close()
			rs, err := n.Recalls.Recall(cmd.Context(), p, args[0], reason)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if len(rs) > 0 {
				fmt.Fprintf(w, "recall %s of %s: notices queued for %d partner(s)\n", rs[0].Recall, args[0], len(rs))
			}
			printRecalls(w, rs)
			return nil
		},
	}
	f.add(c, true)
	c.Flags().StringVar(&reason, "reason", "", "why the object is recalled (sent to partners in the signed notice; required)")
	c.AddCommand(recallStatusCmd())
	return c
}

func recallStatusCmd() *cobra.Command {
	var f nodeFlags
	c := &cobra.Command{
		Use:   "status OBJECT|RECALL --data DIR [--as USER]",
		Short: "Show, per partner, whether a recall was acknowledged",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, p, err := f.open(cmd)
			if err != nil {
				return err
			}
			defer n.Close()
			q := store.RecallQuery{ObjectID: args[0]}
			if strings.HasPrefix(args[0], "recall--") {
				q = store.RecallQuery{ID: args[0]}
			}
			rs, err := n.Recalls.RecallStatus(cmd.Context(), p, q)
			if err != nil {
				return err
			}
			if len(rs) == 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "no recall of %s\n", args[0])
				return nil
			}
			printRecalls(cmd.OutOrStdout(), rs)
			return nil
		},
	}
	f.add(c, true)
	return c
}

func printRecalls(out io.Writer, rs []recalls.RecallStatus) {
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "RECALL\tOBJECT\tPARTY\tDIRECTION\tSTATE\tACKNOWLEDGED\tPURGED")
	for _, r := range rs {
		dir, acked := "sent", "-"
		if r.Inbound {
			dir = "received"
		}
		if r.AckedAt != nil {
			acked = r.AckedAt.UTC().Format(time.RFC3339)
		}
		purged := strings.Join(r.Purged, ",")
		if purged == "" {
			purged = "-"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Recall, r.Object, r.Party, dir, r.State, acked, purged)
	}
	w.Flush()
}
