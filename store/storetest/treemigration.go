package storetest

import (
	"bytes"
	"fmt"
	"testing"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/tearline/tearline/store"
)

// TreeMigrationLeaves is how many leaves a backend's tree-migration test
// writes with its old schema: enough for every level up to 2^10 and a
// partial frontier.
const TreeMigrationLeaves = 1500

// TreeMigrationLog returns the leaves and the stored hashes (by id, in the
// layout of golang.org/x/mod/sumdb/tlog) that a store with an audit_hashes
// table kept for them: what a backend's test writes before opening the
// store with the current schema.
func TreeMigrationLog() (leaves [][]byte, hashes map[int64][]byte) {
	hashes = map[int64][]byte{}
	hr := tlog.HashReaderFunc(func(ids []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(ids))
		for i, id := range ids {
			copy(out[i][:], hashes[id])
		}
		return out, nil
	})
	for n := range int64(TreeMigrationLeaves) {
		leaf := fmt.Appendf(nil, `{"action":"object.read","n":%d}`, n)
		hs, err := tlog.StoredHashes(n, leaf, hr)
		if err != nil {
			panic(err) // the reader above cannot fail
		}
		for j, h := range hs {
			hashes[tlog.StoredHashIndex(0, n)+int64(j)] = h[:]
		}
		leaves = append(leaves, leaf)
	}
	return leaves, hashes
}

// CheckTreeMigration checks a store opened on TreeMigrationLog after the
// tree migration: every stored hash reads back by id and by range, and the
// log takes further appends on the same tree.
func CheckTreeMigration(t *testing.T, s store.Store) {
	t.Helper()
	ctx := t.Context()
	leaves, want := TreeMigrationLog()
	count := tlog.StoredHashCount(TreeMigrationLeaves)
	got, err := s.AuditHashes(ctx, 0, count+10)
	if err != nil || int64(len(got)) != count {
		t.Fatalf("AuditHashes after the migration: %d hashes, %v; want %d", len(got), err, count)
	}
	ids := make([]int64, 0, count)
	for i, h := range got {
		if h.ID != int64(i) || !bytes.Equal(h.Hash, want[h.ID]) {
			t.Fatalf("AuditHashes[%d] = id %d %x, want id %d %x", i, h.ID, h.Hash, i, want[int64(i)])
		}
		ids = append(ids, h.ID)
	}
	byID, err := s.ReadAuditHashes(ctx, ids)
	if err != nil {
		t.Fatalf("ReadAuditHashes after the migration: %v", err)
	}
	for i, h := range byID {
		if !bytes.Equal(h, want[ids[i]]) {
			t.Fatalf("ReadAuditHashes(%d) = %x, want %x", ids[i], h, want[ids[i]])
		}
	}
	// Appending goes on from the migrated frontier: the stored hashes of
	// the longer log are tlog's.
	more := [][]byte{[]byte("after 1"), []byte("after 2"), []byte("after 3")}
	update(t, s, func(tx store.Tx) error {
		first, err := tx.AppendAudit(ctx, more...)
		if err == nil && first != TreeMigrationLeaves {
			err = fmt.Errorf("appended at %d, want %d", first, TreeMigrationLeaves)
		}
		return err
	})
	leaves = append(leaves, more...)
	ref := map[int64]tlog.Hash{}
	hr := tlog.HashReaderFunc(func(ids []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(ids))
		for i, id := range ids {
			out[i] = ref[id]
		}
		return out, nil
	})
	for n, leaf := range leaves {
		hs, _ := tlog.StoredHashes(int64(n), leaf, hr)
		for j, h := range hs {
			ref[tlog.StoredHashIndex(0, int64(n))+int64(j)] = h
		}
	}
	all, err := s.AuditHashes(ctx, 0, 1<<40)
	if err != nil || len(all) != len(ref) {
		t.Fatalf("AuditHashes after appending: %d hashes, %v; want %d", len(all), err, len(ref))
	}
	for _, h := range all {
		if r := ref[h.ID]; !bytes.Equal(h.Hash, r[:]) {
			t.Fatalf("hash %d after appending = %x, want %x", h.ID, h.Hash, r)
		}
	}
}
