package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/tearline/tearline/store"
)

// BenchmarkVersions reads one object by id among 5,000 (Versions, the
// store's half of a read by id), from the readers' pool: warm, with the
// pages in the readers' caches, and after a commit, as under concurrent
// reads, when every reader connection has dropped its page cache
// (BENCHMARKS.md, "Reads under load"); the commit itself is not timed.
// It reports the process's CPU per read too (cpu-µs/op): on a shared
// machine the wall time per read mostly measures the other tenants.
func BenchmarkVersions(b *testing.B) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	class := benchClass(b, s, "label-a")
	const n = 5000
	for call := range n / 1000 {
		vs := make([]store.ObjectVersion, 1000)
		for i := range vs {
			vs[i] = benchObject(call*1000+i, class)
		}
		putBatch(b, s, vs, call, false)
	}
	id := func(i int) string {
		return fmt.Sprintf("indicator--%08x-0000-4000-8000-%012x", (i/1000)%(n/1000), i%1000)
	}
	for _, cold := range []bool{false, true} {
		name := "warm"
		if cold {
			name = "after-commit"
		}
		b.Run(name, func(b *testing.B) {
			var cpu time.Duration
			for i := 0; b.Loop(); i++ {
				if cold {
					b.StopTimer()
					if _, err := s.CommitAudit(ctx, []byte(`{"bench":true}`)); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
				}
				t0 := processCPU()
				vs, err := s.Versions(ctx, id(i*7919))
				if err != nil || len(vs) != 1 {
					b.Fatalf("Versions = %d, %v", len(vs), err)
				}
				cpu += processCPU() - t0
			}
			b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/op")
		})
	}
}

// processCPU is the CPU the process has used (user and system).
func processCPU() time.Duration {
	var r syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &r); err != nil {
		return 0
	}
	return time.Duration(r.Utime.Nano() + r.Stime.Nano())
}
