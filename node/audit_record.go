package node

import (
	"context"
	"fmt"

	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/store"
)

// ConsoleActor names the operator at the node's console (the CLI on the
// data directory) in the audit log, for changes made to the node's files.
const ConsoleActor = "console"

// RecordOperatorChange appends one audit entry for a change an operator
// made outside the store (keys, peers and certificates live in files in the
// data directory), so the audit log still holds every key and trust change.
// action is one of package audit's actions; subject and detail say what
// changed. Audit events are built here, in node, and nowhere above it.
func (n *Node) RecordOperatorChange(ctx context.Context, action, subject, detail string) error {
	e := audit.Event{Actor: ConsoleActor, Action: action, Subject: subject, Detail: detail}
	if err := n.st.Update(ctx, func(tx store.Tx) error { return n.AppendAudit(ctx, tx, e) }); err != nil {
		return fmt.Errorf("record %s: %w", action, err)
	}
	return nil
}
