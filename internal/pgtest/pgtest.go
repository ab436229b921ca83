// Package pgtest gives tests a PostgreSQL database of their own.
//
// DSN finds a server in this order:
//
//  1. TEARLINE_TEST_POSTGRES, a postgres:// URL for a server where the
//     role may CREATE DATABASE (node tests open stores by URL);
//  2. PostgreSQL's server binaries (/usr/lib/postgresql/*/bin/initdb and
//     postgres): a throwaway server is started once per test binary, in a
//     temporary directory, listening on a unix socket only;
//  3. otherwise the test is skipped, except when CI=true: CI must run the
//     PostgreSQL tests, so there the test fails instead.
//
// Either way each call creates a new, empty database, dropped when the test
// ends. Packages whose tests use DSN should stop the throwaway server when
// the binary ends with
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
// Without it the server still goes when the test binary exits (the kernel
// signals it, see start), and its temporary directory is removed by the next
// test binary that starts a server.
package pgtest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvDSN names the variable holding a server's connection string.
const EnvDSN = "TEARLINE_TEST_POSTGRES"

// shared is the throwaway server of this test binary. It is package state,
// the one such variable in the module, because a server costs seconds to
// start and every test of the binary uses it: the tests own nothing that
// outlives them, so the binary (through Main) owns the server.
var shared struct {
	once sync.Once
	srv  *server
	err  error
}

// DSN returns a connection string for a new, empty database, dropped when t
// ends. See the package comment for where the server comes from.
func DSN(t testing.TB) string {
	t.Helper()
	admin := os.Getenv(EnvDSN)
	if admin == "" {
		bin := serverBinaries()
		if bin == "" {
			msg := "no PostgreSQL: set " + EnvDSN + " to a postgres:// URL, or install the server (apt-get install postgresql)"
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s; PostgreSQL is required in CI, so this test does not skip", msg)
			}
			t.Skip(msg)
		}
		shared.once.Do(func() { shared.srv, shared.err = start(bin) })
		if shared.err != nil {
			t.Fatalf("start a throwaway PostgreSQL server from %s: %v", bin, shared.err)
		}
		admin = shared.srv.dsn
	}
	return createDatabase(t, admin)
}

// Main runs the tests and then stops the throwaway server, if one started.
func Main(m *testing.M) {
	code := m.Run()
	if shared.srv != nil {
		if err := shared.srv.stop(); err != nil {
			fmt.Fprintln(os.Stderr, "pgtest:", err)
		}
	}
	os.Exit(code)
}

// createDatabase creates a database on the server admin connects to and
// returns a connection string for it.
func createDatabase(t testing.TB, admin string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("connect to the test PostgreSQL server: %v", err)
	}
	defer conn.Close(ctx)
	name := "t_" + strings.ToLower(rand.Text()[:16])
	if _, err := conn.Exec(ctx, `CREATE DATABASE `+name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		conn, err := pgx.Connect(ctx, admin)
		if err != nil {
			t.Errorf("drop test database %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		// WITH (FORCE) refuses when a backend it may not terminate is
		// attached (an autovacuum worker on a database a killed process
		// left busy), so end our own role's sessions, then drop; a plain
		// DROP DATABASE stops autovacuum workers itself. Sessions of a
		// process killed by a test may take a moment to go: retry.
		var lastErr error
		for range 50 {
			_, _ = conn.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
				WHERE datname = $1 AND usename = current_user AND pid <> pg_backend_pid()`, name)
			if _, lastErr = conn.Exec(ctx, `DROP DATABASE IF EXISTS `+name); lastErr == nil {
				return
			}
			select {
			case <-ctx.Done():
			case <-time.After(100 * time.Millisecond):
			}
		}
		t.Errorf("drop test database %s: %v", name, lastErr)
	})
	dsn, err := withDatabase(admin, name)
	if err != nil {
		t.Fatal(err)
	}
	return dsn
}

// withDatabase returns dsn naming database name instead of its own.
func withDatabase(dsn, name string) (string, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", fmt.Errorf("%s is not a URL", EnvDSN) // the URL may hold a password
		}
		u.Path, u.RawPath = "/"+name, ""
		return u.String(), nil
	}
	// key=value: a later keyword overrides an earlier one.
	return dsn + " dbname=" + name, nil
}

// serverBinaries returns the bin directory of the newest installed
// PostgreSQL server, or "".
func serverBinaries() string {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int { return version(b) - version(a) })
	for _, d := range dirs {
		if isFile(filepath.Join(d, "initdb")) && isFile(filepath.Join(d, "postgres")) {
			return d
		}
	}
	return ""
}

// version returns the major version in /usr/lib/postgresql/VERSION/bin.
func version(bin string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(bin)))
	return v
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

// server is a throwaway PostgreSQL server.
type server struct {
	dir  string // holds the cluster and the socket
	cmd  *exec.Cmd
	done chan error // the server's exit
	dsn  string
}

// start initialises a cluster in a new temporary directory and starts a
// server on it, listening only on a unix socket there, with fsync off (the
// data is thrown away). The server runs as a child of the test binary, not
// daemonised, and the kernel sends it SIGINT (fast shutdown) if the binary
// dies first. PostgreSQL refuses to run as root, so under root both initdb
// and the server run as the postgres system user.
func start(bin string) (*server, error) {
	sweep()
	dir, err := os.MkdirTemp("", tempPrefix)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	cred, err := credential()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	data := filepath.Join(dir, "data")
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	initdb.Dir = dir
	if out, err := initdb.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("initdb: %v\n%s", err, out)
	}
	logf, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	defer logf.Close()
	cmd := exec.Command(filepath.Join(bin, "postgres"), "-D", data,
		"-c", "listen_addresses=",
		"-c", "unix_socket_directories="+dir,
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "max_connections=200")
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGINT, Setpgid: true}
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	q := url.Values{"host": {dir}, "sslmode": {"disable"}}
	s := &server{dir: dir, cmd: cmd, done: make(chan error, 1),
		dsn: "postgres://postgres@/postgres?" + q.Encode()}
	go func() { s.done <- cmd.Wait() }()
	if err := s.wait(30 * time.Second); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "server.log"))
		s.stop()
		return nil, fmt.Errorf("%w\n%s", err, log)
	}
	return s, nil
}

const (
	tempPrefix = "pgtest-"
	ownerFile  = "owner.pid" // the test binary's pid, in the server's directory
)

// sweep removes the directories of throwaway servers whose test binary has
// gone without Main to remove them (the server went with it: see start).
func sweep() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), tempPrefix+"*"))
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, ownerFile))
		if err != nil {
			continue // not ours, or still being made
		}
		pid, err := strconv.Atoi(string(b))
		if err != nil || pid <= 0 || syscall.Kill(pid, 0) != syscall.ESRCH {
			continue // its binary is alive (or we cannot tell)
		}
		os.RemoveAll(d)
	}
}

// credential returns the postgres user's credential when running as root,
// else nil (run as ourselves).
func credential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root, and PostgreSQL will not: %w", err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("user postgres: %w", err)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// wait waits until the server accepts connections.
func (s *server) wait(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		conn, err := pgx.Connect(ctx, s.dsn)
		if err == nil {
			conn.Close(ctx)
			cancel()
			return nil
		}
		cancel()
		select {
		case werr := <-s.done:
			s.done <- werr
			return fmt.Errorf("postgres exited: %v", werr)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("postgres not ready after %v: %w", limit, err)
		}
	}
}

// stop shuts the server down (fast: open sessions are ended) and removes
// its directory.
func (s *server) stop() error {
	_ = s.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	if err := os.RemoveAll(s.dir); err != nil {
		return fmt.Errorf("remove throwaway server: %w", err)
	}
	return nil
}
