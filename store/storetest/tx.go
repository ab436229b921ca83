package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/store/storetest/audittest"
)

// One of everything a transaction can write, used by the rollback tests.
var (
	fillLabelID    = "marking-definition--00000000-0000-4000-8000-0000000000f1"
	fillLabels     = []string{fillLabelID}
	fillObject     = version(objectID("indicator", 0xf1), "indicator", 0, 0, false, "fill")
	fillUser       = store.User{ID: "user-f1", Name: "fill", Role: "analyst", Created: base}
	fillToken      = store.Token{ID: "tok-f1", UserID: "user-f1", Hash: []byte("h"), Created: base}
	fillAudit      = [][]byte{[]byte("fill 0"), []byte("fill 1")}
	fillCheckpoint = store.AuditCheckpoint{Size: 2, Note: []byte("checkpoint"), Created: base}
)

// fill writes one of everything in tx and checks that tx reads its own
// writes. It returns the class it used.
func fill(ctx context.Context, t *testing.T, tx store.Tx) (int64, error) {
	t.Helper()
	if err := tx.PutLabel(ctx, fillLabelID, []byte(`{"id":"`+fillLabelID+`"}`)); err != nil {
		return 0, err
	}
	c, err := tx.AccessClass(ctx, fillLabels)
	if err != nil {
		return 0, err
	}
	v := fillObject
	v.Class = c
	if ins, err := tx.PutObject(ctx, &v); err != nil || !ins {
		return 0, fmt.Errorf("PutObject = %v, %w", ins, err)
	}
	if err := tx.PutUser(ctx, fillUser); err != nil {
		return 0, err
	}
	if err := tx.PutToken(ctx, fillToken); err != nil {
		return 0, err
	}
	if _, err := tx.AppendAudit(ctx, fillAudit...); err != nil {
		return 0, err
	}
	if err := tx.PutAuditCheckpoint(ctx, fillCheckpoint); err != nil {
		return 0, err
	}

	// Read your own writes.
	if _, err := tx.Label(ctx, fillLabelID); err != nil {
		t.Errorf("tx.Label: %v", err)
	}
	if vs, err := tx.Versions(ctx, v.ID); err != nil || len(vs) != 1 {
		t.Errorf("tx.Versions = %d versions, %v; want 1", len(vs), err)
	}
	q := store.ListQuery{Classes: []int64{c}, Limit: 10}
	if vs, err := tx.List(ctx, q); err != nil || len(vs) != 1 {
		t.Errorf("tx.List = %d versions, %v; want 1", len(vs), err)
	}
	if n, err := tx.Count(ctx, q); err != nil || n != 1 {
		t.Errorf("tx.Count = %d, %v; want 1", n, err)
	}
	if cs, err := tx.AccessClasses(ctx, 0); err != nil || len(cs) != 1 {
		t.Errorf("tx.AccessClasses = %v, %v; want 1 class", cs, err)
	}
	if _, err := tx.User(ctx, fillUser.ID); err != nil {
		t.Errorf("tx.User: %v", err)
	}
	if _, err := tx.UserByName(ctx, fillUser.Name); err != nil {
		t.Errorf("tx.UserByName: %v", err)
	}
	if us, err := tx.Users(ctx); err != nil || len(us) != 1 {
		t.Errorf("tx.Users = %d users, %v; want 1", len(us), err)
	}
	if _, err := tx.Token(ctx, fillToken.ID); err != nil {
		t.Errorf("tx.Token: %v", err)
	}
	if ts, err := tx.Tokens(ctx, fillUser.ID); err != nil || len(ts) != 1 {
		t.Errorf("tx.Tokens = %d tokens, %v; want 1", len(ts), err)
	}
	if n, err := tx.AuditSize(ctx); err != nil || n != int64(len(fillAudit)) {
		t.Errorf("tx.AuditSize = %d, %v; want %d", n, err, len(fillAudit))
	}
	if es, err := tx.AuditEntries(ctx, 0, 10); err != nil || len(es) != len(fillAudit) {
		t.Errorf("tx.AuditEntries = %d entries, %v; want %d", len(es), err, len(fillAudit))
	}
	if hs, err := tx.AuditHashes(ctx, 0, 100); err != nil || int64(len(hs)) != tlog.StoredHashCount(int64(len(fillAudit))) {
		t.Errorf("tx.AuditHashes = %d hashes, %v; want %d", len(hs), err, tlog.StoredHashCount(int64(len(fillAudit))))
	}
	if hs, err := tx.ReadAuditHashes(ctx, []int64{0}); err != nil || len(hs) != 1 {
		t.Errorf("tx.ReadAuditHashes = %d hashes, %v; want 1", len(hs), err)
	}
	if c, err := tx.LatestAuditCheckpoint(ctx); err != nil || c.Size != fillCheckpoint.Size {
		t.Errorf("tx.LatestAuditCheckpoint = %+v, %v", c, err)
	}
	if cs, err := tx.AuditCheckpoints(ctx, 0, 10); err != nil || len(cs) != 1 {
		t.Errorf("tx.AuditCheckpoints = %d, %v; want 1", len(cs), err)
	}
	return c, nil
}

// checkEmpty checks, table by table, that r holds nothing at all.
func checkEmpty(t *testing.T, r store.Reader) {
	t.Helper()
	ctx := context.Background() // t.Context may be what was cancelled
	if raw, err := r.Label(ctx, fillLabelID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("label left behind: %q, %v", raw, err)
	}
	cs, err := r.AccessClasses(ctx, 0)
	if err != nil || len(cs) != 0 {
		t.Errorf("access classes left behind: %v, %v", cs, err)
	}
	if vs, err := r.Versions(ctx, fillObject.ID); err != nil || len(vs) != 0 {
		t.Errorf("object versions left behind: %d, %v", len(vs), err)
	}
	// Whatever class the lost object had, nothing lists under it.
	q := store.ListQuery{Classes: []int64{0, 1, 2, 3}, IncludeRevoked: true, Limit: 10}
	for _, c := range cs {
		q.Classes = append(q.Classes, c.ID)
	}
	if vs, err := r.List(ctx, q); err != nil || len(vs) != 0 {
		t.Errorf("objects left behind: %q, %v", ids(vs), err)
	}
	if n, err := r.Count(ctx, q); err != nil || n != 0 {
		t.Errorf("objects left behind: Count = %d, %v", n, err)
	}
	if u, err := r.User(ctx, fillUser.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("user left behind: %+v, %v", u, err)
	}
	if u, err := r.UserByName(ctx, fillUser.Name); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("user left behind by name: %+v, %v", u, err)
	}
	if us, err := r.Users(ctx); err != nil || len(us) != 0 {
		t.Errorf("users left behind: %d, %v", len(us), err)
	}
	if tok, err := r.Token(ctx, fillToken.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("token left behind: %+v, %v", tok, err)
	}
	if ts, err := r.Tokens(ctx, fillUser.ID); err != nil || len(ts) != 0 {
		t.Errorf("tokens left behind: %d, %v", len(ts), err)
	}
	if n, err := r.AuditSize(ctx); err != nil || n != 0 {
		t.Errorf("audit entries left behind: AuditSize = %d, %v", n, err)
	}
	if es, err := r.AuditEntries(ctx, 0, 10); err != nil || len(es) != 0 {
		t.Errorf("audit entries left behind: %d, %v", len(es), err)
	}
	if hs, err := r.AuditHashes(ctx, 0, 100); err != nil || len(hs) != 0 {
		t.Errorf("audit hashes left behind: %d, %v", len(hs), err)
	}
	if hs, err := r.ReadAuditHashes(ctx, []int64{0}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("audit hash left behind: %x, %v", hs, err)
	}
	if c, err := r.LatestAuditCheckpoint(ctx); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("audit checkpoint left behind: %+v, %v", c, err)
	}
	if cs, err := r.AuditCheckpoints(ctx, -1, 10); err != nil || len(cs) != 0 {
		t.Errorf("audit checkpoints left behind: %d, %v", len(cs), err)
	}
}

// checkRefill checks that after a failed transaction the store works and
// the same writes succeed, at the same audit index: the failure left no
// trace, not even a used-up index or a held lock.
func checkRefill(t *testing.T, s store.Store) {
	t.Helper()
	ctx := t.Context()
	update(t, s, func(tx store.Tx) error {
		_, err := fill(ctx, t, tx)
		return err
	})
	audittest.CheckLog(t, s, fillAudit)
	if vs, err := s.Versions(ctx, fillObject.ID); err != nil || len(vs) != 1 {
		t.Errorf("Versions after refill = %d, %v; want 1", len(vs), err)
	}
	if _, err := s.Token(ctx, fillToken.ID); err != nil {
		t.Errorf("Token after refill: %v", err)
	}
}

func testReadInsideTx(t *testing.T, s store.Store) {
	ctx := t.Context()
	update(t, s, func(tx store.Tx) error {
		if _, err := fill(ctx, t, tx); err != nil {
			return err
		}
		// Not visible outside the transaction before it commits.
		checkEmpty(t, s)
		return nil
	})
	audittest.CheckLog(t, s, fillAudit)
	if _, err := s.User(ctx, fillUser.ID); err != nil {
		t.Errorf("User after commit: %v", err)
	}
}

func testRollbackOnError(t *testing.T, s store.Store) {
	errBoom := errors.New("boom")
	err := s.Update(t.Context(), func(tx store.Tx) error {
		if _, err := fill(t.Context(), t, tx); err != nil {
			return err
		}
		return errBoom
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("Update error = %v, want %v", err, errBoom)
	}
	checkEmpty(t, s)
	checkRefill(t, s)
}

// testRollbackOnCancel cancels the context half way through; the next call
// fails and fn returns its error.
func testRollbackOnCancel(t *testing.T, s store.Store) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	err := s.Update(ctx, func(tx store.Tx) error {
		if _, err := fill(ctx, t, tx); err != nil {
			return err
		}
		cancel()
		_, err := tx.AppendAudit(ctx, []byte("after cancel"))
		if err == nil {
			t.Errorf("AppendAudit after cancel succeeded")
		}
		return err
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Update error = %v, want context.Canceled", err)
	}
	checkEmpty(t, s)

	// Cancelled before it starts: fn may run or not, nothing is kept.
	err = s.Update(ctx, func(tx store.Tx) error {
		_, err := fill(ctx, t, tx)
		return err
	})
	if err == nil {
		t.Errorf("Update with a cancelled context succeeded")
	}
	checkEmpty(t, s)
	checkRefill(t, s)
}

// testRollbackOnCancelIgnored cancels the context after every write and
// then returns nil from fn: the commit must not happen.
func testRollbackOnCancelIgnored(t *testing.T, s store.Store) {
	for range 20 { // the cancellation may race the commit; try it often
		ctx, cancel := context.WithCancel(t.Context())
		err := s.Update(ctx, func(tx store.Tx) error {
			if _, err := fill(ctx, t, tx); err != nil {
				return err
			}
			cancel()
			return nil
		})
		cancel()
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Update error = %v, want context.Canceled", err)
		}
		checkEmpty(t, s)
		if t.Failed() {
			return
		}
	}
	checkRefill(t, s)
}

// testRollbackOnPanic panics in fn. The panic reaches the caller (an HTTP
// server recovers it and carries on), nothing is kept, and the store is
// not wedged: a later Update runs. A backend that leaks the transaction
// hangs here until the test binary times out.
func testRollbackOnPanic(t *testing.T, s store.Store) {
	func() {
		defer func() {
			if p := recover(); p != "boom" {
				t.Errorf("recovered %v, want the panic from fn", p)
			}
		}()
		_ = s.Update(t.Context(), func(tx store.Tx) error {
			if _, err := fill(t.Context(), t, tx); err != nil {
				return err
			}
			panic("boom")
		})
		t.Errorf("Update returned after fn panicked")
	}()
	checkEmpty(t, s)
	checkRefill(t, s)
}

// testConcurrent runs many writers at once, each putting objects and
// appending audit entries, with readers watching: the log ends dense and
// every object is present once.
func testConcurrent(t *testing.T, s store.Store) {
	const (
		writers = 8
		updates = 20
		perTx   = 3 // audit entries per update
	)
	ctx := t.Context()
	c := class(t, s)

	var (
		mu     sync.Mutex
		firsts = make(map[int64]string) // first index -> writer/update
		wg     sync.WaitGroup
		done   = make(chan struct{})
	)
	for w := range writers {
		wg.Go(func() {
			for u := range updates {
				name := fmt.Sprintf("%d/%d", w, u)
				err := s.Update(ctx, func(tx store.Tx) error {
					v := version(objectID("indicator", w*updates+u), "indicator", u, c, false, name)
					if ins, err := tx.PutObject(ctx, &v); err != nil || !ins {
						return fmt.Errorf("PutObject = %v, %w", ins, err)
					}
					entries := make([][]byte, perTx)
					for k := range entries {
						entries[k] = fmt.Appendf(nil, "%s/%d", name, k)
					}
					first, err := tx.AppendAudit(ctx, entries...)
					if err != nil {
						return err
					}
					mu.Lock()
					defer mu.Unlock()
					if prev, ok := firsts[first]; ok {
						return fmt.Errorf("AppendAudit gave %s index %d, already given to %s", name, first, prev)
					}
					firsts[first] = name
					return nil
				})
				if err != nil {
					t.Errorf("Update %s: %v", name, err)
					return
				}
			}
		})
	}
	// Readers: the log only grows, and is dense whenever it is read.
	var rg sync.WaitGroup
	for range 2 {
		rg.Go(func() {
			var last int64
			for {
				select {
				case <-done:
					return
				default:
				}
				n, err := s.AuditSize(ctx)
				if err != nil {
					t.Errorf("AuditSize: %v", err)
					return
				}
				if n < last {
					t.Errorf("AuditSize went from %d to %d", last, n)
				}
				es, err := s.AuditEntries(ctx, 0, n)
				if err != nil {
					t.Errorf("AuditEntries: %v", err)
					return
				}
				if int64(len(es)) != n {
					t.Errorf("AuditEntries(0, %d): %d entries", n, len(es))
				}
				last = n
				if _, err := s.List(ctx, store.ListQuery{Classes: []int64{c}, Limit: 50}); err != nil {
					t.Errorf("List: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(done)
	rg.Wait()
	if t.Failed() {
		return
	}

	total := int64(writers * updates * perTx)
	if n, err := s.AuditSize(ctx); err != nil || n != total {
		t.Fatalf("AuditSize = %d, %v; want %d", n, err, total)
	}
	es, err := s.AuditEntries(ctx, 0, total)
	if err != nil {
		t.Fatal(err)
	}
	seen := make(map[string]bool)
	for i, e := range es {
		if e.Index != int64(i) {
			t.Fatalf("entry %d has index %d", i, e.Index)
		}
		if seen[string(e.Data)] {
			t.Errorf("entry %q twice", e.Data)
		}
		seen[string(e.Data)] = true
	}
	data := make([][]byte, len(es))
	for i, e := range es {
		data[i] = e.Data
	}
	audittest.CheckTree(t, s, data)
	// Each update's entries are contiguous, from the index it was given.
	for first, name := range firsts {
		if first < 0 || first+perTx > total {
			t.Errorf("update %s was given index %d, outside [0, %d)", name, first, total)
			continue
		}
		for k := range int64(perTx) {
			if want := fmt.Sprintf("%s/%d", name, k); string(es[first+k].Data) != want {
				t.Errorf("entry %d = %q, want %q", first+k, es[first+k].Data, want)
			}
		}
	}

	all := listAll(t, s, store.ListQuery{Classes: []int64{c}, Limit: 64})
	got := slices.Sorted(slices.Values(ids(all)))
	var want []string
	for i := range writers * updates {
		want = append(want, objectID("indicator", i))
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("List after concurrent writes: %d objects, want %d (each once)", len(got), len(want))
	}
	for _, id := range want {
		if vs, err := s.Versions(ctx, id); err != nil || len(vs) != 1 {
			t.Errorf("Versions(%s) = %d, %v; want 1", id, len(vs), err)
		}
	}
}
