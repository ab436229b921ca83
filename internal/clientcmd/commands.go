// Package clientcmd holds the commands of the tearline CLI that talk to a
// serving node over its JSON API as a user with a token (publish, get,
// list, export) and the one that checks an export offline (verify), with
// what they share: reading input files (.gz, .xz), printing JSON, and
// errors that say what to do. cmd/tearline adds them to its command tree.
package clientcmd

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tearline/tearline/api"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/stix"
	"github.com/tearline/tearline/verify"
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
			data, err := ReadInput(args[0])
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
	var versions, bindings, quiet bool
	c := &cobra.Command{
		Use:   "get --server URL --token TOKEN [--quiet] ID",
		Short: "Print the latest version of an object you may read, exactly as stored; its banner on stderr",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := cf.client()
			if err != nil {
				return err
			}
			p := "/api/v1/objects/" + url.PathEscape(args[0])
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
			if versions || bindings {
				return PrintJSON(cmd.OutOrStdout(), b)
			}
			// The object's bytes as the node stores them, nothing added, so
			// they can be hashed or compared; the banner goes to stderr so
			// that a person sees the classification of what is on screen.
			if _, err := cmd.OutOrStdout().Write(b); err != nil {
				return err
			}
			if quiet {
				return nil
			}
			banners, err := cl.ObjectBanners(cmd.Context(), args[0])
			if err != nil {
				return fmt.Errorf("the object was printed, but its label was not read: %w", err)
			}
			fmt.Fprintln(cmd.ErrOrStderr(), strings.Join(banners, " + "))
			return nil
		},
	}
	cf.add(c)
	c.Flags().BoolVar(&versions, "versions", false, "print every version you may read")
	c.Flags().BoolVar(&bindings, "bindings", false, "print the object's signed label bindings")
	c.Flags().BoolVarP(&quiet, "quiet", "q", false, "do not print the object's banner on stderr")
	return c
}

// PrintJSON indents b without otherwise changing it: json.MarshalIndent
// would HTML-escape <, > and & in strings.
func PrintJSON(w io.Writer, b []byte) error {
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
		Short: "List the latest version of each object you may read: id, version, label banner, name",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cl, err := cf.client()
			if err != nil {
				return err
			}
			// The export page is the list page with each object's bindings
			// and labels beside it: one request gives every row its banner.
			objs, nx, err := cl.ExportPage(cmd.Context(), types, limit, next)
			if err != nil {
				return err
			}
			rows, err := api.ListRows(objs)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			for _, r := range rows {
				fmt.Fprintf(out, "%s\t%s\t%s\t%s\n", r.ID, r.When, strings.Join(r.Banners, " + "), r.Name)
			}
			if nx != "" {
				fmt.Fprintf(out, "more: --next %s\n", nx)
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
	var out, since string
	c := &cobra.Command{
		Use:   "export --server URL --token TOKEN [--type T,...] [--since TIME] [--out FILE]",
		Short: "Write one STIX bundle of every object you may read, with its bindings and labels (input for 'verify')",
		Long: `Export walks every page of the node's export and writes one STIX 2.1 bundle:
each object you may read (its latest version), its signed label bindings,
and the label marking-definitions they name, each label once. With --out
the bundle is written to FILE atomically (a partial export never replaces
it); otherwise to standard output. Progress goes to standard error.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var after time.Time
			if since != "" {
				t, err := time.Parse(time.RFC3339Nano, since)
				if err != nil {
					return fmt.Errorf("--since %q: want a time such as 2026-01-10T00:00:00Z: %w", since, err)
				}
				after = t
			}
			cl, err := cf.client()
			if err != nil {
				return err
			}
			w, commit, abort, err := exportTarget(cmd.OutOrStdout(), out)
			if err != nil {
				return err
			}
			defer abort()
			n, err := cl.ExportBundle(cmd.Context(), w, api.ExportOptions{Types: types, Limit: limit, Since: after,
				Progress: func(pages, objects int) {
					fmt.Fprintf(cmd.ErrOrStderr(), "export: page %d, %d object(s) so far\n", pages, objects)
				}})
			if err != nil {
				return err
			}
			if err := commit(); err != nil {
				return err
			}
			where := "standard output"
			if out != "" {
				where = out
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "exported %d object(s), %d binding(s), %d label(s) to %s\n", n.Objects, n.Bindings, n.Labels, where)
			return nil
		},
	}
	cf.add(c)
	c.Flags().StringSliceVar(&types, "type", nil, "STIX types to export (comma-separated)")
	c.Flags().StringVar(&since, "since", "", "only objects whose version (modified, else created) is at or after this RFC 3339 time; objects without either (SCOs) are kept")
	c.Flags().StringVar(&out, "out", "", "write the bundle to FILE atomically instead of standard output")
	c.Flags().IntVar(&limit, "limit", 1000, "objects asked for per page (at most 1000); the bundle holds every page")
	return c
}

// exportTarget returns where export writes: standard output, or a temporary
// file beside FILE that commit renames over it (after syncing) and abort
// removes, so FILE is either the old file or the whole new bundle.
func exportTarget(stdout io.Writer, file string) (w io.Writer, commit func() error, abort func(), err error) {
	if file == "" {
		return stdout, func() error { return nil }, func() {}, nil
	}
	f, err := os.CreateTemp(filepath.Dir(file), "."+filepath.Base(file)+".tmp-*")
	if err != nil {
		return nil, nil, nil, fmt.Errorf("--out: %w", err)
	}
	done := false
	commit = func() error {
		if err := f.Sync(); err != nil {
			return fmt.Errorf("--out: %w", err)
		}
		if err := f.Close(); err != nil {
			return fmt.Errorf("--out: %w", err)
		}
		if err := os.Rename(f.Name(), file); err != nil {
			return fmt.Errorf("--out: %w", err)
		}
		done = true
		return nil
	}
	abort = func() {
		if !done {
			f.Close()
			os.Remove(f.Name())
		}
	}
	return f, commit, abort, nil
}

func verifyCmd() *cobra.Command {
	var dir string
	var quiet, strict bool
	c := &cobra.Command{
		Use:   "verify [--data DIR] [--strict] FILE|-",
		Short: "Check offline every signed label binding in a bundle; list objects that carry none",
		Long: `Verify checks, without a server, each binding in a STIX bundle (from
'tearline export', plain, .gz or .xz) against its object and labels, with the
keys of DIR's keyring. Bundles may mix producers: objects that carry no
binding (another platform's, a TLP marking-definition) are listed as
"unbound" and fail the check only with --strict.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ring, err := node.LoadKeyring(dir)
			if err != nil {
				return fmt.Errorf("keyring from %s: %w", dir, err)
			}
			data, err := ReadInput(args[0])
			if err != nil {
				return err
			}
			verdicts, err := verify.Bundle(data, ring, stix.Limits{MaxBytes: maxInput})
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			bad, unbound := 0, 0
			for _, v := range verdicts {
				switch {
				case v.Unbound:
					unbound++
					if !quiet || strict {
						fmt.Fprintf(out, "none %s: no binding (not signed by a Tearline node)\n", v.ID)
					}
				case !v.OK:
					bad++
					fmt.Fprintf(out, "FAIL %s: %s\n", v.ID, v.Problem)
				case !quiet:
					fmt.Fprintf(out, "ok   %s\n", v.ID)
				}
			}
			fmt.Fprintf(out, "%d verified, %d failed, %d unbound\n", len(verdicts)-bad-unbound, bad, unbound)
			switch {
			case bad > 0:
				return fmt.Errorf("%d object(s) failed verification", bad)
			case strict && unbound > 0:
				return fmt.Errorf("%d object(s) carry no binding (--strict)", unbound)
			}
			return nil
		},
	}
	c.Flags().StringVar(&dir, "data", ".", "data directory whose keyring (own key and keyring.yaml) to trust")
	c.Flags().BoolVarP(&quiet, "quiet", "q", false, "print only failures, unbound objects with --strict, and the summary")
	c.Flags().BoolVar(&strict, "strict", false, "fail when any object carries no binding")
	return c
}

// Commands returns the client commands, for the root command.
func Commands() []*cobra.Command {
	return []*cobra.Command{publishCmd(), getCmd(), listCmd(), exportCmd(), verifyCmd()}
}
