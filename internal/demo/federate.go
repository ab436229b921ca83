package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/tearline/tearline/agreement"
	"github.com/tearline/tearline/api"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/stack"
	"github.com/tearline/tearline/store"
)

// Federate starts the scenario's nodes under base, publishes the scenario
// report at GBR, releases it to each partner, waits for the deliveries and
// writes to out what happened and why. The caller closes the cluster.
//
// With ui set, each member also serves what ui gives it (the web
// interface), and its people get web passwords, printed with its URL, so
// a newcomer can sign in at a partner and see what arrived there.
func Federate(ctx context.Context, base string, out io.Writer, ui func(*stack.Node) ([]api.Option, error)) (*Cluster, error) {
	c, err := NewCluster(ctx, base, ScenarioMembers(), nil)
	if err != nil {
		return nil, err
	}
	if ui != nil {
		c.ServeOptions = func(m *Member) ([]api.Option, error) { return ui(m.Node) }
	}
	fail := func(err error) (*Cluster, error) {
		c.Close()
		return nil, err
	}
	docs, err := ScenarioAgreements(c)
	if err != nil {
		return fail(err)
	}
	for _, d := range docs {
		if err := c.Agree(ctx, d); err != nil {
			return fail(err)
		}
	}
	for _, m := range c.Members {
		if err := c.Start(m); err != nil {
			return fail(err)
		}
	}
	fmt.Fprintln(out, "Partners: a federation of four more nodes on loopback, one alliance CA, mutual TLS, agreements signed by both sides:")
	for _, m := range c.Members {
		fmt.Fprintf(out, "  %-6s %-3s %s  %s\n", m.Name, m.Country, m.URL, m.Org)
	}
	if ui != nil {
		fmt.Fprintln(out, "Their web interfaces (sign in at a partner to see what reached it, and how):")
		for _, m := range c.Members {
			words, err := m.webPasswords(ctx)
			if err != nil {
				return fail(err)
			}
			fmt.Fprintf(out, "  %-6s %s/ui/  %s\n", m.Name, m.URL, words)
		}
	}
	for _, d := range docs {
		t := d.Terms[0]
		fmt.Fprintf(out, "  agreement %-10s topics %s, disciplines %s, up to %s %s, release %s\n", d.ID,
			strings.Join(t.Topics, ","), strings.Join(t.Disciplines, ","), t.MaxClassification.Policy, t.MaxClassification.Level, releaseWords(t.Release))
	}
	gbr := c.Member("gbr")
	rep := ScenarioReport()
	id, err := Publish(ctx, gbr, rep)
	if err != nil {
		return fail(err)
	}
	fmt.Fprintf(out, "\ngbr publishes %s %q: %s, its description %s.\n", id, rep.Object["name"], rep.Banner, rep.Parts["description"])
	for _, to := range []string{"usa", "fra", "agency"} {
		res, err := gbr.Node.Releases.Release(ctx, gbr.Analyst, id, to, "analysis")
		if err != nil {
			return fail(err)
		}
		m := c.Member(to)
		switch res.Outcome {
		case "release":
			got, _ := arrival(ctx, m, id)
			fmt.Fprintf(out, "  -> %-6s WHOLE     under %s v%d; %s\n", to, res.Agreement, res.Version, got)
		case "tearline":
			got, _ := arrival(ctx, m, res.Tearline)
			fmt.Fprintf(out, "  -> %-6s TEARLINE  %s under %s v%d: cut %s because %s; %s\n", to, res.Tearline, res.Agreement, res.Version,
				strings.Join(res.Cut, ","), strings.Join(res.Words, "; "), got)
		default:
			fmt.Fprintf(out, "  -> %-6s NOTHING   %s: %s\n", to, res.Outcome, strings.Join(res.Words, "; "))
		}
	}
	return c, nil
}

func releaseWords(r agreement.Release) string {
	s := string(r.Mode)
	if r.Above != nil {
		s += " above " + r.Above.Policy + " " + r.Above.Level
	}
	return s
}

// arrival waits (a few seconds at most) for id to be readable at m and
// says what arrived.
func arrival(ctx context.Context, m *Member, id string) (string, time.Duration) {
	start := time.Now()
	for time.Since(start) < 10*time.Second {
		vs, err := m.Node.Store().Versions(ctx, id)
		if err == nil && len(vs) > 0 {
			what := "without the description"
			if strings.Contains(string(vs[0].Raw), `"description"`) {
				what = "with the description"
			}
			d := time.Since(start)
			return fmt.Sprintf("arrived at %s, %s, after %s", m.Name, what, d.Round(time.Millisecond)), d
		}
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return "not readable: " + err.Error(), 0
		}
		time.Sleep(2 * time.Millisecond)
	}
	return "has not arrived yet", 0
}

// webPasswords gives each of m's people a fresh web password and says
// which is whose.
func (m *Member) webPasswords(ctx context.Context) (string, error) {
	var words []string
	for _, name := range []string{"analyst", "releaser1", "releaser2", "admin"} {
		pw := demoPassword(name)
		if err := m.Node.Users.SetPassword(ctx, node.ConsoleAdmin(), name, pw); err != nil {
			return "", fmt.Errorf("demo: password of %s at %s: %w", name, m.Name, err)
		}
		words = append(words, name+" "+pw)
	}
	return strings.Join(words, ", "), nil
}
