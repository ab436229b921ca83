package main

import (
	"cmp"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tearline/tearline/node"
)

// auditSplitViewsCmd lists the split views of partners' logs this node
// recorded (docs/AUDIT.md, "Witnesses").
func auditSplitViewsCmd() *cobra.Command {
	var dir, storeURL, peer string
	var open bool
	c := &cobra.Command{
		Use:   "split-views --data DIR [--peer NAME] [--open]",
		Short: "List split views of partners' audit logs (deliveries to a partner pause while one is open)",
		Long: `A split view is a partner's audit log showing two different trees, both
signed with its log key: to this node as a witness, or to two partners that
compared notes. Each row names the log's node, the size, the partner that
reported it, and whether an admin acknowledged it (tearline peer ack-split).
The two signed checkpoints are in GET /api/v1/audit/split-views.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			n, err := openNode(cmd, dir, storeURL)
			if err != nil {
				return err
			}
			defer n.Close()
			svs, err := n.Oversight.SplitViews(cmd.Context(), node.ConsoleAdmin(), peer, open)
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "ID\tPEER\tORIGIN\tSIZE\tREPORTER\tDETECTED\tACKNOWLEDGED")
			for _, s := range svs {
				acked := "open (deliveries paused)"
				if !s.AckedAt.IsZero() {
					acked = s.AckedAt.UTC().Format(time.RFC3339) + " by " + cmp.Or(s.AckedBy, "-")
				}
				fmt.Fprintf(w, "%d\t%s\t%s\t%d\t%s\t%s\t%s\n", s.ID, s.Peer, s.Origin, s.Size, s.Reporter,
					s.Detected.UTC().Format(time.RFC3339), acked)
			}
			return w.Flush()
		},
	}
	c.Flags().StringVar(&dir, "data", "", "data directory (required)")
	c.Flags().StringVar(&peer, "peer", "", "only this partner's log")
	c.Flags().BoolVar(&open, "open", false, "only those not acknowledged")
	addStoreFlag(c, &storeURL)
	_ = c.MarkFlagRequired("data")
	return c
}
