// Command scale loads a node with millions of generated STIX objects and
// measures what happens as it grows: ingest rate at checkpoints (does it
// stay flat?), point reads and filtered pages at the final size, disk and
// memory. It is a benchmark: CI runs it only small (main_test.go). Method and
// results: docs/SCALE.md.
//
//	go run ./bench/scale -backend sqlite -n 2000000
//	go run ./bench/scale -backend postgres -dsn postgres://... -n 2000000
//
// Objects go through node.Ingest in bundles, the path the API takes (parse,
// validate, canonicalise, sign a binding, seal, store, audit) without HTTP.
// The data directory is a temporary one, removed at the end unless -keep;
// a PostgreSQL database is left for the caller to drop (it created it).
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tearline/tearline/internal/gctune"
	"github.com/tearline/tearline/internal/stixgen"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/stack"
	"github.com/tearline/tearline/node/users"
	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/store/backend"
	"github.com/tearline/tearline/taxii"
)

func main() {
	// The garbage collector paced as `tearline serve` paces it, so that
	// the figures are the product's; GOGC and GOMEMLIMIT still override.
	gctune.Apply(gctune.Plan(os.Getenv, os.ReadFile))
	if err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "scale:", err)
		os.Exit(1)
	}
}

// config is the command line.
type config struct {
	backend     string
	dsn         string
	n           int
	bundle      int
	workers     int
	checkpoints []int
	reads       int
	pages       int
	ui          int // web pages to time per kind (ui.go)
	seed        uint64
	keep        bool
	dir         string
	reuse       string
	cpuprofile  string
	memprofile  string
	loadprofile string
	orderedIDs  bool
	slowlog     time.Duration // log each timed operation at least this slow (0: none)
	logw        io.Writer     // where -slowlog lines go
	what        string        // the operation being timed, for -slowlog
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	var cps string
	fs := flag.NewFlagSet("scale", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.backend, "backend", "sqlite", "sqlite or postgres")
	fs.StringVar(&c.dsn, "dsn", "", "postgres:// URL of an empty database (with -backend postgres)")
	fs.IntVar(&c.n, "n", 200_000, "objects to load")
	fs.IntVar(&c.bundle, "bundle", 1000, "objects per ingested bundle")
	fs.IntVar(&c.workers, "workers", 2, "concurrent ingests (clients publishing at once)")
	fs.StringVar(&cps, "checkpoints", "10000,100000,1000000,2000000", "object counts at which to record rate, disk and memory (the final count is always one)")
	fs.IntVar(&c.reads, "reads", 2000, "point reads to time at the end")
	fs.IntVar(&c.pages, "pages", 200, "filtered pages of 1,000 to time at the end, per filter")
	fs.IntVar(&c.ui, "ui", 0, "web interface pages to time at the end, per kind (object list, object page, release queue, audit log by actor and by object, search); 0: none")
	fs.Uint64Var(&c.seed, "seed", 1, "generator seed")
	fs.BoolVar(&c.keep, "keep", false, "keep the data directory")
	fs.StringVar(&c.dir, "dir", "", "parent of the data directory (default the system temporary directory)")
	fs.StringVar(&c.cpuprofile, "cpuprofile", "", "write a CPU profile of the timed reads (not the load) to this file")
	fs.StringVar(&c.memprofile, "memprofile", "", "write what the timed reads allocate to this file, and to FILE.base a snapshot from before them: go tool pprof -base FILE.base FILE")
	fs.BoolVar(&c.orderedIDs, "ordered-ids", false, "generate time-ordered ids (UUID version 7) instead of random ones: what random ids cost the id index")
	fs.StringVar(&c.loadprofile, "loadprofile", "", "write a CPU profile of the last tenth of the load to this file")
	fs.DurationVar(&c.slowlog, "slowlog", 0, "print each timed read at least this slow, with its wall-clock time, to line it up with the server's logs (0: none)")
	fs.StringVar(&c.reuse, "reuse", "", "time reads only, on a node directory an earlier -keep run loaded with the same -n (and -dsn); its users are reused")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	switch {
	case c.backend != "sqlite" && c.backend != "postgres":
		return c, fmt.Errorf("-backend %q: want sqlite or postgres", c.backend)
	case c.backend == "postgres" && c.dsn == "":
		return c, errors.New("-backend postgres needs -dsn")
	case c.backend == "sqlite" && c.dsn != "":
		return c, errors.New("-dsn is for -backend postgres")
	case c.n < 1 || c.bundle < 1 || c.workers < 1:
		return c, errors.New("-n, -bundle and -workers must be positive")
	}
	for f := range strings.SplitSeq(cps, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || v < 1 {
			return c, fmt.Errorf("-checkpoints: %q is not a positive count", f)
		}
		if v < c.n {
			c.checkpoints = append(c.checkpoints, v)
		}
	}
	c.checkpoints = append(c.checkpoints, c.n)
	slices.Sort(c.checkpoints)
	c.checkpoints = slices.Compact(c.checkpoints)
	c.logw = stderr
	return c, nil
}

// labelMix is the banners bundles are published under, with their shares.
// The reader (below) is cleared for the first three, about half of all
// objects: the filtered pages then skip as much as they return.
var labelMix = [...]struct {
	banner string
	weight int
}{
	{"NATO UNCLASSIFIED // TLP:CLEAR // DISC OSINT", 15},
	{"NATO RESTRICTED // REL TO GBR", 20},
	{"NATO CONFIDENTIAL // REL TO GBR, USA // DISC SIGINT", 15},
	{"NATO SECRET // REL TO GBR, USA // ORCON", 20},
	{"NATO SECRET // COMPARTMENTS HERON // REL TO FVEY // DISC IMINT", 15},
	{"GBR SECRET // NOFORN // DISC HUMINT // GRADE A1", 15},
}

func pickLabel(r *rand.Rand) string {
	x := r.IntN(100)
	for _, l := range labelMix {
		if x < l.weight {
			return l.banner
		}
		x -= l.weight
	}
	return labelMix[0].banner
}

// checkpoint is what was measured when the node reached one size.
type checkpoint struct {
	objects    int
	elapsed    time.Duration
	windowFrom int     // the window's first count
	windowRate float64 // objects/s over (windowFrom, objects]
	disk       int64   // bytes
	wal        int64   // of which SQLite's WAL, bytes
	rss        int64   // this process's resident set now, bytes
	written    float64 // bytes this process wrote to storage per object over the window (SQLite: WAL and checkpoints)
}

// sample is the loaded count at one moment.
type sample struct {
	n       int
	t       time.Time
	written int64 // /proc/self/io write_bytes
}

// latencies summarises timed operations.
type latencies struct {
	name     string
	n        int
	p50, p99 time.Duration
	max      time.Duration
	note     string
}

func summarise(name string, ds []time.Duration, note string) latencies {
	slices.Sort(ds)
	l := latencies{name: name, n: len(ds), note: note}
	if len(ds) > 0 {
		l.p50 = ds[len(ds)*50/100]
		l.p99 = ds[min(len(ds)-1, len(ds)*99/100)]
		l.max = ds[len(ds)-1]
	}
	return l
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	if cfg.reuse != "" {
		return reuse(ctx, cfg, stdout, stderr)
	}
	parent, err := os.MkdirTemp(cfg.dir, "tearline-scale-")
	if err != nil {
		return err
	}
	if !cfg.keep {
		defer os.RemoveAll(parent)
	}
	dir := filepath.Join(parent, "node")
	if err := node.Init(ctx, dir, node.InitOptions{Name: "scale", Country: "GBR", CreateStore: backend.Creator(cfg.dsn)}); err != nil {
		return fmt.Errorf("init: %w", err)
	}
	n, err := stack.Open(ctx, dir, node.Options{OpenStore: backend.Opener(cfg.dsn)})
	if err != nil {
		return fmt.Errorf("open: %w", err)
	}
	defer n.Close()
	loader, _, err := principal(ctx, n, loaderSpec)
	if err != nil {
		return err
	}
	reader, readerToken, err := principal(ctx, n, readerSpec)
	if err != nil {
		return err
	}
	disk := func() (int64, error) { return dirSize(dir) }
	if cfg.dsn != "" {
		disk = func() (int64, error) { return pgSize(ctx, cfg.dsn) }
	}

	fmt.Fprintf(stderr, "loading %d objects into %s (%s), bundles of %d, %d workers\n", cfg.n, cfg.backend, dir, cfg.bundle, cfg.workers)
	cps, ids, err := load(ctx, cfg, dir, n, loader, disk, stderr)
	if err != nil {
		return err
	}
	storeMetrics(n, "after the load", stderr)
	lats, err := timeReads(ctx, cfg, n, loader, reader, readerToken, ids, stderr)
	if err != nil {
		return err
	}
	if cfg.ui > 0 {
		ul, err := timeUI(ctx, cfg, n, loaderSpec.Name, readerSpec.Name, ids, stderr)
		if err != nil {
			return fmt.Errorf("ui: %w", err)
		}
		lats = append(lats, ul...)
	}
	storeMetrics(n, "after the reads", stderr)
	final, err := disk()
	if err != nil {
		return err
	}
	report(stdout, cfg, cps, lats, final, peakRSS())
	if cfg.keep {
		fmt.Fprintf(stderr, "kept %s\n", dir)
	}
	return nil
}

var (
	loaderSpec = users.UserSpec{Name: "loader", Role: node.RoleAnalyst, Nationality: "GBR",
		Clearances:   map[string]string{"NATO": "TOP-SECRET", "NATIONAL": "TOP-SECRET"},
		Compartments: []string{"HERON"}}
	readerSpec = users.UserSpec{Name: "reader", Role: node.RoleAnalyst, Nationality: "GBR",
		Clearances: map[string]string{"NATO": "CONFIDENTIAL"}}
)

// reuse times the reads again on a node an earlier -keep run loaded: the
// way to compare read-path changes at a size that takes minutes to load.
func reuse(ctx context.Context, cfg config, stdout, stderr io.Writer) error {
	n, err := stack.Open(ctx, cfg.reuse, node.Options{OpenStore: backend.Opener(cfg.dsn)})
	if err != nil {
		return fmt.Errorf("open: %w", err)
	}
	defer n.Close()
	var ps [2]*node.Principal
	var names [2]string
	var readerToken string
	for i, s := range []users.UserSpec{loaderSpec, readerSpec} {
		s.Name += "-" + strconv.FormatInt(time.Now().UnixNano(), 36)
		names[i] = s.Name
		if ps[i], readerToken, err = principal(ctx, n, s); err != nil {
			return err
		}
	}
	// Point-read ids: pages listed by the loader at random cursors.
	r := rand.New(rand.NewPCG(cfg.seed, 13))
	var ids []string
	for range 50 {
		pg, err := n.List(ctx, ps[0], node.ListOptions{Limit: node.MaxPage, After: r.Int64N(int64(cfg.n))})
		if err != nil {
			return fmt.Errorf("sample ids: %w", err)
		}
		for _, o := range pg.Objects {
			ids = append(ids, o.ID)
		}
	}
	if len(ids) == 0 {
		return fmt.Errorf("sample ids: %s holds no objects", cfg.reuse)
	}
	lats, err := timeReads(ctx, cfg, n, ps[0], ps[1], readerToken, ids, stderr)
	if err != nil {
		return err
	}
	if cfg.ui > 0 {
		// The original loader signs in: the audit filter by actor names
		// it, and its ingest entries fill the log.
		ul, err := timeUI(ctx, cfg, n, loaderSpec.Name, names[1], ids, stderr)
		if err != nil {
			return fmt.Errorf("ui: %w", err)
		}
		lats = append(lats, ul...)
	}
	report(stdout, cfg, nil, lats, 0, peakRSS())
	return nil
}

// timeReads times point reads of random ids and filtered pages.
func timeReads(ctx context.Context, cfg config, n *stack.Node, loader, reader *node.Principal, readerToken string, ids []string, stderr io.Writer) (_ []latencies, err error) {
	fmt.Fprintf(stderr, "timing %d point reads and %d filtered pages per filter\n", cfg.reads, cfg.pages)
	if cfg.cpuprofile != "" {
		f, err := os.Create(cfg.cpuprofile)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return nil, err
		}
		defer pprof.StopCPUProfile()
	}
	if cfg.memprofile != "" {
		// Allocations count from the process's start: a snapshot now,
		// beside the file, is what `go tool pprof -base` subtracts.
		if err := writeHeapProfile(cfg.memprofile + ".base"); err != nil {
			return nil, err
		}
		defer func() {
			if err == nil {
				err = writeHeapProfile(cfg.memprofile)
			}
		}()
	}
	rng := rand.New(rand.NewPCG(cfg.seed, 7))
	var lats []latencies
	get := make([]time.Duration, 0, cfg.reads)
	for range cfg.reads {
		id := ids[rng.IntN(len(ids))]
		t0 := time.Now()
		if _, err := n.Get(ctx, loader, id); err != nil {
			return nil, fmt.Errorf("point read %s: %w", id, err)
		}
		get = append(get, cfg.took("point read", len(get), t0))
	}
	lats = append(lats, summarise("point read (node.Get, audited)", get, "random id among all"))
	srv := httptest.NewTLSServer(taxii.New(n.TAXII, taxii.Options{}))
	defer srv.Close()
	// Filtered pages, one kind after the other, each for both filters.
	kinds := []struct {
		name string
		time func(typ string) ([]time.Duration, int, error)
	}{
		{"page of 1,000 (node.List, audited)", func(typ string) ([]time.Duration, int, error) {
			return timePages(ctx, n, reader, typ, cfg.named("List "+typ), rng)
		}},
		{"TAXII page of 1,000 (objects endpoint backend, audited)", func(typ string) ([]time.Duration, int, error) {
			return timeTAXIIPages(ctx, n, reader, typ, cfg.named("TAXII backend "+typ), rng)
		}},
		{"TAXII GET of 1,000 (HTTPS on loopback, whole body read)", func(typ string) ([]time.Duration, int, error) {
			return timeHTTPPages(ctx, srv, n, reader, readerToken, typ, cfg.named("HTTPS "+typ), rng)
		}},
	}
	var all []time.Duration
	cpuAll, cpuOK := readCPU()
	for _, k := range kinds {
		for _, typ := range []string{"indicator", "report"} {
			cpu, ok := readCPU()
			ds, short, err := k.time(typ)
			if err != nil {
				return nil, err
			}
			all = append(all, ds...)
			note := fmt.Sprintf("type=%s, reader sees ~50%%, random cursor", typ)
			if short > 0 {
				note += fmt.Sprintf("; %d pages ran off the end with fewer than 1,000", short)
			}
			if s := stealSince(cpu, ok); s != "" {
				note += "; " + s
			}
			lats = append(lats, summarise(k.name, ds, note))
		}
	}
	// Each filter's p99 (of the default 200 pages) is its second-slowest
	// page: one short stall that catches two pages of a filter decides it.
	// Pooled, the same pages give a p99 that one stall moves less.
	note := "the six filters' pages together"
	if s := stealSince(cpuAll, cpuOK); s != "" {
		note += "; " + s
	}
	lats = append(lats, summarise("all pages of 1,000 above, pooled", all, note))
	return lats, nil
}

// timeHTTPPages times GET …/collections/{id}/objects/?match[type]=&limit=1000
// as a TAXII client sees it: the handler, TLS over loopback, and the
// response body read to the end (not parsed). A page that says "more":
// false ran off the end.
func timeHTTPPages(ctx context.Context, srv *httptest.Server, n *stack.Node, p *node.Principal, token, typ string, cfg config, rng *rand.Rand) ([]time.Duration, int, error) {
	c := srv.Client()
	var buf bytes.Buffer
	return timeEach(cfg, func() (bool, error) {
		next, err := taxiiCursor(ctx, n, p, typ, rng, cfg)
		if err != nil {
			return false, err
		}
		u := srv.URL + taxii.Prefix + taxii.DefaultRoot + "/collections/" + n.TAXII.HoldingsID() + "/objects/?" +
			url.Values{"match[type]": {typ}, "limit": {strconv.Itoa(taxii.MaxLimit)}, "next": {next}}.Encode()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return false, err
		}
		req.Header.Set("Accept", taxii.MediaTypeTAXII)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := c.Do(req)
		if err != nil {
			return false, fmt.Errorf("taxii get: %w", err)
		}
		// Read to the end into a reused buffer: the client's own cost (here
		// on the same two cores) is kept small, as a client elsewhere's is.
		buf.Reset()
		_, err = buf.ReadFrom(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			return false, fmt.Errorf("taxii get: %s %v: %.200s", resp.Status, err, buf.Bytes())
		}
		return bytes.HasPrefix(buf.Bytes(), []byte(`{"more":true`)), nil
	})
}

// timeTAXIIPages times what GET …/collections/{id}/objects/?match[type]=
// costs the node behind the HTTP handler: the same filtered read as
// timePages plus each object's bindings and the labels the page names, as
// the envelope carries them.
func timeTAXIIPages(ctx context.Context, n *stack.Node, p *node.Principal, typ string, cfg config, rng *rand.Rand) ([]time.Duration, int, error) {
	t := n.TAXII
	return timeEach(cfg, func() (bool, error) {
		next, err := taxiiCursor(ctx, n, p, typ, rng, cfg)
		if err != nil {
			return false, err
		}
		pg, err := t.Objects(ctx, p, n.TAXII.HoldingsID(), taxii.Query{Types: []string{typ}, Limit: taxii.MaxLimit, Next: next})
		if err != nil {
			return false, fmt.Errorf("taxii page: %w", err)
		}
		return len(pg.Items) == taxii.MaxLimit, nil
	})
}

// cursorSpan is where random cursors fall: room is left after the cursor
// for a full page of the rarest filter (reports: 8% of objects, half
// visible, so ~25,000 objects a page).
func cursorSpan(cfg config) int64 { return max(int64(cfg.n)-40_000, int64(cfg.n)/10) }

// taxiiCursor is a TAXII `next` for p's match[type]=typ listing at a
// random insertion sequence. Cursors are sealed, so the node issues it
// (node.TAXIICursorAt); timed pages open it as any page does.
func taxiiCursor(ctx context.Context, n *stack.Node, p *node.Principal, typ string, rng *rand.Rand, cfg config) (string, error) {
	return n.TAXII.TAXIICursorAt(ctx, p, taxii.Query{Types: []string{typ}}, rng.Int64N(cursorSpan(cfg)))
}

// named is cfg with what set, the name -slowlog gives the operations timed.
func (c config) named(what string) config {
	c.what = what
	return c
}

// took is the time since t0 of the i-th operation of its kind, logged if
// -slowlog asks for it. With the same -seed a run repeats the same cursors,
// so i tells a slow page that is slow every time from a passing burst.
func (c config) took(what string, i int, t0 time.Time) time.Duration {
	d := time.Since(t0)
	if c.slowlog > 0 && d >= c.slowlog {
		fmt.Fprintf(c.logw, "slow %s %s #%d %.1f ms\n", t0.UTC().Format("15:04:05.000"), what, i, float64(d.Microseconds())/1000)
	}
	return d
}

// timeEach times cfg.pages calls of page, each reporting whether it was a
// full page; short counts those that ran off the end.
func timeEach(cfg config, page func() (full bool, err error)) (ds []time.Duration, short int, err error) {
	ds = make([]time.Duration, 0, cfg.pages)
	for i := range cfg.pages {
		t0 := time.Now()
		full, err := page()
		if err != nil {
			return nil, 0, err
		}
		ds = append(ds, cfg.took(cfg.what, i, t0))
		if !full {
			short++
		}
	}
	return ds, short, nil
}

// principal adds a user and authenticates as it; the token is for HTTP.
func principal(ctx context.Context, n *stack.Node, s users.UserSpec) (*node.Principal, string, error) {
	_, tok, err := n.Users.AddUser(ctx, node.ConsoleAdmin(), s)
	if err != nil {
		return nil, "", err
	}
	p, err := n.Authenticate(ctx, tok)
	return p, tok, err
}

// job is one bundle to ingest.
type job struct {
	data  []byte
	label string
	count int
}

// load ingests cfg.n objects and returns the checkpoints and a sample of
// ingested ids (for point reads).
func load(ctx context.Context, cfg config, dir string, n *stack.Node, p *node.Principal, disk func() (int64, error), stderr io.Writer) ([]checkpoint, []string, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	jobs := make(chan job, cfg.workers*2)
	const keepIDs = 100_000
	ids := make([]string, 0, keepIDs)
	// The generator runs ahead of the ingests on its own goroutine, as
	// clients would: its cost is not the node's, but it shares the cores.
	go func() {
		defer close(jobs)
		g := stixgen.New(cfg.seed, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
		g.OrderedIDs = cfg.orderedIDs
		r := rand.New(rand.NewPCG(cfg.seed, 11))
		objs := make([]stixgen.Object, 0, cfg.bundle)
		for made := 0; made < cfg.n; {
			objs = objs[:0]
			for range min(cfg.bundle, cfg.n-made) {
				o := g.Next()
				objs = append(objs, o)
				// Reservoir sample of ids for the point reads.
				if len(ids) < keepIDs {
					ids = append(ids, o.ID)
				} else if k := r.IntN(made + len(objs)); k < keepIDs {
					ids[k] = o.ID
				}
			}
			made += len(objs)
			select {
			case jobs <- job{data: stixgen.Bundle(g, objs), label: pickLabel(r), count: len(objs)}:
			case <-ctx.Done():
				return
			}
		}
	}()

	var loaded atomic.Int64
	var mu sync.Mutex
	var samples []sample
	start := time.Now()
	samples = append(samples, sample{0, start, writtenBytes()})
	var cps []checkpoint
	next := 0 // index of the next checkpoint
	profiling := false
	defer func() {
		if profiling {
			pprof.StopCPUProfile()
		}
	}()
	var wg sync.WaitGroup
	for range cfg.workers {
		wg.Go(func() {
			for j := range jobs {
				res, err := n.Ingest(ctx, p, j.data, node.IngestOptions{Label: j.label})
				if err == nil && len(res.Refused) > 0 {
					err = fmt.Errorf("%d objects refused, first %s", len(res.Refused), res.Refused[0])
				}
				if err != nil {
					cancel(fmt.Errorf("ingest: %w", err))
					return
				}
				now, written := time.Now(), writtenBytes()
				total := int(loaded.Add(int64(j.count)))
				mu.Lock()
				samples = append(samples, sample{total, now, written})
				if cfg.loadprofile != "" && !profiling && total >= cfg.n-cfg.n/10 {
					if err := startProfile(cfg.loadprofile); err != nil {
						mu.Unlock()
						cancel(err)
						return
					}
					profiling = true
				}
				// Checkpoints are measured under the lock, between bundles
				// of this worker, so the window rates exclude the cost of
				// measuring (the other worker keeps ingesting meanwhile).
				for next < len(cfg.checkpoints) && total >= cfg.checkpoints[next] {
					c := measure(cfg.checkpoints[next], samples, start, now)
					c.disk, err = disk()
					if err != nil {
						mu.Unlock()
						cancel(err)
						return
					}
					c.rss = currentRSS()
					if cfg.dsn == "" {
						c.wal, _ = fileSize(filepath.Join(dir, "tearline.db-wal"))
					}
					cps = append(cps, c)
					fmt.Fprintf(stderr, "%9d objects  %8.0f objects/s (window from %d)  disk %s (WAL %s)  rss %s  elapsed %v\n",
						c.objects, c.windowRate, c.windowFrom, human(c.disk), human(c.wal), human(c.rss), c.elapsed.Round(time.Second))
					next++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return nil, nil, err
	}
	return cps, ids, nil
}

// measure computes the window rate at count c: over the second half of the
// objects loaded so far, capped at the last 100,000, so each checkpoint's
// rate is the node's speed at that size, not an average since empty.
func measure(c int, samples []sample, start, now time.Time) checkpoint {
	last := samples[len(samples)-1]
	from := last.n - min(last.n/2, 100_000)
	i, _ := slices.BinarySearchFunc(samples, from, func(s sample, n int) int { return s.n - n })
	i = min(i, len(samples)-2)
	first := samples[i]
	rate := float64(last.n-first.n) / last.t.Sub(first.t).Seconds()
	written := float64(last.written-first.written) / float64(last.n-first.n)
	return checkpoint{objects: c, elapsed: now.Sub(start), windowFrom: first.n, windowRate: rate, written: written}
}

// timePages times filtered pages of 1,000 at random places in the log,
// started at a store position (ListOptions.After): a reader's cursor is
// sealed and cannot name one.
func timePages(ctx context.Context, n *stack.Node, p *node.Principal, typ string, cfg config, rng *rand.Rand) ([]time.Duration, int, error) {
	return timeEach(cfg, func() (bool, error) {
		after := rng.Int64N(cursorSpan(cfg))
		pg, err := n.List(ctx, p, node.ListOptions{Types: []string{typ}, Limit: node.MaxPage, After: after})
		if err != nil {
			return false, fmt.Errorf("page: %w", err)
		}
		return len(pg.Objects) == node.MaxPage, nil
	})
}

func report(w io.Writer, cfg config, cps []checkpoint, lats []latencies, disk, peak int64) {
	fmt.Fprintf(w, "\n### %s, %d objects (bundles of %d, %d concurrent ingests, GOMAXPROCS %d, GC percent %s)\n\n", cfg.backend, cfg.n, cfg.bundle, cfg.workers, runtime.GOMAXPROCS(0), gcPercent())
	if len(cps) > 0 {
		fmt.Fprintln(w, "| objects | ingest objects/s (window) | vs first | elapsed | disk | of which WAL | disk/object without WAL | written/object (window) | RSS |")
		fmt.Fprintln(w, "|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	}
	for _, c := range cps {
		fmt.Fprintf(w, "| %d | %.0f (%d–%d) | %+.0f%% | %v | %s | %s | %d B | %s | %s |\n", c.objects, c.windowRate, c.windowFrom, c.objects,
			(c.windowRate/cps[0].windowRate-1)*100, c.elapsed.Round(time.Second), human(c.disk), human(c.wal), (c.disk-c.wal)/int64(c.objects),
			writtenPer(cfg, c.written), human(c.rss))
	}
	fmt.Fprintln(w, "\n| operation | count | p50 | p99 | max | note |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---|")
	for _, l := range lats {
		fmt.Fprintf(w, "| %s | %d | %s | %s | %s | %s |\n", l.name, l.n, ms(l.p50), ms(l.p99), ms(l.max), l.note)
	}
	if cfg.reuse != "" {
		fmt.Fprintf(w, "\nReads only, on %s; peak RSS of this process %s.\n", cfg.reuse, human(peak))
		return
	}
	fmt.Fprintf(w, "\nFinal disk %s (%s); peak RSS of this process %s.\n", human(disk), diskWhat(cfg), human(peak))
}

func diskWhat(cfg config) string {
	if cfg.backend == "postgres" {
		return "pg_database_size, after the reads"
	}
	return "data directory: database, WAL, keys, after the reads"
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

func human(b int64) string {
	switch {
	case b >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(b)/(1<<30))
	case b >= 1<<20:
		return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20))
	default:
		return fmt.Sprintf("%d KiB", b>>10)
	}
}

// dirSize is the bytes allocated on disk under dir (du, not apparent size).
func dirSize(dir string) (int64, error) {
	var total int64
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			fi, err := d.Info()
			if err != nil {
				return err
			}
			total += allocated(fi)
		}
		return nil
	})
	return total, err
}

// fileSize is the bytes allocated to one file; 0 when it does not exist.
func fileSize(p string) (int64, error) {
	fi, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return allocated(fi), nil
}

// pgSize is pg_database_size of the database dsn names.
func pgSize(ctx context.Context, dsn string) (int64, error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return 0, fmt.Errorf("database size: %w", err)
	}
	defer conn.Close(ctx)
	var size int64
	if err := conn.QueryRow(ctx, `SELECT pg_database_size(current_database())`).Scan(&size); err != nil {
		return 0, fmt.Errorf("database size: %w", err)
	}
	return size, nil
}

// writtenPer is the window's bytes written per object, for SQLite: a
// PostgreSQL server's writes are not this process's.
func writtenPer(cfg config, b float64) string {
	if cfg.backend != "sqlite" {
		return "(server's)"
	}
	return fmt.Sprintf("%.1f KB", b/1000)
}

// gcPercent is the collector's GC percent in force.
func gcPercent() string {
	m := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(m)
	if m[0].Value.Kind() != metrics.KindUint64 {
		return "unknown"
	}
	return strconv.FormatUint(m[0].Value.Uint64(), 10)
}

func startProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	// The file stays open until the process exits: StopCPUProfile flushes it.
	return pprof.StartCPUProfile(f)
}

// writeHeapProfile writes the heap profile (what has been allocated so far,
// and what is live) to path, after a GC so that it is current.
func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	runtime.GC()
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		f.Close()
		return fmt.Errorf("heap profile: %w", err)
	}
	return f.Close()
}

// writtenBytes is what this process has caused to be written to storage
// (/proc/self/io write_bytes): the database file, WAL and checkpoints for
// SQLite. 0 where there is no /proc.
func writtenBytes() int64 { return procField("/proc/self/io", "write_bytes:") }

// currentRSS and peakRSS read /proc/self/status (VmRSS, VmHWM); 0 where
// there is no /proc.
func currentRSS() int64 { return procField("/proc/self/status", "VmRSS:") }
func peakRSS() int64    { return procField("/proc/self/status", "VmHWM:") }

// procField reads one "key: value [kB]" line of a /proc file, in bytes.
func procField(path, key string) int64 {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), key); ok {
			v = strings.TrimSpace(v)
			n, _ := strconv.ParseInt(strings.TrimSuffix(v, " kB"), 10, 64)
			if strings.HasSuffix(v, " kB") {
				n <<= 10
			}
			return n
		}
	}
	return 0
}

// storeMetrics prints the backend's own metrics (SQLite: the id index's
// tail and merges), to see what ran beside the timed reads.
func storeMetrics(n *stack.Node, when string, w io.Writer) {
	st := n.Store()
	for { // the node's store wraps the backend (access MACs, sealing)
		u, is := st.(interface{ Unwrap() store.Store })
		if !is {
			break
		}
		st = u.Unwrap()
	}
	c, ok := st.(interface{ Collector() prometheus.Collector })
	if !ok {
		return
	}
	reg := prometheus.NewRegistry()
	if err := reg.Register(c.Collector()); err != nil {
		return
	}
	mfs, err := reg.Gather()
	if err != nil {
		return
	}
	var parts []string
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			v := m.GetGauge().GetValue() + m.GetCounter().GetValue()
			parts = append(parts, fmt.Sprintf("%s %g", strings.TrimPrefix(mf.GetName(), "tearline_sqlite_"), v))
		}
	}
	fmt.Fprintf(w, "store %s: %s\n", when, strings.Join(parts, ", "))
}
