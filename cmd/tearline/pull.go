package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/inbox"
	"github.com/tearline/tearline/node/stack"
	"github.com/tearline/tearline/store/backend"
)

// peerPullCmd pulls once from one partner's TAXII collection (node/pull.go):
// what the partner releases to this node, from the saved cursor on.
func peerPullCmd() *cobra.Command {
	var dir, name, storeURL string
	var limit int
	c := &cobra.Command{
		Use:   "pull --data DIR --peer NAME [--limit N]",
		Short: "Pull what a partner releases to this node from its TAXII collection, from the saved added_after cursor",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			n, err := stack.Open(cmd.Context(), dir, node.Options{OpenStore: backend.Opener(resolveStore(storeURL))})
			if err != nil {
				return err
			}
			defer n.Close()
			res, err := n.Inbox.PullPeer(cmd.Context(), name, inbox.PullOptions{Limit: limit})
			// Report what was stored even when a later page failed: the
			// cursor was saved up to the last committed page.
			b, merr := json.MarshalIndent(res, "", "  ")
			if merr == nil {
				fmt.Fprintln(cmd.OutOrStdout(), string(b))
			}
			return err
		},
	}
	c.Flags().StringVar(&dir, "data", "", "data directory (required)")
	c.Flags().StringVar(&name, "peer", "", "the partner to pull from (required)")
	c.Flags().IntVar(&limit, "limit", 100, "objects per page")
	addStoreFlag(c, &storeURL)
	_ = c.MarkFlagRequired("data")
	_ = c.MarkFlagRequired("peer")
	return c
}
