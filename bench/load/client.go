package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"sync"
	"time"

	"github.com/tearline/tearline/internal/stixgen"
)

// clientSpec is what the node process tells a client process, as one JSON
// line on its standard input.
type clientSpec struct {
	URL        string // https://127.0.0.1:PORT
	CAFile     string // the node's certificate, to verify it by
	Token      string
	Collection string   // the TAXII holdings collection
	IDs        []string // objects the token's user may read
	Mix        mix
	Duration   time.Duration
	Label      string // banner for publishes
	Clients    int    // clients in this process
	Seed       uint64
}

// result is what a client process reports, as JSON on its standard output.
type result struct {
	Kinds       map[string]*kindResult
	FirstErrors []string
	// CPUMicros is the process's own CPU (user and system) over the timed
	// run: the clients share the machine's cores with the node, so what
	// they spend per read bounds what many of them can get.
	CPUMicros int64
}

type kindResult struct {
	Micros []int64 // latency of each successful request
	Errors int
}

// publishSize is the objects in one published bundle.
const publishSize = 5

// runClient is a client process: it reads its spec, connects its clients,
// says "ready", waits for "go", runs them for the spec's duration and
// writes its result.
func runClient(ctx context.Context, stdin io.Reader, stdout io.Writer) error {
	in := bufio.NewReader(stdin)
	line, err := in.ReadBytes('\n')
	if err != nil {
		return fmt.Errorf("read spec: %w", err)
	}
	var s clientSpec
	if err := json.Unmarshal(line, &s); err != nil {
		return fmt.Errorf("read spec: %w", err)
	}
	pem, err := os.ReadFile(s.CAFile)
	if err != nil {
		return err
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		return fmt.Errorf("%s: no certificate", s.CAFile)
	}
	u, err := url.Parse(s.URL)
	if err != nil {
		return fmt.Errorf("node URL: %w", err)
	}
	tlsCfg := &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS13, ServerName: u.Hostname()}
	cs := make([]*client, s.Clients)
	for i := range cs {
		// One connection per client, kept alive, as separate programs
		// polling a node would have.
		c := &client{spec: &s, conn: newConn(u.Host, tlsCfg),
			rng: rand.New(rand.NewPCG(s.Seed, uint64(i))), gen: stixgen.New(s.Seed<<16|uint64(i), time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)),
			res: result{Kinds: map[string]*kindResult{}}}
		for _, k := range kinds {
			c.res.Kinds[k] = &kindResult{}
		}
		// Connect: one read, not counted.
		if err := c.do(ctx, kindGet); err != nil {
			return fmt.Errorf("connect: %w", err)
		}
		cs[i] = c
	}
	if _, err := io.WriteString(stdout, "ready\n"); err != nil {
		return err
	}
	if line, err := in.ReadString('\n'); err != nil || line != "go\n" {
		return fmt.Errorf("waiting for go: %q, %v", line, err)
	}
	u0 := rusage()
	deadline := time.Now().Add(s.Duration)
	var wg sync.WaitGroup
	for _, c := range cs {
		wg.Go(func() { c.run(ctx, deadline) })
	}
	wg.Wait()
	u1 := rusage()
	all := result{Kinds: map[string]*kindResult{}, CPUMicros: (u1.user + u1.sys - u0.user - u0.sys).Microseconds()}
	for _, k := range kinds {
		all.Kinds[k] = &kindResult{}
	}
	for _, c := range cs {
		for k, kr := range c.res.Kinds {
			all.Kinds[k].Micros = append(all.Kinds[k].Micros, kr.Micros...)
			all.Kinds[k].Errors += kr.Errors
		}
		if len(all.FirstErrors) < 5 {
			all.FirstErrors = append(all.FirstErrors, c.res.FirstErrors...)
		}
	}
	return json.NewEncoder(stdout).Encode(all)
}

// client is one simulated user of the node with one connection.
type client struct {
	spec *clientSpec
	conn *conn
	rng  *rand.Rand
	gen  *stixgen.Gen
	res  result
}

func (c *client) run(ctx context.Context, deadline time.Time) {
	total := 0
	for _, w := range c.spec.Mix {
		total += w
	}
	for time.Now().Before(deadline) {
		x, kind := c.rng.IntN(total), kinds[0]
		for _, k := range kinds {
			if x < c.spec.Mix[k] {
				kind = k
				break
			}
			x -= c.spec.Mix[k]
		}
		t0 := time.Now()
		err := c.do(ctx, kind)
		kr := c.res.Kinds[kind]
		if err != nil {
			kr.Errors++
			if len(c.res.FirstErrors) < 3 {
				c.res.FirstErrors = append(c.res.FirstErrors, kind+": "+err.Error())
			}
			continue
		}
		kr.Micros = append(kr.Micros, time.Since(t0).Microseconds())
	}
}

// do sends one request of kind and checks its answer.
func (c *client) do(ctx context.Context, kind string) error {
	s := c.spec
	var req *http.Request
	var err error
	want := "" // a string the body must hold
	switch kind {
	case kindGet:
		id := s.IDs[c.rng.IntN(len(s.IDs))]
		req, err = http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/api/v1/objects/"+id, nil)
		want = `"id":"` + id + `"`
	case kindPage:
		req, err = http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/api/v1/objects?limit=100", nil)
		want = `"objects"`
	case kindTAXII:
		req, err = http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/taxii2/tearline/collections/"+s.Collection+"/objects/?limit=100", nil)
		if err == nil {
			req.Header.Set("Accept", "application/taxii+json;version=2.1")
		}
		want = `"objects"`
	case kindPublish:
		objs := make([]stixgen.Object, publishSize)
		for i := range objs {
			objs[i] = c.gen.Next()
		}
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, s.URL+"/api/v1/objects?label="+url.QueryEscape(s.Label),
			bytes.NewReader(stixgen.Bundle(c.gen, objs)))
		if err == nil {
			req.Header.Set("Content-Type", "application/json")
		}
		want = `"created"`
	}
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+s.Token)
	status, text, body, err := c.conn.do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, err)
	}
	if status != http.StatusOK {
		return fmt.Errorf("%s %s: %s: %.200s", req.Method, req.URL.Path, text, body)
	}
	if !bytes.Contains(body, []byte(want)) {
		return fmt.Errorf("%s %s: answer lacks %s: %.200s", req.Method, req.URL.Path, want, body)
	}
	return nil
}
