// Package groupcommit appends the audit entries of concurrent callers in one
// shared write transaction (group commit), for every backend alike.
//
// A read is answered only once its audit entry is durable, and a durable
// commit costs a sync to disk (SQLite's fsync of the WAL, PostgreSQL's WAL
// flush) whatever it holds. One commit per read makes that sync the ceiling
// on reads per second however many readers there are. Here a caller's
// entries join the batch that is filling; one goroutine commits batches one
// after another, and while one commits the next fills, so under load a
// commit carries the entries of every reader that arrived during the one
// before it, and with one reader nothing waits for company (no timer).
package groupcommit

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tearline/tearline/store"
)

// commitTimeout bounds one shared commit. The transaction belongs to no
// single caller, so no caller's context may cancel it; a caller that stops
// waiting gets its own context's error while the batch goes on.
const commitTimeout = time.Minute

// Update is a backend's Update.
type Update func(ctx context.Context, fn func(store.Tx) error) error

// Committer batches appends. The zero value is not usable; use New.
type Committer struct {
	update Update

	mu      sync.Mutex
	filling *batch // the batch new entries join; nil when none
	waiting int    // entries in filling
	running bool   // the committing goroutine is running
	stats   Stats
}

// Stats counts what a Committer did, for metrics.
type Stats struct {
	Commits int64 // shared transactions committed
	Entries int64 // entries they held
	Failed  int64 // shared transactions that failed
}

type batch struct {
	calls []*call
	done  chan struct{} // closed once the batch committed or failed
	err   error         // the shared transaction's error
}

// call is one caller's part of a batch.
type call struct {
	entries [][]byte
	ledger  []store.LedgerEntry
	first   int64 // index of entries[0], once committed
	err     error // this caller's own error (its ledger rows), set before done closes
}

// callError is an error of one caller's own rows: that caller fails, and
// the batch is committed again without it.
type callError struct {
	c   *call
	err error
}

func (e *callError) Error() string { return e.err.Error() }

// New returns a Committer that commits through update.
func New(update Update) *Committer { return &Committer{update: update} }

// Append appends entries, in order and contiguously, in a write transaction
// shared with concurrent callers, and returns the index of the first once
// that transaction has committed. If the shared transaction fails, every
// caller in it gets the error and none of their entries is in the log. A
// caller whose ctx ends before the commit gets ctx's error; its entries may
// still be committed (audited, never the reverse: answered without them).
func (c *Committer) Append(ctx context.Context, entries ...[]byte) (int64, error) {
	return c.AppendWith(ctx, nil, entries...)
}

// AppendWith is Append for a read that disseminated: ledger is appended
// in the same shared transaction, before entries, so what went to a party
// is on record exactly when the read is. A ledger entry the backend
// refuses fails its caller alone: the batch is committed again without it.
func (c *Committer) AppendWith(ctx context.Context, ledger []store.LedgerEntry, entries ...[]byte) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("append audit: %w", err)
	}
	me := &call{entries: entries, ledger: ledger}
	c.mu.Lock()
	b := c.filling
	if b == nil {
		b = &batch{done: make(chan struct{})}
		c.filling = b
	}
	b.calls = append(b.calls, me)
	c.waiting += len(entries)
	if !c.running {
		c.running = true
		go c.commitAll()
	}
	c.mu.Unlock()
	select {
	case <-b.done:
		switch {
		case me.err != nil:
			return 0, me.err
		case b.err != nil:
			return 0, b.err
		}
		return me.first, nil
	case <-ctx.Done():
		return 0, fmt.Errorf("append audit: waiting for the shared commit: %w", context.Cause(ctx))
	}
}

// Waiting returns how many entries are in the batch that is filling: they
// wait for the commit that runs now to end.
func (c *Committer) Waiting() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.waiting
}

// Stats returns the counts so far.
func (c *Committer) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stats
}

// commitAll commits batches until none is filling, then stops; the next
// Append starts it again.
func (c *Committer) commitAll() {
	for {
		c.mu.Lock()
		b := c.filling
		c.filling, c.waiting = nil, 0
		if b == nil {
			c.running = false
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()
		n := c.commitBatch(b)
		c.mu.Lock()
		if b.err != nil {
			c.stats.Failed++
		} else if n > 0 {
			c.stats.Commits++
			c.stats.Entries += int64(n)
		}
		c.mu.Unlock()
		close(b.done)
	}
}

// commitBatch commits b's callers, again without any caller whose own rows
// were refused, and returns how many entries it committed.
func (c *Committer) commitBatch(b *batch) int {
	live := b.calls
	for len(live) > 0 {
		n, err := c.commit(live)
		var ce *callError
		if !errors.As(err, &ce) {
			b.err = err
			return n
		}
		ce.c.err = fmt.Errorf("append audit: %w", ce.err)
		live = slices.DeleteFunc(live, func(x *call) bool { return x == ce.c })
	}
	return 0
}

func (c *Committer) commit(calls []*call) (n int, err error) {
	var all [][]byte
	if len(calls) == 1 {
		all = calls[0].entries
	} else {
		for _, x := range calls {
			n += len(x.entries)
		}
		all = make([][]byte, 0, n)
		for _, x := range calls {
			all = append(all, x.entries...)
		}
	}
	n = len(all)
	// A panic in the backend fails this batch, not the process's audit
	// log: the committing goroutine carries on with the next batch, and
	// no waiter is left waiting for a commit that will never end.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("append audit: shared commit of %d entries panicked: %v", n, r)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), commitTimeout)
	defer cancel()
	var first int64
	if uerr := c.update(ctx, func(tx store.Tx) error {
		for _, x := range calls {
			for _, e := range x.ledger {
				if _, err := tx.AppendLedger(ctx, e); err != nil {
					return &callError{x, fmt.Errorf("ledger entry for %s to %s: %w", e.ObjectID, e.Party, err)}
				}
			}
		}
		var err error
		first, err = tx.AppendAudit(ctx, all...)
		return err
	}); uerr != nil {
		var ce *callError
		if errors.As(uerr, &ce) {
			return 0, ce
		}
		return n, fmt.Errorf("append audit: shared commit of %d entries: %w", n, uerr)
	}
	for _, x := range calls {
		x.first = first
		first += int64(len(x.entries))
	}
	return n, nil
}

var (
	commitsDesc = prometheus.NewDesc("tearline_audit_group_commits_total",
		"Shared transactions that committed the audit entries of concurrent reads (group commit).", nil, nil)
	entriesDesc = prometheus.NewDesc("tearline_audit_group_commit_entries_total",
		"Audit entries committed by group commits; divided by the commits, the entries per durable sync.", nil, nil)
	failedDesc = prometheus.NewDesc("tearline_audit_group_commit_failures_total",
		"Group commits that failed: every read in them failed too.", nil, nil)
)

// Describe implements prometheus.Collector.
func (c *Committer) Describe(ch chan<- *prometheus.Desc) {
	ch <- commitsDesc
	ch <- entriesDesc
	ch <- failedDesc
}

// Collect implements prometheus.Collector.
func (c *Committer) Collect(ch chan<- prometheus.Metric) {
	s := c.Stats()
	ch <- prometheus.MustNewConstMetric(commitsDesc, prometheus.CounterValue, float64(s.Commits))
	ch <- prometheus.MustNewConstMetric(entriesDesc, prometheus.CounterValue, float64(s.Entries))
	ch <- prometheus.MustNewConstMetric(failedDesc, prometheus.CounterValue, float64(s.Failed))
}
