// Package audittest is the part of the store conformance suite (package
// storetest, which runs it) for the audit log: appends and their indexes, a
// failed transaction's appends, group commits (CommitAudit), the stored
// Merkle tree hashes against golang.org/x/mod/sumdb/tlog, checkpoints, and
// the tree migration a backend's own tests drive (treemigration.go).
package audittest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/store/storetest/internal/suite"
)

// Tests are the audit log's conformance tests, in the order the suite
// runs them.
var Tests = []suite.Test{
	{Name: "Audit", Fn: testAudit},
	{Name: "AuditFailedTx", Fn: testAuditFailedTx},
	{Name: "CommitAudit", Fn: testCommitAudit},
	{Name: "AuditHashes", Fn: testAuditHashes},
	{Name: "AuditCheckpoints", Fn: testAuditCheckpoints},
}

// appendAudit appends entries in a transaction of its own and returns the
// first index.
func appendAudit(t *testing.T, s store.Store, entries ...[]byte) int64 {
	t.Helper()
	var first int64
	suite.Update(t, s, func(tx store.Tx) error {
		var err error
		first, err = tx.AppendAudit(t.Context(), entries...)
		return err
	})
	return first
}

// CheckLog checks that the log holds exactly want, entry i at index i.
func CheckLog(t *testing.T, r store.Reader, want [][]byte) {
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
	CheckTree(t, r, want)
}

// referenceHashes computes the stored hashes of a tlog tree over entries,
// by id.
func referenceHashes(t *testing.T, entries [][]byte) []tlog.Hash {
	t.Helper()
	var hs []tlog.Hash
	hr := tlog.HashReaderFunc(func(ids []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(ids))
		for i, id := range ids {
			out[i] = hs[id]
		}
		return out, nil
	})
	for n, e := range entries {
		add, err := tlog.StoredHashes(int64(n), e, hr)
		if err != nil {
			t.Fatal(err)
		}
		hs = append(hs, add...)
	}
	return hs
}

// CheckTree checks that the stored Merkle tree hashes are exactly those
// of a tlog tree over entries: no more, no fewer, none different.
func CheckTree(t *testing.T, r store.Reader, entries [][]byte) {
	t.Helper()
	ctx := t.Context()
	want := referenceHashes(t, entries)
	if c := tlog.StoredHashCount(int64(len(entries))); c != int64(len(want)) {
		t.Fatalf("reference tree: %d hashes, want %d", len(want), c)
	}
	got, err := r.AuditHashes(ctx, 0, int64(len(want))+10)
	if err != nil {
		t.Fatalf("AuditHashes: %v", err)
	}
	if len(got) != len(want) {
		t.Fatalf("AuditHashes: %d hashes for %d entries, want %d", len(got), len(entries), len(want))
	}
	for i, h := range got {
		if h.ID != int64(i) || string(h.Hash) != string(want[i][:]) {
			t.Fatalf("AuditHashes[%d] = id %d %x, want id %d %x", i, h.ID, h.Hash, i, want[i])
		}
	}
	if len(entries) == 0 {
		return
	}
	// The tree hash through ReadAuditHashes is the reference tree hash.
	hr := tlog.HashReaderFunc(func(ids []int64) ([]tlog.Hash, error) {
		raw, err := r.ReadAuditHashes(ctx, ids)
		if err != nil {
			return nil, err
		}
		if len(raw) != len(ids) {
			return nil, fmt.Errorf("ReadAuditHashes: %d hashes for %d ids", len(raw), len(ids))
		}
		out := make([]tlog.Hash, len(ids))
		for i, h := range raw {
			if len(h) != tlog.HashSize {
				return nil, fmt.Errorf("ReadAuditHashes: hash %d is %d bytes", ids[i], len(h))
			}
			copy(out[i][:], h)
		}
		return out, nil
	})
	gotTree, err := tlog.TreeHash(int64(len(entries)), hr)
	if err != nil {
		t.Fatalf("tree hash through ReadAuditHashes: %v", err)
	}
	wantTree, err := tlog.TreeHash(int64(len(entries)), tlog.HashReaderFunc(func(ids []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(ids))
		for i, id := range ids {
			out[i] = want[id]
		}
		return out, nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	if gotTree != wantTree {
		t.Errorf("tree hash of %d entries = %v, want %v", len(entries), gotTree, wantTree)
	}
}

func testAudit(t *testing.T, s store.Store) {
	ctx := t.Context()
	CheckLog(t, s, nil)

	var want [][]byte
	entry := func(i int) []byte {
		e := fmt.Appendf(nil, `{"n":%d,"bin":"`, i)
		e = append(e, byte(i), 0, 0xff)
		return append(e, '"', '}')
	}
	// Several appends in one transaction continue each other.
	suite.Update(t, s, func(tx store.Tx) error {
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
	CheckLog(t, s, want)

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
		CheckLog(t, s, want)
		if got, err := s.AuditEntries(ctx, 2, 4); err != nil || len(got) != 0 {
			t.Errorf("AuditEntries(2, 4) after failed transaction = %d entries, %v; want none", len(got), err)
		}
	}

	// The next append takes the index the failed one had: no gap.
	if first := appendAudit(t, s, []byte("a2")); first != 2 {
		t.Errorf("AppendAudit after failed transaction = %d, want 2", first)
	}
	want = append(want, []byte("a2"))
	CheckLog(t, s, want)
}

func testAuditHashes(t *testing.T, s store.Store) {
	ctx := t.Context()
	var entries [][]byte
	for _, n := range []int{1, 1, 3, 7, 20, 1, 2} {
		var batch [][]byte
		for range n {
			batch = append(batch, fmt.Appendf(nil, "entry %d", len(entries)+len(batch)))
		}
		appendAudit(t, s, batch...)
		entries = append(entries, batch...)
		CheckTree(t, s, entries)
	}

	// ReadAuditHashes: in the order asked, duplicates included.
	want := referenceHashes(t, entries)
	ask := []int64{int64(len(want)) - 1, 0, 5, 5, 2}
	got, err := s.ReadAuditHashes(ctx, ask)
	if err != nil {
		t.Fatalf("ReadAuditHashes(%v): %v", ask, err)
	}
	if len(got) != len(ask) {
		t.Fatalf("ReadAuditHashes(%v): %d hashes", ask, len(got))
	}
	for i, id := range ask {
		if string(got[i]) != string(want[id][:]) {
			t.Errorf("ReadAuditHashes(%v)[%d] = %x, want %x", ask, i, got[i], want[id])
		}
	}
	if got, err := s.ReadAuditHashes(ctx, []int64{0, int64(len(want))}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ReadAuditHashes(past the end) = %d hashes, %v; want ErrNotFound", len(got), err)
	}
	// Ranges.
	for _, r := range [][2]int64{{0, 1}, {3, 9}, {int64(len(want)) - 2, int64(len(want)) + 5}, {4, 4}} {
		got, err := s.AuditHashes(ctx, r[0], r[1])
		if err != nil {
			t.Fatalf("AuditHashes(%d, %d): %v", r[0], r[1], err)
		}
		hi := min(r[1], int64(len(want)))
		if int64(len(got)) != hi-r[0] {
			t.Fatalf("AuditHashes(%d, %d): %d hashes, want %d", r[0], r[1], len(got), hi-r[0])
		}
		for i, h := range got {
			if id := r[0] + int64(i); h.ID != id || string(h.Hash) != string(want[id][:]) {
				t.Errorf("AuditHashes(%d, %d)[%d] = id %d, want id %d", r[0], r[1], i, h.ID, id)
			}
		}
	}

	// A failed transaction leaves no hashes, and the tree carries on.
	errBoom := errors.New("boom")
	err = s.Update(ctx, func(tx store.Tx) error {
		if _, err := tx.AppendAudit(ctx, []byte("lost 1"), []byte("lost 2"), []byte("lost 3")); err != nil {
			return err
		}
		return errBoom
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("Update error = %v, want %v", err, errBoom)
	}
	CheckLog(t, s, entries)
	entries = append(entries, []byte("after failure"))
	appendAudit(t, s, entries[len(entries)-1])
	CheckLog(t, s, entries)
}

func sameCheckpoint(got, want store.AuditCheckpoint) bool {
	return got.Size == want.Size && string(got.Note) == string(want.Note) && got.Created.Equal(want.Created)
}

func testAuditCheckpoints(t *testing.T, s store.Store) {
	ctx := t.Context()
	if c, err := s.LatestAuditCheckpoint(ctx); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("LatestAuditCheckpoint of none = %+v, %v; want ErrNotFound", c, err)
	}
	if cs, err := s.AuditCheckpoints(ctx, -1, 10); err != nil || len(cs) != 0 {
		t.Errorf("AuditCheckpoints of none = %v, %v", cs, err)
	}
	note := func(size int64) []byte {
		return fmt.Appendf(nil, "tearline.example/audit\n%d\nhash\n\n\u2014 key sig%d\n", size, size)
	}
	var cps []store.AuditCheckpoint
	for _, size := range []int64{1, 5, 3, 8} {
		cps = append(cps, store.AuditCheckpoint{Size: size, Note: note(size), Created: suite.Base.Add(time.Duration(size) * time.Second)})
	}
	suite.Update(t, s, func(tx store.Tx) error {
		for _, c := range cps[:3] {
			if err := tx.PutAuditCheckpoint(ctx, c); err != nil {
				return err
			}
		}
		return nil
	})
	dup := store.AuditCheckpoint{Size: 5, Note: []byte("other"), Created: suite.Base}
	if err := s.Update(ctx, func(tx store.Tx) error { return tx.PutAuditCheckpoint(ctx, dup) }); !errors.Is(err, store.ErrExists) {
		t.Errorf("PutAuditCheckpoint(size 5 again) error = %v, want ErrExists", err)
	}
	// A checkpoint from a failed transaction is not kept.
	errBoom := errors.New("boom")
	if err := s.Update(ctx, func(tx store.Tx) error {
		if err := tx.PutAuditCheckpoint(ctx, cps[3]); err != nil {
			return err
		}
		return errBoom
	}); !errors.Is(err, errBoom) {
		t.Fatalf("Update error = %v, want %v", err, errBoom)
	}

	got, err := s.LatestAuditCheckpoint(ctx)
	if err != nil || !sameCheckpoint(got, cps[1]) {
		t.Errorf("LatestAuditCheckpoint = %+v, %v; want %+v", got, err, cps[1])
	}
	bySize := slices.SortedFunc(slices.Values(cps[:3]), func(a, b store.AuditCheckpoint) int { return int(a.Size - b.Size) })
	tests := []struct {
		after int64
		limit int
		want  []store.AuditCheckpoint
	}{
		{0, 10, bySize},
		{-1, 10, bySize},
		{0, 2, bySize[:2]},
		{1, 1, bySize[1:2]},
		{2, 10, bySize[1:]},
		{3, 10, bySize[2:]},
		{5, 10, nil},
	}
	for _, tt := range tests {
		got, err := s.AuditCheckpoints(ctx, tt.after, tt.limit)
		if err != nil {
			t.Fatalf("AuditCheckpoints(%d, %d): %v", tt.after, tt.limit, err)
		}
		ok := len(got) == len(tt.want)
		for i := 0; ok && i < len(got); i++ {
			ok = sameCheckpoint(got[i], tt.want[i])
		}
		if !ok {
			t.Errorf("AuditCheckpoints(%d, %d) = %+v, want %+v", tt.after, tt.limit, got, tt.want)
		}
	}

	suite.Update(t, s, func(tx store.Tx) error { return tx.PutAuditCheckpoint(ctx, cps[3]) })
	if got, err := s.LatestAuditCheckpoint(ctx); err != nil || !sameCheckpoint(got, cps[3]) {
		t.Errorf("LatestAuditCheckpoint = %+v, %v; want %+v", got, err, cps[3])
	}
}

// testCommitAudit: readers' entries committed together (CommitAudit) and
// writers' entries appended in their own transactions interleave into one
// dense log; each caller's entries are at the index it was given, together
// and in order, and the tree hashes match the log.
func testCommitAudit(t *testing.T, s store.Store) {
	const (
		readers = 16
		reads   = 15
		writers = 2
		writes  = 10
	)
	ctx := t.Context()
	type got struct {
		first   int64
		entries [][]byte
	}
	var (
		mu   sync.Mutex
		seen []got
		wg   sync.WaitGroup
	)
	record := func(first int64, entries [][]byte) {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, got{first, entries})
	}
	for r := range readers {
		wg.Go(func() {
			for i := range reads {
				entries := make([][]byte, 1+(r+i)%3)
				for k := range entries {
					entries[k] = fmt.Appendf(nil, "read %d/%d/%d", r, i, k)
				}
				var first int64
				var err error
				if r%4 == 0 { // a partner's pull: its ledger entry rides along (CommitRead)
					first, err = s.CommitRead(ctx, []store.LedgerEntry{{ObjectID: fmt.Sprintf("pulled-%d-%d", r, i), Party: "partner",
						State: "pulled", Labels: []string{}, At: time.Unix(1, 0)}}, entries...)
				} else {
					first, err = s.CommitAudit(ctx, entries...)
				}
				if err != nil {
					t.Errorf("CommitAudit: %v", err)
					return
				}
				record(first, entries)
			}
		})
	}
	for w := range writers {
		wg.Go(func() {
			for i := range writes {
				entries := [][]byte{fmt.Appendf(nil, "write %d/%d", w, i)}
				var first int64
				err := s.Update(ctx, func(tx store.Tx) error {
					var err error
					first, err = tx.AppendAudit(ctx, entries...)
					return err
				})
				if err != nil {
					t.Errorf("Update: %v", err)
					return
				}
				record(first, entries)
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	slices.SortFunc(seen, func(a, b got) int { return int(a.first - b.first) })
	var want [][]byte
	for _, g := range seen {
		if g.first != int64(len(want)) {
			t.Fatalf("entries %q given index %d, want %d (log not dense, or indexes shared)", g.entries, g.first, len(want))
		}
		want = append(want, g.entries...)
	}
	CheckLog(t, s, want)
	for r := 0; r < readers; r += 4 {
		for i := range reads {
			if les, err := s.Ledger(ctx, store.LedgerQuery{ObjectID: fmt.Sprintf("pulled-%d-%d", r, i)}); err != nil || len(les) != 1 {
				t.Errorf("ledger of pull %d/%d = %d entries, %v; want 1", r, i, len(les), err)
			}
		}
	}

	// A caller whose context has ended appends nothing.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.CommitAudit(cctx, []byte("never")); !errors.Is(err, context.Canceled) {
		t.Errorf("CommitAudit with a cancelled context = %v, want context.Canceled", err)
	}
	CheckLog(t, s, want)
}
