// Package gctune sets how the garbage collector paces a process that serves
// a node: `tearline serve`, `tearline demo` and bench/scale, which measures
// what they do.
//
// A listed page of 1,000 objects allocates ≈ 10 MB (the rows, the opened
// content, the audit entries), nearly all of it garbage once the page is
// sent, while a serving node's live heap is a few tens of MB. At Go's
// default pace (GOGC=100) the collector then runs every few pages, and
// memory it hands back to the kernel between cycles is faulted in again by
// the next page. With a GC percent of 400, on the same reads of a node of
// 2,000,000 objects (docs/SCALE.md, round 7), the process used 17% less CPU,
// took half the page faults, and peaked at 90 MiB of RSS instead of 53 MiB.
//
// The environment has the last word, as for any Go program: GOGC and
// GOMEMLIMIT, when set, are left as the runtime applied them. Without
// GOMEMLIMIT a soft limit of half the memory the process may use (its
// cgroup's limit, else the machine's) keeps the higher percent from
// growing the heap to five times a large live set, for example while a
// very large bundle is ingested: near the limit the collector runs as
// often as it must.
package gctune

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"runtime/debug"
	"strconv"
	"strings"
)

// Percent is the GC percent a serving process runs with unless GOGC is set.
const Percent = 400

// Settings is what Plan chose; the zero value changes nothing.
type Settings struct {
	Percent     int    // GC percent to set; 0: leave it (GOGC is set)
	MemoryLimit int64  // soft memory limit in bytes to set; 0: leave it
	Note        string // what was chosen and why, for the log
}

// Plan chooses the settings for a serving process from its environment
// (getenv) and what readFile reads of /sys/fs/cgroup/memory.max and
// /proc/meminfo. Either file may be missing: without a known memory size,
// no limit is set.
func Plan(getenv func(string) string, readFile func(string) ([]byte, error)) Settings {
	var s Settings
	var notes []string
	if v := getenv("GOGC"); v != "" {
		notes = append(notes, "GOGC="+v+" from the environment")
	} else {
		s.Percent = Percent
		notes = append(notes, fmt.Sprintf("GC percent %d", Percent))
	}
	if v := getenv("GOMEMLIMIT"); v != "" {
		notes = append(notes, "GOMEMLIMIT="+v+" from the environment")
	} else if total := memory(readFile); total > 0 {
		s.MemoryLimit = total / 2
		notes = append(notes, fmt.Sprintf("soft memory limit %d MiB (half of %d MiB)", s.MemoryLimit>>20, total>>20))
	} else {
		notes = append(notes, "no memory limit (memory size unknown)")
	}
	s.Note = strings.Join(notes, ", ")
	return s
}

// Apply puts s into effect.
func Apply(s Settings) {
	if s.Percent != 0 {
		debug.SetGCPercent(s.Percent)
	}
	if s.MemoryLimit > 0 {
		debug.SetMemoryLimit(s.MemoryLimit)
	}
}

// memory is what the process may use: its cgroup v2 limit when there is
// one, else the machine's memory; 0 when neither can be read.
func memory(readFile func(string) ([]byte, error)) int64 {
	var machine int64
	if b, err := readFile("/proc/meminfo"); err == nil {
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) == 3 && f[0] == "MemTotal:" && f[2] == "kB" {
				if kb, err := strconv.ParseInt(f[1], 10, 64); err == nil && kb > 0 && kb < math.MaxInt64>>10 {
					machine = kb << 10
				}
			}
		}
	}
	if b, err := readFile("/sys/fs/cgroup/memory.max"); err == nil {
		// "max" means no limit of its own.
		if v, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil && v > 0 && (machine == 0 || v < machine) {
			return v
		}
	}
	return machine
}
