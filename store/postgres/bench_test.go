package postgres

import (
	"fmt"
	"testing"

	"github.com/tearline/tearline/internal/pgtest"
	"github.com/tearline/tearline/store"
)

// BenchmarkAppendAudit appends what one listed page of 1,000 objects
// appends (1,001 leaves of ≈ 375 bytes, their tree hashes) in one durable
// transaction, as node.List does after reading a page.
//
//	TEARLINE_TEST_POSTGRES=postgres://… go test ./store/postgres -run XXX -bench AppendAudit
func BenchmarkAppendAudit(b *testing.B) {
	s := openDSN(b, pgtest.DSN(b))
	entries := make([][]byte, 1001)
	for i := range entries {
		entries[i] = fmt.Appendf(nil, `{"action":"object.read","actor":"user:reader","decision":"allow","detail":"list","labels":["marking-definition--1eb20f9f-745e-5376-9d93-f45095d8a895"],"modified":"2026-01-01T00:00:00.001Z","node":"scale","object":"indicator--%036d","time":"2026-11-22T21:03:05.486123Z"}`, i)
	}
	b.ResetTimer()
	for b.Loop() {
		if err := s.Update(b.Context(), func(tx store.Tx) error {
			_, err := tx.AppendAudit(b.Context(), entries...)
			return err
		}); err != nil {
			b.Fatal(err)
		}
	}
}
