package node_test

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/ulikunitz/xz"

	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/users"
	"github.com/tearline/tearline/store/backend"
)

// sharedData finds ../shared/data from the module root, where the large
// public test bundles live beside the repository.
func sharedData(tb testing.TB, name string) []byte {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Skip("module root not found")
		}
		dir = parent
	}
	f, err := os.Open(filepath.Join(dir, "..", "shared", "data", name))
	if err != nil {
		tb.Skipf("%s not present (it lives in ../shared/data beside the repository): %v", name, err)
	}
	defer f.Close()
	r, err := xz.NewReader(bufio.NewReader(f))
	if err != nil {
		tb.Fatal(err)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func benchNode(b *testing.B) (*node.Node, *node.Principal) {
	b.Helper()
	ctx := context.Background()
	dir := filepath.Join(b.TempDir(), "node")
	if err := node.Init(ctx, dir, node.InitOptions{Name: "bench", Country: "GBR", CreateStore: backend.Creator("")}); err != nil {
		b.Fatal(err)
	}
	n, err := node.Open(ctx, dir, node.Options{OpenStore: backend.Opener("")})
	if err != nil {
		b.Fatal(err)
	}
	_, tok, err := users.New(n).AddUser(ctx, node.ConsoleAdmin(), users.UserSpec{Name: "loader", Role: node.RoleAnalyst, Nationality: "GBR",
		Clearances: map[string]string{"NATO": "TOP-SECRET"}})
	if err != nil {
		b.Fatal(err)
	}
	p, err := n.Authenticate(ctx, tok)
	if err != nil {
		b.Fatal(err)
	}
	return n, p
}

// BenchmarkIngestATTACK ingests the whole enterprise ATT&CK bundle end to
// end with a label: parse, validate, canonicalise, bind and sign, store and
// audit, into a fresh node each iteration.
func BenchmarkIngestATTACK(b *testing.B) {
	data := sharedData(b, "enterprise-attack-18.1-rebuilt.json.xz")
	ctx := context.Background()
	objects := 0
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		n, p := benchNode(b)
		b.StartTimer()
		res, err := n.Ingest(ctx, p, data, node.IngestOptions{Label: "NATO SECRET // REL TO GBR, USA"})
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Refused) > 0 {
			b.Fatalf("refused %d objects, first: %v", len(res.Refused), res.Refused[0])
		}
		objects += len(res.Landed)
		b.StopTimer()
		n.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(objects)/b.Elapsed().Seconds(), "objects/s")
	if hwm := peakRSS(); hwm > 0 {
		b.ReportMetric(float64(hwm)/(1<<20), "peak-RSS-MB")
	}
}

// peakRSS reads the process's high-water resident set size (Linux).
func peakRSS() int64 {
	if runtime.GOOS != "linux" {
		return 0
	}
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range bytes.Split(b, []byte("\n")) {
		if v, ok := strings.CutPrefix(string(line), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err == nil {
				return kb << 10
			}
		}
	}
	return 0
}
