package datadir

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"

	"github.com/tearline/tearline/store"
)

// ErrBusy is returned when another process holds the node: it serves it,
// or runs a command that needs it alone. The error names the process.
var ErrBusy = errors.New("the node is in use")

// BusyError names the processes that hold the node.
type BusyError struct {
	Dir     string
	Holders []store.Server
}

func (e *BusyError) Error() string {
	names := make([]string, len(e.Holders))
	for i, h := range e.Holders {
		names[i] = h.String()
	}
	return fmt.Sprintf("the node in %s is in use by %s", e.Dir, strings.Join(names, "; "))
}

func (e *BusyError) Unwrap() error { return ErrBusy }

// Lock is the serving lock of a node whose store is SQLite: DIR/serve.lock,
// held with flock(2) by the process that serves DIR (or by a command that
// needs the node to itself) and naming it. The kernel drops the lock when
// its process dies, however it dies, so a lock left by a dead process is
// stale by construction and the next taker simply takes it. The file itself
// is never removed: a process that removed it could race one locking it.
type Lock struct {
	f *os.File
}

// TryLock takes the serving lock of dir for the process described by who,
// or returns a *BusyError naming the process that holds it.
func TryLock(dir string, who store.Server) (*Lock, error) {
	file := Path(dir, LockFile)
	f, err := os.OpenFile(file, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("serving lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		defer f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			holder, rerr := readHolder(f)
			if rerr != nil {
				holder = store.Server{Command: "an unknown process"}
			}
			return nil, &BusyError{Dir: dir, Holders: []store.Server{holder}}
		}
		return nil, fmt.Errorf("serving lock %s: %w", file, err)
	}
	l := &Lock{f: f}
	if err := l.Update(who); err != nil {
		l.Release()
		return nil, err
	}
	return l, nil
}

// Update rewrites what the lock says about its holder (serve learns its
// listen address and admin socket after taking it).
func (l *Lock) Update(who store.Server) error {
	b, err := json.Marshal(who)
	if err != nil {
		return err
	}
	if err := l.f.Truncate(0); err != nil {
		return fmt.Errorf("serving lock: %w", err)
	}
	if _, err := l.f.WriteAt(append(b, '\n'), 0); err != nil {
		return fmt.Errorf("serving lock: %w", err)
	}
	return l.f.Sync()
}

// Release gives the lock up.
func (l *Lock) Release() {
	_ = l.f.Truncate(0)
	l.f.Close() // closing the descriptor drops the flock
}

// Holder returns the process holding the serving lock of dir, if any. It
// does not take the lock: the answer may be out of date as soon as it is
// given; commands that must exclude a server take the lock (TryLock).
func Holder(dir string) (*store.Server, error) {
	f, err := os.Open(Path(dir, LockFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("serving lock: %w", err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB); err == nil {
		return nil, nil // nobody holds it; closing f drops our shared lock
	} else if !errors.Is(err, syscall.EWOULDBLOCK) {
		return nil, fmt.Errorf("serving lock: %w", err)
	}
	h, err := readHolder(f)
	if err != nil {
		return &store.Server{Command: "an unknown process"}, nil
	}
	return &h, nil
}

func readHolder(f *os.File) (store.Server, error) {
	b, err := io.ReadAll(io.NewSectionReader(f, 0, 1<<16))
	if err != nil {
		return store.Server{}, err
	}
	var s store.Server
	if err := json.Unmarshal(b, &s); err != nil {
		return store.Server{}, err
	}
	return s, nil
}
