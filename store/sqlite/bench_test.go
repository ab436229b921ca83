package sqlite

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tearline/tearline/store"
)

// benchObject returns object n: an indicator of about 1.5 KB.
func benchObject(n int, class int64) store.ObjectVersion {
	id := fmt.Sprintf("indicator--%08x-0000-4000-8000-%012x", n>>16, n)
	mod := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC).Add(time.Duration(n) * time.Millisecond)
	modified := mod.Format("2006-01-02T15:04:05.000Z")
	raw := fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":%q,"created":%q,"modified":%q,`+
		`"name":"Benchmark indicator %d","description":%q,"indicator_types":["malicious-activity"],`+
		`"pattern":"[ipv4-addr:value = '198.51.100.%d']","pattern_type":"stix","valid_from":%q}`,
		id, modified, modified, n, strings.Repeat("Observed beaconing to known C2 infrastructure. ", 26), n%256, modified)
	sum := sha256.Sum256([]byte(raw))
	return store.ObjectVersion{
		ID: id, Type: "indicator", Modified: modified, ModifiedAt: mod, Created: modified,
		Digest: hex.EncodeToString(sum[:]), Raw: []byte(raw),
		Bindings: []byte(`[{"type":"binding","sig":"` + strings.Repeat("ab", 64) + `"}]`),
		Class:    class, DateAdded: mod, Originator: "node-a",
	}
}

// putBatch stores batch in one transaction as new objects, with one
// PutObjects call (or, with single, one PutObject call per object): the
// store sees ids that are fresh for each call (the content is the same
// each time, which the store does not mind).
func putBatch(tb testing.TB, s *Store, batch []store.ObjectVersion, call int, single bool) {
	ctx := context.Background()
	err := s.Update(ctx, func(stx store.Tx) error {
		vs := make([]*store.ObjectVersion, len(batch))
		for i := range batch {
			v := batch[i]
			v.ID = fmt.Sprintf("indicator--%08x-0000-4000-8000-%012x", call, i)
			vs[i] = &v
		}
		if !single {
			_, _, err := stx.(*tx).PutObjects(ctx, vs)
			return err
		}
		for _, v := range vs {
			if _, err := stx.PutObject(ctx, v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
}

func benchClass(tb testing.TB, s *Store, labels ...string) int64 {
	var c int64
	err := s.Update(context.Background(), func(tx store.Tx) error {
		var err error
		c, err = tx.AccessClass(context.Background(), labels)
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// BenchmarkPutObjects stores batches of 1000 new objects of about 1.5 KB,
// one transaction (and one fsync) per batch: in one PutObjects call, as
// ingest does, and in one PutObject call per object.
func BenchmarkPutObjects(b *testing.B) {
	for _, single := range []bool{false, true} {
		name := "batch"
		if single {
			name = "one-by-one"
		}
		b.Run(name, func(b *testing.B) {
			const batch = 1000
			s := openAt(b, filepath.Join(b.TempDir(), "bench.db"))
			class := benchClass(b, s)
			if n := len(benchObject(0, class).Raw); n < 1400 || n > 1600 {
				b.Fatalf("object is %d bytes, want about 1.5 KB", n)
			}
			objects := make([]store.ObjectVersion, batch)
			for i := range objects {
				objects[i] = benchObject(i, class)
			}
			calls := 0
			for b.Loop() {
				putBatch(b, s, objects, calls, single)
				calls++
			}
			b.ReportMetric(float64(calls*batch)/b.Elapsed().Seconds(), "objects/s")
		})
	}
}

// BenchmarkList reads pages of 100 and 1000 among 20,000 objects in two
// access classes, of which the reader sees one (so half the rows are
// filtered), walking the whole list page by page.
func BenchmarkList(b *testing.B) {
	const total = 20000
	s := openAt(b, filepath.Join(b.TempDir(), "bench.db"))
	seen := benchClass(b, s, "marking-definition--a")
	hidden := benchClass(b, s, "marking-definition--b")
	ctx := context.Background()
	err := s.Update(ctx, func(tx store.Tx) error {
		for i := range total {
			c := seen
			if i%2 == 1 {
				c = hidden
			}
			v := benchObject(i, c)
			if _, err := tx.PutObject(ctx, &v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	for _, limit := range []int{100, 1000} {
		b.Run(fmt.Sprint("page=", limit), func(b *testing.B) {
			q := store.ListQuery{Classes: []int64{seen}, Limit: limit}
			objects := 0
			for b.Loop() {
				page, err := s.List(ctx, q)
				if err != nil {
					b.Fatal(err)
				}
				if len(page) < limit {
					q.After = 0 // wrap around
				} else {
					q.After = page[len(page)-1].Seq
				}
				objects += len(page)
			}
			b.ReportMetric(float64(objects)/b.Elapsed().Seconds(), "objects/s")
		})
	}
}
