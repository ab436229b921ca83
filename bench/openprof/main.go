// Command openprof opens a node once, as the first command of a new
// release does (its migrations, then the backfills that follow them:
// access MACs, the search index), and prints the open's wall time, the
// process's CPU and peak RSS; with -cpuprofile, under a CPU profile. It is
// how docs/STORAGE.md times upgrades of 2M-object nodes:
//
//	go run ./bench/openprof -data DIR [-dsn postgres://...] [-cpuprofile FILE]
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/stack"
	"github.com/tearline/tearline/store/backend"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "openprof:", err)
		os.Exit(1)
	}
}

func run() error {
	dir := flag.String("data", "", "the node's data directory")
	dsn := flag.String("dsn", "", "postgres:// URL of the node's store (PostgreSQL nodes)")
	prof := flag.String("cpuprofile", "", "write a CPU profile of the open to this file")
	flag.Parse()
	if *dir == "" {
		return fmt.Errorf("-data is required")
	}
	if *prof != "" {
		f, err := os.Create(*prof)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	lg := slog.New(slog.NewTextHandler(os.Stderr, nil))
	t0 := time.Now()
	n, err := stack.Open(context.Background(), *dir, node.Options{OpenStore: backend.Opener(*dsn), Logger: lg})
	if err != nil {
		return err
	}
	took := time.Since(t0)
	if err := n.Close(); err != nil {
		return err
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return err
	}
	fmt.Printf("open took %s; user %.1fs sys %.1fs; peak RSS %d MB\n", took.Round(time.Millisecond),
		time.Duration(ru.Utime.Nano()).Seconds(), time.Duration(ru.Stime.Nano()).Seconds(), ru.Maxrss/1024)
	return nil
}
