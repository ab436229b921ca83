package storetest

import (
	"errors"
	"fmt"
	"testing"

	"github.com/tearline/tearline/store"
)

// appendAudit appends entries in a transaction of its own and returns the
// first index.
func appendAudit(t *testing.T, s store.Store, entries ...[]byte) int64 {
	t.Helper()
	var first int64
	update(t, s, func(tx store.Tx) error {
		var err error
		first, err = tx.AppendAudit(t.Context(), entries...)
		return err
	})
	return first
}

// checkAudit checks that the log holds exactly want, entry i at index i.
func checkAudit(t *testing.T, r store.Reader, want [][]byte) {
	t.Helper()
	ctx := t.Context()
	n, err := r.AuditSize(ctx)
	if err != nil {
		t.Fatalf("AuditSize: %v", err)
	}
	if n != int64(len(want)) {
		t.Errorf("AuditSize = %d, want %d", n, len(want))
	}
	got, err := r.AuditEntries(ctx, 0, int64(len(want))+10)
	if err != nil {
		t.Fatalf("AuditEntries: %v", err)
	}
	if len(got) != len(want) {
		t.Fatalf("AuditEntries(0, %d): %d entries, want %d", len(want)+10, len(got), len(want))
	}
	for i, e := range got {
		if e.Index != int64(i) || string(e.Data) != string(want[i]) {
			t.Errorf("AuditEntries[%d] = %d %q, want %d %q", i, e.Index, e.Data, i, want[i])
		}
	}
}

func testAudit(t *testing.T, s store.Store) {
	ctx := t.Context()
	checkAudit(t, s, nil)

	var want [][]byte
	entry := func(i int) []byte {
		e := fmt.Appendf(nil, `{"n":%d,"bin":"`, i)
		e = append(e, byte(i), 0, 0xff)
		return append(e, '"', '}')
	}
	// Several appends in one transaction continue each other.
	update(t, s, func(tx store.Tx) error {
		for _, n := range []int{3, 1, 2} {
			var batch [][]byte
			for range n {
				batch = append(batch, entry(len(want)+len(batch)))
			}
			first, err := tx.AppendAudit(ctx, batch...)
			if err != nil {
				return err
			}
			if first != int64(len(want)) {
				t.Errorf("AppendAudit in one transaction = %d, want %d", first, len(want))
			}
			want = append(want, batch...)
			if size, err := tx.AuditSize(ctx); err != nil || size != int64(len(want)) {
				t.Errorf("tx.AuditSize = %d, %v; want %d", size, err, len(want))
			}
		}
		return nil
	})
	// And across transactions.
	for range 3 {
		e := entry(len(want))
		if first := appendAudit(t, s, e); first != int64(len(want)) {
			t.Errorf("AppendAudit = %d, want %d", first, len(want))
		}
		want = append(want, e)
	}
	// Appending nothing changes nothing.
	if first := appendAudit(t, s); first != int64(len(want)) {
		t.Errorf("AppendAudit() = %d, want %d", first, len(want))
	}
	checkAudit(t, s, want)

	tests := []struct{ start, end int64 }{
		{0, 1}, {2, 5}, {4, 9}, {8, 9}, {3, 3}, {9, 20}, {20, 30}, {5, 2},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("[%d,%d)", tt.start, tt.end), func(t *testing.T) {
			got, err := s.AuditEntries(ctx, tt.start, tt.end)
			if err != nil {
				t.Fatal(err)
			}
			lo, hi := min(tt.start, int64(len(want))), min(tt.end, int64(len(want)))
			if hi < lo {
				hi = lo
			}
			if int64(len(got)) != hi-lo {
				t.Fatalf("%d entries, want %d", len(got), hi-lo)
			}
			for i, e := range got {
				idx := lo + int64(i)
				if e.Index != idx || string(e.Data) != string(want[idx]) {
					t.Errorf("entry %d = %d %q, want %d %q", i, e.Index, e.Data, idx, want[idx])
				}
			}
		})
	}
}

func testAuditFailedTx(t *testing.T, s store.Store) {
	ctx := t.Context()
	want := [][]byte{[]byte("a0"), []byte("a1")}
	appendAudit(t, s, want...)

	errBoom := errors.New("boom")
	for range 2 {
		err := s.Update(ctx, func(tx store.Tx) error {
			first, err := tx.AppendAudit(ctx, []byte("lost 1"), []byte("lost 2"))
			if err != nil {
				return err
			}
			if first != 2 {
				t.Errorf("AppendAudit in failing transaction = %d, want 2", first)
			}
			return errBoom
		})
		if !errors.Is(err, errBoom) {
			t.Fatalf("Update error = %v, want %v", err, errBoom)
		}
		checkAudit(t, s, want)
		if got, err := s.AuditEntries(ctx, 2, 4); err != nil || len(got) != 0 {
			t.Errorf("AuditEntries(2, 4) after failed transaction = %d entries, %v; want none", len(got), err)
		}
	}

	// The next append takes the index the failed one had: no gap.
	if first := appendAudit(t, s, []byte("a2")); first != 2 {
		t.Errorf("AppendAudit after failed transaction = %d, want 2", first)
	}
	want = append(want, []byte("a2"))
	checkAudit(t, s, want)
}
