package sqlite

import (
	"context"
	"log/slog"
	"time"
)

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
		err := s.ids.Merge(ctx, s.write)
		s.merging.record(time.Since(start), err)
		if err != nil && ctx.Err() == nil {
			slog.Warn("sqlite: merge id index", "err", err)
		}
	}
}
