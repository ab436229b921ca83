package main

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"strconv"
	"testing"
)

// TestMain lets the test binary be a client process too, as the command's
// own binary is (drive starts os.Executable again).
func TestMain(m *testing.M) {
	if os.Getenv(clientEnv) != "" {
		if err := runClient(context.Background(), os.Stdin, os.Stdout); err != nil {
			os.Stderr.WriteString("load client: " + err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestShortRun runs the whole load, small and short, against SQLite: every
// kind of request is made, over HTTPS from client processes, and none
// fails (run returns an error when one does, and the report counts them).
func TestShortRun(t *testing.T) {
	var out, errs bytes.Buffer
	args := []string{"-duration", "3s", "-clients", "6", "-procs", "2", "-objects", "1000",
		"-mix", "get=4,page=1,taxii=1,publish=1", "-dir", t.TempDir()}
	if err := run(t.Context(), args, &out, &errs); err != nil {
		t.Fatalf("run: %v\n%s\n%s", err, out.String(), errs.String())
	}
	report := out.String()
	for _, kind := range kinds {
		m := regexp.MustCompile(`(?m)^\| ` + kind + ` \| (\d+) \| (\d+) \|`).FindStringSubmatch(report)
		if m == nil {
			t.Errorf("report has no row for %s:\n%s", kind, report)
			continue
		}
		if n, _ := strconv.Atoi(m[1]); n == 0 {
			t.Errorf("no %s request succeeded:\n%s", kind, report)
		}
		if m[2] != "0" {
			t.Errorf("%s: %s errors:\n%s", kind, m[2], report)
		}
	}
	if !regexp.MustCompile(`(?m)^reads/s \d+ .* errors 0$`).MatchString(report) {
		t.Errorf("report lacks the reads/s line with 0 errors:\n%s", report)
	}
	if !regexp.MustCompile(`(?m)^clients' CPU \d+\.\d s: \d+\.\d{3} ms per request$`).MatchString(report) {
		t.Errorf("report lacks the clients' CPU:\n%s", report)
	}
	if !regexp.MustCompile(`(?m)^node peak RSS during the run [1-9]\d* MiB$`).MatchString(report) {
		t.Errorf("report lacks the node's RSS:\n%s", report)
	}
}

// Flags that make no run are refused.
func TestParseFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-mix", "get=0"}, {"-mix", "read=1"}, {"-mix", "get"}, {"-clients", "0"},
		{"-clients", "4", "-procs", "5"}, {"-duration", "0s"}, {"-objects", "3"},
	} {
		if _, err := parseFlags(args, &bytes.Buffer{}); err == nil {
			t.Errorf("parseFlags(%q) accepted", args)
		}
	}
	c, err := parseFlags([]string{"-clients", "40"}, &bytes.Buffer{})
	if err != nil || c.procs != 32 || c.mix[kindGet] != 80 {
		t.Errorf("parseFlags(-clients 40) = procs %d, mix %v, %v; want 32 processes and the default mix", c.procs, c.mix, err)
	}
}

// -scaling reads by id only, with 32 clients and 10 s runs unless told.
func TestParseScalingFlags(t *testing.T) {
	c, err := parseFlags([]string{"-scaling", "2"}, &bytes.Buffer{})
	if err != nil || c.scaling != 2 || c.clients != 32 || c.duration != scalingDuration || c.mix.String() != "get=1" {
		t.Errorf("parseFlags(-scaling 2) = %d pairs, %d clients, %s, mix %s, %v", c.scaling, c.clients, c.duration, c.mix, err)
	}
	if c, err := parseFlags([]string{"-scaling", "1", "-clients", "8"}, &bytes.Buffer{}); err != nil || c.clients != 8 {
		t.Errorf("parseFlags(-scaling 1 -clients 8) = %d clients, %v", c.clients, err)
	}
	if _, err := parseFlags([]string{"-scaling", "-1"}, &bytes.Buffer{}); err == nil {
		t.Error("parseFlags(-scaling -1) accepted")
	}
}
