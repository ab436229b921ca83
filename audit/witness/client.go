package witness

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/tearline/tearline/store"
)

// Submission is what a log needs to ask one witness for a cosignature.
type Submission struct {
	Client  *http.Client
	Base    string // the witness's URL (https://host:port)
	Timeout time.Duration

	Size       int64
	Checkpoint []byte // the log's signed checkpoint of Size
	// Known is the size the log believes the witness last cosigned (its
	// latest stored cosignature by this witness), 0 if none.
	Known int64
	// Proof returns the consistency proof from size from to Size.
	Proof func(ctx context.Context, from int64) ([][]byte, error)
	// Rollbacks are the log's signed rollback statements.
	Rollbacks []store.AuditRollback
}

// Cosign asks the witness to cosign s.Checkpoint and returns its
// cosignature lines. On 409 it retries from the witness's size. When the
// witness holds a tree a rollback abandoned (its size is in a statement's
// (new, old]), the statements are sent first (RollbackPath), so the witness
// records an acknowledged rollback, not a fork.
func Cosign(ctx context.Context, s Submission) ([]byte, error) {
	old := s.Known
	if old > s.Size {
		old = 0 // learn the witness's size from its 409
	}
	sent := false
	for range 5 {
		var pf [][]byte
		if old > 0 && old < s.Size {
			p, err := s.Proof(ctx, old)
			if err != nil {
				return nil, fmt.Errorf("consistency proof from %d to %d: %w", old, s.Size, err)
			}
			pf = p
		}
		cosig, err := Submit(ctx, s.Client, s.Base, AddCheckpointRequest{OldSize: old, Proof: pf, Checkpoint: s.Checkpoint}, s.Timeout)
		var ce *ConflictError
		if !errors.As(err, &ce) {
			return cosig, err
		}
		covers := false
		for _, r := range s.Rollbacks {
			covers = covers || (r.NewSize < ce.Latest && ce.Latest <= r.OldSize)
		}
		switch {
		case covers && !sent:
			for _, r := range s.Rollbacks {
				if err := SendRollback(ctx, s.Client, s.Base, r.Statement, s.Timeout); err != nil && !errors.Is(err, ErrConflict) {
					return nil, fmt.Errorf("rollback statement %d to %d: %w", r.OldSize, r.NewSize, err)
				}
			}
			sent, old = true, 0
		case ce.Latest > s.Size:
			return nil, fmt.Errorf("the witness holds size %d, beyond this log's %d, and no rollback statement covers it: %w", ce.Latest, s.Size, err)
		case ce.Latest == old:
			return nil, err // the same size again: a root conflict
		default:
			old = ce.Latest
		}
	}
	return nil, fmt.Errorf("add-checkpoint: the witness's size kept changing")
}
