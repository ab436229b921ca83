// Command tearline runs and operates a Tearline node. It only wires: the
// work is done in the packages it calls.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/tearline/tearline/internal/clientcmd"
)

func main() { os.Exit(run()) }

// run runs the command line in os.Args and returns the exit code; the tests
// run it as the `tearline` command of their scripts.
func run() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := root().ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "tearline:", clientcmd.Explain(err))
		return 1
	}
	return 0
}

func root() *cobra.Command {
	c := &cobra.Command{
		Use:           "tearline",
		Short:         "Tearline: share labelled intelligence under signed agreements",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version(),
	}
	c.SetVersionTemplate("tearline {{.Version}}\n")
	c.AddCommand(versionCmd()) // version.go
	c.AddCommand(initCmd(), serveCmd(), userCmd(), demoCmd(), auditCmd())
	c.AddCommand(clientcmd.Commands()...)                         // publish, get, list, export, verify (internal/clientcmd)
	c.AddCommand(purgeCmd(), keyCmd(), backupCmd(), restoreCmd()) // storage.go
	c.AddCommand(agreementCmd(), releaseCmd())                    // agreement.go, release.go
	addFederationCmds(c)                                          // federation.go
	c.AddCommand(recallCmd())                                     // recall.go
	documentServing(c)                                            // operate.go
	return c
}
