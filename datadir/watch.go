package datadir

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"
)

// Stamp identifies one version of a file cheaply: a changed file has a
// different stamp. Size and modification time alone miss a replacement of
// equal size within the file system's clock granularity; the inode changes
// with every atomic rename, and the change time with every write.
type Stamp struct {
	Exists       bool
	Dev, Ino     uint64
	Size         int64
	Mtime, Ctime int64 // nanoseconds
}

// StatStamp returns the stamp of file; a missing file has the zero stamp.
func StatStamp(file string) (Stamp, error) {
	fi, err := os.Stat(file)
	if errors.Is(err, os.ErrNotExist) {
		return Stamp{}, nil
	}
	if err != nil {
		return Stamp{}, err
	}
	s := Stamp{Exists: true, Size: fi.Size(), Mtime: fi.ModTime().UnixNano()}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		s.Dev, s.Ino = uint64(st.Dev), st.Ino
		s.Ctime = st.Ctim.Sec*1e9 + st.Ctim.Nsec
	}
	return s, nil
}

// Watched holds a value parsed from files of a data directory and parses
// it again when one of them changed. Every Get takes a stat of each file (a
// few microseconds), so a change made by another process is seen by the
// first use that starts after the change was made: no timer, no signal.
// It is safe for concurrent use.
type Watched[T any] struct {
	files []string
	load  func() (T, error)

	mu     sync.Mutex
	stamps []Stamp
	valid  bool
	val    T
}

// NewWatched returns a Watched over files (full paths) whose value load
// reads.
func NewWatched[T any](load func() (T, error), files ...string) *Watched[T] {
	return &Watched[T]{files: files, load: load}
}

// Get returns the value as the files now say. A load error is returned
// (callers fail closed); the next Get tries again.
func (w *Watched[T]) Get() (T, error) {
	stamps := make([]Stamp, len(w.files))
	for i, f := range w.files {
		s, err := StatStamp(f)
		if err != nil {
			var zero T
			return zero, fmt.Errorf("stat %s: %w", f, err)
		}
		stamps[i] = s
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.valid && equalStamps(stamps, w.stamps) {
		return w.val, nil
	}
	v, err := w.load()
	if err != nil {
		w.valid = false
		var zero T
		return zero, err
	}
	// The stamps taken before the load: a change racing the load is seen
	// as a change at the next Get, never lost.
	w.val, w.stamps, w.valid = v, stamps, true
	return v, nil
}

func equalStamps(a, b []Stamp) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
