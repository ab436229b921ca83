package opstest

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/tearline/tearline/api"
	"github.com/tearline/tearline/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// Bounds that keep a wedged child from hanging the test; none is an
// assertion about speed.
const (
	startLimit = 60 * time.Second
	stopLimit  = 30 * time.Second
	pollPause  = 25 * time.Millisecond
	pollTries  = 1200 // 30 s of polls for something that should happen at once
)

// buildTearline builds cmd/tearline once for the calling test: the real
// binary operators run.
func buildTearline(t *testing.T) string {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("these tests build the tearline binary and need the go command: %v", err)
	}
	out := filepath.Join(t.TempDir(), "tearline")
	cmd := exec.Command(gobin, "build", "-o", out, "github.com/tearline/tearline/cmd/tearline")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build cmd/tearline: %v\n%s", err, b)
	}
	return out
}

// env is every child's environment: ours without TEARLINE_STORE, so the
// store is exactly the one the test names, and with pg_dump on PATH when
// PostgreSQL's binaries are installed (backup of a PostgreSQL node).
func env() []string {
	e := slices.DeleteFunc(os.Environ(), func(s string) bool { return strings.HasPrefix(s, "TEARLINE_STORE=") })
	if m, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_dump"); len(m) > 0 {
		for i, s := range e {
			if p, ok := strings.CutPrefix(s, "PATH="); ok {
				e[i] = "PATH=" + filepath.Dir(m[len(m)-1]) + ":" + p
			}
		}
	}
	return e
}

// env is the environment of the node's commands: the store in
// $TEARLINE_STORE, which every command that opens the node reads (the
// ones without --store too).
func (n *node) env() []string {
	e := env()
	if n.store != "" {
		e = append(e, "TEARLINE_STORE="+n.store)
	}
	return e
}

// node is one node's data directory (shared by its replicas) and store.
type node struct {
	t     *testing.T
	bin   string
	name  string
	dir   string
	store string // --store; "" for SQLite in dir
	ca    string // the CA file clients trust for its certificate
	logs  int
}

// cli runs a tearline command with --store added for PostgreSQL and
// returns its output and exit error.
func (n *node) cli(args ...string) (stdout, stderr string, err error) {
	n.t.Helper()
	cmd := exec.Command(n.bin, args...)
	cmd.Env = n.env()
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.String(), e.String(), err
}

// run runs a command that must succeed and returns its standard output.
func (n *node) run(args ...string) string {
	n.t.Helper()
	o, e, err := n.cli(args...)
	if err != nil {
		n.t.Fatalf("tearline %s: %v\n%s%s", strings.Join(args, " "), err, o, e)
	}
	return o
}

// refuse runs a command that must fail and returns its standard error.
func (n *node) refuse(args ...string) string {
	n.t.Helper()
	o, e, err := n.cli(args...)
	if err == nil {
		n.t.Fatalf("tearline %s succeeded on a serving node, want a refusal:\n%s", strings.Join(args, " "), o)
	}
	return e
}

// addUser adds a user and returns the token (the last line of the output).
func (n *node) addUser(name, role string) string {
	n.t.Helper()
	out := n.run("user", "add", "--data", n.dir, "--name", name, "--role", role, "--nationality", "GBR",
		"--clearance", "NATO:SECRET", "--default-label", "NATO RESTRICTED // REL TO GBR")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// server is one running `tearline serve`.
type server struct {
	n      *node
	cmd    *exec.Cmd
	exited chan error
	base   string
	log    string
	http   *http.Client
}

var listenLine = regexp.MustCompile(`msg=serving .*url=(https://\S+)`)

// start runs `tearline serve` (on addr, or any free port) and waits until
// it answers /healthz.
func (n *node) start(addr string, extra ...string) *server {
	n.t.Helper()
	s, err := n.startOnce(addr, extra...)
	if err != nil {
		n.t.Fatal(err)
	}
	return s
}

func (n *node) startOnce(addr string, extra ...string) (*server, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	n.logs++
	logPath := filepath.Join(filepath.Dir(n.dir), fmt.Sprintf("%s-serve-%02d.log", n.name, n.logs))
	args := append([]string{"serve", "--data", n.dir, "--listen", addr, "--outbox-poll", "200ms"}, extra...)
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(n.bin, args...)
	cmd.Env = n.env()
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	exited := make(chan error, 1)
	go func() {
		err := cmd.Wait()
		logf.Close()
		exited <- err
	}()
	s := &server{n: n, cmd: cmd, exited: exited, log: logPath}
	n.t.Cleanup(func() {
		select {
		case <-s.exited:
		default:
			_ = s.cmd.Process.Kill()
			<-s.exited
		}
	})
	deadline := time.Now().Add(startLimit)
	for s.base == "" {
		if m := listenLine.FindStringSubmatch(readFile(logPath)); m != nil {
			s.base = m[1]
			break
		}
		select {
		case err := <-exited:
			exited <- err
			return nil, fmt.Errorf("%s: tearline serve exited before listening: %v\n%s", n.name, err, readFile(logPath))
		case <-time.After(pollPause):
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%s: tearline serve did not listen within %v\n%s", n.name, startLimit, readFile(logPath))
		}
	}
	tc, err := api.ClientTLS(n.ca, false)
	if err != nil {
		return nil, err
	}
	s.http = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: tc}}
	for try := 0; ; try++ {
		if st, _, err := s.call(http.MethodGet, "/healthz", "", nil); err == nil && st == http.StatusOK {
			return s, nil
		} else if try == pollTries {
			return nil, fmt.Errorf("%s/healthz did not answer: %v\n%s", s.base, err, readFile(logPath))
		}
		time.Sleep(pollPause)
	}
}

// pid is the server's process id, as the registry names it.
func (s *server) pid() int { return s.cmd.Process.Pid }

// addr is the server's listen address.
func (s *server) addr() string { u, _ := url.Parse(s.base); return u.Host }

// stop sends SIGTERM, as an operator would, and requires a clean exit.
func (s *server) stop() {
	s.n.t.Helper()
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.exited:
		s.exited <- err
		if err != nil {
			s.n.t.Fatalf("tearline serve did not stop cleanly: %v\n%s", err, readFile(s.log))
		}
	case <-time.After(stopLimit):
		_ = s.cmd.Process.Kill()
		s.n.t.Fatalf("tearline serve did not stop within %v of SIGTERM\n%s", stopLimit, readFile(s.log))
	}
}

// kill sends SIGKILL: the process leaves whatever it held behind.
func (s *server) kill() {
	s.n.t.Helper()
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	err := <-s.exited
	s.exited <- err
}

// call makes one request with token and returns the status and body.
func (s *server) call(method, path, token string, body []byte) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.base+path, r)
	if err != nil {
		return 0, nil, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := s.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// want makes a request that must answer status, and returns the body.
func (s *server) want(status int, method, path, token string, body []byte) []byte {
	s.n.t.Helper()
	st, b, err := s.call(method, path, token, body)
	if err != nil {
		s.n.t.Fatalf("%s %s%s: %v", method, s.base, path, err)
	}
	if st != status {
		s.n.t.Fatalf("%s %s%s: %d %s, want %d\n(server log %s)", method, s.base, path, st, bytes.TrimSpace(b), status, s.log)
	}
	return b
}

// publish publishes one new threat-actor with token and returns its id.
func (s *server) publish(token, label string) string {
	s.n.t.Helper()
	id := "threat-actor--" + uuid.NewString()
	ts := time.Now().UTC().Format("2006-01-02T15:04:05.000Z")
	obj, _ := json.Marshal(map[string]any{"type": "threat-actor", "spec_version": "2.1", "id": id,
		"created": ts, "modified": ts, "name": "operator test " + id[len(id)-6:]})
	bundle, _ := json.Marshal(map[string]any{"type": "bundle", "id": "bundle--" + uuid.NewString(), "objects": []json.RawMessage{obj}})
	path := "/api/v1/objects"
	if label != "" {
		path += "?label=" + url.QueryEscape(label)
	}
	b := s.want(http.StatusOK, http.MethodPost, path, token, bundle)
	var res struct {
		Landed  []json.RawMessage `json:"landed"`
		Refused []json.RawMessage `json:"refused"`
	}
	if err := json.Unmarshal(b, &res); err != nil || len(res.Landed) != 1 {
		s.n.t.Fatalf("publish %s: %s", id, b)
	}
	return id
}

// readable requires every id to answer 200 and every gone id 404 on each
// server, with token.
func readable(t *testing.T, servers []*server, token string, ids, gone []string) {
	t.Helper()
	for _, s := range servers {
		for _, id := range ids {
			s.want(http.StatusOK, http.MethodGet, "/api/v1/objects/"+id, token, nil)
		}
		for _, id := range gone {
			s.want(http.StatusNotFound, http.MethodGet, "/api/v1/objects/"+id, token, nil)
		}
	}
}

// waitFor polls cond (bounded) until it holds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for try := 0; !cond(); try++ {
		if try == pollTries {
			t.Fatalf("%s: not within %d polls", what, pollTries)
		}
		time.Sleep(pollPause)
	}
}

func readFile(p string) string {
	b, _ := os.ReadFile(p)
	return string(b)
}

// tlsConfigFor is the client TLS configuration trusting caFile.
func tlsConfigFor(t *testing.T, caFile string) *tls.Config {
	t.Helper()
	tc, err := api.ClientTLS(caFile, false)
	if err != nil {
		t.Fatal(err)
	}
	return tc
}
