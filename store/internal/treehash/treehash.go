// Package treehash computes the audit tree's stored hashes for the SQL
// backends: the hashes that appending leaves adds, in the layout of
// golang.org/x/mod/sumdb/tlog (StoredHashIndex), reading what it needs of
// the hashes already stored in one call.
package treehash

import (
	"fmt"
	"math/bits"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/store/internal/scan"
)

// Frontier returns the stored-hash indexes of the complete subtrees that
// make up a tree of size n, largest first: the only stored hashes that
// appending leaves n, n+1, ... reads. (Each leaf combines with the left
// siblings of the subtrees it completes; a sibling that ends at or before
// n is one of these, and every later one is computed by the append.)
func Frontier(n int64) []int64 {
	var out []int64
	for level := 62; level >= 0; level-- {
		if n>>level&1 == 1 {
			out = append(out, tlog.StoredHashIndex(level, n>>level-1))
		}
	}
	return out
}

// Append returns the stored hashes that appending leaves to a tree of size
// first adds, with their indexes, in index order. read returns stored
// hashes by index, in the order asked, as the store keeps them (bytes);
// Append calls it once, for the frontier of the tree of size first (none
// when first is 0). A store that reads one hash per call instead pays a
// round trip for each subtree a page of audited reads completes.
func Append(first int64, leaves [][]byte, read func(ids []int64) ([][]byte, error)) (ids []int64, hashes []tlog.Hash, err error) {
	known := make(map[int64]tlog.Hash, 2*len(leaves)+64)
	if f := Frontier(first); len(f) > 0 {
		hs, err := read(f)
		if err != nil {
			return nil, nil, fmt.Errorf("audit tree frontier at %d: %w", first, err)
		}
		if len(hs) != len(f) {
			return nil, nil, fmt.Errorf("audit tree frontier at %d: %d hashes read for %d", first, len(hs), len(f))
		}
		for i, id := range f {
			if len(hs[i]) != tlog.HashSize {
				return nil, nil, fmt.Errorf("audit tree frontier at %d: stored hash %d has %d bytes", first, id, len(hs[i]))
			}
			known[id] = tlog.Hash(hs[i])
		}
	}
	hr := tlog.HashReaderFunc(func(want []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(want))
		for i, id := range want {
			h, ok := known[id]
			if !ok {
				return nil, fmt.Errorf("stored hash %d is neither on the frontier of %d nor appended", id, first)
			}
			out[i] = h
		}
		return out, nil
	})
	ids = make([]int64, 0, 2*len(leaves))
	hashes = make([]tlog.Hash, 0, 2*len(leaves))
	for i, leaf := range leaves {
		n := first + int64(i)
		hs, err := tlog.StoredHashes(n, leaf, hr)
		if err != nil {
			return nil, nil, fmt.Errorf("audit tree hashes for %d: %w", n, err)
		}
		id := tlog.StoredHashIndex(0, n)
		for j, h := range hs {
			known[id+int64(j)] = h
			ids = append(ids, id+int64(j))
			hashes = append(hashes, h)
		}
	}
	return ids, hashes, nil
}

// The SQL backends keep the stored hashes in the audit rows themselves: the
// row of leaf n holds, in its tree column, the hashes appending leaf n
// added, lowest level first (Count(n) of them, contiguous in tlog's
// numbering from StoredHashIndex(0, n)). A page of audited reads then
// writes one row per leaf instead of one per hash.

// Count is how many stored hashes appending leaf n adds: its leaf hash and
// one per subtree it completes (n's trailing one bits).
func Count(n int64) int { return 1 + bits.TrailingZeros64(^uint64(n)) }

// Locate returns the leaf whose row holds stored hash id, and the hash's
// place in that row's tree column.
func Locate(id int64) (leaf int64, offset int) {
	level, n := tlog.SplitStoredHashIndex(id)
	return (n+1)<<level - 1, level
}

// Trees groups hashes, as Append returns them for leaves first,
// first+1, ..., into one tree value per leaf.
func Trees(first int64, leaves int, hashes []tlog.Hash) ([][]byte, error) {
	out := make([][]byte, leaves)
	buf := make([]byte, 0, len(hashes)*tlog.HashSize) // one allocation for all
	k := 0
	for i := range out {
		c := Count(first + int64(i))
		if k+c > len(hashes) {
			return nil, fmt.Errorf("audit tree: %d hashes for %d leaves from %d", len(hashes), leaves, first)
		}
		start := len(buf)
		for _, h := range hashes[k : k+c] {
			buf = append(buf, h[:]...)
		}
		out[i], k = buf[start:len(buf):len(buf)], k+c
	}
	if k != len(hashes) {
		return nil, fmt.Errorf("audit tree: %d hashes for %d leaves from %d", len(hashes), leaves, first)
	}
	return out, nil
}

// Hash returns stored hash id from tree, the tree column of the leaf Locate
// names; false when the column does not hold it.
func Hash(tree []byte, id int64) ([]byte, bool) {
	_, off := Locate(id)
	if len(tree) < (off+1)*tlog.HashSize {
		return nil, false
	}
	return tree[off*tlog.HashSize : (off+1)*tlog.HashSize], true
}

// Expand returns the stored hashes a leaf's tree column holds, with their
// ids: at most Count(leaf), so a column made longer holds nothing more.
func Expand(leaf int64, tree []byte) (ids []int64, hashes [][]byte) {
	base := tlog.StoredHashIndex(0, leaf)
	for k := 0; k < Count(leaf) && (k+1)*tlog.HashSize <= len(tree); k++ {
		ids = append(ids, base+int64(k))
		hashes = append(hashes, tree[k*tlog.HashSize:(k+1)*tlog.HashSize])
	}
	return ids, hashes
}

// Leaves returns the first and last leaf whose rows hold stored hashes with
// ids in [start, end), which must not be empty.
func Leaves(start, end int64) (lo, hi int64) {
	lo, _ = Locate(start)
	hi, _ = Locate(end - 1)
	return lo, hi
}

// ReadRange reads rows of (idx, tree), the leaves Leaves(start, end)
// names in idx order, and returns their stored hashes with ids in
// [start, end).
func ReadRange(rows scan.Rows, start, end int64) ([]store.AuditHash, error) {
	var out []store.AuditHash
	for rows.Next() {
		var leaf int64
		var tree []byte
		if err := rows.Scan(&leaf, &tree); err != nil {
			return nil, err
		}
		ids, hs := Expand(leaf, tree)
		for i, id := range ids {
			if id >= start && id < end {
				out = append(out, store.AuditHash{ID: id, Hash: hs[i]})
			}
		}
	}
	return out, rows.Err()
}

// LeavesOf returns the leaves whose rows hold the stored hashes ids, each
// once, in the order first needed.
func LeavesOf(ids []int64) []int64 {
	seen := make(map[int64]bool, len(ids))
	var out []int64
	for _, id := range ids {
		if leaf, _ := Locate(id); !seen[leaf] {
			seen[leaf] = true
			out = append(out, leaf)
		}
	}
	return out
}

// ReadPicked reads rows of (idx, tree), the leaves LeavesOf(ids) names,
// and returns the stored hashes ids in the order given;
// store.ErrNotFound for one that no row holds.
func ReadPicked(rows scan.Rows, ids []int64) ([][]byte, error) {
	trees := map[int64][]byte{}
	for rows.Next() {
		var leaf int64
		var tree []byte
		if err := rows.Scan(&leaf, &tree); err != nil {
			return nil, err
		}
		trees[leaf] = tree
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([][]byte, len(ids))
	for i, id := range ids {
		leaf, _ := Locate(id)
		h, ok := Hash(trees[leaf], id)
		if !ok {
			return nil, fmt.Errorf("audit hash %d: %w", id, store.ErrNotFound)
		}
		out[i] = h
	}
	return out, nil
}

// OldTreeSizes is the query both stores' migrations run before moving a
// tree kept the old way: the leaves, the hash rows and the next hash id,
// what CheckOldTree takes. It has no parameters, so one text serves both
// SQL dialects.
const OldTreeSizes = `SELECT
		(SELECT COALESCE(MAX(idx) + 1, 0) FROM audit),
		(SELECT COUNT(*) FROM audit_hashes),
		(SELECT COALESCE(MAX(id) + 1, 0) FROM audit_hashes)`

// CheckOldTree checks a tree kept the old way, a row per stored hash
// (count rows, ids up to next-1), against the n leaves it covers, before a
// migration moves it into the leaves' rows: a tree out of step is not
// moved, so that the previous release's verify can say where it breaks.
func CheckOldTree(n, count, next int64) error {
	if count > 0 && (count != next || next != tlog.StoredHashCount(n)) {
		return fmt.Errorf("audit tree: %d stored hashes (ids up to %d) for %d leaves, want %d: run `tearline audit verify` with the previous release",
			count, next, n, tlog.StoredHashCount(n))
	}
	return nil
}

// ReadOldTrees reads rows of (id, hash) of a tree kept the old way, a row
// per stored hash, for the leaves [a, b) (ids StoredHashIndex(0, a) up to
// StoredHashIndex(0, b)), and groups them into one tree value per leaf.
func ReadOldTrees(rows scan.Rows, a, b int64) ([][]byte, error) {
	trees := make([][]byte, b-a)
	for rows.Next() {
		var id int64
		var h []byte
		if err := rows.Scan(&id, &h); err != nil {
			return nil, err
		}
		leaf, _ := Locate(id)
		if leaf < a || leaf >= b {
			return nil, fmt.Errorf("audit tree: hash %d is not of leaves %d to %d", id, a, b-1)
		}
		trees[leaf-a] = append(trees[leaf-a], h...)
	}
	return trees, rows.Err()
}
