// Package idindex is the SQLite store's index from object ids to the rows of
// their versions.
//
// STIX ids are random UUIDs, so an on-disk index on them takes each new
// object at a random place. Once the index has many more leaves than a batch
// has objects, every object dirties a leaf of its own, which is written to
// the WAL at the commit and to the file again at the checkpoint: at 2M
// objects that was two thirds of the bytes an ingest wrote, and the ingest
// rate halved (docs/SCALE.md). So the index has two parts:
//
//   - object_ids, on disk: (id, instance, modified_us) → seq and class, for every row
//     with seq ≤ the watermark in object_ids_merged;
//   - the tail, in memory: the rows with a higher seq, rebuilt from the
//     table by the first lookup after the store opens.
//
// When the tail grows past MergeAt, it is merged into object_ids in id
// order, a chunk per transaction: the merge writes each leaf of the index
// once for many objects. Then the watermark moves and the tail is emptied.
//
// Every version of an object with more than one version is in object_ids
// at once (PutObjects writes them there), whatever the watermark: the
// listing's "no newer visible version" test runs inside SQL and reads
// object_ids only.
//
// Tail entries may be stale: another process (tearline purge) may have
// deleted the row. Seqs are never reused (AUTOINCREMENT), and every read
// by id fetches rows by seq and by id, so a stale entry finds nothing.
// Another process's new rows are read into the tail before any lookup
// (CatchUp): a write transaction holds the write lock while it catches up,
// so it cannot miss a version another process stored.
//
// The store (package sqlite) holds one Index, catches it up and looks ids
// up in it, tells it what its transactions stored and purged after they
// commit, and runs Merge in the background.
package idindex

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Querier is what *sql.DB, *sql.Tx and the store's transaction share.
type Querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Index is the id index: object_ids, read through a Querier, and the tail.
type Index struct {
	// catching is held by a catch-up: at start-up, after a crash, the first
	// lookups would otherwise all read the same rows back at once.
	catching sync.Mutex
	mu       sync.RWMutex
	tail     map[string][]Entry
	size     int // entries in tail
	// seen is the highest seq known: every committed row with a seq up to
	// seen is in the tail or in object_ids.
	seen int64
	// caughtAt is when the last catch-up started (UnixNano; 0: never).
	caughtAt atomic.Int64
	// merged is the watermark as this process last wrote or read it.
	merged int64
	// minMerge is the smallest tail that starts a merge (MergeAt); tests
	// lower it (SetMinMerge).
	minMerge int64
	// storedHere is set once this process has stored a version: only such
	// a process merges when it closes. A command that opens the store
	// beside a running node (tearline purge) leaves the merging to it.
	storedHere bool
}

// Entry is one version in the tail.
type Entry struct {
	Seq, ModUS, Class, Inst int64
}

// Row is one version with its id: a row of object_ids.
type Row struct {
	ID string
	Entry
}

// Load reads the watermark. The first lookup's CatchUp rebuilds the tail
// from the rows above it: a command that opens the store and looks up no
// id (tearline user add beside a running node) does not read them.
func (x *Index) Load(ctx context.Context, q Querier) error {
	if err := q.QueryRowContext(ctx, `SELECT merged FROM object_ids_merged`).Scan(&x.merged); err != nil {
		return fmt.Errorf("id index watermark: %w", err)
	}
	x.tail = map[string][]Entry{}
	x.seen = x.merged
	x.minMerge = 1 << 17
	return nil
}

// catchUpEvery is how often reads by id catch the tail up (the store's
// point reads): another process's rows stored since are found by a range
// of seqs, which this keeps short.
const catchUpEvery = time.Second

// CatchUpDue reports whether a read by id should catch the tail up first.
func (x *Index) CatchUpDue() bool {
	return time.Since(time.Unix(0, x.caughtAt.Load())) >= catchUpEvery
}

// LookupOne returns the tail's entries for id and the seq up to which the
// tail and object_ids hold every committed row, read together.
func (x *Index) LookupOne(id string) ([]Entry, int64) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return slices.Clone(x.tail[id]), x.seen
}

// CatchUp reads the rows stored since seen into the tail.
func (x *Index) CatchUp(ctx context.Context, q Querier) (err error) {
	x.catching.Lock()
	defer x.catching.Unlock()
	start := time.Now()
	defer func() {
		if err == nil {
			x.caughtAt.Store(start.UnixNano())
		}
	}()
	x.mu.RLock()
	after := x.seen
	x.mu.RUnlock()
	rows, err := q.QueryContext(ctx, `SELECT seq, id, modified_us, class, instance FROM objects WHERE seq > ? ORDER BY seq`, after)
	if err != nil {
		return fmt.Errorf("id index: rows after %d: %w", after, err)
	}
	defer rows.Close()
	var add []Row
	for rows.Next() {
		var r Row
		if err := rows.Scan(&r.Seq, &r.ID, &r.ModUS, &r.Class, &r.Inst); err != nil {
			return fmt.Errorf("id index: rows after %d: %w", after, err)
		}
		add = append(add, r)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("id index: rows after %d: %w", after, err)
	}
	if len(add) > 0 {
		x.Add(add)
	}
	return nil
}

// Add puts committed rows into the tail; a row already there is skipped.
func (x *Index) Add(rs []Row) {
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, r := range rs {
		if r.Seq <= x.merged {
			continue // merged by another process since it was read
		}
		if !slices.ContainsFunc(x.tail[r.ID], func(e Entry) bool { return e.Seq == r.Seq }) {
			x.tail[r.ID] = append(x.tail[r.ID], r.Entry)
			x.size++
		}
		x.seen = max(x.seen, r.Seq)
	}
}

// Stored records that this process stored versions.
func (x *Index) Stored() {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.storedHere = true
}

// MergesOnClose reports whether this process stored versions.
func (x *Index) MergesOnClose() bool {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.storedHere
}

// Forget drops purged versions from the tail (by seq: a purge may leave
// other versions, and instances, of the id).
func (x *Index) Forget(rs []Row) {
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, r := range rs {
		es := x.tail[r.ID]
		keep := slices.DeleteFunc(es, func(e Entry) bool { return e.Seq == r.Seq })
		x.size -= len(es) - len(keep)
		if len(keep) == 0 {
			delete(x.tail, r.ID)
		} else {
			x.tail[r.ID] = keep
		}
	}
}

// Lookup appends the tail's versions of ids to out.
func (x *Index) Lookup(ids []string, out []Row) []Row {
	x.mu.RLock()
	defer x.mu.RUnlock()
	for _, id := range ids {
		for _, e := range x.tail[id] {
			out = append(out, Row{id, e})
		}
	}
	return out
}

// TailSize is the number of entries in the tail.
func (x *Index) TailSize() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.size
}

// SetMinMerge sets the smallest tail that starts a merge: tests lower it
// to see merges of a few objects.
func (x *Index) SetMinMerge(n int64) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.minMerge = n
}

// MergeAt is the tail size at which a merge starts: an eighth of the
// objects merged, so that a merge, which rewrites the whole index, costs
// each object about the same at any size; at least 128Ki entries (about
// 17 MiB of memory, 134 bytes an entry), at most 1Mi (about 140 MiB, at 8M
// objects and more).
func (x *Index) MergeAt() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return int(min(max(x.merged/8, x.minMerge), 1<<20))
}

// Snapshot returns the tail's entries sorted by id and version, and the
// seq they reach: every row up to it is among them or already merged.
func (x *Index) Snapshot() ([]Row, int64) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	out := make([]Row, 0, x.size)
	for id, es := range x.tail {
		for _, e := range es {
			out = append(out, Row{id, e})
		}
	}
	slices.SortFunc(out, func(a, b Row) int {
		return cmp.Or(strings.Compare(a.ID, b.ID), cmp.Compare(a.Inst, b.Inst), cmp.Compare(a.ModUS, b.ModUS))
	})
	return out, x.seen
}

// Has reports whether the tail still holds r (a purge drops it).
func (x *Index) Has(r Row) bool {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return slices.Contains(x.tail[r.ID], r.Entry)
}

// SetMerged moves the watermark to upTo and drops the entries it covers.
func (x *Index) SetMerged(upTo int64) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.merged = max(x.merged, upTo)
	for id, es := range x.tail {
		keep := es[:0]
		for _, e := range es {
			if e.Seq > x.merged {
				keep = append(keep, e)
			}
		}
		x.size -= len(es) - len(keep)
		if len(keep) == 0 {
			delete(x.tail, id)
		} else {
			x.tail[id] = keep
		}
	}
}

// perStatement bounds the ids bound in one statement, well under SQLite's
// limit on host parameters.
const perStatement = 500

func placeholders(ids []string) (string, []any) {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return strings.TrimSuffix(strings.Repeat("?,", len(ids)), ","), args
}

// Indexed returns the versions of ids in object_ids.
func Indexed(ctx context.Context, q Querier, ids []string, out []Row) ([]Row, error) {
	for start := 0; start < len(ids); start += perStatement {
		part := ids[start:min(start+perStatement, len(ids))]
		in, args := placeholders(part)
		rows, err := q.QueryContext(ctx, `SELECT id, seq, modified_us, class, instance FROM object_ids WHERE id IN (`+in+`)`, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var r Row
			if err := rows.Scan(&r.ID, &r.Seq, &r.ModUS, &r.Class, &r.Inst); err != nil {
				rows.Close()
				return nil, err
			}
			out = append(out, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// SeqList returns the distinct seqs of rs as an SQL list of integer
// literals (formatted here, so nothing is bound), and whether there is any.
func SeqList(rs []Row) (string, bool) {
	seqs := make([]int64, len(rs))
	for i, r := range rs {
		seqs[i] = r.Seq
	}
	slices.Sort(seqs)
	seqs = slices.Compact(seqs)
	var b strings.Builder
	for i, s := range seqs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(s, 10))
	}
	return b.String(), len(seqs) > 0
}

// rowsPerInsert bounds the rows of one INSERT into object_ids (5 values
// each, under SQLite's limit on host parameters).
const rowsPerInsert = 256

// InsertRows writes rs into object_ids; rows already there stay.
func InsertRows(ctx context.Context, q Querier, rs []Row) error {
	for start := 0; start < len(rs); start += rowsPerInsert {
		part := rs[start:min(start+rowsPerInsert, len(rs))]
		args := make([]any, 0, 5*len(part))
		for _, r := range part {
			args = append(args, r.ID, r.Inst, r.ModUS, r.Seq, r.Class)
		}
		if _, err := q.ExecContext(ctx, `INSERT OR IGNORE INTO object_ids (id, instance, modified_us, seq, class) VALUES (?,?,?,?,?)`+
			strings.Repeat(",(?,?,?,?,?)", len(part)-1), args...); err != nil {
			return fmt.Errorf("index %d ids: %w", len(part), err)
		}
	}
	return nil
}

// mergeChunk is the rows merged per transaction: an ingest waits for one
// chunk at most, not for the whole merge.
const mergeChunk = 8192

// Merge writes the tail into object_ids in id order, then moves the
// watermark past it and empties it. Each write runs in a transaction of
// its own under the store's write lock (a purge takes ids out of the tail
// under the same lock).
func (x *Index) Merge(ctx context.Context, write func(context.Context, func(*sql.Tx) error) error) error {
	rows, upTo := x.Snapshot()
	if len(rows) == 0 {
		return nil
	}
	for start := 0; start < len(rows); start += mergeChunk {
		part := rows[start:min(start+mergeChunk, len(rows))]
		err := write(ctx, func(t *sql.Tx) error {
			// A purge since the snapshot took its rows out of the tail.
			live := make([]Row, 0, len(part))
			for _, r := range part {
				if x.Has(r) {
					live = append(live, r)
				}
			}
			return InsertRows(ctx, t, live)
		})
		if err != nil {
			return fmt.Errorf("merge id index: %w", err)
		}
	}
	err := write(ctx, func(t *sql.Tx) error {
		_, err := t.ExecContext(ctx, `UPDATE object_ids_merged SET merged = max(merged, ?)`, upTo)
		return err
	})
	if err != nil {
		return fmt.Errorf("merge id index: watermark %d: %w", upTo, err)
	}
	x.SetMerged(upTo)
	return nil
}
