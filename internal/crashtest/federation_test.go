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
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/tearline/tearline/api"
	"github.com/tearline/tearline/internal/demo"
	"github.com/tearline/tearline/internal/pgtest"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/recalls"
	"github.com/tearline/tearline/node/release"
	"github.com/tearline/tearline/node/stack"
	"github.com/tearline/tearline/store/backend"
)

// The federation fault test: a partner killed while its peer keeps
// publishing, then restarted; every permitted object arrives exactly once,
// none lost, none duplicated, and the recall of one of them is
// acknowledged. Both nodes are real `tearline serve` processes; see
// docs/CRASHTEST.md, "Federation delivery".

const envFedCycles = "TEARLINE_FED_CYCLES" // usa kill cycles (default 4; 3 with -short)

// Bounds of the federation test. None is an assertion: each only limits how
// long we wait for something that should happen much sooner.
const (
	fedDeliverLimit = 30 * time.Second // the outbox drains after the last restart
	// outboxLease is serve's outbox lease (delivery.OutboxOptions.Lease's
	// default; serve has no flag for it). Rows the killed gbr had claimed
	// and was sending stay leased to the dead process for that long, and
	// nothing to usa overtakes them: after gbr's kill, delivery may stall
	// for up to a lease. Not a loss, so the test waits it out (and logs it).
	outboxLease    = 15 * time.Second
	fedPollPause   = 50 * time.Millisecond
	fedMaxObjects  = 2500 // the publisher stops generating new objects here (a run makes 800–1,500)
	fedBatchMax    = 8    // objects per publish
	fedListenTries = 20   // starts refused because the fixed port is still taken
	fedBanner      = "NATO RESTRICTED // DISC OSINT // TOPIC CYBER"
)

// TestFederationCrash runs gbr and usa as two `tearline serve` processes on
// fixed loopback ports, under the scenario's gbr-usa agreement. A client
// publishes at gbr and releases each object to usa, without pause, while
// the test SIGKILLs usa at seeded random moments and restarts it after gbr
// has released more, and once SIGKILLs gbr while its outbox is delivering
// the backlog. Then every object whose release gbr acknowledged must be at
// usa exactly once, and a recall issued while usa is down must be
// acknowledged by usa once it is back, the object gone there.
func TestFederationCrash(t *testing.T) {
	bin := buildTearline(t)
	t.Run("sqlite", func(t *testing.T) { runFederationCrash(t, bin, func(*testing.T) string { return "" }) })
	t.Run("postgres", func(t *testing.T) { runFederationCrash(t, bin, func(t *testing.T) string { return pgtest.DSN(t) }) })
}

// runFederationCrash is the test on one backend: storeURL gives each node's
// store ("" for SQLite in its directory, or a fresh PostgreSQL database).
func runFederationCrash(t *testing.T, bin string, storeURL func(*testing.T) string) {
	cycles, seed := runParams(t, envFedCycles, 4)
	t.Logf("%d usa kill cycles, seed %d (rerun with %s=%d)", cycles, seed, envSeed, seed)
	rng := rand.New(rand.NewPCG(seed, 10))
	begin := time.Now()

	gbr, usa := newFedPair(t, bin, storeURL)
	t.Logf("setup (build, cluster, agreements) %v; gbr %s, usa %s", time.Since(begin).Round(time.Millisecond), gbr.url(), usa.url())

	gbr.start()
	usa.start()
	l := newFedLedger(seed)
	pub := &publisher{t: t, l: l, gbr: gbr}
	pub.begin()

	// gbr is killed once, in one cycle, after usa came back: its outbox
	// is then working through what piled up while usa was down.
	gbrKill := rng.IntN(cycles)
	t0 := time.Now()
	for c := range cycles {
		up := jitter(rng, 300*time.Millisecond, 900*time.Millisecond)
		down := jitter(rng, 500*time.Millisecond, 1500*time.Millisecond)
		t.Logf("cycle %d: usa killed after %v, down for %v", c, up, down)
		time.Sleep(up) // the kill moment: random, not an assertion
		usa.kill()
		l.usaDown.Store(true)
		time.Sleep(down) // gbr keeps publishing and releasing meanwhile
		l.usaDown.Store(false)
		usa.start()
		if c == gbrKill {
			after := jitter(rng, 50*time.Millisecond, 600*time.Millisecond)
			time.Sleep(after)
			held, _ := usa.count()
			t.Logf("cycle %d: gbr killed %v after usa came back, with usa holding %d of the %d objects released so far",
				c, after, held, len(l.releasedIDs()))
			pub.end(jitter(rng, 0, 3*time.Millisecond))
			gbr.start()
			pub.begin()
		}
	}
	pub.end(-1)
	// Resend what a kill cut short, as a client that heard nothing would:
	// after this every object generated was published and released with an
	// acknowledgement, so usa must hold exactly the generated set.
	pub.drain()
	l.mu.Lock()
	released, whileDown, cut := len(l.released), l.releasedWhileDown, l.cut
	l.mu.Unlock()
	t.Logf("cycles %v: %d objects released to usa, %d of them while usa was down, %d publishes or releases cut by gbr's kill",
		time.Since(t0).Round(time.Millisecond), released, whileDown, cut)
	if whileDown == 0 || released == 0 {
		t.Fatalf("the run proves nothing: %d released, %d while usa was down", released, whileDown)
	}

	// Every acknowledged release arrives: bounded polling of usa's count.
	t1 := time.Now()
	want := l.releasedIDs()
	waitUntil(t, outboxLease+fedDeliverLimit, fmt.Sprintf("usa holds the %d released objects", len(want)), func() (bool, string) {
		n, err := usa.count()
		if err != nil {
			return false, err.Error()
		}
		return n >= len(want), fmt.Sprintf("usa holds %d", n)
	})
	if d := time.Since(t1); d > fedDeliverLimit {
		t.Logf("outbox drained %v after the last cycle: longer than %v, so it waited for the lease (%v) of rows claimed by the killed gbr", d.Round(time.Millisecond), fedDeliverLimit, outboxLease)
	} else {
		t.Logf("outbox drained %v after the last cycle", d.Round(time.Millisecond))
	}
	t2 := time.Now()
	checkExactlyOnce(t, usa, want)
	t.Logf("exactly-once check through usa's API: %v", time.Since(t2).Round(time.Millisecond))

	// The recall: issued while usa is down, delivered by the outbox when it
	// returns, acknowledged by usa, the object gone there.
	recalled := want[rng.IntN(len(want))]
	usa.kill()
	var rc struct {
		Recall  string                 `json:"recall"`
		Parties []recalls.RecallStatus `json:"parties"`
	}
	if err := gbr.admin.call(http.MethodPost, "/api/v1/recalls", map[string]string{"object": recalled, "reason": "crash test: source compromised"}, http.StatusCreated, &rc); err != nil {
		t.Fatalf("recall %s at gbr: %v", recalled, err)
	}
	if len(rc.Parties) != 1 || rc.Parties[0].Party != "usa" || rc.Parties[0].State != "pending" {
		t.Fatalf("recall %s: parties %+v, want usa pending", recalled, rc.Parties)
	}
	t.Logf("recall %s of %s issued while usa was down", rc.Recall, recalled)
	usa.start()
	waitUntil(t, fedDeliverLimit, "usa acknowledges the recall", func() (bool, string) {
		var st struct {
			Recalls []recalls.RecallStatus `json:"recalls"`
		}
		if err := gbr.admin.call(http.MethodGet, "/api/v1/recalls?object="+url.QueryEscape(recalled), nil, http.StatusOK, &st); err != nil {
			return false, err.Error()
		}
		for _, r := range st.Recalls {
			if r.Recall == rc.Recall && r.Party == "usa" && r.State == "acknowledged" {
				if !slices.Contains(r.Purged, recalled) || len(r.Ack) == 0 {
					t.Fatalf("usa acknowledged recall %s without purging %s: %+v", rc.Recall, recalled, r)
				}
				return true, ""
			}
		}
		return false, fmt.Sprintf("%+v", st.Recalls)
	})
	if err := usa.admin.call(http.MethodGet, "/api/v1/objects/"+url.PathEscape(recalled), nil, http.StatusNotFound, nil); err != nil {
		t.Errorf("recalled %s at usa: %v, want 404", recalled, err)
	}
	if n, err := usa.count(); err != nil || n != len(want)-1 {
		t.Errorf("usa holds %d objects after the recall (err %v), want %d", n, err, len(want)-1)
	}

	// usa's acknowledgement can reach gbr before gbr has read usa's answer
	// to the recall itself (usa answers after its commit, and its outbox
	// sends the ack at once), so gbr may still be recording that delivery:
	// wait for it before stopping gbr, which would cut it short (and leave
	// the recall to be resent, idempotently, at gbr's next start).
	waitUntil(t, fedDeliverLimit, "gbr records every delivery to usa", func() (bool, string) {
		st, err := backend.Open(context.Background(), gbr.dir, gbr.store)
		if err != nil {
			return false, err.Error()
		}
		defer st.Close()
		items, err := st.OutboxItems(context.Background(), "usa", 0, 1_000_000)
		if err != nil {
			return false, err.Error()
		}
		for _, it := range items {
			if it.Delivered.IsZero() {
				return false, fmt.Sprintf("outbox %d (%s) not yet delivered: %s", it.ID, it.Kind, it.LastError)
			}
		}
		return true, ""
	})

	// Both stop cleanly, and both audit logs verify.
	gbr.stop()
	usa.stop()
	for _, f := range []*fedNode{gbr, usa} {
		out := f.run("audit", "verify", "--data", f.dir)
		t.Logf("%s audit verify: %s", f.name, strings.TrimSpace(out))
	}
	checkOutboxDelivered(t, gbr, len(want))
	t.Logf("whole test %v", time.Since(begin).Round(time.Millisecond))
}

// fedNode is one cluster member run as a child process on its fixed port.
type fedNode struct {
	t       *testing.T
	bin     string
	name    string
	dir     string
	store   string // --store URL; "" for SQLite in dir
	addr    string // 127.0.0.1:PORT, written into the partner's peers.yaml
	ca      string // the alliance CA bundle, which issued the node's certificate
	tokens  struct{ admin, analyst string }
	srv     *server
	starts  int
	admin   *caller
	analyst *caller
}

func (f *fedNode) url() string { return "https://" + f.addr }

// newFedPair builds gbr and usa with the in-process cluster builder (CA,
// node certificates, each the other's peer with its URL, users, the
// scenario's gbr-usa agreement signed by both and active), then closes
// them: from here on they only run as `tearline serve` processes.
func newFedPair(t *testing.T, bin string, storeURL func(*testing.T) string) (gbr, usa *fedNode) {
	t.Helper()
	ctx := context.Background()
	var specs []demo.MemberSpec
	for _, s := range demo.ScenarioMembers() {
		if s.Name == "gbr" || s.Name == "usa" {
			s.StoreURL = storeURL(t)
			specs = append(specs, s) // AutoRelease off: the test releases explicitly
		}
	}
	c, err := demo.NewCluster(ctx, t.TempDir(), specs, nil)
	if err != nil {
		t.Fatal(err)
	}
	docs, err := demo.ScenarioAgreements(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range docs {
		if err := c.Agree(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	var out []*fedNode
	for _, m := range c.Members {
		f := &fedNode{t: t, bin: bin, name: m.Name, dir: m.Dir, store: m.StoreURL, addr: m.Addr, ca: filepath.Join(m.Dir, node.TrustCAFile)}
		f.tokens.admin, f.tokens.analyst = m.AdminToken, m.AnalystToken
		out = append(out, f)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	return out[0], out[1]
}

// start runs `tearline serve` on the node's fixed address and waits until
// it answers /healthz. The port was free when the cluster was built; a
// start that finds it taken (a stray connection's ephemeral port, or the
// previous process's socket not yet released) is retried a bounded number
// of times.
func (f *fedNode) start() {
	f.t.Helper()
	for try := 0; ; try++ {
		f.starts++
		logPath := filepath.Join(f.dir, "..", fmt.Sprintf("%s-serve-%02d.log", f.name, f.starts))
		s, err := f.startOnce(logPath)
		if err == nil {
			f.srv = s
			break
		}
		if try < fedListenTries && strings.Contains(readFile(logPath), "address already in use") {
			time.Sleep(100 * time.Millisecond) // wait for the port, bounded by fedListenTries
			continue
		}
		f.t.Fatalf("%s: %v\n%s", f.name, err, readFile(logPath))
	}
	tlsConf, err := api.ClientTLS(f.ca, false)
	if err != nil {
		f.t.Fatal(err)
	}
	client := func(token string) *caller {
		c := api.NewClient(f.srv.base, token, tlsConf)
		c.HTTP.Timeout = 30 * time.Second
		return &caller{c}
	}
	f.admin, f.analyst = client(f.tokens.admin), client(f.tokens.analyst)
	f.srv.client = f.admin.c
	for try := 0; ; try++ {
		if err := healthz(f.admin.c); err == nil {
			return
		} else if try == healthTries {
			f.kill()
			f.t.Fatalf("%s/healthz did not answer after %d tries: %v\n%s", f.srv.base, healthTries, err, readFile(f.srv.log))
		}
		time.Sleep(healthPause)
	}
}

func (f *fedNode) startOnce(logPath string) (*server, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	// logf stays open until the process exits: stderr goes through a pipe
	// that urlWatcher copies into logf, and a closed logf would end the
	// copy and kill the node with SIGPIPE at its next log line (a node
	// whose partner is down logs every failed delivery).
	// --outbox-poll: the default 5 s fallback is not needed (every commit
	// here is made by the serving process, which wakes its outbox at once),
	// but a short one keeps delivery prompt should that ever change.
	args := []string{"serve", "--data", f.dir, "--listen", f.addr, "--checkpoint-interval", "100ms", "--outbox-poll", "200ms"}
	if f.store != "" {
		args = append(args, "--store", f.store)
	}
	cmd := exec.Command(f.bin, args...)
	cmd.Env = env()
	w := &urlWatcher{w: logf, found: make(chan string, 1)}
	cmd.Stdout, cmd.Stderr = logf, w
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start tearline serve: %w", err)
	}
	exited := make(chan error, 1)
	go func() {
		err := cmd.Wait()
		logf.Close()
		exited <- err
	}()
	s := &server{cmd: cmd, exited: exited, log: logPath}
	select {
	case s.base = <-w.found:
		return s, nil
	case err := <-exited:
		return nil, fmt.Errorf("tearline serve exited before listening: %v", err)
	case <-time.After(startLimit):
		_ = cmd.Process.Kill()
		<-exited
		return nil, fmt.Errorf("tearline serve did not listen within %v", startLimit)
	}
}

// kill sends SIGKILL and waits for the process to be gone. A process that
// is already gone died on its own: that is a finding, with its log.
func (f *fedNode) kill() {
	f.t.Helper()
	select {
	case err := <-f.srv.exited:
		f.t.Fatalf("%s's tearline serve exited by itself before the kill: %v\n%s", f.name, err, readFile(f.srv.log))
	default:
	}
	(&harness{t: f.t}).kill(f.srv)
}

func (f *fedNode) stop() {
	f.t.Helper()
	(&harness{t: f.t}).stop(f.srv)
}

// run runs a short tearline command that must succeed.
func (f *fedNode) run(args ...string) string {
	f.t.Helper()
	return (&harness{t: f.t, bin: f.bin, storeURL: f.store}).run(args...)
}

// count is what usa's admin may list of the test's objects (exactly:
// at_most past the default cap of 1,000).
func (f *fedNode) count() (int, error) {
	var c struct {
		Count int `json:"count"`
	}
	err := f.admin.call(http.MethodGet, "/api/v1/count?type=threat-actor&at_most=100000", nil, http.StatusOK, &c)
	return c.Count, err
}

// caller makes JSON calls with one user's token.
type caller struct{ c *api.Client }

// call sends body (if any) as JSON and wants status; out, if not nil,
// receives the answer. A transport error (the process was killed) is
// returned as is; a wrong status is an *api.APIError.
func (c *caller) call(method, path string, body any, status int, out any) error {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		r = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, c.c.Base+path, r)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.c.Token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.c.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != status {
		return &api.APIError{Status: resp.StatusCode, Message: strings.TrimSpace(string(b))}
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

// fedLedger is what gbr's answers told the client, kept in the test so it
// survives every kill.
type fedLedger struct {
	mu                sync.Mutex
	rng               *rand.Rand
	objects           map[string][]byte // every object generated, by id
	order             []string          // ids in generation order
	pending           []string          // publish or release cut by gbr's kill: resent
	released          map[string]bool   // release answered "release"
	releasedWhileDown int
	cut               int
	usaDown           atomic.Bool
}

func newFedLedger(seed uint64) *fedLedger {
	return &fedLedger{rng: rand.New(rand.NewPCG(seed, 11)), objects: map[string][]byte{}, released: map[string]bool{}}
}

// next returns the ids of the next publish: what a kill cut short first,
// else new objects (none once fedMaxObjects were made).
func (l *fedLedger) next() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.pending) > 0 {
		n := min(len(l.pending), fedBatchMax)
		ids := slices.Clone(l.pending[:n])
		l.pending = l.pending[n:]
		return ids
	}
	var ids []string
	for range 1 + l.rng.IntN(fedBatchMax) {
		if len(l.order) >= fedMaxObjects {
			break
		}
		i := len(l.order)
		id := "threat-actor--" + uuid4(l.rng)
		ts := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second).Format("2006-01-02T15:04:05.000Z")
		raw, _ := json.Marshal(map[string]any{"type": "threat-actor", "spec_version": "2.1", "id": id,
			"created": ts, "modified": ts, "name": fmt.Sprintf("crash actor %d", i)})
		l.objects[id] = raw
		l.order = append(l.order, id)
		ids = append(ids, id)
	}
	return ids
}

func (l *fedLedger) releasedIDs() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var ids []string
	for _, id := range l.order {
		if l.released[id] {
			ids = append(ids, id)
		}
	}
	return ids
}

// uuid4 is a random (version 4) UUID from rng, so a seed replays the ids.
func uuid4(rng *rand.Rand) string {
	var b [16]byte
	for i := range b {
		b[i] = byte(rng.UintN(256))
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// publisher publishes at gbr and releases each object to usa, in a
// goroutine, from begin to end.
type publisher struct {
	t      *testing.T
	l      *fedLedger
	gbr    *fedNode
	cancel context.CancelFunc
	done   chan error
	// inFlight is signalled (without blocking) as each publish or
	// release starts, so that gbr's kill lands while one is in flight.
	inFlight chan struct{}
}

func (p *publisher) begin() {
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel, p.done, p.inFlight = cancel, make(chan error, 1), make(chan struct{}, 1)
	analyst := p.gbr.analyst
	go func() { p.done <- p.run(ctx, analyst) }()
}

// end stops the publisher. With kill >= 0, gbr is SIGKILLed under it
// first, kill after a publish or release started, so that request (or the
// next) is cut.
func (p *publisher) end(kill time.Duration) {
	p.t.Helper()
	if kill >= 0 {
		select {
		case <-p.inFlight: // a stale signal: wait for the next start
		default:
		}
		select {
		case <-p.inFlight:
		case <-time.After(startLimit):
			p.t.Fatalf("no publish or release started within %v", startLimit)
		}
		time.Sleep(kill) // the kill moment: random, not an assertion
		p.gbr.kill()
	}
	p.cancel()
	if err := <-p.done; err != nil {
		p.t.Fatalf("publisher: %v\n%s", err, readFile(p.gbr.srv.log))
	}
}

// drain resends, against a live gbr, everything a kill cut short.
func (p *publisher) drain() {
	p.t.Helper()
	for range 100 { // bounded: each round resends up to fedBatchMax objects
		p.l.mu.Lock()
		left := len(p.l.pending)
		p.l.mu.Unlock()
		if left == 0 {
			return
		}
		if err := p.once(p.gbr.analyst); err != nil {
			p.t.Fatalf("resending what gbr's kill cut: %v", err)
		}
	}
	p.t.Fatal("resending what gbr's kill cut did not finish")
}

var errCut = errors.New("cut by a kill")

// run publishes and releases until ctx ends. A transport error is a kill
// and ends the run; any answer that is wrong is an error.
func (p *publisher) run(ctx context.Context, c *caller) error {
	for ctx.Err() == nil {
		err := p.once(c)
		if errors.Is(err, errCut) {
			if ctx.Err() == nil {
				// Only gbr's kill may cut a request, and end cancels ctx
				// right after it, so this is a wait for that cancel.
				<-ctx.Done()
			}
			return nil
		}
		if err != nil {
			return err
		}
		// Pace: tens of objects a second, not thousands, so that the
		// checks stay short; the backlog while usa is down still
		// spans several outbox batches.
		select {
		case <-ctx.Done():
		case <-time.After(10 * time.Millisecond):
		}
	}
	return nil
}

// once publishes one batch at gbr and releases each object to usa.
func (p *publisher) once(c *caller) error {
	ids := p.l.next()
	if len(ids) == 0 {
		return nil
	}
	cut := func(rest []string) error {
		p.l.mu.Lock()
		p.l.pending = append(p.l.pending, rest...)
		p.l.cut++
		p.l.mu.Unlock()
		return errCut
	}
	objs := make([]json.RawMessage, len(ids))
	p.l.mu.Lock()
	for i, id := range ids {
		objs[i] = p.l.objects[id]
	}
	p.l.mu.Unlock()
	bundle, _ := json.Marshal(map[string]any{"type": "bundle", "id": "bundle--" + uuid.NewString(), "objects": objs})
	p.started()
	var res node.IngestResult
	if err := c.call(http.MethodPost, "/api/v1/objects?label="+url.QueryEscape(fedBanner), json.RawMessage(bundle), http.StatusOK, &res); err != nil {
		if ae := (*api.APIError)(nil); errors.As(err, &ae) {
			return fmt.Errorf("publish answered: %w", err)
		}
		return cut(ids)
	}
	if len(res.Refused) > 0 || len(res.Landed) != len(ids) {
		return fmt.Errorf("publish of %d: %d landed, refused %+v", len(ids), len(res.Landed), res.Refused)
	}
	for i, id := range ids {
		p.started()
		var rr release.ReleaseResult
		err := c.call(http.MethodPost, "/api/v1/releases", map[string]string{"object": id, "to": "usa", "purpose": "analysis"}, http.StatusOK, &rr)
		if err != nil {
			if ae := (*api.APIError)(nil); errors.As(err, &ae) {
				return fmt.Errorf("release %s answered: %w", id, err)
			}
			return cut(ids[i:])
		}
		if rr.Outcome != "release" {
			return fmt.Errorf("release %s: outcome %q (%v), want release", id, rr.Outcome, rr.Reasons)
		}
		p.l.mu.Lock()
		p.l.released[id] = true
		if p.l.usaDown.Load() {
			p.l.releasedWhileDown++
		}
		p.l.mu.Unlock()
	}
	return nil
}

func (p *publisher) started() {
	select {
	case p.inFlight <- struct{}{}:
	default:
	}
}

// checkExactlyOnce walks usa's listing through its API as usa's admin:
// every released object is there once, nothing else is, and each has
// exactly one version.
func checkExactlyOnce(t *testing.T, usa *fedNode, want []string) {
	t.Helper()
	seen := map[string]int{}
	next := ""
	for range fedMaxObjects + 2 { // bounded: one page per loop, at least one object per page
		q := "/api/v1/objects?type=threat-actor&limit=1000"
		if next != "" {
			q += "&next=" + url.QueryEscape(next)
		}
		var page api.ListPage
		if err := usa.admin.call(http.MethodGet, q, nil, http.StatusOK, &page); err != nil {
			t.Fatalf("list at usa: %v", err)
		}
		for _, raw := range page.Objects {
			var o struct{ ID string }
			if err := json.Unmarshal(raw, &o); err != nil {
				t.Fatalf("list at usa: %v", err)
			}
			seen[o.ID]++
		}
		if !page.More {
			break
		}
		next = page.Next
	}
	bad := 0
	report := func(format string, args ...any) {
		if bad++; bad <= 20 {
			t.Errorf(format, args...)
		}
	}
	wanted := map[string]bool{}
	for _, id := range want {
		wanted[id] = true
		if seen[id] == 0 {
			report("released %s is not at usa (lost)", id)
		}
	}
	for id, n := range seen {
		if n != 1 {
			report("%s listed %d times at usa", id, n)
		}
		if !wanted[id] {
			report("%s is at usa but its release was never acknowledged", id)
		}
	}
	for _, id := range want {
		var vs struct {
			Versions []struct{ ID, Modified string } `json:"versions"`
		}
		if err := usa.admin.call(http.MethodGet, "/api/v1/objects/"+url.PathEscape(id)+"/versions", nil, http.StatusOK, &vs); err != nil {
			report("versions of %s at usa: %v", id, err)
			continue
		}
		if len(vs.Versions) != 1 || vs.Versions[0].ID != id {
			report("%s has %d versions at usa, want exactly 1: %+v", id, len(vs.Versions), vs.Versions)
		}
	}
	if bad > 20 {
		t.Errorf("... %d problems in all", bad)
	}
	if bad > 0 {
		t.FailNow()
	}
}

// checkOutboxDelivered reads gbr's outbox from its store, after it stopped:
// every message to usa was delivered (accepted), none refused, and some
// only after failed attempts (usa was down).
func checkOutboxDelivered(t *testing.T, gbr *fedNode, released int) {
	t.Helper()
	ctx := context.Background()
	n, err := stack.Open(ctx, gbr.dir, node.Options{OpenStore: backend.Opener(gbr.store)})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	items, err := n.Store().OutboxItems(ctx, "usa", 0, 1_000_000)
	if err != nil {
		t.Fatal(err)
	}
	retried, kinds := 0, map[string]int{}
	for _, it := range items {
		kinds[it.Kind]++
		if it.Delivered.IsZero() {
			t.Errorf("outbox %d (%s) to usa not delivered: %s", it.ID, it.Kind, it.LastError)
		} else if strings.HasPrefix(it.LastError, "refused by ") {
			t.Errorf("outbox %d (%s) to usa refused: %s", it.ID, it.Kind, it.LastError)
		}
		if it.Attempts > 0 {
			retried++
		}
	}
	// More objects messages than objects: a release the kill committed
	// but whose answer it cut was resent, and usa answered "exists".
	t.Logf("gbr outbox to usa: %d messages %v, %d delivered after failed attempts, %d releases sent twice after gbr's kill",
		len(items), kinds, retried, kinds["objects"]-released)
	if retried == 0 {
		t.Errorf("no outbox message needed a retry: usa's kills proved nothing")
	}
}

// waitUntil polls cond every fedPollPause until it holds, for at most
// limit; state describes the last poll for the failure.
func waitUntil(t *testing.T, limit time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v (last: %s)", what, limit, state)
		}
		time.Sleep(fedPollPause)
	}
}

func jitter(rng *rand.Rand, lo, hi time.Duration) time.Duration {
	return lo + time.Duration(rng.Int64N(int64(hi-lo)))
}
