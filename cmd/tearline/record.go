package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

// recordChange writes a file-based change (keys, peers, certificates) to the
// node's audit log. The change is already made; a failure here is reported so
// the operator knows the log lacks it.
func recordChange(cmd *cobra.Command, dir, action, subject, detail string) error {
	n, err := openNode(cmd, dir, "")
	if err != nil {
		return fmt.Errorf("%s done, but not recorded in the audit log: %w", action, err)
	}
	defer n.Close()
	if err := n.RecordOperatorChange(cmd.Context(), action, subject, detail); err != nil {
		return fmt.Errorf("%s done, but not recorded in the audit log: %w", action, err)
	}
	return nil
}
