package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Finding an object's versions by id.
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
// When the tail grows past mergeAt, it is merged into object_ids in id
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
// (catchUp): a write transaction holds the write lock while it catches up,
// so it cannot miss a version another process stored.
type idIndex struct {
	// catching is held by a catch-up: at start-up, after a crash, the first
	// lookups would otherwise all read the same rows back at once.
	catching sync.Mutex
	mu       sync.RWMutex
	tail     map[string][]idEntry
	size     int // entries in tail
	// seen is the highest seq known: every committed row with a seq up to
	// seen is in the tail or in object_ids.
	seen int64
	// caughtAt is when the last catch-up started (UnixNano; 0: never).
	caughtAt atomic.Int64
	// merged is the watermark as this process last wrote or read it.
	merged int64
	// minMerge is the smallest tail that starts a merge (mergeAt); tests
	// lower it.
	minMerge int64
	// storedHere is set once this process has stored a version: only such
	// a process merges when it closes. A command that opens the store
	// beside a running node (tearline purge) leaves the merging to it.
	storedHere bool
}

// idEntry is one version in the tail.
type idEntry struct {
	seq, modUS, class, inst int64
}

// idRow is one version with its id: a row of object_ids.
type idRow struct {
	id string
	idEntry
}

// load reads the watermark. The first lookup's catchUp rebuilds the tail
// from the rows above it: a command that opens the store and looks up no
// id (tearline user add beside a running node) does not read them.
func (x *idIndex) load(ctx context.Context, q querier) error {
	if err := q.QueryRowContext(ctx, `SELECT merged FROM object_ids_merged`).Scan(&x.merged); err != nil {
		return fmt.Errorf("id index watermark: %w", err)
	}
	x.tail = map[string][]idEntry{}
	x.seen = x.merged
	x.minMerge = 1 << 17
	return nil
}

// catchUpEvery is how often reads by id catch the tail up (pointVersions):
// another process's rows stored since are found by a range of seqs, which
// this keeps short.
const catchUpEvery = time.Second

// catchUpDue reports whether a read by id should catch the tail up first.
func (x *idIndex) catchUpDue() bool {
	return time.Since(time.Unix(0, x.caughtAt.Load())) >= catchUpEvery
}

// lookupOne returns the tail's entries for id and the seq up to which the
// tail and object_ids hold every committed row, read together.
func (x *idIndex) lookupOne(id string) ([]idEntry, int64) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return slices.Clone(x.tail[id]), x.seen
}

// catchUp reads the rows stored since seen into the tail.
func (x *idIndex) catchUp(ctx context.Context, q querier) (err error) {
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
	var add []idRow
	for rows.Next() {
		var r idRow
		if err := rows.Scan(&r.seq, &r.id, &r.modUS, &r.class, &r.inst); err != nil {
			return fmt.Errorf("id index: rows after %d: %w", after, err)
		}
		add = append(add, r)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("id index: rows after %d: %w", after, err)
	}
	if len(add) > 0 {
		x.add(add)
	}
	return nil
}

// add puts committed rows into the tail; a row already there is skipped.
func (x *idIndex) add(rs []idRow) {
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, r := range rs {
		if r.seq <= x.merged {
			continue // merged by another process since it was read
		}
		if !slices.ContainsFunc(x.tail[r.id], func(e idEntry) bool { return e.seq == r.seq }) {
			x.tail[r.id] = append(x.tail[r.id], r.idEntry)
			x.size++
		}
		x.seen = max(x.seen, r.seq)
	}
}

// stored records that this process stored versions.
func (x *idIndex) stored() {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.storedHere = true
}

// mergesOnClose reports whether this process stored versions.
func (x *idIndex) mergesOnClose() bool {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.storedHere
}

// forget drops purged ids from the tail.
func (x *idIndex) forget(ids []string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, id := range ids {
		x.size -= len(x.tail[id])
		delete(x.tail, id)
	}
}

// lookup appends the tail's versions of ids to out.
func (x *idIndex) lookup(ids []string, out []idRow) []idRow {
	x.mu.RLock()
	defer x.mu.RUnlock()
	for _, id := range ids {
		for _, e := range x.tail[id] {
			out = append(out, idRow{id, e})
		}
	}
	return out
}

func (x *idIndex) tailSize() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.size
}

// mergeAt is the tail size at which a merge starts: an eighth of the
// objects merged, so that a merge, which rewrites the whole index, costs
// each object about the same at any size; at least 128Ki entries (about
// 17 MiB of memory, 134 bytes an entry), at most 1Mi (about 140 MiB, at 8M
// objects and more).
func (x *idIndex) mergeAt() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return int(min(max(x.merged/8, x.minMerge), 1<<20))
}

// snapshot returns the tail's entries sorted by id and version, and the
// seq they reach: every row up to it is among them or already merged.
func (x *idIndex) snapshot() ([]idRow, int64) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	out := make([]idRow, 0, x.size)
	for id, es := range x.tail {
		for _, e := range es {
			out = append(out, idRow{id, e})
		}
	}
	slices.SortFunc(out, func(a, b idRow) int {
		return cmp.Or(strings.Compare(a.id, b.id), cmp.Compare(a.inst, b.inst), cmp.Compare(a.modUS, b.modUS))
	})
	return out, x.seen
}

// has reports whether the tail still holds r (a purge drops its id).
func (x *idIndex) has(r idRow) bool {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return slices.Contains(x.tail[r.id], r.idEntry)
}

// setMerged moves the watermark to upTo and drops the entries it covers.
func (x *idIndex) setMerged(upTo int64) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.merged = max(x.merged, upTo)
	for id, es := range x.tail {
		keep := es[:0]
		for _, e := range es {
			if e.seq > x.merged {
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

// indexedRows returns the versions of ids in object_ids.
func indexedRows(ctx context.Context, q querier, ids []string, out []idRow) ([]idRow, error) {
	for start := 0; start < len(ids); start += manyIDs {
		part := ids[start:min(start+manyIDs, len(ids))]
		in, args := placeholders(part)
		rows, err := q.QueryContext(ctx, `SELECT id, seq, modified_us, class, instance FROM object_ids WHERE id IN (`+in+`)`, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var r idRow
			if err := rows.Scan(&r.id, &r.seq, &r.modUS, &r.class, &r.inst); err != nil {
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

// seqList returns the distinct seqs of rs as an SQL list of integer
// literals (formatted here, so nothing is bound), and whether there is any.
func seqList(rs []idRow) (string, bool) {
	seqs := make([]int64, len(rs))
	for i, r := range rs {
		seqs[i] = r.seq
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

// idRowsPerInsert bounds the rows of one INSERT into object_ids (5 values
// each, under SQLite's limit on host parameters).
const idRowsPerInsert = 256

// insertIDRows writes rs into object_ids; rows already there stay.
func insertIDRows(ctx context.Context, q querier, rs []idRow) error {
	for start := 0; start < len(rs); start += idRowsPerInsert {
		part := rs[start:min(start+idRowsPerInsert, len(rs))]
		args := make([]any, 0, 5*len(part))
		for _, r := range part {
			args = append(args, r.id, r.inst, r.modUS, r.seq, r.class)
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

// merges runs the id index's merges in the background, so that the ingest
// whose commit filled the tail does not wait for the merge.
func (s *Store) merges() {
	defer close(s.mergeStopped)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-s.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	for {
		select {
		case <-s.stop:
			return
		case <-s.mergeWake:
		}
		// A failed merge leaves the tail as it was; the next commit that
		// finds it large wakes another.
		start := time.Now()
		err := s.mergeIDs(ctx)
		s.merging.record(time.Since(start), err)
		if err != nil && ctx.Err() == nil {
			slog.Warn("sqlite: merge id index", "err", err)
		}
	}
}

// mergeIDs writes the tail into object_ids in id order, then moves the
// watermark past it and empties it.
func (s *Store) mergeIDs(ctx context.Context) error {
	rows, upTo := s.ids.snapshot()
	if len(rows) == 0 {
		return nil
	}
	for start := 0; start < len(rows); start += mergeChunk {
		part := rows[start:min(start+mergeChunk, len(rows))]
		err := s.write(ctx, func(t *sql.Tx) error {
			// A purge since the snapshot took its id out of the tail
			// (under s.mu, like this).
			live := make([]idRow, 0, len(part))
			for _, r := range part {
				if s.ids.has(r) {
					live = append(live, r)
				}
			}
			return insertIDRows(ctx, t, live)
		})
		if err != nil {
			return fmt.Errorf("merge id index: %w", err)
		}
	}
	err := s.write(ctx, func(t *sql.Tx) error {
		_, err := t.ExecContext(ctx, `UPDATE object_ids_merged SET merged = max(merged, ?)`, upTo)
		return err
	})
	if err != nil {
		return fmt.Errorf("merge id index: watermark %d: %w", upTo, err)
	}
	s.ids.setMerged(upTo)
	return nil
}
