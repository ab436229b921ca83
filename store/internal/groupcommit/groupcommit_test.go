package groupcommit_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tearline/tearline/internal/pgtest"
	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/store/internal/groupcommit"
	"github.com/tearline/tearline/store/postgres"
	"github.com/tearline/tearline/store/sqlite"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// forEachBackend runs test on a new SQLite store and a new PostgreSQL one.
func forEachBackend(t *testing.T, test func(*testing.T, store.Store)) {
	t.Run("sqlite", func(t *testing.T) { test(t, openStore(t)) })
	t.Run("postgres", func(t *testing.T) {
		s, err := postgres.Open(t.Context(), pgtest.DSN(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		test(t, s)
	})
}

func openStore(t *testing.T) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// waitFor polls cond for up to ten seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for range 1000 {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

// result is what one Append returned.
type result struct {
	entry []byte
	first int64
	err   error
}

// appendAll starts one Append per entry and returns their results once all
// have returned.
func appendAll(c *groupcommit.Committer, entries [][]byte) <-chan []result {
	out := make(chan []result, 1)
	go func() {
		rs := make([]result, len(entries))
		var wg sync.WaitGroup
		for i, e := range entries {
			wg.Go(func() {
				first, err := c.Append(context.Background(), e)
				rs[i] = result{e, first, err}
			})
		}
		wg.Wait()
		out <- rs
	}()
	return out
}

func entries(prefix string, n int) [][]byte {
	es := make([][]byte, n)
	for i := range es {
		es[i] = fmt.Appendf(nil, "%s %d", prefix, i)
	}
	return es
}

// checkAt checks that each result's entry is in the log at its index.
func checkAt(t *testing.T, s store.Reader, rs []result) {
	t.Helper()
	for _, r := range rs {
		if r.err != nil {
			t.Errorf("Append(%q): %v", r.entry, r.err)
			continue
		}
		got, err := s.AuditEntries(t.Context(), r.first, r.first+1)
		if err != nil || len(got) != 1 || string(got[0].Data) != string(r.entry) {
			t.Errorf("entry at %d = %v, %v; want %q", r.first, got, err, r.entry)
		}
	}
}

// While one commit runs, the entries that arrive wait and then share the
// next commit: eleven reads, two durable commits.
func TestArrivalsShareTheNextCommit(t *testing.T) {
	s := openStore(t)
	hold := make(chan struct{})
	var calls atomic.Int32
	c := groupcommit.New(func(ctx context.Context, fn func(store.Tx) error) error {
		if calls.Add(1) == 1 {
			<-hold // the first commit is slow
		}
		return s.Update(ctx, fn)
	})
	first := appendAll(c, entries("first", 1))
	waitFor(t, "the first commit to start", func() bool { return calls.Load() == 1 })
	rest := appendAll(c, entries("joined", 10))
	waitFor(t, "ten entries to wait", func() bool { return c.Waiting() == 10 })
	close(hold)
	rs := append(<-first, <-rest...)
	checkAt(t, s, rs)
	if n := calls.Load(); n != 2 {
		t.Errorf("%d transactions, want 2", n)
	}
	if st := c.Stats(); st.Commits != 2 || st.Entries != 11 || st.Failed != 0 {
		t.Errorf("Stats = %+v, want 2 commits of 11 entries", st)
	}
	if size, err := s.AuditSize(t.Context()); err != nil || size != 11 {
		t.Errorf("AuditSize = %d, %v; want 11", size, err)
	}
}

// A shared commit that fails fails every caller in it, keeps none of their
// entries, and the next batch takes the indexes they would have had (on
// both backends).
func TestFailedCommitFailsEveryCaller(t *testing.T) {
	forEachBackend(t, testFailedCommitFailsEveryCaller)
}

func testFailedCommitFailsEveryCaller(t *testing.T, s store.Store) {
	errBoom := errors.New("disk on fire")
	hold := make(chan struct{})
	var calls atomic.Int32
	c := groupcommit.New(func(ctx context.Context, fn func(store.Tx) error) error {
		switch calls.Add(1) {
		case 1:
			<-hold
		case 2: // the batch that waited: written, then rolled back
			return s.Update(ctx, func(tx store.Tx) error {
				if err := fn(tx); err != nil {
					return err
				}
				return errBoom
			})
		}
		return s.Update(ctx, fn)
	})
	first := appendAll(c, entries("kept", 1))
	waitFor(t, "the first commit to start", func() bool { return calls.Load() == 1 })
	failing := appendAll(c, entries("lost", 5))
	waitFor(t, "five entries to wait", func() bool { return c.Waiting() == 5 })
	close(hold)
	checkAt(t, s, <-first)
	for _, r := range <-failing {
		if !errors.Is(r.err, errBoom) {
			t.Errorf("Append(%q) in a failed commit = %d, %v; want %v", r.entry, r.first, r.err, errBoom)
		}
	}
	if size, err := s.AuditSize(t.Context()); err != nil || size != 1 {
		t.Errorf("AuditSize after the failed commit = %d, %v; want 1", size, err)
	}
	after := <-appendAll(c, entries("after", 1))
	checkAt(t, s, after)
	if after[0].first != 1 {
		t.Errorf("next Append = %d, want 1 (no gap)", after[0].first)
	}
	if st := c.Stats(); st.Failed != 1 || st.Commits != 2 {
		t.Errorf("Stats = %+v, want 1 failed and 2 committed", st)
	}
}

// A caller whose context has ended appends nothing.
func TestCancelledCallerAppendsNothing(t *testing.T) {
	s := openStore(t)
	c := groupcommit.New(s.Update)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := c.Append(ctx, []byte("never")); !errors.Is(err, context.Canceled) {
		t.Fatalf("Append with a cancelled context: %v, want context.Canceled", err)
	}
	if size, err := s.AuditSize(t.Context()); err != nil || size != 0 {
		t.Errorf("AuditSize = %d, %v; want 0", size, err)
	}
}

// Several entries of one caller stay together, in order.
func TestEntriesOfOneCallerAreContiguous(t *testing.T) {
	s := openStore(t)
	c := groupcommit.New(s.Update)
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for g := range 20 {
		wg.Go(func() {
			es := entries(fmt.Sprintf("caller %d", g), 1+g%4)
			first, err := c.Append(t.Context(), es...)
			if err != nil {
				errs <- err
				return
			}
			got, err := s.AuditEntries(t.Context(), first, first+int64(len(es)))
			if err != nil || len(got) != len(es) {
				errs <- fmt.Errorf("caller %d: %d entries at %d, %v", g, len(got), first, err)
				return
			}
			for i, e := range got {
				if string(e.Data) != string(es[i]) {
					errs <- fmt.Errorf("caller %d: entry %d = %q, want %q", g, first+int64(i), e.Data, es[i])
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// A backend that panics fails the batch it was committing; the callers get
// an error, and the next batch commits.
func TestPanicFailsTheBatchOnly(t *testing.T) {
	s := openStore(t)
	var calls atomic.Int32
	c := groupcommit.New(func(ctx context.Context, fn func(store.Tx) error) error {
		if calls.Add(1) == 1 {
			panic("backend bug")
		}
		return s.Update(ctx, fn)
	})
	if _, err := c.Append(t.Context(), []byte("lost")); err == nil {
		t.Fatal("Append in a panicking commit succeeded")
	}
	rs := <-appendAll(c, entries("after", 3))
	checkAt(t, s, rs)
	if size, err := s.AuditSize(t.Context()); err != nil || size != 3 {
		t.Errorf("AuditSize = %d, %v; want 3", size, err)
	}
}

// The metrics are the counts: commits, the entries they held, failures.
func TestMetrics(t *testing.T) {
	s := openStore(t)
	fail := true
	c := groupcommit.New(func(ctx context.Context, fn func(store.Tx) error) error {
		if fail {
			fail = false
			return errors.New("refused")
		}
		return s.Update(ctx, fn)
	})
	if _, err := c.Append(t.Context(), []byte("lost")); err == nil {
		t.Fatal("first Append succeeded")
	}
	for range 2 {
		if _, err := c.Append(t.Context(), []byte("a"), []byte("b")); err != nil {
			t.Fatal(err)
		}
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		got[mf.GetName()] = mf.GetMetric()[0].GetCounter().GetValue()
	}
	want := map[string]float64{"tearline_audit_group_commits_total": 2, "tearline_audit_group_commit_entries_total": 4,
		"tearline_audit_group_commit_failures_total": 1}
	for name, v := range want {
		if got[name] != v {
			t.Errorf("%s = %v, want %v (all: %v)", name, got[name], v, got)
		}
	}
}

func ledgerEntry(object, party string) store.LedgerEntry {
	return store.LedgerEntry{ObjectID: object, Modified: "2026-01-01T00:00:00Z", Party: party, Agreement: "agreement--1",
		AgreementVersion: 1, Outcome: store.LedgerRelease, Labels: []string{"label-1"}, State: "pulled", By: "peer:" + party,
		At: time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)}
}

// refusingTx is a real backend's transaction whose AppendLedger refuses
// the party "refused", as a backend refuses a row it cannot store.
type refusingTx struct{ store.Tx }

var errRefusedRow = errors.New("row refused")

func (t refusingTx) AppendLedger(ctx context.Context, e store.LedgerEntry) (int64, error) {
	if e.Party == "refused" {
		return 0, errRefusedRow
	}
	return t.Tx.AppendLedger(ctx, e)
}

// A read's ledger entries are committed with its audit entries, in the
// shared transaction: after AppendWith returns, both are in the store.
func TestLedgerLandsWithItsEntries(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s store.Store) {
		c := groupcommit.New(s.Update)
		var wg sync.WaitGroup
		firsts := make([]int64, 12)
		for i := range firsts {
			wg.Go(func() {
				var err error
				firsts[i], err = c.AppendWith(t.Context(), []store.LedgerEntry{ledgerEntry(fmt.Sprintf("object-%d", i), "partner")},
					[]byte(fmt.Sprintf("pull %d", i)))
				if err != nil {
					t.Errorf("AppendWith %d: %v", i, err)
				}
			})
		}
		wg.Wait()
		for i, first := range firsts {
			got, err := s.AuditEntries(t.Context(), first, first+1)
			if err != nil || len(got) != 1 || string(got[0].Data) != fmt.Sprintf("pull %d", i) {
				t.Errorf("entry of pull %d at %d = %v, %v", i, first, got, err)
			}
			les, err := s.Ledger(t.Context(), store.LedgerQuery{ObjectID: fmt.Sprintf("object-%d", i)})
			if err != nil || len(les) != 1 || les[0].Party != "partner" {
				t.Errorf("ledger of object-%d = %+v, %v; want one entry for partner", i, les, err)
			}
		}
	})
}

// A ledger entry the backend refuses fails its own caller only: its entries
// and ledger rows are not kept, and the others in its batch commit without
// it, densely.
func TestRefusedLedgerFailsItsCallerAlone(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s store.Store) {
		hold := make(chan struct{})
		var calls atomic.Int32
		c := groupcommit.New(func(ctx context.Context, fn func(store.Tx) error) error {
			if calls.Add(1) == 1 {
				<-hold
			}
			return s.Update(ctx, func(tx store.Tx) error { return fn(refusingTx{tx}) })
		})
		first := appendAll(c, entries("first", 1))
		waitFor(t, "the first commit to start", func() bool { return calls.Load() == 1 })
		type res struct {
			first int64
			err   error
		}
		out := make([]res, 5)
		var wg sync.WaitGroup
		for i := range out {
			party := "partner"
			if i == 2 {
				party = "refused"
			}
			wg.Go(func() {
				f, err := c.AppendWith(t.Context(), []store.LedgerEntry{ledgerEntry(fmt.Sprintf("object-%d", i), party)},
					[]byte(fmt.Sprintf("pull %d", i)))
				out[i] = res{f, err}
			})
		}
		waitFor(t, "five pulls to wait", func() bool { return c.Waiting() == 5 })
		close(hold)
		wg.Wait()
		checkAt(t, s, <-first)
		for i, r := range out {
			les, err := s.Ledger(t.Context(), store.LedgerQuery{ObjectID: fmt.Sprintf("object-%d", i)})
			if err != nil {
				t.Fatal(err)
			}
			if i == 2 {
				if !errors.Is(r.err, errRefusedRow) || len(les) != 0 {
					t.Errorf("refused pull: err %v, %d ledger entries; want %v and none", r.err, len(les), errRefusedRow)
				}
				continue
			}
			if r.err != nil || len(les) != 1 {
				t.Errorf("pull %d: err %v, %d ledger entries; want none and one", i, r.err, len(les))
				continue
			}
			got, err := s.AuditEntries(t.Context(), r.first, r.first+1)
			if err != nil || len(got) != 1 || string(got[0].Data) != fmt.Sprintf("pull %d", i) {
				t.Errorf("entry of pull %d at %d = %v, %v", i, r.first, got, err)
			}
		}
		if size, err := s.AuditSize(t.Context()); err != nil || size != 5 {
			t.Errorf("AuditSize = %d, %v; want 5 (the first and four pulls, no gap)", size, err)
		}
		if st := c.Stats(); st.Commits != 2 || st.Entries != 5 || st.Failed != 0 {
			t.Errorf("Stats = %+v, want 2 commits of 5 entries", st)
		}
	})
}
