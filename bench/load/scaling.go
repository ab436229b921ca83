package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"
)

// scalingRun is one timed run of the scaling mode.
type scalingRun struct {
	clients   int
	readsPerS float64
	cpuPerMs  float64 // node CPU per read, ms
	clientMs  float64 // the clients' CPU per read, ms
	load      string  // the machine's load average when the run ended
}

// scaling runs, on the node already loaded and served, cfg.scaling pairs
// of reads-by-id runs alternating one client and cfg.clients clients (the
// same node for both, each run cfg.duration), and prints each run and then
// the ratio of the many clients' reads/s to the one client's and the node
// CPU per read: the read-scaling target in one command (BENCHMARKS.md,
// "Reads under load"). Runs alternate so that a change in the machine's
// load weighs on both sides alike.
func scaling(ctx context.Context, cfg config, spec clientSpec, stdout, stderr io.Writer) error {
	var runs []scalingRun
	fmt.Fprintf(stdout, "## bench/load -scaling: reads by id, 1 and %d clients alternated, %d pairs of %s runs, %s, %d objects\n\n",
		cfg.clients, cfg.scaling, cfg.duration, backendName(cfg), cfg.objects)
	fmt.Fprintf(stdout, "| run | clients | reads/s | node CPU per read | clients' CPU per read | load average (1, 5, 15 min) |\n|---|---|---|---|---|---|\n")
	for pair := range cfg.scaling {
		for _, k := range []int{1, cfg.clients} {
			c := cfg
			c.clients, c.procs = k, min(k, 32)
			res, u, err := drive(ctx, c, spec, stderr)
			if err != nil {
				return err
			}
			if errs := res.errors(); errs > 0 {
				return fmt.Errorf("%d clients: %d requests failed, the first: %v", k, errs, res.firstErrors())
			}
			reads := res.byKind()[kindGet].n
			r := scalingRun{clients: k, readsPerS: float64(reads) / cfg.duration.Seconds(),
				cpuPerMs: perMs(u.user+u.sys, reads), clientMs: perMs(u.clients, reads), load: loadAverage()}
			runs = append(runs, r)
			fmt.Fprintf(stdout, "| %d | %d | %.0f | %.3f ms | %.3f ms | %s |\n", pair+1, k, r.readsPerS, r.cpuPerMs, r.clientMs, r.load)
		}
	}
	one, many := pick(runs, 1), pick(runs, cfg.clients)
	fmt.Fprintf(stdout, "\nratio %d ÷ 1 clients: %.2f× (mean reads/s %.0f ÷ %.0f; per pair %s)\n",
		cfg.clients, mean(many, reads)/mean(one, reads), mean(many, reads), mean(one, reads), pairRatios(one, many))
	fmt.Fprintf(stdout, "node CPU per read: %.3f ms at %d clients, %.3f ms at 1 (means); the clients' CPU per read: %.3f ms at %d, %.3f ms at 1\n",
		mean(many, cpu), cfg.clients, mean(one, cpu), mean(many, clientCPU), cfg.clients, mean(one, clientCPU))
	return nil
}

func pick(runs []scalingRun, clients int) []scalingRun {
	return slices.DeleteFunc(slices.Clone(runs), func(r scalingRun) bool { return r.clients != clients })
}

func reads(r scalingRun) float64     { return r.readsPerS }
func cpu(r scalingRun) float64       { return r.cpuPerMs }
func clientCPU(r scalingRun) float64 { return r.clientMs }

func mean(runs []scalingRun, f func(scalingRun) float64) float64 {
	if len(runs) == 0 {
		return 0
	}
	var s float64
	for _, r := range runs {
		s += f(r)
	}
	return s / float64(len(runs))
}

func pairRatios(one, many []scalingRun) string {
	var out []string
	for i := range min(len(one), len(many)) {
		out = append(out, fmt.Sprintf("%.2f×", many[i].readsPerS/one[i].readsPerS))
	}
	return strings.Join(out, ", ")
}

// loadAverage is /proc/loadavg's first three fields, or "?".
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], ", ")
	}
	return "?"
}

// scalingDuration is a scaling run's default length.
const scalingDuration = 10 * time.Second
