package audit_test

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/store"
)

// ingestBatch is the entries per transaction ingest uses (node.ingestChunk).
const ingestBatch = 1024

// BenchmarkAuditAppend measures durable appends: a real SQLite file with
// synchronous FULL, ingestBatch leaves and their tree hashes per commit.
func BenchmarkAuditAppend(b *testing.B) {
	l := newTestLog(b, sqliteBackend)
	batch := make([][]byte, ingestBatch)
	for i := range batch {
		batch[i] = leaf(b, int64(i), "")
	}
	ctx := context.Background()
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		if err := l.st.Update(ctx, func(tx store.Tx) error {
			_, err := tx.AppendAudit(ctx, batch...)
			return err
		}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*ingestBatch)/time.Since(start).Seconds(), "appends/s")
}

// bigLogSize is the tree built once for the proof and verify benchmarks;
// TEARLINE_BENCH_AUDIT_SIZE overrides it (e.g. 10000000).
func bigLogSize() int {
	if n, err := strconv.Atoi(os.Getenv("TEARLINE_BENCH_AUDIT_SIZE")); err == nil && n > 0 {
		return n
	}
	return 1 << 20
}

func buildBig(b *testing.B) *testLog {
	b.Helper()
	l := newTestLog(b, sqliteBackend)
	l.appendN(b, bigLogSize(), ingestBatch, "")
	l.checkpoint(b)
	return l
}

func BenchmarkAuditInclusionProof(b *testing.B) {
	l := buildBig(b)
	ctx := context.Background()
	size := int64(bigLogSize())
	b.ResetTimer()
	i := int64(0)
	for b.Loop() {
		if _, err := audit.InclusionProof(ctx, l.st, (i*7919)%size, size); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkAuditVerify(b *testing.B) {
	l := buildBig(b)
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		r, err := audit.Verify(ctx, l.st, l.v)
		if err != nil || r.Size != int64(bigLogSize()) {
			b.Fatal(r.Size, err)
		}
	}
}
