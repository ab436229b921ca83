package store

import (
	"context"
	"errors"
)

// BatchPutter is a transaction that stores many versions in one call.
// Both backends' transactions are; store wrappers (seal, accessmac) pass
// the batch on with PutBatch.
type BatchPutter interface {
	PutObjects(ctx context.Context, vs []*ObjectVersion) (created []bool, errs []error, err error)
}

// PutBatch stores vs in tx: in one call when tx is a BatchPutter, else one
// PutObject each. A version refused for what it is (ErrConflict,
// ErrRevoked, ErrPurged) gets its error in errs and the rest go on; any
// other error fails the batch.
func PutBatch(ctx context.Context, tx Tx, vs []*ObjectVersion) (created []bool, errs []error, err error) {
	if bp, ok := tx.(BatchPutter); ok {
		return bp.PutObjects(ctx, vs)
	}
	created, errs = make([]bool, len(vs)), make([]error, len(vs))
	for i, v := range vs {
		c, err := tx.PutObject(ctx, v)
		switch {
		case errors.Is(err, ErrConflict), errors.Is(err, ErrRevoked), errors.Is(err, ErrPurged):
			errs[i] = err
		case err != nil:
			return nil, nil, err
		}
		created[i] = c
	}
	return created, errs, nil
}
