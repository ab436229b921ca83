//go:build !unix

package main

import "io/fs"

// allocated is the file's apparent size where block counts are not known.
func allocated(fi fs.FileInfo) int64 { return fi.Size() }
