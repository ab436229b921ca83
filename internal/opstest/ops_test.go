package opstest

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/tearline/tearline/datadir"
	"github.com/tearline/tearline/internal/pgtest"
)

// TestCommandsOnServingNode runs each operator command of docs/STORAGE.md's
// table against a serving node: SQLite with one `tearline serve`,
// PostgreSQL with two replicas sharing the database and DIR.
func TestCommandsOnServingNode(t *testing.T) {
	bin := buildTearline(t)
	t.Run("sqlite", func(t *testing.T) { runCommands(t, bin, "", 1) })
	t.Run("postgres", func(t *testing.T) { runCommands(t, bin, pgtest.DSN(t), 2) })
}

const banner = "NATO RESTRICTED // REL TO GBR"

func runCommands(t *testing.T, bin, storeURL string, replicas int) {
	n := &node{t: t, bin: bin, name: "ops", dir: filepath.Join(t.TempDir(), "ops"), store: storeURL}
	n.ca = filepath.Join(n.dir, datadir.TLSCert)
	n.run("init", "--data", n.dir, "--name", "ops", "--country", "GBR")
	token := n.addUser("ana", "analyst")

	var servers []*server
	for range replicas {
		servers = append(servers, n.start(""))
	}
	var ids []string
	for _, s := range servers {
		ids = append(ids, s.publish(token, banner), s.publish(token, banner))
	}
	readable(t, servers, token, ids, nil)

	// A second serve on a SQLite DIR is refused, naming the first.
	if storeURL == "" {
		msg := n.refuse("serve", "--data", n.dir, "--listen", "127.0.0.1:0")
		namesServers(t, "second serve", msg, servers)
	}

	// key rotate-kek: refused, naming every replica; the KEK is untouched,
	// and every object, old and new, reads.
	kek := readFile(datadir.Path(n.dir, datadir.KEKFile))
	msg := n.refuse("key", "rotate-kek", "--data", n.dir)
	namesServers(t, "key rotate-kek", msg, servers)
	if got := readFile(datadir.Path(n.dir, datadir.KEKFile)); got != kek {
		t.Fatal("key rotate-kek refused, but keys/kek changed")
	}
	if _, err := os.Stat(datadir.Path(n.dir, datadir.KEKNextFile)); !os.IsNotExist(err) {
		t.Fatalf("key rotate-kek refused, but left %s: %v", datadir.KEKNextFile, err)
	}
	for _, s := range servers {
		ids = append(ids, s.publish(token, banner))
	}
	readable(t, servers, token, ids, nil)

	// purge --rotate-kek: refused as a whole, purging nothing.
	msg = n.refuse("purge", "--data", n.dir, "--rotate-kek", ids[0])
	namesServers(t, "purge --rotate-kek", msg, servers)
	readable(t, servers, token, ids, nil)

	// backup: online (PostgreSQL's needs pg_dump, which env puts on PATH
	// when the server binaries are installed).
	backup := filepath.Join(t.TempDir(), "ops.backup")
	if _, err := os.Stat("/usr/lib/postgresql"); storeURL == "" || err == nil {
		n.run("backup", "--data", n.dir, "--out", backup)
		if fi, err := os.Stat(backup); err != nil || fi.Size() == 0 {
			t.Fatalf("backup while serving: %v", err)
		}
	}

	// restore: refused, naming every replica; the database is untouched.
	if storeURL == "" {
		before := inode(t, datadir.Path(n.dir, datadir.DBFile))
		msg = n.refuse("restore", "--data", n.dir, "--from", backup)
		namesServers(t, "restore", msg, servers)
		if inode(t, datadir.Path(n.dir, datadir.DBFile)) != before {
			t.Fatal("restore refused, but tearline.db was replaced")
		}
		if m, _ := filepath.Glob(datadir.Path(n.dir, datadir.DBFile) + ".*-*"); len(m) > 0 {
			t.Fatalf("restore refused, but left %v", m)
		}
	} else {
		msg = n.refuse("restore", "--data", n.dir, "--journal-store", storeURL)
		namesServers(t, "restore", msg, servers)
	}
	readable(t, servers, token, ids, nil)

	// key rotate: every replica signs its next binding with the new key.
	out := n.run("key", "rotate", "--data", n.dir)
	m := regexp.MustCompile(`retired (\S+) .*\n.*new signing key (\S+);`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("key rotate said:\n%s", out)
	}
	oldKey, newKey := m[1], m[2]
	for _, s := range servers {
		id := s.publish(token, banner)
		ids = append(ids, id)
		b := s.want(http.StatusOK, http.MethodGet, "/api/v1/objects/"+id+"/bindings", token, nil)
		if !bytes.Contains(b, []byte(newKey)) || bytes.Contains(b, []byte(oldKey)) {
			t.Fatalf("replica pid %d: binding made after key rotate is not by %s:\n%s", s.pid(), newKey, b)
		}
	}
	// ... and `tearline verify` accepts what they signed.
	for _, s := range servers {
		export := s.want(http.StatusOK, http.MethodGet, "/api/v1/export", token, nil)
		file := filepath.Join(t.TempDir(), "export.json")
		if err := os.WriteFile(file, export, 0o600); err != nil {
			t.Fatal(err)
		}
		n.run("verify", "--data", n.dir, file)
	}

	// user add / user revoke: the next request of the user is accepted,
	// then refused, on every replica.
	bob := n.addUser("bob", "analyst")
	for _, s := range servers {
		s.want(http.StatusOK, http.MethodGet, "/api/v1/whoami", bob, nil)
	}
	n.run("user", "revoke", "--data", n.dir, "bob")
	for _, s := range servers {
		s.want(http.StatusUnauthorized, http.MethodGet, "/api/v1/whoami", bob, nil)
	}

	// purge: carried out by a serving process through its admin socket;
	// gone from every replica at its next read, the rest still there.
	purged := ids[0]
	out = n.run("purge", "--data", n.dir, purged)
	if !strings.Contains(out, "by the serving node (pid ") {
		t.Fatalf("purge on a serving node was not carried out by it:\n%s", out)
	}
	ids = ids[1:]
	readable(t, servers, token, ids, []string{purged})

	// Restart: every object but the purged one reads, on every replica.
	for _, s := range servers {
		s.stop()
	}
	servers = servers[:0]
	for range replicas {
		servers = append(servers, n.start(""))
	}
	readable(t, servers, token, ids, []string{purged})

	// A killed server leaves nothing that blocks: on SQLite its lock is
	// gone with it (the kernel drops the flock), so the next command that
	// needs the node alone runs. (A PostgreSQL row waits to go stale,
	// store.ServerStaleAfter; store/postgres tests that bound.)
	if storeURL == "" {
		servers[0].kill()
		n.run("key", "rotate-kek", "--data", n.dir)
		servers = []*server{n.start("")}
		readable(t, servers, token, ids, []string{purged})
	} else {
		for _, s := range servers {
			s.stop()
		}
		n.run("key", "rotate-kek", "--data", n.dir)
		servers = []*server{n.start(""), n.start("")}
		readable(t, servers, token, ids, []string{purged})
	}
	for _, s := range servers {
		s.stop()
	}
}

// namesServers requires a refusal message to name every serving process:
// its pid and listen address.
func namesServers(t *testing.T, what, msg string, servers []*server) {
	t.Helper()
	if !strings.Contains(msg, "refused") && what != "second serve" {
		t.Errorf("%s: the message does not say it was refused:\n%s", what, msg)
	}
	for _, s := range servers {
		if !strings.Contains(msg, "pid "+strconv.Itoa(s.pid())) || !strings.Contains(msg, s.addr()) {
			t.Errorf("%s: the message does not name pid %d listening on %s:\n%s", what, s.pid(), s.addr(), msg)
		}
	}
}

func inode(t *testing.T, file string) uint64 {
	t.Helper()
	fi, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Ino
}
