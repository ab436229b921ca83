package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/stack"
	"github.com/tearline/tearline/node/users"
	"github.com/tearline/tearline/store/backend"
)

// cliActor names the operator at the node's console in the audit log.
const cliActor = node.ConsoleActor

// openNode opens the node in dir on the store --store names.
func openNode(cmd *cobra.Command, dir, storeURL string) (*stack.Node, error) {
	return stack.Open(cmd.Context(), dir, node.Options{OpenStore: backend.Opener(resolveStore(storeURL))})
}

func userCmd() *cobra.Command {
	c := &cobra.Command{Use: "user", Short: "Manage users and their API tokens"}
	c.AddCommand(userAddCmd(), userListCmd(), userRevokeCmd(), userTokenCmd(), userUpdateCmd(), userPasswdCmd())
	return c
}

func parseClearances(in []string) (map[string]string, error) {
	out := map[string]string{}
	for _, c := range in {
		p, l, ok := strings.Cut(c, ":")
		if !ok || p == "" || l == "" {
			return nil, fmt.Errorf("--clearance %q: want POLICY:LEVEL, e.g. NATO:SECRET", c)
		}
		out[strings.ToUpper(p)] = strings.ToUpper(l)
	}
	return out, nil
}

func userAddCmd() *cobra.Command {
	var dir, storeURL string
	var s users.UserSpec
	var clearances []string
	var passwordStdin bool
	c := &cobra.Command{
		Use:   "add --data DIR --name NAME --role ROLE --clearance POLICY:LEVEL --nationality CCC [--password-stdin]",
		Short: "Add a user; prints the new API token alone on the last line",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if s.Clearances, err = parseClearances(clearances); err != nil {
				return err
			}
			var password string
			if passwordStdin {
				if password, err = readPasswordLine(cmd.InOrStdin()); err != nil {
					return err
				}
			}
			n, err := openNode(cmd, dir, storeURL)
			if err != nil {
				return err
			}
			defer n.Close()
			u, tok, err := n.Users.AddUser(cmd.Context(), node.ConsoleAdmin(), s)
			if err != nil {
				return err
			}
			if passwordStdin {
				if err := n.Users.SetPassword(cmd.Context(), node.ConsoleAdmin(), u.Name, password); err != nil {
					return fmt.Errorf("user %s was added without a web password: %w", u.Name, err)
				}
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "added user %s (%s, %s, clearances %s)\n", u.Name, u.Role, u.Nationality, formatClearances(u.Clearances))
			if passwordStdin {
				fmt.Fprintln(out, "web password set")
			}
			fmt.Fprintln(out, "API token (shown once; keep it secret):")
			fmt.Fprintln(out, tok)
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&dir, "data", "", "data directory (required)")
	addStoreFlag(c, &storeURL)
	f.StringVar(&s.Name, "name", "", "user name (required)")
	f.StringVar(&s.Role, "role", "analyst", "role: analyst, releaser, admin or auditor")
	f.StringArrayVar(&clearances, "clearance", nil, "clearance as POLICY:LEVEL, e.g. NATO:SECRET (repeat for several policies)")
	f.StringVar(&s.Nationality, "nationality", "", "nationality, ISO 3166 alpha-3 (required)")
	f.StringArrayVar(&s.Compartments, "compartment", nil, "compartment the user is read into (repeat)")
	f.StringVar(&s.Org, "org", "", "organisation")
	f.StringVar(&s.DefaultLabel, "default-label", "", "label banner applied to objects the user submits without one")
	f.DurationVar(&s.TokenTTL, "token-ttl", 0, "token lifetime (default from config, 90 days)")
	f.BoolVar(&passwordStdin, "password-stdin", false, "read the user's web interface password from standard input (one line)")
	for _, r := range []string{"data", "name", "nationality"} {
		_ = c.MarkFlagRequired(r)
	}
	return c
}

func formatClearances(c map[string]string) string {
	if len(c) == 0 {
		return "none"
	}
	var parts []string
	for p, l := range c {
		parts = append(parts, p+":"+l)
	}
	slices.Sort(parts) // one order, whatever the map's
	return strings.Join(parts, ", ")
}

func userListCmd() *cobra.Command {
	var dir, storeURL string
	c := &cobra.Command{
		Use:   "list --data DIR",
		Short: "List users and their tokens",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			n, err := openNode(cmd, dir, storeURL)
			if err != nil {
				return err
			}
			defer n.Close()
			us, err := n.Users.Users(cmd.Context(), node.ConsoleAdmin())
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tROLE\tNATIONALITY\tCLEARANCES\tCOMPARTMENTS\tDEFAULT LABEL\tTOKENS")
			now := time.Now()
			for _, u := range us {
				toks, err := n.Users.Tokens(cmd.Context(), node.ConsoleAdmin(), u.Name)
				if err != nil {
					return err
				}
				var ts []string
				for _, t := range toks {
					state := "live"
					switch {
					case !t.RevokedAt.IsZero():
						state = "revoked"
					case !t.Expires.IsZero() && now.After(t.Expires):
						state = "expired"
					case !t.Expires.IsZero():
						state = "until " + t.Expires.Format("2006-01-02")
					}
					ts = append(ts, t.ID+" ("+state+")")
				}
				name := u.Name
				if u.Disabled {
					name += " (disabled)"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", name, u.Role, u.Nationality, formatClearances(u.Clearances),
					strings.Join(u.Compartments, ","), u.DefaultLabel, strings.Join(ts, ", "))
			}
			return tw.Flush()
		},
	}
	c.Flags().StringVar(&dir, "data", "", "data directory (required)")
	addStoreFlag(c, &storeURL)
	_ = c.MarkFlagRequired("data")
	return c
}

func userRevokeCmd() *cobra.Command {
	var dir, storeURL string
	c := &cobra.Command{
		Use:   "revoke --data DIR NAME|TOKEN-ID",
		Short: "Revoke one token, or every token of a user; effective at once",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := openNode(cmd, dir, storeURL)
			if err != nil {
				return err
			}
			defer n.Close()
			k, err := n.Users.RevokeToken(cmd.Context(), node.ConsoleAdmin(), args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "revoked %d token(s)\n", k)
			return nil
		},
	}
	c.Flags().StringVar(&dir, "data", "", "data directory (required)")
	addStoreFlag(c, &storeURL)
	_ = c.MarkFlagRequired("data")
	return c
}

func userTokenCmd() *cobra.Command {
	var dir, storeURL string
	var ttl time.Duration
	c := &cobra.Command{
		Use:   "token --data DIR NAME",
		Short: "Issue a new API token for a user; prints it alone on the last line",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := openNode(cmd, dir, storeURL)
			if err != nil {
				return err
			}
			defer n.Close()
			tok, err := n.Users.IssueToken(cmd.Context(), node.ConsoleAdmin(), args[0], ttl)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), tok)
			return nil
		},
	}
	c.Flags().StringVar(&dir, "data", "", "data directory (required)")
	addStoreFlag(c, &storeURL)
	c.Flags().DurationVar(&ttl, "ttl", 0, "token lifetime (default from config)")
	_ = c.MarkFlagRequired("data")
	return c
}

func userUpdateCmd() *cobra.Command {
	var dir, storeURL, role, defLabel string
	var clearances, compartments, addClr, rmClr, addComp, rmComp []string
	var disable, enable bool
	c := &cobra.Command{
		Use:   "update --data DIR NAME [--add-clearance P:L ...] [--remove-clearance P ...] [--add-compartment C ...] [--remove-compartment C ...] [--clearance P:L ... | --compartment C ...] [--role R] [--default-label BANNER] [--disable|--enable]",
		Short: "Change a user; effective at the user's next request",
		Long: `Update changes a user; the change applies to their next request.

--add-clearance and --remove-clearance change one policy's clearance and keep
the others; --add-compartment and --remove-compartment do the same for
compartments. --clearance and --compartment REPLACE the whole list: a user
updated with --clearance NATO:SECRET alone holds no other clearance.
A default label the user could not read (above their clearance, outside
their compartments, or not releasable to their nationality) is refused.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var ch users.UserChange
			f := cmd.Flags()
			if f.Changed("role") {
				ch.Role = &role
			}
			if f.Changed("clearance") {
				m, err := parseClearances(clearances)
				if err != nil {
					return err
				}
				ch.Clearances = m
			}
			if f.Changed("compartment") {
				ch.Compartments = append([]string{}, compartments...)
			}
			if len(addClr) > 0 {
				m, err := parseClearances(addClr)
				if err != nil {
					return err
				}
				ch.AddClearances = m
			}
			ch.RemoveClearances = rmClr
			ch.AddCompartments = addComp
			ch.RemoveCompartments = rmComp
			if f.Changed("default-label") {
				ch.DefaultLabel = &defLabel
			}
			if disable || enable {
				d := disable
				ch.Disabled = &d
			}
			n, err := openNode(cmd, dir, storeURL)
			if err != nil {
				return err
			}
			defer n.Close()
			u, err := n.Users.UpdateUser(cmd.Context(), node.ConsoleAdmin(), args[0], ch)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "updated user %s (%s, clearances %s, compartments %s, disabled %t)\n",
				u.Name, u.Role, formatClearances(u.Clearances), strings.Join(u.Compartments, ","), u.Disabled)
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&dir, "data", "", "data directory (required)")
	addStoreFlag(c, &storeURL)
	f.StringVar(&role, "role", "", "new role")
	f.StringArrayVar(&clearances, "clearance", nil, "replace ALL clearances with these POLICY:LEVEL (repeat)")
	f.StringArrayVar(&compartments, "compartment", nil, "replace ALL compartments with these (repeat; pass --compartment= to clear)")
	f.StringArrayVar(&addClr, "add-clearance", nil, "set one policy's clearance, POLICY:LEVEL, keeping the others (repeat)")
	f.StringArrayVar(&rmClr, "remove-clearance", nil, "drop the clearance under POLICY, keeping the others (repeat)")
	f.StringArrayVar(&addComp, "add-compartment", nil, "add a compartment, keeping the others (repeat)")
	f.StringArrayVar(&rmComp, "remove-compartment", nil, "remove a compartment, keeping the others (repeat)")
	f.StringVar(&defLabel, "default-label", "", "new default label banner (empty to clear)")
	f.BoolVar(&disable, "disable", false, "disable the user")
	f.BoolVar(&enable, "enable", false, "enable the user")
	_ = c.MarkFlagRequired("data")
	return c
}

func userPasswdCmd() *cobra.Command {
	var dir, storeURL string
	c := &cobra.Command{
		Use:   "passwd --data DIR NAME",
		Short: "Set a user's web interface password, read from standard input (one line); ends the user's open sessions",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			password, err := readPasswordLine(cmd.InOrStdin())
			if err != nil {
				return err
			}
			n, err := openNode(cmd, dir, storeURL)
			if err != nil {
				return err
			}
			defer n.Close()
			if err := n.Users.SetPassword(cmd.Context(), node.ConsoleAdmin(), args[0], password); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "web password of %s set; their open sessions ended\n", args[0])
			return nil
		},
	}
	c.Flags().StringVar(&dir, "data", "", "data directory (required)")
	addStoreFlag(c, &storeURL)
	_ = c.MarkFlagRequired("data")
	return c
}

// readPasswordLine reads one line from r, without its line ending.
func readPasswordLine(r io.Reader) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(r, users.MaxPasswordLength+2)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password from standard input: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("read password from standard input: empty")
	}
	return line, nil
}
