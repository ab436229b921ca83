package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/tearline/tearline/agreement"
	"github.com/tearline/tearline/internal/clientcmd"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/agreements"
	"github.com/tearline/tearline/node/stack"
)

// nodeFlags are the flags every console command on a data directory takes.
type nodeFlags struct {
	dir, storeURL, as string
}

func (f *nodeFlags) add(c *cobra.Command, withAs bool) {
	c.Flags().StringVar(&f.dir, "data", "", "data directory (required)")
	addStoreFlag(c, &f.storeURL)
	if withAs {
		c.Flags().StringVar(&f.as, "as", "", "act as this user of the node (their role and clearances apply)")
	}
	_ = c.MarkFlagRequired("data")
}

// open opens the node and returns it with the principal to act as: the
// named user, or the console admin.
func (f *nodeFlags) open(cmd *cobra.Command) (*stack.Node, *node.Principal, error) {
	n, err := openNode(cmd, f.dir, f.storeURL)
	if err != nil {
		return nil, nil, err
	}
	if f.as == "" {
		return n, node.ConsoleAdmin(), nil
	}
	p, err := n.PrincipalByName(cmd.Context(), f.as)
	if err != nil {
		n.Close()
		return nil, nil, err
	}
	return n, p, nil
}

func agreementCmd() *cobra.Command {
	c := &cobra.Command{Use: "agreement", Short: "Import, sign and move sharing agreements through their lifecycle"}
	c.AddCommand(agreementImportCmd("import", "Import an agreement document (YAML or JSON) as a draft"),
		agreementImportCmd("amend", "Import a new version of an agreement; activating it supersedes the old one"),
		agreementSignCmd(), agreementAddSignatureCmd(), agreementListCmd(), agreementShowCmd())
	for _, m := range []struct {
		use   string
		to    agreement.State
		short string
	}{
		{"propose", agreement.StateProposed, "Mark a draft as proposed to the parties (this node's record only: nothing is sent; give each party the document from 'agreement show ID --format yaml', and add their signatures with 'agreement add-signature')"},
		{"activate", agreement.StateActive, "Put a version signed by every party in force (superseding an older active version)"},
		{"suspend", agreement.StateSuspended, "Suspend an active agreement: it decides nothing until resumed"},
		{"resume", agreement.StateActive, "Resume a suspended agreement"},
		{"expire", agreement.StateExpired, "Record that an agreement has expired"},
		{"terminate", agreement.StateTerminated, "End an agreement for good"},
	} {
		c.AddCommand(agreementMoveCmd(m.use, m.to, m.short))
	}
	return c
}

func printAgreement(w io.Writer, a agreements.AgreementInfo) {
	fmt.Fprintf(w, "%s version %d: %s (%s since %s)\n", a.ID, a.Version, a.Title, a.State, a.Since.Format("2006-01-02T15:04:05Z"))
	fmt.Fprintf(w, "  in effect %s to %s\n", a.Effective, a.Expires)
	fmt.Fprintf(w, "  parties %s; signed by %s; missing %s\n", strings.Join(a.Parties, ", "), orNone(a.Signed), orNone(a.Missing))
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

func agreementImportCmd(use, short string) *cobra.Command {
	var f nodeFlags
	c := &cobra.Command{
		Use: use + " FILE --data DIR", Short: short, Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := clientcmd.ReadInput(args[0])
			if err != nil {
				return err
			}
			n, p, err := f.open(cmd)
			if err != nil {
				return err
			}
			defer n.Close()
			a, err := n.Agreements.ImportAgreement(cmd.Context(), p, data)
			if err != nil {
				return err
			}
			printAgreement(cmd.OutOrStdout(), a)
			return nil
		},
	}
	f.add(c, false)
	return c
}

func agreementSignCmd() *cobra.Command {
	var f nodeFlags
	var version int
	c := &cobra.Command{
		Use: "sign ID --data DIR [--version N]", Short: "Sign an agreement with this node's key", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, p, err := f.open(cmd)
			if err != nil {
				return err
			}
			defer n.Close()
			a, err := n.Agreements.SignAgreement(cmd.Context(), p, args[0], version)
			if err != nil {
				return err
			}
			printAgreement(cmd.OutOrStdout(), a)
			return nil
		},
	}
	f.add(c, false)
	c.Flags().IntVar(&version, "version", 0, "agreement version (default the latest)")
	return c
}

func agreementAddSignatureCmd() *cobra.Command {
	var f nodeFlags
	var version int
	c := &cobra.Command{
		Use: "add-signature ID FILE --data DIR", Short: "Add the partners' signatures from a copy of the agreement they signed", Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := clientcmd.ReadInput(args[1])
			if err != nil {
				return err
			}
			n, p, err := f.open(cmd)
			if err != nil {
				return err
			}
			defer n.Close()
			a, err := n.Agreements.AddAgreementSignatures(cmd.Context(), p, args[0], version, data)
			if err != nil {
				return err
			}
			printAgreement(cmd.OutOrStdout(), a)
			return nil
		},
	}
	f.add(c, false)
	c.Flags().IntVar(&version, "version", 0, "agreement version (default the latest)")
	return c
}

func agreementMoveCmd(use string, to agreement.State, short string) *cobra.Command {
	var f nodeFlags
	var version int
	var note string
	c := &cobra.Command{
		Use: use + " ID --data DIR", Short: short, Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, p, err := f.open(cmd)
			if err != nil {
				return err
			}
			defer n.Close()
			a, err := n.Agreements.TransitionAgreement(cmd.Context(), p, args[0], version, to, note)
			if err != nil {
				return nextStep(err, args[0])
			}
			printAgreement(cmd.OutOrStdout(), a)
			return nil
		},
	}
	f.add(c, false)
	c.Flags().IntVar(&version, "version", 0, "agreement version (default the latest)")
	c.Flags().StringVar(&note, "note", "", "why (kept in the history and the audit log)")
	return c
}

func agreementListCmd() *cobra.Command {
	var f nodeFlags
	c := &cobra.Command{
		Use: "list --data DIR", Short: "List agreements and their states", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			n, p, err := f.open(cmd)
			if err != nil {
				return err
			}
			defer n.Close()
			as, err := n.Agreements.Agreements(cmd.Context(), p)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tVERSION\tSTATE\tPARTIES\tMISSING SIGNATURES\tEXPIRES")
			for _, a := range as {
				fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\n", a.ID, a.Version, a.State, strings.Join(a.Parties, ","), orNone(a.Missing), a.Expires)
			}
			return tw.Flush()
		},
	}
	f.add(c, true)
	return c
}

func agreementShowCmd() *cobra.Command {
	var f nodeFlags
	var version int
	var format string
	c := &cobra.Command{
		Use:   "show ID --data DIR [--version N] [--format text|yaml|json]",
		Short: "Show an agreement version and its history, or its document alone (--format yaml|json, which add-signature reads back)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "text" && format != "yaml" && format != "json" {
				return fmt.Errorf("--format %q: want text, yaml or json", format)
			}
			n, p, err := f.open(cmd)
			if err != nil {
				return err
			}
			defer n.Close()
			a, hist, err := n.Agreements.Agreement(cmd.Context(), p, args[0], version)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if format != "text" {
				// The document alone, signatures included: a party signs it
				// and 'agreement add-signature' reads the signed copy back.
				if a.Document == nil {
					return fmt.Errorf("agreement %s version %d has no document", a.ID, a.Version)
				}
				var raw []byte
				if format == "yaml" {
					raw, err = a.Document.YAML()
				} else {
					raw, err = a.Document.JSON()
					raw = append(raw, '\n')
				}
				if err != nil {
					return err
				}
				_, err = out.Write(raw)
				return err
			}
			printAgreement(out, a)
			for _, h := range hist {
				fmt.Fprintf(out, "  %s v%d %s -> %s by %s %s\n", h.At.Format("2006-01-02T15:04:05Z"), h.Version, h.From, h.To, h.By, h.Note)
			}
			if a.Document != nil {
				raw, err := a.Document.JSON()
				if err != nil {
					return err
				}
				return clientcmd.PrintJSON(out, raw)
			}
			return nil
		},
	}
	f.add(c, true)
	c.Flags().IntVar(&version, "version", 0, "agreement version (default the latest)")
	c.Flags().StringVar(&format, "format", "text", "text (summary, history and document), or yaml or json (the signed document alone)")
	return c
}

// nextStep adds to a lifecycle error the command that moves the agreement
// on: the lifecycle knows where an agreement may go, the console knows
// which command takes it there.
func nextStep(err error, id string) error {
	var te *agreement.TransitionError
	switch {
	case errors.As(err, &te):
		var cmds []string
		for _, s := range agreement.Next(te.From) {
			if c := moveCommand(te.From, s); c != "" {
				cmds = append(cmds, fmt.Sprintf("'tearline agreement %s %s'", c, id))
			}
		}
		if len(cmds) == 0 {
			return err
		}
		return fmt.Errorf("%w\nnext: %s", err, strings.Join(cmds, " or "))
	case errors.Is(err, agreement.ErrUnsigned):
		return fmt.Errorf("%w\nnext: sign with 'tearline agreement sign %s', give the partners 'tearline agreement show %s --format yaml' to sign, and add their copy with 'tearline agreement add-signature %s FILE'", err, id, id, id)
	}
	return err
}

// moveCommand names the console command for a lifecycle move.
func moveCommand(from, to agreement.State) string {
	switch to {
	case agreement.StateProposed:
		return "propose"
	case agreement.StateActive:
		if from == agreement.StateSuspended {
			return "resume"
		}
		return "activate"
	case agreement.StateSuspended:
		return "suspend"
	case agreement.StateExpired:
		return "expire"
	case agreement.StateTerminated:
		return "terminate"
	case agreement.StateAmended:
		return "amend"
	}
	return ""
}
