package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tearline/tearline/api"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/stix"
)

// clientFlags are shared by every command that talks to a running node.
type clientFlags struct {
	server, token, ca string
	insecure          bool
}

func (f *clientFlags) add(c *cobra.Command) {
	c.Flags().StringVar(&f.server, "server", os.Getenv("TEARLINE_SERVER"), "node base URL, e.g. https://127.0.0.1:8443 (env TEARLINE_SERVER)")
	c.Flags().StringVar(&f.token, "token", os.Getenv("TEARLINE_TOKEN"), "API token (env TEARLINE_TOKEN)")
	c.Flags().StringVar(&f.ca, "ca", "", "CA certificate to trust (the node's tls/cert.pem)")
	c.Flags().BoolVar(&f.insecure, "insecure", false, "do not verify the server certificate")
}

func (f *clientFlags) client() (*api.Client, error) {
	if f.server == "" {
		return nil, errors.New("--server is required (or set TEARLINE_SERVER)")
	}
	if f.token == "" {
		return nil, errors.New("--token is required (or set TEARLINE_TOKEN)")
	}
	if err := checkServerURL(f.server); err != nil {
		return nil, err
	}
	tc, err := api.ClientTLS(f.ca, f.insecure)
	if err != nil {
		return nil, err
	}
	return api.NewClient(f.server, f.token, tc), nil
}

func publishCmd() *cobra.Command {
	var cf clientFlags
	var lbl string
	c := &cobra.Command{
		Use:   "publish --server URL --token TOKEN [--insecure | --ca FILE] [--label BANNER] FILE|-",
		Short: "Ingest a STIX 2.1 bundle or object (plain JSON, .gz or .xz)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := cf.client()
			if err != nil {
				return err
			}
			data, err := readInput(args[0])
			if err != nil {
				return err
			}
			res, err := cl.Publish(cmd.Context(), strings.NewReader(string(data)), lbl)
			if err != nil {
				return err
			}
			created, exists := 0, 0
			for _, l := range res.Landed {
				if l.Status == "created" {
					created++
				} else {
					exists++
				}
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "landed %d object(s): %d new, %d already held\n", len(res.Landed), created, exists)
			if len(res.Refused) == 0 {
				return nil
			}
			fmt.Fprintf(out, "refused %d object(s):\n", len(res.Refused))
			for _, r := range res.Refused {
				fmt.Fprintf(out, "  %s\n", r)
			}
			return fmt.Errorf("%d object(s) refused", len(res.Refused))
		},
	}
	cf.add(c)
	c.Flags().StringVar(&lbl, "label", "", "label banner bound to objects without a label of ours, e.g. \"NATO SECRET // REL TO GBR, USA\"")
	return c
}

func getCmd() *cobra.Command {
	var cf clientFlags
	var versions, bindings bool
	c := &cobra.Command{
		Use:   "get --server URL --token TOKEN ID",
		Short: "Print the latest version of an object you may read",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := cf.client()
			if err != nil {
				return err
			}
			p := "/api/v1/objects/" + args[0]
			switch {
			case versions:
				p += "/versions"
			case bindings:
				p += "/bindings"
			}
			b, err := cl.GetRaw(cmd.Context(), p)
			if err != nil {
				return err
			}
			return printJSON(cmd.OutOrStdout(), b)
		},
	}
	cf.add(c)
	c.Flags().BoolVar(&versions, "versions", false, "print every version you may read")
	c.Flags().BoolVar(&bindings, "bindings", false, "print the object's signed label bindings")
	return c
}

// printJSON indents b without otherwise changing it: json.MarshalIndent
// would HTML-escape <, > and & in strings, and get promises the object
// exactly as published.
func printJSON(w io.Writer, b []byte) error {
	var out bytes.Buffer
	if err := json.Indent(&out, bytes.TrimSpace(b), "", "  "); err != nil {
		_, err = w.Write(b)
		return err
	}
	out.WriteByte('\n')
	_, err := w.Write(out.Bytes())
	return err
}

func listCmd() *cobra.Command {
	var cf clientFlags
	var types []string
	var limit int
	var next string
	c := &cobra.Command{
		Use:   "list --server URL --token TOKEN [--type T,...] [--limit N] [--next CURSOR]",
		Short: "List the latest version of each object you may read",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cl, err := cf.client()
			if err != nil {
				return err
			}
			page, err := cl.List(cmd.Context(), types, limit, next)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			for _, raw := range page.Objects {
				var o struct{ ID, Name, Modified, Created string }
				_ = json.Unmarshal(raw, &o)
				when := o.Modified
				if when == "" {
					when = o.Created
				}
				fmt.Fprintf(out, "%s\t%s\t%s\n", o.ID, when, o.Name)
			}
			if page.More {
				fmt.Fprintf(out, "more: --next %s\n", page.Next)
			}
			return nil
		},
	}
	cf.add(c)
	c.Flags().StringSliceVar(&types, "type", nil, "STIX types to list (comma-separated)")
	c.Flags().IntVar(&limit, "limit", 100, "page size (at most 1000)")
	c.Flags().StringVar(&next, "next", "", "cursor from a previous page")
	return c
}

func exportCmd() *cobra.Command {
	var cf clientFlags
	var types []string
	var limit int
	c := &cobra.Command{
		Use:   "export --server URL --token TOKEN [--type T,...] [--limit N]",
		Short: "Print a STIX bundle of objects with their bindings and labels (input for `verify`)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cl, err := cf.client()
			if err != nil {
				return err
			}
			p := fmt.Sprintf("/api/v1/export?limit=%d", limit)
			if len(types) > 0 {
				p += "&type=" + strings.Join(types, ",")
			}
			b, err := cl.GetRaw(cmd.Context(), p)
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(b)
			return err
		},
	}
	cf.add(c)
	c.Flags().StringSliceVar(&types, "type", nil, "STIX types to export (comma-separated)")
	c.Flags().IntVar(&limit, "limit", 1000, "objects per bundle (at most 1000)")
	return c
}

func verifyCmd() *cobra.Command {
	var dir string
	var quiet bool
	c := &cobra.Command{
		Use:   "verify [--data DIR] FILE|-",
		Short: "Check offline that every object in a bundle carries a valid signed label binding",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ring, err := node.LoadKeyring(dir)
			if err != nil {
				return fmt.Errorf("keyring from %s: %w", dir, err)
			}
			data, err := readInput(args[0])
			if err != nil {
				return err
			}
			verdicts, err := node.VerifyBundle(data, ring, stix.Limits{MaxBytes: 1 << 30})
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			bad := 0
			for _, v := range verdicts {
				if !v.OK {
					bad++
					fmt.Fprintf(out, "FAIL %s: %s\n", v.ID, v.Problem)
				} else if !quiet {
					fmt.Fprintf(out, "ok   %s\n", v.ID)
				}
			}
			fmt.Fprintf(out, "%d verified, %d failed\n", len(verdicts)-bad, bad)
			if bad > 0 {
				return fmt.Errorf("%d object(s) failed verification", bad)
			}
			return nil
		},
	}
	c.Flags().StringVar(&dir, "data", ".", "data directory whose keyring (own key and keyring.yaml) to trust")
	c.Flags().BoolVarP(&quiet, "quiet", "q", false, "print only failures and the summary")
	return c
}
