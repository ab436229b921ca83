package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestSmallRun runs the whole benchmark on a small SQLite node, so that
// the tool CI does not run at full size still loads, reads and reports:
// every read kind, the pooled row over all pages, and a -slowlog line for
// each timed read when every read counts as slow.
func TestSmallRun(t *testing.T) {
	var out, errs bytes.Buffer
	args := []string{"-backend", "sqlite", "-n", "3000", "-bundle", "500", "-checkpoints", "1000",
		"-reads", "20", "-pages", "5", "-dir", t.TempDir(), "-slowlog", "1ns"}
	if err := run(t.Context(), args, &out, &errs); err != nil {
		t.Fatalf("run: %v\n%s", err, errs.String())
	}
	report := out.String()
	for _, want := range []string{
		"| 1000 |", "| 3000 |",
		"| point read (node.Get, audited) | 20 |",
		"| page of 1,000 (node.List, audited) | 5 |",
		"| TAXII page of 1,000 (objects endpoint backend, audited) | 5 |",
		"| TAXII GET of 1,000 (HTTPS on loopback, whole body read) | 5 |",
		"| all pages of 1,000 above, pooled | 30 |",
		", GC percent " + gcPercent() + ")", // the test process's own: main sets serve's
	} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q:\n%s", want, report)
		}
	}
	if _, ok := readCPU(); ok && strings.Count(report, "; CPU steal ") != 7 {
		t.Errorf("report gives CPU steal for %d rows, want the 6 filters and the pooled row:\n%s", strings.Count(report, "; CPU steal "), report)
	}
	slow := regexp.MustCompile(`(?m)^slow \d\d:\d\d:\d\d\.\d{3} (.+) #(\d+) [\d.]+ ms$`).FindAllStringSubmatch(errs.String(), -1)
	counts := map[string]int{}
	for _, m := range slow {
		counts[m[1]]++
	}
	want := map[string]int{"point read": 20}
	for _, k := range []string{"List", "TAXII backend", "HTTPS"} {
		for _, typ := range []string{"indicator", "report"} {
			want[k+" "+typ] = 5
		}
	}
	for k, n := range want {
		if counts[k] != n {
			t.Errorf("-slowlog printed %d lines for %q, want %d (all: %v)", counts[k], k, n, counts)
		}
	}
}

// TestSummarise pins the percentiles: p99 of 200 is the second-slowest.
func TestSummarise(t *testing.T) {
	ds := make([]time.Duration, 200)
	for i := range ds {
		ds[i] = time.Duration(200-i) * time.Millisecond // reversed: summarise sorts
	}
	l := summarise("x", ds, "")
	if l.n != 200 || l.p50 != 101*time.Millisecond || l.p99 != 199*time.Millisecond || l.max != 200*time.Millisecond {
		t.Fatalf("summarise = %+v, want n 200, p50 101ms, p99 199ms, max 200ms", l)
	}
	if l := summarise("empty", nil, ""); l.n != 0 || l.p99 != 0 {
		t.Fatalf("summarise(nil) = %+v", l)
	}
}

// parseCPU reads /proc/stat's first line; steal is its eighth number and
// guest time (counted in user already) is not added twice.
func TestParseCPU(t *testing.T) {
	got, ok := parseCPU([]byte("cpu  100 5 50 800 10 1 2 30 7 0\ncpu0 50 2 25 400 5 0 1 15 3 0\n"))
	if !ok || got.total != 998 || got.steal != 30 {
		t.Errorf("parseCPU = %+v, %t; want total 998, steal 30", got, ok)
	}
	for _, bad := range []string{"", "cpu 1 2 3", "intr 1 2 3 4 5 6 7 8 9", "cpu 1 2 3 4 5 6 7 x 9"} {
		if _, ok := parseCPU([]byte(bad)); ok {
			t.Errorf("parseCPU(%q) ok", bad)
		}
	}
}

// TestSmallRunUI: with -ui the report times each page of the web
// interface, signed in, and the audit index's catch-up.
func TestSmallRunUI(t *testing.T) {
	var out, errs bytes.Buffer
	args := []string{"-backend", "sqlite", "-n", "2000", "-bundle", "500", "-checkpoints", "1000",
		"-reads", "5", "-pages", "2", "-ui", "3", "-dir", t.TempDir()}
	if err := run(t.Context(), args, &out, &errs); err != nil {
		t.Fatalf("run: %v\n%s", err, errs.String())
	}
	report := out.String()
	for _, want := range []string{
		"| audit index catch-up (once) | 1 |",
		"| UI object list, first page | 3 |",
		"| UI object list by type | 3 |",
		"| UI object page | 3 |",
		"| UI release queue | 3 |",
		"| UI audit log filtered by actor | 3 |",
		"| UI audit log filtered by object | 3 |",
	} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q:\n%s", want, report)
		}
	}
}
