// Command load serves a node over HTTPS, as `tearline serve` does, and
// drives it from many concurrent clients in separate processes, each client
// on its own keep-alive connection: reads by id, pages of the API listing,
// TAXII polls and publishes, in a mix. It reports errors, the node's reads
// per second, its CPU per read and per request, its resident memory, and
// p50/p99 latency per kind. It is a benchmark: CI runs it only small
// (main_test.go). Method and results: BENCHMARKS.md, "Reads under load".
//
//	go run ./bench/load                                  # 200 clients, 60 s, the mix
//	go run ./bench/load -mix get=1 -clients 1 -duration 20s
//	go run ./bench/load -mix get=1 -clients 32 -duration 20s
//	go run ./bench/load -store postgres://... -clients 200
//	go run ./bench/load -scaling 3     # 1 and 32 readers alternated: the ratio and CPU per read
//
// The node is this process: its CPU (getrusage) and memory are the node's,
// measured over the timed run only, after the data are loaded. The clients
// are this same binary started again in client mode (client.go), so that
// their CPU is not counted as the node's and they share no connection pool.
// The data directory is a temporary one, removed at the end unless -keep; a
// PostgreSQL database (-store) must be empty, and is left for the caller.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tearline/tearline/api"
	"github.com/tearline/tearline/datadir"
	"github.com/tearline/tearline/internal/gctune"
	"github.com/tearline/tearline/internal/stixgen"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/stack"
	"github.com/tearline/tearline/node/users"
	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/store/backend"
)

// clientEnv, when set, makes the binary a client process (client.go).
const clientEnv = "TEARLINE_LOAD_CLIENT"

func main() {
	if os.Getenv(clientEnv) != "" {
		// The clients run on the node's own cores (the target's method), so
		// what they spend is taken from the node: one P per client process
		// (up to 32 of them, each mostly waiting on its connections, where
		// a second P only spins looking for work) and a collector paced
		// like the node's. The environment still overrides, as for any Go
		// program.
		if os.Getenv("GOMAXPROCS") == "" {
			runtime.GOMAXPROCS(1)
		}
		if os.Getenv("GOGC") == "" {
			debug.SetGCPercent(gctune.Percent)
		}
		if err := runClient(context.Background(), os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "load client:", err)
			os.Exit(1)
		}
		return
	}
	// The garbage collector paced as `tearline serve` paces it, so that
	// the figures are the product's; GOGC and GOMEMLIMIT still override.
	gctune.Apply(gctune.Plan(os.Getenv, os.ReadFile))
	if err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

// config is the command line.
type config struct {
	duration   time.Duration
	clients    int
	procs      int
	mix        mix
	objects    int
	storeURL   string
	dir        string
	keep       bool
	seed       uint64
	cpuprofile string
	memprofile string
	scaling    int // pairs of 1-client and many-client read runs (scaling.go); 0: one run
}

// Kinds of request, in the order reports list them.
const (
	kindGet     = "get"     // GET /api/v1/objects/{id}
	kindPage    = "page"    // GET /api/v1/objects?limit=100
	kindTAXII   = "taxii"   // GET /taxii2/…/collections/{holdings}/objects/?limit=100
	kindPublish = "publish" // POST /api/v1/objects, a bundle of publishSize new objects
)

var kinds = []string{kindGet, kindPage, kindTAXII, kindPublish}

// mix is each kind's weight.
type mix map[string]int

func parseMix(s string) (mix, error) {
	m := mix{}
	for f := range strings.SplitSeq(s, ",") {
		k, w, ok := strings.Cut(strings.TrimSpace(f), "=")
		n, err := strconv.Atoi(w)
		if !ok || err != nil || n < 0 || !slices.Contains(kinds, k) {
			return nil, fmt.Errorf("-mix: %q is not KIND=WEIGHT with KIND one of %s", f, strings.Join(kinds, ", "))
		}
		m[k] = n
	}
	total := 0
	for _, w := range m {
		total += w
	}
	if total == 0 {
		return nil, errors.New("-mix: every weight is zero")
	}
	return m, nil
}

func (m mix) String() string {
	var fs []string
	for _, k := range kinds {
		if m[k] > 0 {
			fs = append(fs, k+"="+strconv.Itoa(m[k]))
		}
	}
	return strings.Join(fs, ",")
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	var mixFlag string
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.DurationVar(&c.duration, "duration", 60*time.Second, "how long the clients run")
	fs.IntVar(&c.clients, "clients", 200, "concurrent clients, each with its own keep-alive HTTPS connection")
	fs.IntVar(&c.procs, "procs", 0, "client processes the clients are spread over (default: one per client, at most 32)")
	fs.StringVar(&mixFlag, "mix", "get=80,page=8,taxii=8,publish=4", "weights of the request kinds: get (by id), page (API listing of 100), taxii (TAXII poll of 100), publish (a bundle of 5 new objects)")
	fs.IntVar(&c.objects, "objects", 5000, "objects loaded before the run (half of them readable by the clients' user)")
	fs.StringVar(&c.storeURL, "store", "", "postgres:// URL of an empty database (default: SQLite in the data directory)")
	fs.StringVar(&c.dir, "dir", "", "parent of the data directory (default the system temporary directory)")
	fs.BoolVar(&c.keep, "keep", false, "keep the data directory")
	fs.Uint64Var(&c.seed, "seed", 1, "generator seed")
	fs.StringVar(&c.cpuprofile, "cpuprofile", "", "write a CPU profile of the node during the timed run to this file")
	fs.StringVar(&c.memprofile, "memprofile", "", "write what the node allocated during the timed run to this file (go tool pprof -sample_index=alloc_space)")
	fs.IntVar(&c.scaling, "scaling", 0, "run this many pairs of reads-by-id runs, 1 client then -clients clients (default 32, each run -duration, default 10s), on one node, and print the ratio and the node CPU per read")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if c.scaling > 0 {
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		mixFlag = "get=1"
		if !set["clients"] {
			c.clients = 32
		}
		if !set["duration"] {
			c.duration = scalingDuration
		}
	}
	var err error
	if c.mix, err = parseMix(mixFlag); err != nil {
		return c, err
	}
	if c.procs == 0 {
		c.procs = min(c.clients, 32)
	}
	switch {
	case c.clients < 1 || c.procs < 1 || c.procs > c.clients:
		return c, errors.New("-clients must be positive and -procs from 1 to -clients")
	case c.duration <= 0:
		return c, errors.New("-duration must be positive")
	case c.scaling < 0:
		return c, errors.New("-scaling must not be negative")
	case c.objects < 10:
		return c, errors.New("-objects must be at least 10")
	}
	return c, nil
}

// Labels of the loaded objects: the clients' user reads the first and not
// the second, so listings skip as much as they return.
const (
	readableBanner = "NATO RESTRICTED // REL TO GBR"
	hiddenBanner   = "NATO SECRET // COMPARTMENTS HERON // REL TO FVEY // DISC IMINT"
)

var (
	loaderSpec = users.UserSpec{Name: "loader", Role: node.RoleAnalyst, Nationality: "GBR",
		Clearances: map[string]string{"NATO": "TOP-SECRET"}, Compartments: []string{"HERON"}}
	userSpec = users.UserSpec{Name: "client", Role: node.RoleAnalyst, Nationality: "GBR",
		Clearances: map[string]string{"NATO": "SECRET"}}
)

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	parent, err := os.MkdirTemp(cfg.dir, "tearline-load-")
	if err != nil {
		return err
	}
	if !cfg.keep {
		defer os.RemoveAll(parent)
	}
	dir := filepath.Join(parent, "node")
	if err := node.Init(ctx, dir, node.InitOptions{Name: "load", Country: "GBR", CreateStore: backend.Creator(cfg.storeURL)}); err != nil {
		return fmt.Errorf("init: %w", err)
	}
	n, err := stack.Open(ctx, dir, node.Options{OpenStore: backend.Opener(cfg.storeURL)})
	if err != nil {
		return fmt.Errorf("open: %w", err)
	}
	defer n.Close()
	_, loaderToken, err := n.Users.AddUser(ctx, node.ConsoleAdmin(), loaderSpec)
	if err != nil {
		return fmt.Errorf("add user: %w", err)
	}
	loader, err := n.Authenticate(ctx, loaderToken)
	if err != nil {
		return err
	}
	_, token, err := n.Users.AddUser(ctx, node.ConsoleAdmin(), userSpec)
	if err != nil {
		return fmt.Errorf("add user: %w", err)
	}
	fmt.Fprintf(stderr, "loading %d objects into %s\n", cfg.objects, backendName(cfg))
	ids, err := load(ctx, n, loader, cfg)
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	served := make(chan error, 1)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	go func() { served <- api.Serve(sctx, n, ln, quiet) }()

	spec := clientSpecFor(cfg, "https://"+ln.Addr().String(), datadir.Path(dir, datadir.TLSCert), token, n.TAXII.HoldingsID(), ids)
	if cfg.scaling > 0 {
		err := scaling(ctx, cfg, spec, stdout, stderr)
		stop()
		if serr := <-served; serr != nil && err == nil {
			err = fmt.Errorf("serve: %w", serr)
		}
		return err
	}
	res, usage, err := drive(ctx, cfg, spec, stderr)
	stop()
	if serr := <-served; serr != nil && err == nil {
		err = fmt.Errorf("serve: %w", serr)
	}
	if err != nil {
		return err
	}
	commits, entries, ok := groupCommits(n.Store())
	report(stdout, cfg, res, usage, commits, entries, ok)
	if errs := res.errors(); errs > 0 {
		return fmt.Errorf("%d requests failed", errs)
	}
	return nil
}

func backendName(cfg config) string {
	if cfg.storeURL != "" {
		return "PostgreSQL"
	}
	return "SQLite"
}

// load ingests cfg.objects generated objects in bundles, alternately under
// the readable and the hidden label, and returns the readable ids.
func load(ctx context.Context, n *stack.Node, p *node.Principal, cfg config) ([]string, error) {
	g := stixgen.New(cfg.seed, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	var ids []string
	const bundle = 500
	for i := 0; i < cfg.objects; i += bundle {
		objs := make([]stixgen.Object, 0, bundle)
		for range min(bundle, cfg.objects-i) {
			objs = append(objs, g.Next())
		}
		banner := readableBanner
		if (i/bundle)%2 == 1 {
			banner = hiddenBanner
		}
		res, err := n.Ingest(ctx, p, stixgen.Bundle(g, objs), node.IngestOptions{Label: banner})
		if err != nil {
			return nil, fmt.Errorf("load: %w", err)
		}
		if len(res.Refused) > 0 {
			return nil, fmt.Errorf("load: %d objects refused, the first: %+v", len(res.Refused), res.Refused[0])
		}
		if banner == readableBanner {
			for _, o := range objs {
				ids = append(ids, o.ID)
			}
		}
	}
	return ids, nil
}

// usage is what the node process spent over the timed run.
type usage struct {
	wall      time.Duration
	user, sys time.Duration
	peakRSS   int64         // largest resident set sampled during the run, bytes
	clients   time.Duration // the client processes' CPU over the run, each measuring its own
}

// drive starts the client processes, lets them run together and collects
// their results, measuring the node's CPU and memory meanwhile.
func drive(ctx context.Context, cfg config, spec clientSpec, stderr io.Writer) (results, usage, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, usage{}, err
	}
	type proc struct {
		cmd   *exec.Cmd
		in    io.WriteCloser
		out   *bufio.Reader
		spec  clientSpec
		res   result
		err   error
		ready bool
	}
	procs := make([]*proc, cfg.procs)
	defer func() {
		for _, p := range procs {
			if p != nil && p.cmd.Process != nil && p.cmd.ProcessState == nil {
				p.cmd.Process.Kill()
				p.cmd.Wait()
			}
		}
	}()
	for i := range procs {
		s := spec
		s.Clients = cfg.clients / cfg.procs
		if i < cfg.clients%cfg.procs {
			s.Clients++
		}
		s.Seed = cfg.seed*1000 + uint64(i)
		cmd := exec.CommandContext(ctx, exe)
		cmd.Env = append(os.Environ(), clientEnv+"=1")
		cmd.Stderr = stderr
		in, err := cmd.StdinPipe()
		if err != nil {
			return nil, usage{}, err
		}
		out, err := cmd.StdoutPipe()
		if err != nil {
			return nil, usage{}, err
		}
		if err := cmd.Start(); err != nil {
			return nil, usage{}, fmt.Errorf("start client process: %w", err)
		}
		p := &proc{cmd: cmd, in: in, out: bufio.NewReader(out), spec: s}
		procs[i] = p
		if err := json.NewEncoder(in).Encode(s); err != nil {
			return nil, usage{}, fmt.Errorf("client process %d: %w", i, err)
		}
	}
	// Each process connects its clients (TLS handshakes, one request
	// each) and says "ready"; the clock starts when all have.
	for i, p := range procs {
		line, err := p.out.ReadString('\n')
		if err != nil || line != "ready\n" {
			return nil, usage{}, fmt.Errorf("client process %d did not start: %q, %v", i, line, err)
		}
	}
	fmt.Fprintf(stderr, "%d clients in %d processes: running for %s\n", cfg.clients, cfg.procs, cfg.duration)
	if cfg.cpuprofile != "" {
		f, err := os.Create(cfg.cpuprofile)
		if err != nil {
			return nil, usage{}, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return nil, usage{}, err
		}
		defer pprof.StopCPUProfile()
	}
	if cfg.memprofile != "" {
		// Every allocation sampled from here on; the profile written after
		// the run holds what the run allocated (and the load before it,
		// at the default rate, which -base cannot separate: small).
		runtime.MemProfileRate = 4096
		defer func() {
			if f, err := os.Create(cfg.memprofile); err == nil {
				pprof.Lookup("allocs").WriteTo(f, 0)
				f.Close()
			}
		}()
	}
	var u usage
	u0, t0 := rusage(), time.Now()
	sampled := make(chan struct{})
	stopSampling := make(chan struct{})
	go func() { // the node's memory, twice a second
		defer close(sampled)
		tick := time.NewTicker(500 * time.Millisecond)
		defer tick.Stop()
		for {
			u.peakRSS = max(u.peakRSS, procField("/proc/self/status", "VmRSS:"))
			select {
			case <-stopSampling:
				return
			case <-tick.C:
			}
		}
	}()
	for _, p := range procs {
		if _, err := io.WriteString(p.in, "go\n"); err != nil {
			return nil, usage{}, err
		}
	}
	var wg sync.WaitGroup
	for _, p := range procs {
		wg.Go(func() {
			p.err = json.NewDecoder(p.out).Decode(&p.res)
			p.in.Close()
			if werr := p.cmd.Wait(); p.err == nil {
				p.err = werr
			}
		})
	}
	wg.Wait()
	u1 := rusage()
	close(stopSampling)
	<-sampled
	u.wall = time.Since(t0)
	u.user, u.sys = u1.user-u0.user, u1.sys-u0.sys
	var all results
	for i, p := range procs {
		if p.err != nil {
			return nil, usage{}, fmt.Errorf("client process %d: %w", i, p.err)
		}
		all = append(all, p.res)
		u.clients += time.Duration(p.res.CPUMicros) * time.Microsecond
	}
	return all, u, nil
}

func rusage() (u struct{ user, sys time.Duration }) {
	var r syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &r); err != nil {
		return u
	}
	return struct{ user, sys time.Duration }{
		time.Duration(r.Utime.Nano()), time.Duration(r.Stime.Nano())}
}

// procField reads a "Key: N kB" line of /proc/self/status, in bytes; 0
// where there is no /proc.
func procField(path, key string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, key); ok {
			f := strings.Fields(v)
			if len(f) > 0 {
				kb, _ := strconv.ParseInt(f[0], 10, 64)
				return kb << 10
			}
		}
	}
	return 0
}

// groupCommits reads the store's group-commit counters, if it has them:
// commits and the entries they held.
func groupCommits(st store.Store) (commits, entries float64, ok bool) {
	for { // the node's store wraps the backend (access MACs, sealing)
		u, is := st.(interface{ Unwrap() store.Store })
		if !is {
			break
		}
		st = u.Unwrap()
	}
	c, is := st.(interface{ Collector() prometheus.Collector })
	if !is {
		return 0, 0, false
	}
	reg := prometheus.NewRegistry()
	if reg.Register(c.Collector()) != nil {
		return 0, 0, false
	}
	mfs, err := reg.Gather()
	if err != nil {
		return 0, 0, false
	}
	for _, mf := range mfs {
		switch mf.GetName() {
		case "tearline_audit_group_commits_total":
			commits, ok = mf.GetMetric()[0].GetCounter().GetValue(), true
		case "tearline_audit_group_commit_entries_total":
			entries = mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	return commits, entries, ok
}

// report writes the run's figures as Markdown.
func report(w io.Writer, cfg config, res results, u usage, commits, entries float64, haveCommits bool) {
	secs := cfg.duration.Seconds()
	byKind := res.byKind()
	var reads, requests int
	for _, k := range kinds {
		requests += byKind[k].n
		if k != kindPublish {
			reads += byKind[k].n
		}
	}
	cpu := u.user + u.sys
	fmt.Fprintf(w, "## bench/load: %d clients in %d processes, %s, %s, mix %s, %d objects loaded\n\n",
		cfg.clients, cfg.procs, cfg.duration, backendName(cfg), cfg.mix, cfg.objects)
	fmt.Fprintf(w, "| kind | requests | errors | per second | p50 | p99 |\n|---|---|---|---|---|---|\n")
	for _, k := range kinds {
		s := byKind[k]
		if s.n == 0 && s.errs == 0 {
			continue
		}
		fmt.Fprintf(w, "| %s | %d | %d | %.0f | %s | %s |\n", k, s.n, s.errs, float64(s.n)/secs, ms(s.p50), ms(s.p99))
	}
	fmt.Fprintf(w, "\nreads/s %.0f (gets, pages and TAXII polls), requests/s %.0f, errors %d\n", float64(reads)/secs, float64(requests)/secs, res.errors())
	fmt.Fprintf(w, "node CPU %.1f s over %.1f s (user %.1f, system %.1f): %.3f ms per request",
		cpu.Seconds(), u.wall.Seconds(), u.user.Seconds(), u.sys.Seconds(), perMs(cpu, requests))
	if reads > 0 {
		fmt.Fprintf(w, ", %.3f ms per read (all node CPU over reads only)", perMs(cpu, reads))
	}
	if reads > 0 {
		fmt.Fprintf(w, "\nclients' CPU %.1f s: %.3f ms per request", u.clients.Seconds(), perMs(u.clients, requests))
	}
	fmt.Fprintf(w, "\nnode peak RSS during the run %s\n", human(u.peakRSS))
	if haveCommits && commits > 0 {
		fmt.Fprintf(w, "audit group commits %.0f, %.1f entries per commit\n", commits, entries/commits)
	}
	for _, e := range res.firstErrors() {
		fmt.Fprintf(w, "error: %s\n", e)
	}
}

func perMs(d time.Duration, n int) float64 {
	if n == 0 {
		return 0
	}
	return float64(d.Microseconds()) / 1000 / float64(n)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

func human(b int64) string {
	return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20))
}

// stats summarises one kind over every client.
type stats struct {
	n, errs  int
	p50, p99 time.Duration
}

// results are the client processes' results.
type results []result

func (rs results) byKind() map[string]stats {
	out := map[string]stats{}
	for _, k := range kinds {
		var ds []time.Duration
		var s stats
		for _, r := range rs {
			kr := r.Kinds[k]
			s.errs += kr.Errors
			for _, us := range kr.Micros {
				ds = append(ds, time.Duration(us)*time.Microsecond)
			}
		}
		slices.Sort(ds)
		s.n = len(ds)
		if len(ds) > 0 {
			s.p50 = ds[len(ds)*50/100]
			s.p99 = ds[min(len(ds)-1, len(ds)*99/100)]
		}
		out[k] = s
	}
	return out
}

func (rs results) errors() int {
	n := 0
	for _, r := range rs {
		for _, kr := range r.Kinds {
			n += kr.Errors
		}
	}
	return n
}

func (rs results) firstErrors() []string {
	var out []string
	for _, r := range rs {
		for _, e := range r.FirstErrors {
			if len(out) < 10 {
				out = append(out, e)
			}
		}
	}
	return out
}

// clientSpecFor is what every client process is told, less its share.
func clientSpecFor(cfg config, url, caFile, token, collection string, ids []string) clientSpec {
	r := rand.New(rand.NewPCG(cfg.seed, 7))
	r.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
	return clientSpec{URL: url, CAFile: caFile, Token: token, Collection: collection, IDs: ids,
		Mix: cfg.mix, Duration: cfg.duration, Label: readableBanner}
}
