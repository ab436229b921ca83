package node_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/stack"
	"github.com/tearline/tearline/node/taxiiview"
	"github.com/tearline/tearline/taxii"
)

// readBenchNode holds count indicators under four labels.
func readBenchNode(b *testing.B, count int) (*node.Node, *node.Principal, []string) {
	n, p := benchNode(b)
	ctx := context.Background()
	banners := []string{"NATO UNCLASSIFIED", "NATO SECRET // REL TO GBR, USA", "NATO RESTRICTED // REL TO FVEY", "GBR SECRET"}
	var ids []string
	for i, banner := range banners {
		var sb strings.Builder
		sb.WriteString(`{"type":"bundle","id":"bundle--` + uuid.NewString() + `","objects":[`)
		for j := 0; j < count/len(banners); j++ {
			if j > 0 {
				sb.WriteByte(',')
			}
			id := "indicator--" + uuid.NewString()
			ids = append(ids, id)
			fmt.Fprintf(&sb, `{"type":"indicator","spec_version":"2.1","id":%q,"created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","name":"bench %d-%d","pattern":"[ipv4-addr:value = '10.0.%d.%d']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z","description":"%s"}`,
				id, i, j, i, j%250, strings.Repeat("x", 900))
		}
		sb.WriteString(`]}`)
		res, err := n.Ingest(ctx, p, []byte(sb.String()), node.IngestOptions{Label: banner})
		if err != nil || len(res.Refused) > 0 {
			b.Fatalf("ingest: %v %v", err, res.Refused)
		}
	}
	return n, p, ids
}

// BenchmarkGet reads one object by id: decide per version, and append the
// audit entry in the same durable transaction.
func BenchmarkGet(b *testing.B) {
	n, p, ids := readBenchNode(b, 4000)
	defer n.Close()
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := n.Get(ctx, p, ids[i%len(ids)]); err != nil && !strings.Contains(err.Error(), "not found") {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "reads/s")
}

// BenchmarkList reads pages of 100 and 1000 objects with the read rule
// pushed down, each page audited as one batch.
func BenchmarkList(b *testing.B) {
	n, p, _ := readBenchNode(b, 20000)
	defer n.Close()
	ctx := context.Background()
	for _, size := range []int{100, 1000} {
		b.Run(fmt.Sprintf("page=%d", size), func(b *testing.B) {
			next := ""
			objects := 0
			for i := 0; i < b.N; i++ {
				page, err := n.List(ctx, p, node.ListOptions{Limit: size, Next: next})
				if err != nil {
					b.Fatal(err)
				}
				objects += len(page.Objects)
				next = page.Next
			}
			b.ReportMetric(float64(objects)/b.Elapsed().Seconds(), "objects/s")
		})
	}
}

// BenchmarkTAXIIPage reads TAXII pages of 1,000 of the holdings collection,
// labels as items, as a user; "late label" adds one object under a label
// first bound after the 20,000 others, whose place a backend finds with a
// listing that walks them all once and then remembers (remembered), or
// finds again on every page (fresh: a new backend per page).
func BenchmarkTAXIIPage(b *testing.B) {
	n, p, _ := readBenchNode(b, 20000)
	defer n.Close()
	ctx := context.Background()
	s := stack.New(n)
	run := func(b *testing.B, fresh bool) {
		t := s.TAXII
		next, objects := "", 0
		for i := 0; i < b.N; i++ {
			if fresh {
				t = taxiiview.New(n, s.Releases, s.Recalls)
			}
			page, err := t.Objects(ctx, p, t.HoldingsID(), taxii.Query{Limit: 1000, Next: next})
			if err != nil {
				b.Fatal(err)
			}
			objects += len(page.Items)
			next = page.Next
		}
		b.ReportMetric(float64(objects)/b.Elapsed().Seconds(), "items/s")
	}
	b.Run("remembered", func(b *testing.B) { run(b, false) })
	late := `{"type":"bundle","id":"bundle--` + uuid.NewString() + `","objects":[{"type":"indicator","spec_version":"2.1","id":"indicator--` + uuid.NewString() +
		`","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","name":"late","pattern":"[ipv4-addr:value = '10.9.9.9']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z"}]}`
	if res, err := n.Ingest(ctx, p, []byte(late), node.IngestOptions{Label: "NATO CONFIDENTIAL"}); err != nil || len(res.Refused) > 0 {
		b.Fatalf("ingest: %v %v", err, res.Refused)
	}
	b.Run("late label/remembered", func(b *testing.B) { run(b, false) })
	b.Run("late label/fresh", func(b *testing.B) { run(b, true) })
}

// BenchmarkCount counts the objects of 20,000 a reader may read (15,000:
// not the GBR SECRET ones; GET /api/v1/count): the store's access MAC checks read
// and check every row counted (docs/STORAGE.md, "Access MACs").
func BenchmarkCount(b *testing.B) {
	n, p, _ := readBenchNode(b, 20000)
	defer n.Close()
	ctx := context.Background()
	b.ResetTimer()
	var c int64
	for i := 0; i < b.N; i++ {
		var err error
		if c, err = n.Count(ctx, p, node.ListOptions{}); err != nil || c != 15000 {
			b.Fatalf("Count = %d, %v; want 15000", c, err)
		}
	}
	b.ReportMetric(float64(int64(b.N)*c)/b.Elapsed().Seconds(), "objects/s")
}
