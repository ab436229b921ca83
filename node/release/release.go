// Package release decides and carries out what leaves this node for a
// partner: release requests and their dry run (explain), the approval
// queue, tearlines (the sanitised version a partner cleared for part of an
// object receives), automatic releases after an ingest or a receipt, and
// the record of it all: the dissemination ledger, provenance and consents.
// Every decision is policy's (over node's compiled agreements); every role
// and clearance check is node's (node.Authorize, Node.AuthorizeObject).
package release

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/internal/clip"
	"github.com/tearline/tearline/label"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/policy"
	"github.com/tearline/tearline/store"
)

// Service releases the objects of one node.
type Service struct {
	n *node.Node
}

// New returns the releases of n. It carries out the node's automatic
// releases and sightings back (follow-up rows of kinds
// store.FollowupAutoRelease and store.FollowupSighting).
func New(n *node.Node) *Service {
	rs := &Service{n: n}
	n.Followups().Handle(store.FollowupAutoRelease, rs.autoRelease)
	n.Followups().Handle(store.FollowupSighting, rs.sightingsBack)
	return rs
}

// ReleaseResult is what a release request, an approval or a dry run
// decided, in ids, codes and words: never the object's content.
type ReleaseResult struct {
	Object    string   `json:"object"`
	Modified  string   `json:"modified"`
	Party     string   `json:"party"`
	Purpose   string   `json:"purpose"`
	Outcome   string   `json:"outcome"` // release, tearline, hold, refuse
	Agreement string   `json:"agreement,omitempty"`
	Version   int      `json:"agreement_version,omitempty"`
	Term      int      `json:"term"`
	Reasons   []string `json:"reasons"`
	Words     []string `json:"words"`
	Approvals int      `json:"approvals,omitempty"`
	Cut       []string `json:"cut,omitempty"` // selectors removed by a tearline
	// Sent is the labels (banners) the partner would receive: the
	// object's own, whole and parts, for a release; the one label of what
	// remains for a tearline; none for a refusal.
	Sent      []string `json:"sent_labels,omitempty"`
	Retention string   `json:"retention,omitempty"`
	Request   string   `json:"request,omitempty"`  // the approval request, for a hold
	Tearline  string   `json:"tearline,omitempty"` // the sanitised object's id
	Ledger    int64    `json:"ledger,omitempty"`
	// Delivery is "queued" when the release went to the party's outbox
	// (the party is a peer); the ledger shows how it goes on.
	Delivery   string          `json:"delivery,omitempty"`
	Candidates []CandidateInfo `json:"candidates,omitempty"` // every agreement considered (explain)
}

// CandidateInfo is one agreement's decision, for an explanation.
type CandidateInfo struct {
	Agreement string   `json:"agreement"`
	Version   int      `json:"version"`
	State     string   `json:"state"`
	Outcome   string   `json:"outcome"`
	Reasons   []string `json:"reasons"`
}

// Reasons added by the node to the policy's.
const (
	reasonNothingRemains = "nothing-remains"  // a tearline would leave nothing meaningful
	reasonReleaserRefuse = "releaser-refused" // a releaser refused the request
)

var nodeReasonWords = map[string]string{
	reasonNothingRemains: "after cutting what may not go, nothing meaningful of the object remains, so nothing is released",
	reasonReleaserRefuse: "a releaser refused the release",
}

// Words renders reason codes for people.
func Words(codes []string) []string {
	out := make([]string, 0, len(codes))
	for _, c := range codes {
		if w, ok := nodeReasonWords[c]; ok {
			out = append(out, w)
			continue
		}
		out = append(out, policy.Explain(policy.Reason(c)))
	}
	return out
}

func (rs *Service) result(f *facts, party, purpose string, best decision, all []decision) ReleaseResult {
	d := best.d
	res := ReleaseResult{Object: f.v.ID, Modified: f.v.Modified, Party: party, Purpose: purpose, Outcome: d.Outcome.String(),
		Agreement: best.Agreement, Version: best.Version, Term: d.Terms, Reasons: ReasonCodes(d.Reasons), Approvals: d.Approvals,
		Cut: d.Cut.Selectors(f.obj.Parts)}
	if d.Retention > 0 {
		res.Retention = d.Retention.String()
	}
	res.Words = Words(res.Reasons)
	res.Sent = rs.sentLabels(f, d)
	for _, c := range all {
		res.Candidates = append(res.Candidates, CandidateInfo{Agreement: c.Agreement, Version: c.Version, State: c.State,
			Outcome: c.d.Outcome.String(), Reasons: ReasonCodes(c.d.Reasons)})
	}
	return res
}

// sentLabels are the banners of the labels d would send: a tearline's is
// the dominant label of the whole and the parts that stay (as
// makeTearline labels it); a release sends the object's own labels; a hold
// is shown as what its approval would send.
func (rs *Service) sentLabels(f *facts, d policy.ReleaseDecision) []string {
	reg := rs.n.Registry()
	var out []string
	switch {
	case d.Outcome == policy.Refuse:
		return nil
	case d.Cut != 0:
		remaining := slices.Clone(f.obj.Labels)
		for i, pt := range f.obj.Parts {
			if !d.Cut.Has(i) {
				remaining = append(remaining, pt.Label)
			}
		}
		if l, err := label.Dominate(reg, remaining...); err == nil {
			out = append(out, reg.Banner(l))
		}
	default:
		for _, l := range f.obj.Labels {
			out = append(out, reg.Banner(l))
		}
		for _, pt := range f.obj.Parts {
			out = append(out, reg.Banner(pt.Label)+" (part: "+strings.Join(pt.Selectors, ", ")+")")
		}
	}
	return out
}

func (rs *Service) canRequest(p *node.Principal) error {
	return node.Authorize(p, node.ActRelease)
}

// Explain decides the release of the latest version of objectID that p may
// read to party, for purpose, without releasing anything: only the dry run
// is audited.
func (rs *Service) Explain(ctx context.Context, p *node.Principal, objectID, party, purpose string) (ReleaseResult, error) {
	if err := rs.canRequest(p); err != nil {
		return ReleaseResult{}, fmt.Errorf("explain: %w", err)
	}
	var res ReleaseResult
	err := rs.n.Store().Update(ctx, func(tx store.Tx) error {
		f, best, all, err := rs.decideObject(ctx, tx, p, objectID, party, purpose)
		if err != nil {
			if errors.Is(err, node.ErrNotFound) {
				return rs.deniedRead(ctx, tx, p, objectID, audit.ActionReleaseExplain, party)
			}
			return err
		}
		res = rs.result(f, party, purpose, best, all)
		return rs.n.AppendAudit(ctx, tx, rs.releaseEvent(p, audit.ActionReleaseExplain, f, res))
	})
	if err == nil && res.Object == "" {
		err = fmt.Errorf("object %s: %w", objectID, node.ErrNotFound)
	}
	if err != nil {
		return ReleaseResult{}, fmt.Errorf("explain %s to %s: %w", objectID, party, err)
	}
	return res, nil
}

// deniedRead audits a release or explanation of an object p may not read;
// the caller then reports it as not found.
func (rs *Service) deniedRead(ctx context.Context, tx store.Tx, p *node.Principal, objectID, action, party string) error {
	return rs.n.AppendAudit(ctx, tx, audit.Event{Actor: p.Actor(), Action: action, Object: objectID, Subject: "party:" + party,
		Decision: audit.Deny, Reasons: []string{"not-found-or-not-readable"}})
}

func (rs *Service) decideObject(ctx context.Context, tx store.Tx, p *node.Principal, objectID, party, purpose string) (*facts, decision, []decision, error) {
	v, c, err := rs.latestReadable(ctx, tx, p, objectID)
	if err != nil {
		return nil, decision{}, nil, err
	}
	compiled, _, err := rs.n.CompiledAgreements(ctx, tx)
	if err != nil {
		return nil, decision{}, nil, err
	}
	f, err := rs.buildFacts(ctx, tx, v, c, compiled)
	if err != nil {
		return nil, decision{}, nil, err
	}
	best, all := rs.decideAll(f, compiled, party, purpose)
	return f, best, all, nil
}

func (rs *Service) releaseEvent(p *node.Principal, action string, f *facts, res ReleaseResult) audit.Event {
	dec := audit.Allow
	switch res.Outcome {
	case "refuse":
		dec = audit.Deny
	case "hold":
		dec = "hold"
	}
	ev := audit.Event{Actor: p.Actor(), Action: action, Object: f.v.ID, Modified: f.v.Modified, Labels: f.labels,
		Decision: dec, Reasons: res.Reasons, Subject: "party:" + res.Party,
		Detail: fmt.Sprintf("outcome=%s agreement=%s term=%d purpose=%s", res.Outcome, node.AgreementKey(res.Agreement, res.Version), res.Term, res.Purpose)}
	if res.Tearline != "" {
		ev.Detail += " tearline=" + res.Tearline
	}
	if res.Request != "" {
		ev.Detail += " request=" + res.Request
	}
	ev.Detail = clip.String(ev.Detail, 300)
	return ev
}

// Release decides and carries out the release of the latest version of
// objectID that p may read to party: a release is written to the ledger
// ready for delivery; a tearline makes and stores the sanitised object and
// records it; a hold goes to the approval queue; a refusal is recorded with
// its reasons. Everything is written in one transaction with its audit
// entries.
func (rs *Service) Release(ctx context.Context, p *node.Principal, objectID, party, purpose string) (ReleaseResult, error) {
	if err := rs.canRequest(p); err != nil {
		return ReleaseResult{}, fmt.Errorf("release: %w", err)
	}
	var res ReleaseResult
	err := rs.n.Outbox().Update(ctx, func(tx store.Tx) error {
		res = ReleaseResult{}
		f, best, all, err := rs.decideObject(ctx, tx, p, objectID, party, purpose)
		if err != nil {
			if errors.Is(err, node.ErrNotFound) {
				return rs.deniedRead(ctx, tx, p, objectID, audit.ActionReleaseDecide, party)
			}
			return err
		}
		res = rs.result(f, party, purpose, best, all)
		res.Candidates = nil
		if best.d.Outcome == policy.Hold {
			if err := rs.enqueue(ctx, tx, p, f, best, &res); err != nil {
				return err
			}
			return rs.n.AppendAudit(ctx, tx, rs.releaseEvent(p, audit.ActionReleaseRequest, f, res))
		}
		return rs.carryOut(ctx, tx, p, f, best, &res, "")
	})
	if err == nil && res.Object == "" {
		err = fmt.Errorf("object %s: %w", objectID, node.ErrNotFound)
	}
	if err != nil {
		return ReleaseResult{}, fmt.Errorf("release %s to %s: %w", objectID, party, err)
	}
	return counted(p, res), nil
}

// counted is res as p may see it: without the ledger's sequence number
// unless p reads the ledger (node.MayCount).
func counted(p *node.Principal, res ReleaseResult) ReleaseResult {
	if !node.MayCount(p) {
		res.Ledger = 0
	}
	return res
}

// carryOut writes a release, tearline or refusal to the ledger (making the
// tearline first) with its audit entry. request names the approval request
// that led here, if any.
func (rs *Service) carryOut(ctx context.Context, tx store.Tx, p *node.Principal, f *facts, best decision, res *ReleaseResult, request string) error {
	e := store.LedgerEntry{ObjectID: f.v.ID, Modified: f.v.Modified, Instance: f.v.Instance, Party: res.Party, Agreement: best.Agreement, AgreementVersion: best.Version,
		Term: best.d.Terms, Labels: f.labels, Request: request, By: p.Actor(), At: rs.n.Now()}
	out := best.d.Outcome
	if out == policy.Hold { // approved: what was held goes
		out = policy.Release
		if best.d.Cut != 0 {
			out = policy.Tearline
		}
	}
	switch out {
	case policy.Release:
		e.Outcome, e.State = store.LedgerRelease, store.LedgerReady
		res.Outcome = "release"
	case policy.Tearline:
		id, labels, err := rs.makeTearline(ctx, tx, p, f, best, res.Party, res.Purpose)
		if errors.Is(err, ErrNothingRemains) {
			res.Outcome, res.Reasons = "refuse", append(res.Reasons, reasonNothingRemains)
			res.Words = Words(res.Reasons)
			e.Outcome, e.Reasons = store.LedgerRefuse, res.Reasons
			break
		}
		if err != nil {
			return err
		}
		e.Outcome, e.State, e.TearlineID, e.Labels = store.LedgerTearline, store.LedgerReady, id, labels
		res.Outcome, res.Tearline = "tearline", id
	default:
		e.Outcome, e.Reasons = store.LedgerRefuse, res.Reasons
		res.Outcome = "refuse"
	}
	seq, err := tx.AppendLedger(ctx, e)
	if err != nil {
		return err
	}
	// What is ready goes to the party's outbox in this same transaction
	// (federation_send.go); the caller wakes the delivery loop on commit.
	queued, err := rs.n.Outbox().QueueRelease(ctx, tx, e, seq)
	if err != nil {
		return err
	}
	if queued {
		res.Delivery = store.DeliveryQueued
	}
	res.Ledger, res.Request = seq, request
	return rs.n.AppendAudit(ctx, tx, rs.releaseEvent(p, audit.ActionReleaseDecide, f, *res))
}

// decisionSnapshot is the stored form of a decision that held a release.
type decisionSnapshot struct {
	Outcome   string   `json:"outcome"`
	Reasons   []string `json:"reasons"`
	Approvals int      `json:"approvals"`
	Cut       []string `json:"cut,omitempty"`
	Term      int      `json:"term"`
	Retention string   `json:"retention,omitempty"`
}

func (rs *Service) enqueue(ctx context.Context, tx store.Tx, p *node.Principal, f *facts, best decision, res *ReleaseResult) error {
	snap, err := json.Marshal(decisionSnapshot{Outcome: res.Outcome, Reasons: res.Reasons, Approvals: res.Approvals, Cut: res.Cut, Term: res.Term, Retention: res.Retention})
	if err != nil {
		return err
	}
	now := rs.n.Now()
	q := store.ReleaseRequest{ID: "release--" + uuid.NewString(), ObjectID: f.v.ID, Modified: f.v.Modified, Instance: f.v.Instance, Party: res.Party,
		Agreement: best.Agreement, AgreementVersion: best.Version, Purpose: res.Purpose, Requester: p.Actor(),
		Decision: snap, Required: best.d.Approvals, State: store.RequestPending, Created: now, Updated: now}
	if err := tx.PutReleaseRequest(ctx, q); err != nil {
		return err
	}
	res.Request = q.ID
	return nil
}
