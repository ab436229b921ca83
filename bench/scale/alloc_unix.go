//go:build unix

package main

import (
	"io/fs"
	"syscall"
)

// allocated is the bytes a file occupies on disk: SQLite's WAL and sparse
// files make the apparent size misleading.
func allocated(fi fs.FileInfo) int64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return st.Blocks * 512
	}
	return fi.Size()
}
