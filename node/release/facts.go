package release

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/tearline/tearline/binding"
	"github.com/tearline/tearline/instance"
	"github.com/tearline/tearline/label"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/policy"
	"github.com/tearline/tearline/store"
)

// facts is what the node knows about one object version for a release
// decision, with what it needs to carry the decision out.
type facts struct {
	v        store.ObjectVersion
	obj      policy.ObjectFacts
	wholeIDs []string         // label ids of the whole object
	partIDs  []string         // label id of each part, as obj.Parts
	primary  *binding.Binding // the originator's binding
	labels   []string         // the access class, for the audit record and ledger
}

// latestReadable returns the newest version of id that p may read, or
// ErrNotFound.
func (rs *Service) latestReadable(ctx context.Context, r store.Reader, p *node.Principal, id string) (store.ObjectVersion, policy.Class, error) {
	versions, err := r.Versions(ctx, id)
	if err != nil {
		return store.ObjectVersion{}, policy.Class{}, err
	}
	// The version a read by p returns: of several instances, that of p's
	// highest level, so a low instance is never released as the latest
	// version of a high object (docs/SECURITY.md).
	rv, err := instance.Pick(ctx, rs.n.Classes(), rs.n.Registry(), r, p.Subject, versions)
	if err != nil {
		return store.ObjectVersion{}, policy.Class{}, err
	}
	if rv.Instances > 0 {
		return rv.Version, rv.Class, nil
	}
	return store.ObjectVersion{}, policy.Class{}, fmt.Errorf("object %s: %w", id, node.ErrNotFound)
}

// buildFacts gathers labels (from the originator's binding), provenance
// and consents of v. compiled supplies the agreements provenance hops name.
func (rs *Service) buildFacts(ctx context.Context, r store.Reader, v store.ObjectVersion, c policy.Class, compiled map[string]*policy.Agreement) (*facts, error) {
	f := &facts{v: v, labels: c.LabelIDs}
	raws, err := v.BindingObjects()
	if err == nil && len(raws) == 0 {
		err = fmt.Errorf("object %s: stored bindings: none", v.ID)
	}
	if err != nil {
		return nil, err
	}
	for _, raw := range raws {
		b, err := binding.Parse(raw)
		if err != nil {
			return nil, fmt.Errorf("object %s: stored binding: %w", v.ID, err)
		}
		// The originator's binding carries the labels that decide; an
		// alternative (a translation) only restates them.
		if f.primary == nil || (b.Kind == binding.KindOriginator && f.primary.Kind != binding.KindOriginator) {
			f.primary = b
		}
	}
	load := func(id string) (label.Label, error) {
		raw, err := r.Label(ctx, id)
		if err != nil {
			return label.Label{}, fmt.Errorf("label %s: %w", id, err)
		}
		l, ours, err := label.ParseMarkingDefinition(raw)
		if err != nil || !ours {
			return label.Label{}, fmt.Errorf("label %s does not parse: %v", id, err)
		}
		return l, nil
	}
	for _, ref := range f.primary.Labels {
		l, err := load(ref.Ref)
		if err != nil {
			return nil, err
		}
		f.obj.Labels = append(f.obj.Labels, l)
		f.wholeIDs = append(f.wholeIDs, ref.Ref)
	}
	for _, pl := range f.primary.PartLabels {
		l, err := load(pl.Ref)
		if err != nil {
			return nil, err
		}
		f.obj.Parts = append(f.obj.Parts, policy.Part{Selectors: pl.Selectors, Label: l})
		f.partIDs = append(f.partIDs, pl.Ref)
	}
	f.obj.Type, f.obj.Raw, f.obj.ReceivedAt = v.Type, v.Raw, v.DateAdded

	prov, err := r.Provenance(ctx, v.ID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		if v.Originator != rs.n.Config().Name {
			// A foreign object nobody recorded the arrival of: Decide
			// refuses it (provenance) rather than guessing.
			f.obj.Originator = v.Originator
		}
	case err != nil:
		return nil, err
	default:
		if prov.Originator != rs.n.Config().Name {
			f.obj.Originator = prov.Originator
		}
		if !prov.ReceivedAt.IsZero() {
			f.obj.ReceivedAt = prov.ReceivedAt
		}
		for _, h := range prov.Hops {
			f.obj.Provenance = append(f.obj.Provenance, policy.Hop{Agreement: compiled[node.AgreementKey(h.Agreement, h.Version)], From: h.From, To: h.To})
		}
	}
	consents, err := r.Consents(ctx, v.ID)
	if err != nil {
		return nil, err
	}
	for _, c := range consents {
		f.obj.Consents = append(f.obj.Consents, policy.Consent{By: c.Originator, To: c.To})
	}
	return f, nil
}

// decision is one agreement's decision on a release, in the form the
// queue, the ledger and callers keep.
type decision struct {
	Agreement string `json:"agreement"`
	Version   int    `json:"version"`
	State     string `json:"state"`
	d         policy.ReleaseDecision
}

// decideAll decides the release of f to party under every agreement with
// that party that is signed by every party (latest version of each id
// first), and returns the one that allows the most, then all of them.
// With no agreement at all the result refuses with no-terms.
func (rs *Service) decideAll(f *facts, compiled map[string]*policy.Agreement, party, purpose string) (decision, []decision) {
	var all []decision
	for _, a := range compiled {
		if !a.HasParty(party) || party == rs.n.Config().Name {
			continue
		}
		d := policy.Decide(a, f.obj, policy.Recipient{Party: party}, purpose, rs.n.Now())
		all = append(all, decision{Agreement: a.ID(), Version: a.Version(), State: string(a.Status().State), d: d})
	}
	// Amended versions only explain history: keep the newest version of
	// each agreement unless it is the only one.
	best := decision{d: policy.ReleaseDecision{Outcome: policy.Refuse, Reasons: policy.SetNoTerms, Terms: -1}}
	for _, c := range all {
		if better(c, best) {
			best = c
		}
	}
	sortDecisions(all)
	return best, all
}

// better orders decisions: release beats tearline beats hold beats refuse;
// among equals, fewer approvals, then fewer reasons, then the newer version.
func better(a, b decision) bool {
	if a.d.Outcome != b.d.Outcome {
		return a.d.Outcome > b.d.Outcome
	}
	if a.d.Approvals != b.d.Approvals {
		return a.d.Approvals < b.d.Approvals
	}
	if b.Agreement == "" {
		return true
	}
	if na, nb := len(a.d.Reasons.Reasons()), len(b.d.Reasons.Reasons()); na != nb {
		return na < nb
	}
	if a.Agreement != b.Agreement {
		return a.Agreement < b.Agreement
	}
	return a.Version > b.Version
}

func sortDecisions(ds []decision) {
	for i := 1; i < len(ds); i++ {
		for j := i; j > 0 && (ds[j].Agreement < ds[j-1].Agreement || ds[j].Agreement == ds[j-1].Agreement && ds[j].Version > ds[j-1].Version); j-- {
			ds[j], ds[j-1] = ds[j-1], ds[j]
		}
	}
}

func ReasonCodes(rs policy.ReasonSet) []string {
	out := []string{}
	for _, r := range rs.Reasons() {
		out = append(out, string(r))
	}
	return out
}

func joinOr(s []string, none string) string {
	if len(s) == 0 {
		return none
	}
	return strings.Join(s, ",")
}
