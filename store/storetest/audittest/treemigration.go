package audittest

import (
	"fmt"
	"testing"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/store/storetest/internal/suite"
)

// TreeMigrationLeaves is how many leaves a backend's tree-migration test
// writes with its old schema: enough for every level up to 2^10 and a
// partial frontier.
const TreeMigrationLeaves = 1500

// TreeMigrationLog returns the leaves and the stored hashes (indexed by
// id, in the layout of golang.org/x/mod/sumdb/tlog) that a store with an
// audit_hashes table kept for them: what a backend's test writes before
// opening the store with the current schema.
func TreeMigrationLog(t *testing.T) (leaves [][]byte, hashes []tlog.Hash) {
	for n := range TreeMigrationLeaves {
		leaves = append(leaves, fmt.Appendf(nil, `{"action":"object.read","n":%d}`, n))
	}
	return leaves, referenceHashes(t, leaves)
}

// CheckTreeMigration checks a store opened on TreeMigrationLog after the
// tree migration: its stored hashes are exactly tlog's, by range and by id,
// and stay so as the log takes further appends.
func CheckTreeMigration(t *testing.T, s store.Store) {
	t.Helper()
	leaves, _ := TreeMigrationLog(t)
	CheckTree(t, s, leaves)
	more := [][]byte{[]byte("after 1"), []byte("after 2"), []byte("after 3")}
	suite.Update(t, s, func(tx store.Tx) error {
		first, err := tx.AppendAudit(t.Context(), more...)
		if err == nil && first != TreeMigrationLeaves {
			err = fmt.Errorf("appended at %d, want %d", first, TreeMigrationLeaves)
		}
		return err
	})
	CheckTree(t, s, append(leaves, more...))
}
