// Package publish is publishing as a person does it in a form (docs/UI.md,
// "Publish"): a label picked from those they may apply, a bundle, one
// indicator made from a value, or a short report over objects they may
// read. It decides nothing of its own about who may read what: the label
// rule is policy.CanRead, and every object goes in through node.Ingest,
// as a publish over the API does.
package publish

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/label"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/policy"
	"github.com/tearline/tearline/stixbuild"
	"github.com/tearline/tearline/store"
)

// Service publishes for the people of one node.
type Service struct{ n *node.Node }

// New returns the publishing service of n.
func New(n *node.Node) *Service { return &Service{n: n} }

// ErrLabel is wrapped (with node.ErrForbidden) when the label asked for is
// one the user may not apply.
var ErrLabel = errors.New("not a label you may apply")

// maxChoices caps the labels offered: the combinations of levels,
// releasabilities and compartments are many, and a picker is no place for
// all of them (any other label one may apply can still be asked for).
const maxChoices = 200

// Label is the one rule for the label a user publishes under: the banner
// ("" for the user's default label) must name a valid label of this
// node's policies (completed as ingest completes it: NOFORN's originator
// is this node's country), and the user must be able to read it
// (policy.CanRead: a clearance at or above its level under its policy,
// every compartment, a nationality it is releasable to, NOFORN only for
// our nationals), so that nothing they publish vanishes from their own
// view. The same rule holds a user's default label (node/users).
func (s *Service) Label(p *node.Principal, banner string) (label.Label, error) {
	if err := node.Authorize(p, node.ActPublish); err != nil {
		return label.Label{}, err
	}
	banner = strings.TrimSpace(banner)
	if banner == "" {
		banner = p.User.DefaultLabel
	}
	if banner == "" {
		return label.Label{}, fmt.Errorf("%w: choose a label: you have no default label", node.ErrInvalid)
	}
	reg := s.n.Registry()
	l, err := reg.ParseBanner(banner)
	if err == nil {
		l = s.n.CompleteLabel(l)
		err = reg.Validate(l)
	}
	if err != nil {
		return label.Label{}, fmt.Errorf("%w: label: %w", node.ErrInvalid, err)
	}
	if d := policy.CanRead(reg, p.Subject, []label.Label{l}); !d.Allow {
		why := make([]string, len(d.Reasons))
		for i, r := range d.Reasons {
			why[i] = strings.Replace(policy.Explain(r), "the reader", "you", 1)
		}
		return label.Label{}, fmt.Errorf("%w: %w: %s", node.ErrForbidden, ErrLabel, strings.Join(why, "; "))
	}
	return l, nil
}

// Labels returns the labels p may apply that a picker offers, the user's
// default label first, then by policy and level: the labels of the
// objects p may read whole (every label of their access class: so no
// label only hidden objects carry is named), and each level of each
// policy p is cleared for, up to that clearance, releasable to the
// policy's audience, to each group with p's nationality, to that
// nationality alone, or NOFORN, without compartments or with one of p's.
// Every one passes Label.
func (s *Service) Labels(ctx context.Context, p *node.Principal) ([]label.Label, error) {
	if node.Authorize(p, node.ActPublish) != nil {
		return nil, nil
	}
	reg := s.n.Registry()
	var out []label.Label
	seen := map[string]bool{}
	add := func(l label.Label) {
		if len(out) >= maxChoices {
			return
		}
		l = s.n.CompleteLabel(l)
		if seen[l.ID()] || reg.Validate(l) != nil || !policy.CanRead(reg, p.Subject, []label.Label{l}).Allow {
			return
		}
		seen[l.ID()] = true
		out = append(out, l)
	}
	def, err := s.Label(p, "")
	hasDefault := err == nil
	if hasDefault {
		add(def)
	}
	classes, err := s.n.Classes().All(ctx, s.n.Store())
	if err != nil {
		return nil, fmt.Errorf("labels to offer: %w", err)
	}
	for _, c := range classes {
		if policy.CanRead(reg, p.Subject, c.Labels).Allow {
			for _, l := range c.Labels {
				add(l)
			}
		}
	}
	nat := p.Subject.Nationality
	rels := [][]string{nil}
	for _, g := range reg.Groups() {
		if m, _ := reg.Group(g); slices.Contains(m, nat) {
			rels = append(rels, []string{g})
		}
	}
	rels = append(rels, []string{nat})
	comps := [][]string{nil}
	for _, c := range p.Subject.Compartments {
		comps = append(comps, []string{c})
	}
	for _, pol := range reg.Policies() {
		held, ok := p.Subject.Clearances[pol]
		if !ok {
			continue
		}
		top, ok := reg.Rank(pol, held)
		if !ok {
			continue
		}
		pc, _ := reg.Policy(pol)
		for _, lv := range pc.Levels {
			if r, _ := reg.Rank(pol, lv.Name); r > top {
				continue
			}
			for _, comp := range comps {
				for _, rel := range rels {
					add(label.Label{Policy: pol, Classification: lv.Name, ReleasableTo: rel, Compartments: comp})
				}
				add(label.Label{Policy: pol, Classification: lv.Name, Compartments: comp, Caveats: []string{label.CaveatNOFORN}})
			}
		}
	}
	// The default stays first; the rest by policy, then level, then banner.
	rest := out
	if hasDefault {
		rest = out[1:]
	}
	slices.SortStableFunc(rest, func(a, b label.Label) int {
		if c := strings.Compare(a.Policy, b.Policy); c != 0 {
			return c
		}
		ra, _ := reg.Rank(a.Policy, a.Classification)
		rb, _ := reg.Rank(b.Policy, b.Classification)
		if ra != rb {
			return ra - rb
		}
		return strings.Compare(reg.Banner(a), reg.Banner(b))
	})
	return out, nil
}

// applyLabel is Label for a publish: a label refused is a security event,
// audited as ingest's refusals are (object.refuse, its reasons), and
// nothing is published.
func (s *Service) applyLabel(ctx context.Context, p *node.Principal, banner string) (label.Label, error) {
	l, err := s.Label(p, banner)
	if errors.Is(err, ErrLabel) {
		var reasons []string
		if pl, perr := s.n.Registry().ParseBanner(strings.TrimSpace(banner)); perr == nil {
			reasons = policy.ReasonStrings(policy.CanRead(s.n.Registry(), p.Subject, []label.Label{s.n.CompleteLabel(pl)}).Reasons)
		}
		if aerr := s.refused(ctx, p, "", append([]string{"label"}, reasons...), "label not one the publisher may apply"); aerr != nil {
			return label.Label{}, errors.Join(err, aerr)
		}
	}
	return l, err
}

// refused records a publish refused as a whole.
func (s *Service) refused(ctx context.Context, p *node.Principal, id string, reasons []string, detail string) error {
	ev := audit.Event{Actor: p.Actor(), Action: audit.ActionIngestRefuse, Object: id, Decision: audit.Refuse, Reasons: reasons, Detail: detail}
	if err := s.n.Store().Update(ctx, func(tx store.Tx) error { return s.n.AppendAudit(ctx, tx, ev) }); err != nil {
		return fmt.Errorf("audit the refusal: %w", err)
	}
	return nil
}

// Bundle publishes a bundle (or one object): objects that carry no label of
// ours get banner's, which p must be able to apply.
func (s *Service) Bundle(ctx context.Context, p *node.Principal, data []byte, banner string) (*node.IngestResult, error) {
	l, err := s.applyLabel(ctx, p, banner)
	if err != nil {
		return nil, fmt.Errorf("publish: %w", err)
	}
	return s.n.Ingest(ctx, p, data, node.IngestOptions{Label: s.n.Registry().Banner(l)})
}

// Indicator builds an indicator from in (package stixbuild) and publishes
// it under banner.
func (s *Service) Indicator(ctx context.Context, p *node.Principal, in stixbuild.IndicatorInput, banner string) (*node.IngestResult, error) {
	l, err := s.applyLabel(ctx, p, banner)
	if err != nil {
		return nil, fmt.Errorf("publish indicator: %w", err)
	}
	b, err := stixbuild.Indicator(in, s.n.Now())
	if err != nil {
		return nil, fmt.Errorf("publish indicator: %w", inputErr(err))
	}
	return s.n.Ingest(ctx, p, b.Raw, node.IngestOptions{Label: s.n.Registry().Banner(l)})
}

// Report publishes a short report under banner. Each of its refs is read as
// p (node.Get: audited like any read); a ref p may not read is refused
// exactly as one that does not exist, and then nothing is published: the
// result lists the refs refused, by their place in the list (Index, from
// 0, of the refs as stixbuild.Refs leaves them; never echoing an id), and
// then the report as not published (Index -1).
func (s *Service) Report(ctx context.Context, p *node.Principal, in stixbuild.ReportInput, banner string) (*node.IngestResult, error) {
	l, err := s.applyLabel(ctx, p, banner)
	if err != nil {
		return nil, fmt.Errorf("publish report: %w", err)
	}
	refs, err := stixbuild.Refs(in.Refs)
	if err != nil {
		return nil, fmt.Errorf("publish report: %w", inputErr(err))
	}
	in.Refs = refs
	b, err := stixbuild.Report(in, s.n.Now())
	if err != nil {
		return nil, fmt.Errorf("publish report: %w", inputErr(err))
	}
	res := &node.IngestResult{Landed: []node.Landed{}, Refused: []node.Refusal{}}
	for i, id := range refs {
		if _, err := s.n.Get(ctx, p, id); err != nil {
			if !errors.Is(err, node.ErrNotFound) {
				return nil, fmt.Errorf("publish report: object ref %d: %w", i+1, err)
			}
			res.Refused = append(res.Refused, node.Refusal{Index: i, ID: b.ID, Property: "object_refs",
				Reason: fmt.Sprintf("ref %d: no object with this id, or none you may read", i+1)})
		}
	}
	if len(res.Refused) > 0 {
		why := fmt.Sprintf("not published: %d of its object refs refused", len(res.Refused))
		res.Refused = append(res.Refused, node.Refusal{Index: -1, ID: b.ID, Property: "object_refs", Reason: why})
		if err := s.refused(ctx, p, b.ID, []string{"object_refs"}, why); err != nil {
			return nil, fmt.Errorf("publish report: %w", err)
		}
		return res, nil
	}
	return s.n.Ingest(ctx, p, b.Raw, node.IngestOptions{Label: s.n.Registry().Banner(l)})
}

// inputErr marks stixbuild's input errors as node.ErrInvalid.
func inputErr(err error) error {
	if errors.Is(err, stixbuild.ErrInvalid) {
		return fmt.Errorf("%w: %w", node.ErrInvalid, err)
	}
	return err
}
