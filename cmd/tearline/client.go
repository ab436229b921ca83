package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/spf13/cobra"

	"github.com/tearline/tearline/api"
	"github.com/tearline/tearline/binding"
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
				return printJSON(cmd.OutOrStdout(), b)
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
			banners, err := objectBanners(cmd.Context(), cl, args[0])
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

// objectBanners returns the banners of the labels bound to the latest
// version of id the caller may read: its bindings name the labels, whose
// marking-definitions carry the banner as their name.
func objectBanners(ctx context.Context, cl *api.Client, id string) ([]string, error) {
	b, err := cl.GetRaw(ctx, "/api/v1/objects/"+url.PathEscape(id)+"/bindings")
	if err != nil {
		return nil, err
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(b, &raws); err != nil {
		return nil, fmt.Errorf("bindings: %w", err)
	}
	var banners []string
	seen := map[string]bool{}
	for _, raw := range raws {
		bd, err := binding.Parse(raw)
		if err != nil {
			return nil, fmt.Errorf("binding: %w", err)
		}
		for _, l := range bd.Labels {
			if seen[l.Ref] {
				continue
			}
			seen[l.Ref] = true
			lb, err := cl.GetRaw(ctx, "/api/v1/labels/"+url.PathEscape(l.Ref))
			if err != nil {
				return nil, fmt.Errorf("label %s: %w", l.Ref, err)
			}
			var m struct{ Name string }
			if err := json.Unmarshal(lb, &m); err != nil {
				return nil, fmt.Errorf("label %s: %w", l.Ref, err)
			}
			banners = append(banners, m.Name)
		}
	}
	if len(banners) == 0 {
		return nil, errors.New("no label bound")
	}
	return banners, nil
}

// printJSON indents b without otherwise changing it: json.MarshalIndent
// would HTML-escape <, > and & in strings.
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
			rows, err := listRows(objs)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			for _, r := range rows {
				fmt.Fprintf(out, "%s\t%s\t%s\t%s\n", r.id, r.when, r.banner, r.name)
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

type listRow struct{ id, when, banner, name string }

// listRows turns an export page (objects, each followed by its bindings,
// then the labels they name) into one row per object.
func listRows(objs []json.RawMessage) ([]listRow, error) {
	type head struct{ Type, ID, Name, Created, Modified string }
	bound := map[string][]string{} // object id -> label ids
	names := map[string]string{}   // label id -> banner
	for _, raw := range objs {
		var h head
		if err := json.Unmarshal(raw, &h); err != nil {
			return nil, fmt.Errorf("list: %w", err)
		}
		if h.Type == binding.Type {
			bd, err := binding.Parse(raw)
			if err != nil {
				return nil, fmt.Errorf("list: binding %s: %w", h.ID, err)
			}
			for _, l := range bd.Labels {
				if !slices.Contains(bound[bd.ObjectRef], l.Ref) {
					bound[bd.ObjectRef] = append(bound[bd.ObjectRef], l.Ref)
				}
			}
		}
		if h.Type == "marking-definition" {
			names[h.ID] = h.Name
		}
	}
	var rows []listRow
	for _, raw := range objs {
		var h head
		_ = json.Unmarshal(raw, &h)
		if h.Type == binding.Type || (h.Type == "marking-definition" && len(bound[h.ID]) == 0) {
			continue
		}
		when := h.Modified
		if when == "" {
			when = h.Created
		}
		var bs []string
		for _, l := range bound[h.ID] {
			bs = append(bs, names[l])
		}
		rows = append(rows, listRow{id: h.ID, when: when, banner: strings.Join(bs, " + "), name: h.Name})
	}
	return rows, nil
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
			n, err := exportAll(cmd, cl, w, types, limit, after)
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
			fmt.Fprintf(cmd.ErrOrStderr(), "exported %d object(s), %d binding(s), %d label(s) to %s\n", n.objects, n.bindings, n.labels, where)
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

type exportCounts struct{ objects, bindings, labels int }

// exportAll writes one bundle of every page of GET /api/v1/export to w.
// Within a page a binding follows its object and labels come last, so an
// object dropped by --since takes its bindings with it; labels are written
// once, at the end, and only those a written binding names.
func exportAll(cmd *cobra.Command, cl *api.Client, w io.Writer, types []string, limit int, after time.Time) (exportCounts, error) {
	var n exportCounts
	bw := bufio.NewWriterSize(w, 1<<20)
	fmt.Fprintf(bw, `{"type":"bundle","id":"bundle--%s","objects":[`, uuid.NewString())
	first := true
	put := func(raw []byte) {
		if !first {
			bw.WriteByte(',')
		}
		first = false
		bw.Write(bytes.TrimSpace(raw))
	}
	labels := map[string]json.RawMessage{}
	var labelOrder []string
	named := map[string]bool{}
	next, pages := "", 0
	for {
		objs, nx, err := cl.ExportPage(cmd.Context(), types, limit, next)
		if err != nil {
			return n, fmt.Errorf("export page %d: %w", pages+1, err)
		}
		pages++
		// An object the page lists is followed by its bindings; a
		// marking-definition no binding of the page is about is a label.
		bound := map[string]bool{}
		for _, raw := range objs {
			var b struct {
				Type      string `json:"type"`
				ObjectRef string `json:"object_ref"`
			}
			if json.Unmarshal(raw, &b) == nil && b.Type == binding.Type {
				bound[b.ObjectRef] = true
			}
		}
		kept := map[string]bool{}
		for _, raw := range objs {
			var o struct{ Type, ID, Created, Modified string }
			var b struct {
				ObjectRef string `json:"object_ref"`
			}
			if err := json.Unmarshal(raw, &o); err != nil {
				return n, fmt.Errorf("export page %d: %w", pages, err)
			}
			switch {
			case o.Type == binding.Type:
				_ = json.Unmarshal(raw, &b)
				if !kept[b.ObjectRef] {
					continue
				}
				bd, err := binding.Parse(raw)
				if err != nil {
					return n, fmt.Errorf("export page %d: binding %s: %w", pages, o.ID, err)
				}
				for _, l := range bd.Labels {
					named[l.Ref] = true
				}
				for _, l := range bd.PartLabels {
					named[l.Ref] = true
				}
				put(raw)
				n.bindings++
			case o.Type == "marking-definition" && !bound[o.ID]:
				// A label of the page: held back, written once at the end.
				if _, ok := labels[o.ID]; !ok {
					labels[o.ID] = append(json.RawMessage(nil), raw...)
					labelOrder = append(labelOrder, o.ID)
				}
			default:
				when := o.Modified
				if when == "" {
					when = o.Created
				}
				if !after.IsZero() && when != "" {
					t, err := time.Parse(time.RFC3339Nano, when)
					if err == nil && t.Before(after) {
						continue
					}
				}
				kept[o.ID] = true
				put(raw)
				n.objects++
			}
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "export: page %d, %d object(s) so far\n", pages, n.objects)
		if nx == "" {
			break
		}
		next = nx
	}
	for _, id := range labelOrder {
		if named[id] {
			put(labels[id])
			n.labels++
		}
	}
	bw.WriteString("]}\n")
	return n, bw.Flush()
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
			data, err := readInput(args[0])
			if err != nil {
				return err
			}
			verdicts, err := node.VerifyBundle(data, ring, stix.Limits{MaxBytes: maxInput})
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
