package idindex

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/tearline/tearline/store/sqlite/internal/schema"
)

// The store's own tests (store/sqlite/ids_test.go) check the index through
// the store: merges at every state, two processes, point reads. These check
// the tail's bookkeeping and a merge against a bare database.

func row(id string, seq, modUS, inst int64) Row {
	return Row{ID: id, Entry: Entry{Seq: seq, ModUS: modUS, Class: 1, Inst: inst}}
}

func TestTailAddLookupForget(t *testing.T) {
	x := &Index{tail: map[string][]Entry{}, merged: 2, seen: 2}
	x.Add([]Row{row("a", 1, 10, 0), row("b", 3, 10, 0), row("a", 4, 20, 0), row("b", 3, 10, 0)})
	// seq 1 is at or below the watermark (merged since it was read); the
	// repeated seq 3 is one entry.
	if n := x.TailSize(); n != 2 {
		t.Fatalf("tail size %d, want 2", n)
	}
	got := x.Lookup([]string{"a", "b", "c"}, nil)
	want := []Row{row("a", 4, 20, 0), row("b", 3, 10, 0)}
	if !slices.Equal(got, want) {
		t.Fatalf("lookup %v, want %v", got, want)
	}
	es, seen := x.LookupOne("a")
	if seen != 4 || len(es) != 1 || es[0].Seq != 4 {
		t.Fatalf("lookup one: %v up to %d, want seq 4 up to 4", es, seen)
	}
	x.Forget([]Row{row("a", 4, 20, 0)})
	if n := x.TailSize(); n != 1 {
		t.Fatalf("tail size after forget %d, want 1", n)
	}
	if x.Has(row("a", 4, 20, 0)) || !x.Has(row("b", 3, 10, 0)) {
		t.Fatal("forget dropped the wrong id")
	}
}

func TestSnapshotOrderAndSetMerged(t *testing.T) {
	x := &Index{tail: map[string][]Entry{}}
	x.Add([]Row{row("b", 5, 10, 0), row("a", 6, 30, 0), row("a", 7, 20, 1), row("a", 8, 20, 0)})
	rows, upTo := x.Snapshot()
	want := []Row{row("a", 8, 20, 0), row("a", 6, 30, 0), row("a", 7, 20, 1), row("b", 5, 10, 0)}
	if !slices.Equal(rows, want) || upTo != 8 {
		t.Fatalf("snapshot %v up to %d, want %v up to 8", rows, upTo, want)
	}
	x.SetMerged(6)
	if n := x.TailSize(); n != 2 {
		t.Fatalf("tail size after merge to 6: %d, want 2", n)
	}
	if got := x.Lookup([]string{"a", "b"}, nil); !slices.Equal(got, []Row{row("a", 7, 20, 1), row("a", 8, 20, 0)}) {
		t.Fatalf("after merge to 6: %v", got)
	}
	// The watermark never moves back.
	x.SetMerged(3)
	if x.merged != 6 {
		t.Fatalf("watermark %d after SetMerged(3), want 6", x.merged)
	}
}

func TestMergeAtBounds(t *testing.T) {
	x := &Index{tail: map[string][]Entry{}}
	x.SetMinMerge(40)
	for _, c := range []struct{ merged, want int64 }{{0, 40}, {800, 100}, {1 << 30, 1 << 20}} {
		x.merged = c.merged
		if got := x.MergeAt(); int64(got) != c.want {
			t.Errorf("merged %d: merge at %d, want %d", c.merged, got, c.want)
		}
	}
}

func TestSeqList(t *testing.T) {
	if _, ok := SeqList(nil); ok {
		t.Fatal("an empty list reported as some")
	}
	got, ok := SeqList([]Row{row("a", 9, 0, 0), row("b", 2, 0, 0), row("a", 9, 0, 0)})
	if !ok || got != "2,9" {
		t.Fatalf("seq list %q %v, want \"2,9\" true", got, ok)
	}
}

// TestMergeWritesTailToTable merges a tail of more than one chunk into
// object_ids of a migrated database: the rows are found there afterwards,
// the tail is empty, and a new Index loads the moved watermark.
func TestMergeWritesTailToTable(t *testing.T) {
	ctx := t.Context()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "ids.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if err := schema.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	x := &Index{}
	if err := x.Load(ctx, db); err != nil {
		t.Fatal(err)
	}
	var rows []Row
	var ids []string
	for i := range mergeChunk + 10 {
		id := fmt.Sprintf("indicator--%08d", i)
		ids = append(ids, id)
		rows = append(rows, row(id, int64(i+1), 100, 0))
	}
	x.Add(rows)
	x.Forget(rows[:1]) // purged before the merge: not written
	writes := 0
	write := func(ctx context.Context, fn func(*sql.Tx) error) error {
		writes++
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		if err := fn(tx); err != nil {
			return err
		}
		return tx.Commit()
	}
	if err := x.Merge(ctx, write); err != nil {
		t.Fatal(err)
	}
	if writes != 3 {
		t.Errorf("%d transactions, want 3 (two chunks and the watermark)", writes)
	}
	if n := x.TailSize(); n != 0 {
		t.Errorf("tail holds %d after the merge", n)
	}
	got, err := Indexed(ctx, db, ids, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(ids)-1 {
		t.Fatalf("object_ids holds %d of the %d merged rows", len(got), len(ids)-1)
	}
	slices.SortFunc(got, func(a, b Row) int { return int(a.Seq - b.Seq) })
	if !slices.Equal(got, rows[1:]) {
		t.Fatal("object_ids rows differ from the tail's")
	}
	y := &Index{}
	if err := y.Load(ctx, db); err != nil {
		t.Fatal(err)
	}
	if y.merged != int64(len(ids)) {
		t.Fatalf("watermark %d after the merge, want %d", y.merged, len(ids))
	}
}
