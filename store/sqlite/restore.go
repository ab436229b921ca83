package sqlite

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/tearline/tearline/store"
)

// Staged is a backup copied beside a live database file and opened, so that
// the node can check it and amend it (re-apply its shred journal) before it
// takes the live file's place. Nothing touches the live file until Swap.
type Staged struct {
	live, tmp string
	st        *Store
}

// Stage copies the backup file from to a temporary file beside live and
// opens it. The live database (which may not exist) is left alone.
func Stage(ctx context.Context, live, from string) (*Staged, error) {
	s := &Staged{live: live, tmp: live + ".restoring"}
	s.removeTmp() // a restore that died before its Swap
	if err := copyFile(from, s.tmp); err != nil {
		return nil, fmt.Errorf("stage backup %s: %w", from, err)
	}
	st, err := Open(ctx, s.tmp)
	if err != nil {
		s.removeTmp()
		return nil, fmt.Errorf("open backup: %w", err)
	}
	s.st = st
	return s, nil
}

// Store is the staged copy. Whoever amends it closes it before Swap; a
// second Close is harmless.
func (s *Staged) Store() store.Store { return s.st }

// Swap closes the staged copy and moves it into the live file's place. The
// live file, if there was one, is kept beside it as
// <live>.pre-restore-<unix time>, whose name Swap returns ("" when there
// was none).
func (s *Staged) Swap() (string, error) {
	if err := s.st.Close(); err != nil {
		return "", fmt.Errorf("close staged backup: %w", err)
	}
	replaced := ""
	if _, err := os.Stat(s.live); err == nil {
		replaced = s.live + ".pre-restore-" + strconv.FormatInt(time.Now().Unix(), 10)
		if err := os.Rename(s.live, replaced); err != nil {
			return "", fmt.Errorf("keep the replaced database: %w", err)
		}
		for _, f := range []string{s.live + "-wal", s.live + "-shm"} {
			_ = os.Remove(f)
		}
	}
	if err := os.Rename(s.tmp, s.live); err != nil {
		return replaced, fmt.Errorf("put the backup in place: %w", err)
	}
	for _, f := range []string{s.tmp + "-wal", s.tmp + "-shm"} {
		_ = os.Remove(f) // Close checkpointed them; nothing is left in them
	}
	return replaced, nil
}

// Discard closes and removes a staged copy that will not be swapped in.
func (s *Staged) Discard() {
	_ = s.st.Close()
	s.removeTmp()
}

func (s *Staged) removeTmp() {
	for _, f := range []string{s.tmp, s.tmp + "-wal", s.tmp + "-shm"} {
		_ = os.Remove(f)
	}
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
