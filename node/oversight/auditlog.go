// Package oversight is this node's audit log as others check it: signed
// checkpoints, entries and proofs for auditors; witnessing partners' logs
// and being witnessed by them over the network (C2SP tlog-witness), with
// split views detected and deliveries to the partner paused; and backup and
// restore, which the witnesses must see as a declared rollback rather than
// a split view. Who may read the log is node's to say (ActAuditRead).
package oversight

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/store"
)

// Service is the oversight of one node's log.
type Service struct {
	n       *node.Node
	wit     witnessState // the witness and the checkpoint-signed signal (witness.go); zero value ready
	indexMu sync.Mutex   // one IndexAudit at a time in this process (auditindex.go)
}

// New returns the oversight of n.
func New(n *node.Node) *Service { return &Service{n: n} }

func canAudit(p *node.Principal) error {
	if err := node.Authorize(p, node.ActAuditRead); err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	return nil
}

// SignAuditCheckpoint signs a checkpoint if the log grew since the last
// and returns the latest.
func (ov *Service) SignAuditCheckpoint(ctx context.Context) (store.AuditCheckpoint, error) {
	c, err := audit.Checkpoint(ctx, ov.n.Store(), ov.n.LogSigner(), ov.n.Now())
	if err == nil {
		ov.checkpointSigned() // witnesses are asked to cosign it (witness.go)
	}
	return c, err
}

// AuditCheckpoint returns the latest signed checkpoint, signing one first
// if the log has grown: an auditor always sees the whole log. Its note
// carries the cosignatures witnesses returned for it so far (witness.go).
func (ov *Service) AuditCheckpoint(ctx context.Context, p *node.Principal) (store.AuditCheckpoint, error) {
	if err := canAudit(p); err != nil {
		return store.AuditCheckpoint{}, err
	}
	c, err := ov.SignAuditCheckpoint(ctx)
	if err != nil {
		return c, err
	}
	c.Note, err = ov.cosignedNote(ctx, c)
	return c, err
}

// AuditEntries returns entries [start, end), at most MaxAuditEntries.
func (ov *Service) AuditEntries(ctx context.Context, p *node.Principal, start, end int64) ([]store.AuditEntry, error) {
	if err := canAudit(p); err != nil {
		return nil, err
	}
	if start < 0 || end < start {
		return nil, fmt.Errorf("audit entries [%d, %d): %w", start, end, audit.ErrRange)
	}
	end = min(end, start+node.MaxAuditEntries)
	return ov.n.Store().AuditEntries(ctx, start, end)
}

// AuditInclusionProof proves entry index is in the tree of size.
func (ov *Service) AuditInclusionProof(ctx context.Context, p *node.Principal, index, size int64) ([][]byte, error) {
	if err := canAudit(p); err != nil {
		return nil, err
	}
	return audit.InclusionProof(ctx, ov.n.Store(), index, size)
}

// AuditConsistencyProof proves the tree of size from is a prefix of the
// tree of size to.
func (ov *Service) AuditConsistencyProof(ctx context.Context, p *node.Principal, from, to int64) ([][]byte, error) {
	if err := canAudit(p); err != nil {
		return nil, err
	}
	return audit.ConsistencyProof(ctx, ov.n.Store(), from, to)
}

// RunAuditCheckpoints signs a checkpoint every interval while the log
// grows, until ctx ends, and keeps the audit index (auditindex.go) close
// behind the log, so an auditor's search indexes little first. serve runs
// it beside the API.
func (ov *Service) RunAuditCheckpoints(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = node.DefaultCheckpointInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := ov.SignAuditCheckpoint(ctx); err != nil && ctx.Err() == nil {
			ov.n.Logger().Error("audit checkpoint", "err", err)
		}
		if _, err := ov.IndexAudit(ctx); err != nil && ctx.Err() == nil {
			ov.n.Logger().Error("audit index", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
