package postgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"strings"
)

// ErrNoPgDump is returned by Backup when pg_dump is not on PATH.
var ErrNoPgDump = errors.New("this node's store is PostgreSQL and pg_dump is not on PATH; see docs/STORAGE.md")

// Backup writes a pg_dump of the database (custom format, no owners) to
// path, which must not exist, while the store stays open for reads and
// writes: pg_dump reads one snapshot. pg_dump is given the store's URL
// without its password, which reaches it in its environment (PGPASSWORD),
// never on its command line, where any local user could read it. A restore
// is pg_restore into a new database, then the node re-applies its shred
// journal (docs/STORAGE.md).
func (s *Store) Backup(ctx context.Context, path string) error {
	bin, err := exec.LookPath("pg_dump")
	if err != nil {
		return fmt.Errorf("backup: %w", ErrNoPgDump)
	}
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("backup to %s: %w", path, os.ErrExist)
	}
	dbname, password, err := splitPassword(s.dsn)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	p := exec.CommandContext(ctx, bin, "--format=custom", "--no-owner", "--file", path, "--dbname", dbname)
	p.Env = os.Environ()
	if password != "" {
		p.Env = append(p.Env, "PGPASSWORD="+password)
	}
	var stderr bytes.Buffer
	p.Stderr = &stderr
	if err := p.Run(); err != nil {
		_ = os.Remove(path)
		return fmt.Errorf("backup: pg_dump: %w: %s", err, lastLine(stderr.String()))
	}
	return nil
}

// splitPassword takes the password out of a postgres:// URL (from its user
// information or a password parameter), so the rest can go on a command
// line. Only URLs are taken: a key=value string would need libpq's quoting.
func splitPassword(dsn string) (rest, password string, err error) {
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", "", errors.New("pg_dump needs the store as a postgres:// URL")
	}
	if u.User != nil {
		password, _ = u.User.Password()
		u.User = url.User(u.User.Username())
	}
	q := u.Query()
	if v := q.Get("password"); v != "" {
		password = v
		q.Del("password")
		u.RawQuery = q.Encode()
	}
	return u.String(), password, nil
}

// lastLine is pg_dump's last diagnostic, which names what went wrong
// (libpq does not print passwords in them).
func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	const max = 500
	if len(s) > max {
		s = s[:max]
	}
	return s
}
