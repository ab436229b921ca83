package main

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// cpuTimes is the machine's CPU time from /proc/stat: all of it, and the
// part the hypervisor gave to other guests while ours waited (steal).
type cpuTimes struct{ total, steal uint64 }

// readCPU reads the first line of /proc/stat ("cpu user nice system idle
// iowait irq softirq steal ..."). ok is false where there is no /proc.
func readCPU() (t cpuTimes, ok bool) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return t, false
	}
	return parseCPU(b)
}

func parseCPU(b []byte) (t cpuTimes, ok bool) {
	line, _, _ := bytes.Cut(b, []byte("\n"))
	f := strings.Fields(string(line))
	if len(f) < 9 || f[0] != "cpu" {
		return t, false
	}
	for i, s := range f[1:] {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return t, false
		}
		// guest and guest_nice (9th, 10th) are counted in user already.
		if i < 8 {
			t.total += v
		}
		if i == 7 {
			t.steal = v
		}
	}
	return t, true
}

// stealSince is the share of the machine's CPU time since from that was
// stolen, as "steal N%" ("" without /proc). On a shared VM it is what tells
// a run that met its neighbours from one that did not: pages at 50 ms or
// more came eight times as often in seconds with 5% or more (docs/SCALE.md,
// round 7).
func stealSince(from cpuTimes, ok bool) string {
	now, ok2 := readCPU()
	if !ok || !ok2 || now.total <= from.total {
		return ""
	}
	return fmt.Sprintf("CPU steal %.1f%%", 100*float64(now.steal-from.steal)/float64(now.total-from.total))
}
