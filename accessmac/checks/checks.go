// Package checks runs a node's access MAC checks (package accessmac) over
// its store: it computes, once, the MACs of the versions stored before
// access MACs existed (the backfill), wraps the store in the checks, and
// reports every mismatch a read meets (a metric, a log line and an
// `object.access-mismatch` audit entry). The node core opens it with its
// key and a small Auditor it implements, and stacks its sealing on top
// (docs/SECURITY.md, "Stored access rules").
package checks

import (
	"context"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tearline/tearline/accessmac"
	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/store"
)

// Auditor writes the audit entries of the checks: the node core, whose
// audit log is the one writer.
type Auditor interface {
	// AppendAudit appends events in tx.
	AppendAudit(ctx context.Context, tx store.Tx, events ...audit.Event) error
	// RecordReads appends events in a transaction of its own.
	RecordReads(ctx context.Context, events ...audit.Event) error
}

// Options are what Open needs of the node.
type Options struct {
	Key     []byte // the access MAC key (accessmac.KeyName), 32 bytes; Open keeps no reference
	Classes accessmac.Classes
	Audit   Auditor
	Actor   string // who the audit entries name, "node:NAME"
	Log     *slog.Logger
}

// Store is a node's store wrapped in the access MAC checks: an
// *accessmac.Store whose mismatches are reported, with the metric of
// them (Collector) and a Close that first writes the audit entries of
// the mismatches met so far.
type Store struct {
	*accessmac.Store
	rep *reporter
}

// Open computes the MACs of the versions stored before access MACs
// existed that have none (once: the store records when it is done) and
// returns st wrapped in the checks. st is the backend: sealing goes on top
// (the checks then see a row before its content is opened, so a row
// whose id, version or digest was rewritten reads as absent instead of
// failing to open).
func Open(ctx context.Context, st store.Store, o Options) (*Store, error) {
	s, err := accessmac.New(o.Key)
	if err != nil {
		return nil, err
	}
	lg := o.Log
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	if err := backfill(ctx, st, s, o.Audit, o.Actor, lg); err != nil {
		return nil, err
	}
	rep := newReporter(o.Audit, o.Actor, lg)
	return &Store{Store: accessmac.Wrap(st, s, o.Classes, rep), rep: rep}, nil
}

// Collector returns the metric of access MAC mismatches (found by the
// metrics endpoint walking the node's store layers).
func (s *Store) Collector() prometheus.Collector { return s.rep.mismatches }

// Close closes the store, once the audit entries of the mismatches met so
// far are written.
func (s *Store) Close() error {
	s.rep.wg.Wait()
	return s.Store.Close()
}
