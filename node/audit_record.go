package node

import (
	"context"
	"fmt"

	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/store"
)

// Record appends one event for a change made outside the store (keys,
// peers, certificates live in files in the data directory), so the audit log
// still holds every key and trust change.
func (n *Node) Record(ctx context.Context, e audit.Event) error {
	if err := n.st.Update(ctx, func(tx store.Tx) error { return n.appendAudit(ctx, tx, e) }); err != nil {
		return fmt.Errorf("record %s: %w", e.Action, err)
	}
	return nil
}
