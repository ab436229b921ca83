package main

import (
	"fmt"
	"log/slog"
	"net"
	"os"

	"github.com/spf13/cobra"

	"github.com/tearline/tearline/api"
	"github.com/tearline/tearline/internal/demo"
	"github.com/tearline/tearline/internal/gctune"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/stack"
	"github.com/tearline/tearline/store/backend"
)

func demoCmd() *cobra.Command {
	var dir, listen string
	c := &cobra.Command{
		Use:   "demo [--listen HOST:PORT] [--data DIR]",
		Short: "Run a demo node on loopback with labelled sample intelligence and users of different clearances",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			gctune.Apply(gctune.Plan(os.Getenv, os.ReadFile)) // as serve runs
			if dir == "" {
				d, err := os.MkdirTemp("", "tearline-demo-*")
				if err != nil {
					return err
				}
				defer os.RemoveAll(d)
				dir = d + "/node"
			}
			users, err := demo.Setup(ctx, dir)
			if err != nil {
				return err
			}
			ln, err := net.Listen("tcp", listen)
			if err != nil {
				// The usual port is taken: any free loopback port will do for a demo.
				if ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
					return err
				}
			}
			n, err := stack.Open(ctx, dir, node.Options{OpenStore: backend.Opener("")})
			if err != nil {
				return err
			}
			defer n.Close()
			url := "https://" + ln.Addr().String()
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "Tearline demo node %q serving at %s (data in %s)\n\n", n.Config().Name, url, dir)
			fmt.Fprintln(out, "Users and their API tokens:")
			for _, u := range users {
				fmt.Fprintf(out, "  %-6s %-8s %s  sees %s\n         token %s\n", u.Spec.Name, u.Spec.Role, u.Spec.Nationality, u.Sees, u.Token)
			}
			fmt.Fprintf(out, "\nWeb interface: %s/ui/ (the certificate is the node's own; accept it in the browser). Sign in as:\n", url)
			for _, u := range users {
				fmt.Fprintf(out, "  %-6s password %s\n", u.Spec.Name, u.Password)
			}
			fmt.Fprintf(out, "\nTry (the certificate is the node's own: --ca %s/%s, or -k):\n", dir, node.TLSCert)
			fmt.Fprintf(out, "  curl -sk -H 'Authorization: Bearer %s' %s/api/v1/objects\n", users[1].Token, url)
			fmt.Fprintf(out, "  curl -sk -H 'Authorization: Bearer %s' %s/api/v1/objects/report--84e4d88f-44ea-4bcd-bbf3-b2c1c320bcb3\n", users[2].Token, url)
			fmt.Fprintf(out, "  go run ./cmd/tearline list --server %s --insecure --token %s\n", url, users[3].Token)
			// The federation: partner nodes of their own, so a newcomer
			// sees one object reach one partner whole, another as a
			// tearline and a third not at all, with the reasons.
			fmt.Fprintln(out)
			fedDir := dir + "-federation"
			if _, err := os.Stat(fedDir); err == nil {
				return fmt.Errorf("demo: %s exists; remove it or use another --data", fedDir)
			}
			defer os.RemoveAll(fedDir)
			log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelWarn}))
			cl, err := demo.Federate(ctx, fedDir, out, func(m *stack.Node) ([]api.Option, error) { return uiOptions(m, log) })
			if err != nil {
				return fmt.Errorf("demo federation: %w", err)
			}
			defer cl.Close()
			fmt.Fprintln(out, "\nalice sees the report; bob gets 404 for it, exactly as for an id that does not exist. Ctrl-C stops the demo.")
			opts, err := uiOptions(n, log)
			if err != nil {
				return err
			}
			return api.Serve(ctx, n, ln, log, opts...)
		},
	}
	c.Flags().StringVar(&dir, "data", "", "data directory for the demo node (default: a temporary directory removed on exit)")
	c.Flags().StringVar(&listen, "listen", "127.0.0.1:8443", "HOST:PORT to listen on")
	return c
}
