package sqlite_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/store/sqlite"
)

// TestWALStaysBounded writes far more than the checkpoint threshold in back
// to back transactions, as a sustained ingest does, and checks the WAL file
// is reused rather than grown without bound.
func TestWALStaysBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("writes ≈ 100 MB")
	}
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "tearline.db")
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var class int64
	if err := s.Update(ctx, func(tx store.Tx) error { var err error; class, err = tx.AccessClass(ctx, []string{"l"}); return err }); err != nil {
		t.Fatal(err)
	}
	raw := bytes.Repeat([]byte("x"), 1500)
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	const batches, perBatch = 60, 1000 // ≈ 90 MB of object rows
	var maxWAL int64
	for b := range batches {
		err := s.Update(ctx, func(tx store.Tx) error {
			for i := range perBatch {
				v := &store.ObjectVersion{ID: fmt.Sprintf("indicator--00000000-0000-4000-8000-%012d", b*perBatch+i), Type: "indicator",
					ModifiedAt: base, Modified: "2026-01-01T00:00:00Z", Digest: "d", Raw: raw, Bindings: []byte("[]"), Class: class}
				if _, err := tx.PutObject(ctx, v); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if fi, err := os.Stat(path + "-wal"); err == nil {
			maxWAL = max(maxWAL, fi.Size())
		}
	}
	// The threshold is 16 MiB; a transaction may overshoot it by its own size.
	if maxWAL > 40<<20 {
		t.Fatalf("WAL grew to %d MiB over ≈ 90 MB of writes: checkpoints are not letting it restart", maxWAL>>20)
	}
	t.Logf("largest WAL seen: %.1f MiB", float64(maxWAL)/(1<<20))
}
