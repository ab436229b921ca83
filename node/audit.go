package node

import (
	"context"
	"time"

	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/label"
	"github.com/tearline/tearline/store"
)

// AppendAudit stamps and appends events in tx: the one place the node writes
// its audit log.
func (n *Node) AppendAudit(ctx context.Context, tx store.Tx, events ...audit.Event) error {
	if len(events) == 0 {
		return nil
	}
	entries := make([][]byte, len(events))
	for i, e := range events {
		b, err := stamp(e, n.now(), n.cfg.Name)
		if err != nil {
			return err
		}
		entries[i] = b
	}
	_, err := tx.AppendAudit(ctx, entries...)
	return err
}

// RecordReads stamps the events of a read and appends them in a write
// transaction shared with concurrent reads (group commit,
// store.Store.CommitAudit); it returns once they are durable, so a read
// that returns no error may be answered, and one whose shared commit
// failed fails.
func (n *Node) RecordReads(ctx context.Context, events ...audit.Event) error {
	return RecordPull(ctx, n, nil, events...)
}

// RecordPull is RecordReads for a read that disseminated (a partner's pull
// over TAXII): its ledger entries are committed in the same shared
// transaction (store.Store.CommitRead).
func RecordPull(ctx context.Context, n *Node, ledger []store.LedgerEntry, events ...audit.Event) error {
	if len(events) == 0 && len(ledger) == 0 {
		return nil
	}
	entries := make([][]byte, len(events))
	for i, e := range events {
		b, err := stamp(e, n.now(), n.cfg.Name)
		if err != nil {
			return err
		}
		entries[i] = b
	}
	var err error
	if len(ledger) == 0 {
		_, err = n.st.CommitAudit(ctx, entries...)
	} else {
		_, err = n.st.CommitRead(ctx, ledger, entries...)
	}
	return err
}

// stamp dates an event at, names the node that records it and returns its
// leaf bytes. Ingest stamps in its parallel workers so the single writer
// only appends.
func stamp(e audit.Event, at time.Time, node string) ([]byte, error) {
	e.Time, e.Node = at, node
	return e.Marshal()
}

// CompleteLabel fills in what a label made on this node implies: NOFORN
// means "nationals of the originator's country", so the originator is us.
func (n *Node) CompleteLabel(l label.Label) label.Label {
	if l.Originator == "" && l.HasCaveat(label.CaveatNOFORN) {
		l.Originator = n.cfg.Country
	}
	return n.reg.Normalize(l)
}
