package audit

import (
	"context"
	"fmt"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/tearline/tearline/store"
)

// The audit log is an RFC 6962 Merkle tree over the store's audit leaves.
// Its hashes are kept by the store in golang.org/x/mod/sumdb/tlog's layout,
// so tlog computes roots and proofs from them with O(log n) reads; the
// proofs are RFC 6962/9162 audit paths and consistency proofs, checked by
// github.com/transparency-dev/merkle/proof.

// hashReader reads stored hashes through r for tlog. tlog's interface has
// no context, so the reader carries the caller's.
func hashReader(ctx context.Context, r store.Reader) tlog.HashReader {
	return tlog.HashReaderFunc(func(ids []int64) ([]tlog.Hash, error) {
		bs, err := r.ReadAuditHashes(ctx, ids)
		if err != nil {
			return nil, err
		}
		out := make([]tlog.Hash, len(bs))
		for i, b := range bs {
			copy(out[i][:], b)
		}
		return out, nil
	})
}

// TreeHash returns the root of the first size leaves.
func TreeHash(ctx context.Context, r store.Reader, size int64) ([]byte, error) {
	if size < 0 {
		return nil, fmt.Errorf("tree hash: negative size %d", size)
	}
	h, err := tlog.TreeHash(size, hashReader(ctx, r))
	if err != nil {
		return nil, fmt.Errorf("tree hash at %d: %w", size, err)
	}
	return h[:], nil
}

// InclusionProof proves leaf index is in the tree of the given size.
func InclusionProof(ctx context.Context, r store.Reader, index, size int64) ([][]byte, error) {
	if index < 0 || index >= size {
		return nil, fmt.Errorf("inclusion proof: want 0 <= index (%d) < size (%d): %w", index, size, ErrRange)
	}
	if err := within(ctx, r, size); err != nil {
		return nil, err
	}
	p, err := tlog.ProveRecord(size, index, hashReader(ctx, r))
	if err != nil {
		return nil, fmt.Errorf("inclusion proof %d in %d: %w", index, size, err)
	}
	return hashBytes(p), nil
}

// ConsistencyProof proves the tree of size from is a prefix of the tree of
// size to.
func ConsistencyProof(ctx context.Context, r store.Reader, from, to int64) ([][]byte, error) {
	if from < 1 || from > to {
		return nil, fmt.Errorf("consistency proof: want 1 <= from (%d) <= to (%d): %w", from, to, ErrRange)
	}
	if err := within(ctx, r, to); err != nil {
		return nil, err
	}
	if from == to {
		return [][]byte{}, nil
	}
	p, err := tlog.ProveTree(to, from, hashReader(ctx, r))
	if err != nil {
		return nil, fmt.Errorf("consistency proof %d to %d: %w", from, to, err)
	}
	return hashBytes(p), nil
}

func within(ctx context.Context, r store.Reader, size int64) error {
	n, err := r.AuditSize(ctx)
	if err != nil {
		return fmt.Errorf("audit size: %w", err)
	}
	if size > n {
		return fmt.Errorf("tree size %d is beyond the log's %d entries: %w", size, n, ErrRange)
	}
	return nil
}

func hashBytes(hs []tlog.Hash) [][]byte {
	out := make([][]byte, len(hs))
	for i := range hs {
		out[i] = hs[i][:]
	}
	return out
}
