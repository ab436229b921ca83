package crashtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tearline/tearline/api"
	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/internal/pgtest"
	"github.com/tearline/tearline/internal/stixgen"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/stack"
	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/store/backend"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// Environment knobs. The defaults are what CI runs.
const (
	envCycles = "TEARLINE_CRASH_CYCLES" // kill cycles per backend (default 20; 3 with -short)
	envSeed   = "TEARLINE_CRASH_SEED"   // seed of the kill moments and the workload (default: time)
)

// Bounds that keep a wedged child from hanging the test: none is an
// assertion, each only limits how long we wait for something to happen.
const (
	startLimit  = 60 * time.Second      // a start: exec, open (recovery), listen
	healthTries = 400                   // /healthz polls after the listen line
	healthPause = 25 * time.Millisecond // between polls
	stopLimit   = 30 * time.Second      // graceful stop at the end
	maxStarts   = 4                     // kill during one of the first 1..maxStarts publishes of a cycle
)

// TestCrash runs the kill cycles against each backend in turn, one after
// the other (two cores: side by side they would only slow each other), with
// one build of the binary.
func TestCrash(t *testing.T) {
	bin := buildTearline(t)
	t.Run("sqlite", func(t *testing.T) { runCrash(t, bin, "") })
	t.Run("postgres", func(t *testing.T) { runCrash(t, bin, pgtest.DSN(t)) })
}

// runParams returns how many kill cycles to run (def, 3 with -short, or
// the positive number in the environment variable env) and the workload's
// seed (a fresh one, or envSeed's to replay a run).
func runParams(t *testing.T, env string, def int) (cycles int, seed uint64) {
	t.Helper()
	cycles = def
	if testing.Short() {
		cycles = 3
	}
	if s := os.Getenv(env); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("%s=%q: want a positive number", env, s)
		}
		cycles = n
	}
	seed = uint64(time.Now().UnixNano())
	if s := os.Getenv(envSeed); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("%s=%q: want a number", envSeed, s)
		}
		seed = v
	}
	return cycles, seed
}

// runCrash runs the kill cycles against one backend (storeURL "" for SQLite)
// and then checks what survived.
func runCrash(t *testing.T, bin, storeURL string) {
	cycles, seed := runParams(t, envCycles, 20)
	t.Logf("%d kill cycles, seed %d (rerun with %s=%d)", cycles, seed, envSeed, seed)

	h := newHarness(t, bin, storeURL, seed)
	l := newLedger()
	phases := []phase{
		&ingestPhase{gen: stixgen.New(seed, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)), rng: rand.New(rand.NewPCG(seed, 1))},
		&readPhase{rng: rand.New(rand.NewPCG(seed, 2))},
		// A federation delivery phase goes here once the outbox exists.
	}
	start := time.Now()
	for c := range cycles {
		h.cycle(c, phases, l)
	}
	// A last run without a kill: the node must come back and serve after
	// the last crash, and then stop cleanly.
	srv := h.start(cycles)
	h.stop(srv)
	t.Logf("%d cycles in %v: %d versions acknowledged, %d reads acknowledged, %d publishes and %d reads cut by kills",
		cycles, time.Since(start).Round(time.Millisecond), len(l.acked), len(l.reads), l.cutPublishes, l.cutReads)
	if len(l.acked) == 0 || l.cutPublishes == 0 {
		t.Fatalf("the run proves nothing: %d versions acknowledged, %d publishes cut by a kill", len(l.acked), l.cutPublishes)
	}

	t0 := time.Now()
	h.verifyAuditLog()
	t1 := time.Now()
	v := h.view()
	t.Logf("checks: audit verify %v, reading the store back %v", t1.Sub(t0).Round(time.Millisecond), time.Since(t1).Round(time.Millisecond))
	for _, p := range phases {
		p.check(t, v, l)
	}
}

// harness runs one node's binary on one data directory.
type harness struct {
	t        *testing.T
	bin      string
	dir      string
	storeURL string
	token    string
	ca       string
	rng      *rand.Rand
}

func newHarness(t *testing.T, bin, storeURL string, seed uint64) *harness {
	tmp := t.TempDir()
	h := &harness{t: t, bin: bin, dir: filepath.Join(tmp, "node"), storeURL: storeURL,
		rng: rand.New(rand.NewPCG(seed, 3))}
	h.ca = filepath.Join(h.dir, "tls", "cert.pem")
	h.run("init", "--data", h.dir, "--name", "crash", "--country", "GBR")
	out := h.run("user", "add", "--data", h.dir, "--name", "crash", "--role", "analyst",
		"--nationality", "GBR", "--clearance", "NATO:SECRET", "--default-label", "NATO RESTRICTED // REL TO GBR")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	h.token = strings.TrimSpace(lines[len(lines)-1])
	return h
}

// buildTearline builds cmd/tearline into the test's directory: the real
// binary, so the kills hit exactly what operators run.
func buildTearline(t *testing.T) string {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the crash test builds the tearline binary and needs the go command: %v", err)
	}
	out := filepath.Join(t.TempDir(), "tearline")
	cmd := exec.Command(gobin, "build", "-o", out, "github.com/tearline/tearline/cmd/tearline")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build cmd/tearline: %v\n%s", err, b)
	}
	return out
}

// env is the environment of every child: ours without TEARLINE_STORE, so
// the store is exactly the one this harness names.
func env() []string {
	return slices.DeleteFunc(os.Environ(), func(s string) bool { return strings.HasPrefix(s, "TEARLINE_STORE=") })
}

// run runs a short tearline command that must succeed, with --store added
// when the harness uses PostgreSQL, and returns its standard output.
func (h *harness) run(args ...string) string {
	h.t.Helper()
	if h.storeURL != "" {
		args = append(args, "--store", h.storeURL)
	}
	cmd := exec.Command(h.bin, args...)
	cmd.Env = env()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		h.t.Fatalf("tearline %s: %v\n%s%s", args[0], err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// server is one running `tearline serve`.
type server struct {
	cmd    *exec.Cmd
	exited chan error // cmd.Wait's result
	base   string
	client *api.Client
	log    string // its stderr, for failures
}

var listenLine = regexp.MustCompile(`url=(https://\S+)`)

// start starts `tearline serve` and waits until it answers /healthz.
func (h *harness) start(cycle int) *server {
	h.t.Helper()
	logPath := filepath.Join(h.dir, "..", fmt.Sprintf("serve-%03d.log", cycle))
	logf, err := os.Create(logPath)
	if err != nil {
		h.t.Fatal(err)
	}
	args := []string{"serve", "--data", h.dir, "--listen", "127.0.0.1:0", "--checkpoint-interval", "100ms"}
	if h.storeURL != "" {
		args = append(args, "--store", h.storeURL)
	}
	w := &urlWatcher{w: logf, found: make(chan string, 1)}
	cmd := exec.Command(h.bin, args...)
	cmd.Env = env()
	cmd.Stdout, cmd.Stderr = logf, w
	if err := cmd.Start(); err != nil {
		logf.Close()
		h.t.Fatalf("start tearline serve: %v", err)
	}
	// The log file stays open until the process has exited: stderr goes
	// through w, and closing the file under it would end the copy and kill
	// the server with SIGPIPE at its next log line.
	exited := make(chan error, 1)
	go func() {
		err := cmd.Wait()
		logf.Close()
		exited <- err
	}()
	s := &server{cmd: cmd, exited: exited, log: logPath}
	select {
	case s.base = <-w.found:
	case err := <-exited:
		h.t.Fatalf("cycle %d: tearline serve exited before listening: %v\n%s", cycle, err, readFile(logPath))
	case <-time.After(startLimit):
		_ = cmd.Process.Kill()
		<-exited
		h.t.Fatalf("cycle %d: tearline serve did not listen within %v\n%s", cycle, startLimit, readFile(logPath))
	}
	tlsConf, err := api.ClientTLS(h.ca, false)
	if err != nil {
		h.t.Fatal(err)
	}
	s.client = api.NewClient(s.base, h.token, tlsConf)
	s.client.HTTP.Timeout = 30 * time.Second
	for try := 0; ; try++ {
		if err := healthz(s.client); err == nil {
			break
		} else if try == healthTries {
			h.kill(s)
			h.t.Fatalf("cycle %d: %s/healthz did not answer after %d tries: %v\n%s", cycle, s.base, healthTries, err, readFile(logPath))
		}
		time.Sleep(healthPause)
	}
	return s
}

func healthz(c *api.Client) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.Base+"/healthz", nil)
	if err != nil {
		return err
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

// kill sends SIGKILL and waits for the process to be gone.
func (h *harness) kill(s *server) {
	h.t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		h.t.Fatalf("kill tearline serve: %v", err)
	}
	<-s.exited
}

// stop asks the server to stop (SIGTERM, as an operator or systemd would)
// and requires a clean exit.
func (h *harness) stop(s *server) {
	h.t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		h.t.Fatalf("stop tearline serve: %v", err)
	}
	select {
	case err := <-s.exited:
		if err != nil {
			h.t.Fatalf("tearline serve did not stop cleanly: %v\n%s", err, readFile(s.log))
		}
	case <-time.After(stopLimit):
		h.kill(s)
		h.t.Fatalf("tearline serve did not stop within %v of SIGTERM\n%s", stopLimit, readFile(s.log))
	}
}

// cycle starts the server, runs every phase against it, kills it with
// SIGKILL at a random moment while a publish is in flight, and waits for
// the phases to notice. The moment: during the k-th publish of the cycle (k
// random in 1..maxStarts), a random fraction of 1.5 typical publishes after
// it began, so some cycles acknowledge several bundles first and some kills
// land between a publish's two chunk commits, on both backends whatever
// their speed.
func (h *harness) cycle(c int, phases []phase, l *ledger) {
	h.t.Helper()
	s := h.start(c)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	inFlight := make(chan struct{}, 4*maxStarts)
	var wg sync.WaitGroup
	errs := make(chan error, len(phases))
	for _, p := range phases {
		wg.Go(func() {
			if err := p.run(ctx, s.client, l, inFlight); err != nil {
				errs <- fmt.Errorf("cycle %d: %s: %w", c, p.name(), err)
			}
		})
	}
	for range 1 + h.rng.IntN(maxStarts) {
		select {
		case <-inFlight:
		case <-time.After(startLimit):
			h.t.Fatalf("cycle %d: no publish started within %v", c, startLimit)
		}
	}
	time.Sleep(time.Duration(h.rng.Float64() * 1.5 * float64(l.typical()))) // the kill moment: random, not an assertion
	h.kill(s)
	cancel()
	wg.Wait()
	close(errs)
	for err := range errs {
		h.t.Errorf("%v\n%s", err, readFile(s.log))
	}
	if h.t.Failed() {
		h.t.FailNow()
	}
}

// verifyAuditLog runs `tearline audit verify`: it recomputes the Merkle tree
// from every leaf and checks every stored checkpoint.
func (h *harness) verifyAuditLog() {
	h.t.Helper()
	out := h.run("audit", "verify", "--data", h.dir)
	h.t.Logf("audit verify: %s", strings.TrimSpace(out))
}

// view is what the node holds after the run, read straight from its store
// (no reads through the node: they would append to the audit log).
type view struct {
	versions map[vkey]store.ObjectVersion
	latest   map[string]int // List walk: id -> times listed
	ingested map[vkey][]string
	reads    map[vkey]bool // object.read allow entries from Get
}

// vkey is one object version.
type vkey struct{ id, modified string }

func (h *harness) view() *view {
	h.t.Helper()
	ctx := context.Background()
	n, err := stack.Open(ctx, h.dir, node.Options{OpenStore: backend.Opener(h.storeURL)})
	if err != nil {
		h.t.Fatal(err)
	}
	defer n.Close()
	st := n.Store()
	v := &view{versions: map[vkey]store.ObjectVersion{}, latest: map[string]int{}, ingested: map[vkey][]string{}, reads: map[vkey]bool{}}

	acs, err := st.AccessClasses(ctx, 0)
	if err != nil {
		h.t.Fatal(err)
	}
	classes := make([]int64, len(acs))
	for i, c := range acs {
		classes[i] = c.ID
	}
	total, err := st.Count(ctx, store.ListQuery{Classes: classes, IncludeRevoked: true})
	if err != nil {
		h.t.Fatal(err)
	}
	const page = 1000
	var after int64
	for range total/page + 2 {
		vs, err := st.List(ctx, store.ListQuery{Classes: classes, After: after, Limit: page, IncludeRevoked: true})
		if err != nil {
			h.t.Fatal(err)
		}
		for _, o := range vs {
			v.latest[o.ID]++
			after = o.Seq
		}
		if len(vs) < page {
			break
		}
	}
	if int64(len(v.latest)) != total {
		h.t.Errorf("List walk found %d objects, Count says %d", len(v.latest), total)
	}
	// Every version of every object, read by a few goroutines: one query
	// per id, which over PostgreSQL is mostly round trips.
	ids := make(chan string)
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for id := range ids {
				vs, err := st.Versions(ctx, id) // content that does not open fails here
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = fmt.Errorf("versions of %s: %w", id, err)
				}
				for _, o := range vs {
					k := vkey{o.ID, o.Modified}
					if _, dup := v.versions[k]; dup {
						h.t.Errorf("%s %s stored twice", o.ID, o.Modified)
					}
					v.versions[k] = o
				}
				mu.Unlock()
			}
		})
	}
	for id := range v.latest {
		ids <- id
	}
	close(ids)
	wg.Wait()
	if firstErr != nil {
		h.t.Fatal(firstErr)
	}

	size, err := st.AuditSize(ctx)
	if err != nil {
		h.t.Fatal(err)
	}
	const chunk = 10000
	for start := int64(0); start < size; start += chunk {
		es, err := st.AuditEntries(ctx, start, min(start+chunk, size))
		if err != nil {
			h.t.Fatal(err)
		}
		for _, e := range es {
			var ev audit.Event
			if err := json.Unmarshal(e.Data, &ev); err != nil {
				h.t.Fatalf("audit entry %d: %v", e.Index, err)
			}
			k := vkey{ev.Object, ev.Modified}
			switch {
			case ev.Action == audit.ActionIngest:
				v.ingested[k] = append(v.ingested[k], ev.Detail)
			case ev.Action == audit.ActionRead && ev.Decision == audit.Allow && ev.Detail == "":
				v.reads[k] = true
			}
		}
	}
	return v
}

// ledger is what the clients were told: the harness's memory of
// acknowledgements, which survives the kills because it lives in the test.
type ledger struct {
	mu           sync.Mutex
	sent         map[vkey]bool             // every version ever sent
	acked        map[vkey]bool             // versions a 200 answer said landed
	latest       map[string]stixgen.Object // newest acknowledged version per id, for new versions
	ids          []string                  // acknowledged ids, for reads
	reads        map[vkey]bool             // versions a Get returned
	pending      []bundle                  // bundles cut by a kill, resent after the restart
	cutPublishes int
	cutReads     int
	publishTime  time.Duration // moving average of acknowledged publishes
}

// typical is how long a publish takes on this backend and machine.
func (l *ledger) typical() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.publishTime == 0 {
		return 200 * time.Millisecond
	}
	return l.publishTime
}

func newLedger() *ledger {
	return &ledger{sent: map[vkey]bool{}, acked: map[vkey]bool{}, latest: map[string]stixgen.Object{}, reads: map[vkey]bool{}}
}

// phase is one kind of work done while the node is killed. run works
// against the live server until ctx ends or the server is killed under it,
// recording acknowledgements in the ledger; it signals inFlight (without
// blocking) when a request the kill should cut has started. It returns an
// error only for what a kill cannot explain: an answer that is wrong. check
// runs once after all cycles.
type phase interface {
	name() string
	run(ctx context.Context, c *api.Client, l *ledger, inFlight chan<- struct{}) error
	check(t *testing.T, v *view, l *ledger)
}

// ingestPhase publishes bundles: new indicators, new versions of
// acknowledged ones, and resends of bundles a kill cut short. Some bundles
// are larger than one ingest chunk (2,048), so a kill can land between the
// commits of one publish.
type ingestPhase struct {
	gen *stixgen.Gen
	rng *rand.Rand
}

func (*ingestPhase) name() string { return "ingest" }

var labels = [...]string{"", "NATO SECRET // REL TO GBR, USA", "NATO CONFIDENTIAL // REL TO GBR", "NATO RESTRICTED // REL TO GBR // ORCON"}

// bundle is one publish: objects and the label asked for them.
type bundle struct {
	objs  []stixgen.Object
	label string
}

func (p *ingestPhase) next(l *ledger) bundle {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.pending) > 0 {
		b := l.pending[0]
		l.pending = l.pending[1:]
		return b
	}
	label := labels[p.rng.IntN(len(labels))]
	n := 20 + p.rng.IntN(300)
	if p.rng.IntN(8) == 0 {
		n = 2100 + p.rng.IntN(600) // two chunks
	}
	objs := make([]stixgen.Object, 0, n)
	for range n {
		if len(l.ids) > 0 && p.rng.IntN(10) == 0 {
			prev := l.latest[l.ids[p.rng.IntN(len(l.ids))]]
			objs = append(objs, p.gen.Version(prev))
			continue
		}
		objs = append(objs, p.gen.Indicator())
	}
	// One object id must appear once per bundle with a given modified;
	// Version of the same id twice gives two versions, which is fine.
	for _, o := range objs {
		l.sent[vkey{o.ID, o.ModifiedString()}] = true
	}
	return bundle{objs, label}
}

func (p *ingestPhase) run(ctx context.Context, c *api.Client, l *ledger, inFlight chan<- struct{}) error {
	for i := 0; i < 10000 && ctx.Err() == nil; i++ {
		b := p.next(l)
		objs := b.objs
		select {
		case inFlight <- struct{}{}:
		default:
		}
		t0 := time.Now()
		res, err := c.Publish(ctx, bytes.NewReader(stixgen.Bundle(p.gen, objs)), b.label)
		if err != nil {
			var ae *api.APIError
			if errors.As(err, &ae) {
				return fmt.Errorf("publish answered: %w", err)
			}
			// Cut by the kill: not acknowledged. Resend it after the
			// restart, as a client that did not hear back would.
			l.mu.Lock()
			l.pending = append(l.pending, b)
			l.cutPublishes++
			l.mu.Unlock()
			return nil
		}
		if len(res.Refused) > 0 {
			return fmt.Errorf("publish refused %d objects, first %s", len(res.Refused), res.Refused[0])
		}
		landed := map[vkey]bool{}
		for _, ld := range res.Landed {
			landed[vkey{ld.ID, ld.Modified}] = true
		}
		l.mu.Lock()
		l.publishTime = (3*l.publishTime + time.Since(t0)) / 4
		for _, o := range objs {
			k := vkey{o.ID, o.ModifiedString()}
			if !landed[k] {
				l.mu.Unlock()
				return fmt.Errorf("publish answered 200 without %s %s among the landed", k.id, k.modified)
			}
			l.acked[k] = true
			if prev, ok := l.latest[o.ID]; !ok || o.Modified.After(prev.Modified) {
				if !ok {
					l.ids = append(l.ids, o.ID)
				}
				l.latest[o.ID] = o
			}
		}
		l.mu.Unlock()
	}
	return nil
}

func (*ingestPhase) check(t *testing.T, v *view, l *ledger) {
	t.Helper()
	bad := 0
	report := func(format string, args ...any) {
		if bad++; bad <= 20 {
			t.Errorf(format, args...)
		}
	}
	for k := range l.acked {
		if _, ok := v.versions[k]; !ok {
			report("acknowledged %s %s is not stored", k.id, k.modified)
		}
		if len(v.ingested[k]) == 0 {
			report("acknowledged %s %s has no object.ingest audit entry", k.id, k.modified)
		}
	}
	for id, n := range v.latest {
		if n != 1 {
			report("%s listed %d times", id, n)
		}
	}
	for k, o := range v.versions {
		if !l.sent[k] {
			report("%s %s is stored but was never sent", k.id, k.modified)
		}
		if created := slices.Index(v.ingested[k], "created"); created < 0 {
			report("%s %s is stored without its object.ingest created entry", k.id, k.modified)
		} else if slices.Index(v.ingested[k][created+1:], "created") >= 0 {
			report("%s %s has two object.ingest created entries", k.id, k.modified)
		}
		var bs []json.RawMessage
		if err := json.Unmarshal(o.Bindings, &bs); err != nil || len(bs) == 0 || !bytes.Contains(o.Bindings, []byte(o.Digest)) {
			report("%s %s is stored without its binding (%d bindings, err %v)", k.id, k.modified, len(bs), err)
		}
		if !json.Valid(o.Raw) || !bytes.Contains(o.Raw, []byte(o.ID)) {
			report("%s %s: stored content does not open to the object", k.id, k.modified)
		}
	}
	for k, details := range v.ingested {
		if slices.Contains(details, "created") {
			if _, ok := v.versions[k]; !ok {
				report("audit says %s %s was created, but it is not stored", k.id, k.modified)
			}
		}
	}
	if bad > 20 {
		t.Errorf("... %d problems in all", bad)
	}
}

// readPhase reads acknowledged objects by id: each read appends an audit
// entry in the read's transaction, so kills land in audit appends that are
// not part of an ingest.
type readPhase struct{ rng *rand.Rand }

func (*readPhase) name() string { return "read" }

func (p *readPhase) run(ctx context.Context, c *api.Client, l *ledger, _ chan<- struct{}) error {
	for i := 0; i < 100000 && ctx.Err() == nil; i++ {
		l.mu.Lock()
		if len(l.ids) == 0 {
			l.mu.Unlock()
			select { // nothing to read yet: let the ingest phase acknowledge something
			case <-ctx.Done():
			case <-time.After(10 * time.Millisecond):
			}
			continue
		}
		id := l.ids[p.rng.IntN(len(l.ids))]
		l.mu.Unlock()
		raw, err := c.Get(ctx, id)
		if err != nil {
			var ae *api.APIError
			if errors.As(err, &ae) {
				return fmt.Errorf("get %s answered: %w", id, err)
			}
			l.mu.Lock()
			l.cutReads++
			l.mu.Unlock()
			return nil
		}
		var o struct{ ID, Modified string }
		if err := json.Unmarshal(raw, &o); err != nil || o.ID != id {
			return fmt.Errorf("get %s returned %.200s", id, raw)
		}
		l.mu.Lock()
		l.reads[vkey{id, o.Modified}] = true
		l.mu.Unlock()
	}
	return nil
}

func (*readPhase) check(t *testing.T, v *view, l *ledger) {
	t.Helper()
	missing := 0
	for k := range l.reads {
		if !v.reads[k] {
			if missing++; missing <= 10 {
				t.Errorf("acknowledged read of %s %s has no object.read audit entry", k.id, k.modified)
			}
		}
	}
	if len(l.reads) == 0 {
		t.Errorf("no read was acknowledged: the read phase proved nothing")
	}
}

// urlWatcher passes a child's stderr to w and reports the URL of the
// serving line once.
type urlWatcher struct {
	w     io.Writer
	buf   []byte
	found chan string
	done  bool
}

func (u *urlWatcher) Write(b []byte) (int, error) {
	if !u.done {
		u.buf = append(u.buf, b...)
		for i := 0; i < 100; i++ { // bounded: at most 100 lines per write
			line, rest, ok := bytes.Cut(u.buf, []byte("\n"))
			if !ok {
				break
			}
			u.buf = rest
			if m := listenLine.FindSubmatch(line); m != nil && bytes.Contains(line, []byte("msg=serving")) {
				u.found <- string(m[1])
				u.done, u.buf = true, nil
				break
			}
		}
	}
	return u.w.Write(b)
}

func readFile(p string) string {
	b, _ := os.ReadFile(p)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}
