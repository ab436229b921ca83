package main

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tearline/tearline/node/recalls"
	"github.com/tearline/tearline/node/release"
	"github.com/tearline/tearline/store"
)

func releaseCmd() *cobra.Command {
	c := &cobra.Command{Use: "release", Short: "Request, explain and approve releases to partners under agreements"}
	c.AddCommand(releaseDecideCmd("request", "Request the release of an object to a party: released, cut to a tearline, queued for approval or refused"),
		releaseDecideCmd("explain", "Show what a release would decide and why, without releasing anything"),
		releaseQueueCmd(), releaseApproveCmd(), releaseRefuseCmd(), releaseRetryCmd(), consentCmd())
	return c
}

// printResult prints a decision and each reason in words.
func printResult(w io.Writer, r release.ReleaseResult) {
	fmt.Fprintf(w, "%s (version %s) to %s for %s: %s\n", r.Object, r.Modified, r.Party, r.Purpose, strings.ToUpper(r.Outcome))
	if r.Agreement != "" {
		fmt.Fprintf(w, "  under agreement %s version %d, terms[%d]\n", r.Agreement, r.Version, r.Term)
	} else {
		fmt.Fprintln(w, "  under no agreement")
	}
	for i, c := range r.Reasons {
		fmt.Fprintf(w, "  - %s: %s\n", c, r.Words[i])
	}
	if len(r.Cut) > 0 {
		fmt.Fprintf(w, "  parts cut: %s\n", strings.Join(r.Cut, ", "))
	}
	if r.Approvals > 0 {
		fmt.Fprintf(w, "  approvals needed: %d\n", r.Approvals)
	}
	if r.Retention != "" {
		fmt.Fprintf(w, "  the recipient may keep it for %s\n", r.Retention)
	}
	if r.Tearline != "" {
		fmt.Fprintf(w, "  sanitised object: %s\n", r.Tearline)
	}
	if r.Request != "" {
		fmt.Fprintf(w, "  request: %s\n", r.Request)
	}
	if r.Ledger != 0 {
		fmt.Fprintf(w, "  ledger entry: %d\n", r.Ledger)
	}
	if r.Delivery != "" {
		fmt.Fprintf(w, "  delivery: %s\n", r.Delivery)
	}
	for _, c := range r.Candidates {
		fmt.Fprintf(w, "  considered %s v%d (%s): %s %s\n", c.Agreement, c.Version, c.State, c.Outcome, strings.Join(c.Reasons, ","))
	}
}

func releaseDecideCmd(use, short string) *cobra.Command {
	var f nodeFlags
	var to, purpose string
	c := &cobra.Command{
		Use: use + " OBJECT --to PARTY --data DIR --as USER [--purpose P]", Short: short, Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.as == "" {
				return errors.New("--as USER is required: a release is requested by a named user")
			}
			n, p, err := f.open(cmd)
			if err != nil {
				return err
			}
			defer n.Close()
			decide := n.Releases.Release
			if use == "explain" {
				decide = n.Releases.Explain
			}
			r, err := decide(cmd.Context(), p, args[0], to, purpose)
			if err != nil {
				return err
			}
			printResult(cmd.OutOrStdout(), r)
			return nil
		},
	}
	f.add(c, true)
	c.Flags().StringVar(&to, "to", "", "the receiving party (node name in the agreement; required)")
	c.Flags().StringVar(&purpose, "purpose", "analysis", "what the recipient will use it for")
	_ = c.MarkFlagRequired("to")
	return c
}

func releaseQueueCmd() *cobra.Command {
	var f nodeFlags
	var state string
	c := &cobra.Command{
		Use: "queue --data DIR [--state pending|approved|refused|released|all]", Short: "List release requests", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			n, p, err := f.open(cmd)
			if err != nil {
				return err
			}
			defer n.Close()
			if state == "all" {
				state = ""
			}
			qs, err := n.Releases.ReleaseQueue(cmd.Context(), p, state)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "REQUEST\tOBJECT\tTO\tAGREEMENT\tREQUESTER\tAPPROVALS\tSTATE")
			for _, q := range qs {
				var by []string
				for _, a := range q.Approvals {
					by = append(by, a.By)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s@%d\t%s\t%d/%d %s\t%s\n", q.ID, q.ObjectID, q.Party, q.Agreement, q.AgreementVersion,
					q.Requester, len(q.Approvals), q.Required, strings.Join(by, ","), q.State)
			}
			return tw.Flush()
		},
	}
	f.add(c, true)
	c.Flags().StringVar(&state, "state", store.RequestPending, "requests in this state, or all")
	return c
}

func releaseApproveCmd() *cobra.Command {
	var f nodeFlags
	c := &cobra.Command{
		Use: "approve REQUEST --data DIR --as RELEASER", Short: "Approve a held release (two-person rule: two distinct releasers, neither the requester)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.as == "" {
				return errors.New("--as RELEASER is required")
			}
			n, p, err := f.open(cmd)
			if err != nil {
				return err
			}
			defer n.Close()
			r, err := n.Releases.ApproveRelease(cmd.Context(), p, args[0])
			if r.Object != "" {
				printResult(cmd.OutOrStdout(), r)
			}
			return err
		},
	}
	f.add(c, true)
	return c
}

func releaseRefuseCmd() *cobra.Command {
	var f nodeFlags
	var reason string
	c := &cobra.Command{
		Use: "refuse REQUEST --reason TEXT --data DIR --as RELEASER", Short: "Refuse a held release, with a reason", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.as == "" {
				return errors.New("--as RELEASER is required")
			}
			n, p, err := f.open(cmd)
			if err != nil {
				return err
			}
			defer n.Close()
			r, err := n.Releases.RefuseRelease(cmd.Context(), p, args[0], reason)
			if err != nil {
				return err
			}
			printResult(cmd.OutOrStdout(), r)
			return nil
		},
	}
	f.add(c, true)
	c.Flags().StringVar(&reason, "reason", "", "why (required)")
	_ = c.MarkFlagRequired("reason")
	return c
}

func consentCmd() *cobra.Command {
	var f nodeFlags
	var originator, to string
	c := &cobra.Command{
		Use: "consent OBJECT --originator NODE --to PARTY --data DIR", Short: "Record the originator's consent to release an object to a party", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, p, err := f.open(cmd)
			if err != nil {
				return err
			}
			defer n.Close()
			cs, err := n.Releases.RecordConsent(cmd.Context(), p, args[0], originator, to)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "recorded: %s consents to %s going to %s\n", cs.Originator, cs.ObjectID, cs.To)
			return nil
		},
	}
	f.add(c, true)
	c.Flags().StringVar(&originator, "originator", "", "the originating node (required)")
	c.Flags().StringVar(&to, "to", "", "the party it may go to (required)")
	_ = c.MarkFlagRequired("originator")
	_ = c.MarkFlagRequired("to")
	return c
}

func auditLedgerCmd() *cobra.Command {
	var f nodeFlags
	var object, agr, from, to string
	c := &cobra.Command{
		Use:   "ledger --data DIR [--object ID | --agreement ID --from T --to T]",
		Short: "Show the dissemination ledger: where objects went, under which agreement and term (metadata only)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q := store.LedgerQuery{ObjectID: object, Agreement: agr}
			for _, t := range []struct {
				flag, v string
				into    *time.Time
			}{{"--from", from, &q.From}, {"--to", to, &q.To}} {
				if t.v == "" {
					continue
				}
				v, err := time.Parse(time.RFC3339, t.v)
				if err != nil {
					return fmt.Errorf("%s: want an RFC 3339 time: %w", t.flag, err)
				}
				*t.into = v
			}
			n, p, err := f.open(cmd)
			if err != nil {
				return err
			}
			defer n.Close()
			es, err := n.Releases.Ledger(cmd.Context(), p, q)
			if err != nil {
				return err
			}
			recallsOf, err := n.Recalls.LedgerRecalls(cmd.Context(), p, es)
			if err != nil {
				return err
			}
			deliveries, err := n.Deliveries.Deliveries(cmd.Context(), p, es)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "AT\tOBJECT\tVERSION\tTO\tAGREEMENT\tTERM\tOUTCOME\tTEARLINE\tREASONS\tBY\tRECALL\tSEQ\tDELIVERY")
			for _, e := range es {
				rc := "-"
				if r, ok := recallsOf[recalls.LedgerRecallKey(e.ObjectID, e.Instance, e.Party)]; ok && e.Outcome != store.LedgerRefuse {
					rc = r.State // pending or acknowledged
				}
				dl := "-"
				if d, ok := deliveries[e.Seq]; ok {
					dl = d.State
					if d.Reason != "" {
						dl += " (" + d.Reason + ")" // retrying or failed: why; `release retry SEQ` retries a failed one
					}
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s@%d\t%d\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", e.At.Format(time.RFC3339), e.ObjectID, e.Modified, e.Party,
					e.Agreement, e.AgreementVersion, e.Term, e.Outcome, e.TearlineID, strings.Join(e.Reasons, ","), e.By, rc, e.Seq, dl)
			}
			return tw.Flush()
		},
	}
	f.add(c, true)
	c.Flags().StringVar(&object, "object", "", "every party this object went to")
	c.Flags().StringVar(&agr, "agreement", "", "what went under this agreement")
	c.Flags().StringVar(&from, "from", "", "from this time (RFC 3339)")
	c.Flags().StringVar(&to, "to", "", "until this time (RFC 3339)")
	return c
}

// releaseRetryCmd makes a failed delivery due again. It writes to the store,
// so it works while serve runs: the delivery loop finds the row at its next
// fallback wake-up (serve --outbox-poll, 5 s by default).
func releaseRetryCmd() *cobra.Command {
	var f nodeFlags
	c := &cobra.Command{
		Use:   "retry LEDGER-SEQ --data DIR --as RELEASER",
		Short: "Retry a delivery to a partner that failed (the ledger entry's seq; the ledger's delivery shows why it failed)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.as == "" {
				return errors.New("--as RELEASER is required")
			}
			seq, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil || seq < 1 {
				return fmt.Errorf("ledger entry %q: want its seq, a positive number", args[0])
			}
			n, p, err := f.open(cmd)
			if err != nil {
				return err
			}
			defer n.Close()
			d, err := n.Deliveries.RetryDelivery(cmd.Context(), p, seq)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "ledger entry %d: delivery %s again (outbox %d)\n", seq, d.State, d.Outbox)
			return nil
		},
	}
	f.add(c, true)
	return c
}
