package taxii_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ulikunitz/xz"

	"github.com/tearline/tearline/api"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/stack"
	"github.com/tearline/tearline/node/users"
	"github.com/tearline/tearline/store/backend"
	"github.com/tearline/tearline/taxii"
)

// benchLabel is the label both paths bind: the direct ingest names it, the
// TAXII poster has it as the default label (TAXII has no way to name one).
const benchLabel = "NATO SECRET // REL TO GBR, USA"

// BenchmarkTAXIIPostATTACK compares, in one run, the enterprise ATT&CK
// bundle ingested directly (node.Ingest, as BenchmarkIngestATTACK does)
// with the same bundle POSTed over HTTPS to the TAXII objects endpoint in
// envelopes of 1,000 objects, each into a fresh node. Each iteration does
// both, one after the other, so machine noise falls on both alike; it
// reports both rates and TAXII's share of the direct rate (target: 90% or
// more). The bundle lives in ../shared/data; without it the benchmark
// skips.
func BenchmarkTAXIIPostATTACK(b *testing.B) {
	data := enterpriseBundle(b)
	var bundle struct {
		Objects []json.RawMessage `json:"objects"`
	}
	if err := json.Unmarshal(data, &bundle); err != nil {
		b.Fatal(err)
	}
	const perEnvelope = 1000
	var envelopes [][]byte
	for i := 0; i < len(bundle.Objects); i += perEnvelope {
		part := bundle.Objects[i:min(i+perEnvelope, len(bundle.Objects))]
		var e bytes.Buffer
		e.WriteString(`{"objects":[`)
		for j, o := range part {
			if j > 0 {
				e.WriteByte(',')
			}
			e.Write(o) // by hand: json.Marshal would HTML-escape the objects
		}
		e.WriteString("]}")
		envelopes = append(envelopes, e.Bytes())
	}
	ctx := context.Background()
	var direct, post time.Duration
	objects := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		n, p := attackNode(b, "direct")
		b.StartTimer()
		start := time.Now()
		res, err := n.Ingest(ctx, p, data, node.IngestOptions{Label: benchLabel})
		direct += time.Since(start)
		b.StopTimer()
		if err != nil || len(res.Refused) > 0 {
			b.Fatalf("direct ingest: %v, %d refused", err, len(res.Refused))
		}
		objects = len(res.Landed)
		n.Close()

		n, _ = attackNode(b, "taxii")
		_, tok, err := n.Users.AddUser(ctx, node.ConsoleAdmin(), users.UserSpec{Name: "poster", Role: node.RoleAnalyst, Nationality: "GBR",
			Clearances: map[string]string{"NATO": "TOP-SECRET"}, DefaultLabel: benchLabel})
		if err != nil {
			b.Fatal(err)
		}
		srv := httptest.NewTLSServer(api.New(n, nil, nil))
		client := srv.Client()
		url := srv.URL + "/taxii2/tearline/collections/" + n.TAXII.HoldingsID() + "/objects/"
		b.StartTimer()
		start = time.Now()
		landed := 0
		for _, env := range envelopes {
			landed += postEnvelope(b, client, url, tok, env)
		}
		post += time.Since(start)
		b.StopTimer()
		if landed != objects {
			b.Fatalf("TAXII landed %d objects, direct ingest %d", landed, objects)
		}
		srv.Close()
		n.Close()
		b.StartTimer()
	}
	b.StopTimer()
	dr := float64(objects*b.N) / direct.Seconds()
	pr := float64(objects*b.N) / post.Seconds()
	b.ReportMetric(dr, "direct-objects/s")
	b.ReportMetric(pr, "taxii-objects/s")
	b.ReportMetric(100*pr/dr, "taxii-%-of-direct")
}

// postEnvelope POSTs one envelope as a stock TAXII client does and returns
// how many objects the status resource counts as successes.
func postEnvelope(b *testing.B, c *http.Client, url, token string, env []byte) int {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(env))
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", taxii.MediaTypeTAXII)
	req.Header.Set("Accept", taxii.MediaTypeTAXII)
	resp, err := c.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		b.Fatal(err)
	}
	if resp.StatusCode != http.StatusAccepted {
		b.Fatalf("POST: %d %s", resp.StatusCode, body)
	}
	var st taxii.Status
	if err := json.Unmarshal(body, &st); err != nil {
		b.Fatal(err)
	}
	if st.FailureCount != 0 || st.Status != "complete" {
		b.Fatalf("status %s: %d failures %v", st.Status, st.FailureCount, st.Failures[:min(3, len(st.Failures))])
	}
	return st.SuccessCount
}

func attackNode(b *testing.B, name string) (*stack.Node, *node.Principal) {
	b.Helper()
	ctx := context.Background()
	dir := filepath.Join(b.TempDir(), name)
	if err := node.Init(ctx, dir, node.InitOptions{Name: name, Country: "GBR", CreateStore: backend.Creator("")}); err != nil {
		b.Fatal(err)
	}
	n, err := stack.Open(ctx, dir, node.Options{OpenStore: backend.Opener("")})
	if err != nil {
		b.Fatal(err)
	}
	_, tok, err := n.Users.AddUser(ctx, node.ConsoleAdmin(), users.UserSpec{Name: "loader", Role: node.RoleAnalyst, Nationality: "GBR",
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

// enterpriseBundle reads the enterprise ATT&CK bundle from ../shared/data
// beside the repository, or skips.
func enterpriseBundle(b *testing.B) []byte {
	b.Helper()
	f, err := os.Open(filepath.Join("..", "..", "shared", "data", "enterprise-attack-18.1-rebuilt.json.xz"))
	if err != nil {
		b.Skipf("enterprise ATT&CK bundle not present (it lives in ../shared/data beside the repository): %v", err)
	}
	defer f.Close()
	r, err := xz.NewReader(bufio.NewReader(f))
	if err != nil {
		b.Fatal(err)
	}
	data, err := io.ReadAll(r)
	if err != nil {
		b.Fatal(err)
	}
	return data
}
