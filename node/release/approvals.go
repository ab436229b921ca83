package release

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/internal/clip"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/policy"
	"github.com/tearline/tearline/store"
)

// ReleaseQueue lists release requests in state ("" for all), oldest first.
// Requests carry ids, parties and decisions, no content: auditors and
// admins see every request, everyone else only those for objects they may
// read (authority.go).
func (rs *Service) ReleaseQueue(ctx context.Context, p *node.Principal, state string) ([]store.ReleaseRequest, error) {
	if err := node.Authorize(p, node.ActReleaseQueue); err != nil {
		return nil, fmt.Errorf("release queue: %w", err)
	}
	qs, err := rs.n.Store().ReleaseRequests(ctx, state)
	if err != nil {
		return nil, fmt.Errorf("release queue: %w", err)
	}
	// A request for an object version p may not read is not there for p.
	out := qs[:0]
	for _, q := range qs {
		ok, err := rs.n.ActsOn(ctx, rs.n.Store(), p, node.ActReleaseQueue, q.ObjectID, []node.VersionKey{requestKey(q)})
		if err != nil {
			return nil, fmt.Errorf("release queue: %w", err)
		}
		if ok {
			out = append(out, q)
		}
	}
	return out, nil
}

// ApproveRelease records p's approval of a pending request. The decision is
// made again now, under the agreement version the request was made under,
// so a suspension, expiry or amendment since the request stops the
// release. When enough distinct releasers (never the requester) have
// approved, the release is carried out.
func (rs *Service) ApproveRelease(ctx context.Context, p *node.Principal, requestID string) (ReleaseResult, error) {
	if err := node.Authorize(p, node.ActApprove); err != nil {
		return ReleaseResult{}, fmt.Errorf("approve %s: %w", requestID, err)
	}
	var res ReleaseResult
	var refused bool
	err := rs.n.Outbox().Update(ctx, func(tx store.Tx) error {
		res, refused = ReleaseResult{}, false
		q, err := rs.pendingRequest(ctx, tx, p, requestID)
		if err != nil {
			return err
		}
		if q.Requester == p.Actor() {
			return fmt.Errorf("%w: the requester cannot approve their own release", node.ErrForbidden)
		}
		if slices.ContainsFunc(q.Approvals, func(a store.Approval) bool { return a.By == p.Actor() }) {
			return fmt.Errorf("%w: %s has already approved: the same person twice does not count", node.ErrInvalid, p.Actor())
		}
		f, best, err := rs.redecide(ctx, tx, q)
		if err != nil {
			return err
		}
		res = rs.result(f, q.Party, q.Purpose, best, nil)
		now := rs.n.Now()
		if best.d.Outcome == policy.Refuse {
			refused = true
			q.State, q.Reason, q.Updated = store.RequestRefused, "re-decided at approval: "+joinOr(res.Reasons, "refused"), now
			if err := tx.UpdateReleaseRequest(ctx, q); err != nil {
				return err
			}
			return rs.carryOut(ctx, tx, p, f, best, &res, q.ID)
		}
		q.Approvals = append(q.Approvals, store.Approval{By: p.Actor(), At: now})
		q.Required = max(q.Required, best.d.Approvals)
		q.Updated = now
		res.Request = q.ID
		ev := rs.releaseEvent(p, audit.ActionReleaseApprove, f, res)
		ev.Detail = clip.String(fmt.Sprintf("request=%s approvals=%d/%d", q.ID, len(q.Approvals), q.Required), 300)
		ev.Decision = audit.Allow
		if err := rs.n.AppendAudit(ctx, tx, ev); err != nil {
			return err
		}
		if len(q.Approvals) < q.Required {
			res.Outcome = "hold"
			return tx.UpdateReleaseRequest(ctx, q)
		}
		q.State = store.RequestReleased
		if err := tx.UpdateReleaseRequest(ctx, q); err != nil {
			return err
		}
		return rs.carryOut(ctx, tx, p, f, best, &res, q.ID)
	})
	if err != nil {
		return ReleaseResult{}, fmt.Errorf("approve %s: %w", requestID, err)
	}
	if refused {
		return counted(p, res), fmt.Errorf("approve %s: %w: %v", requestID, node.ErrNotReleased, Words(res.Reasons))
	}
	return counted(p, res), nil
}

// RefuseRelease refuses a pending request with a reason.
func (rs *Service) RefuseRelease(ctx context.Context, p *node.Principal, requestID, reason string) (ReleaseResult, error) {
	if err := node.Authorize(p, node.ActApprove); err != nil {
		return ReleaseResult{}, fmt.Errorf("refuse %s: %w", requestID, err)
	}
	if reason == "" {
		return ReleaseResult{}, fmt.Errorf("refuse %s: %w: a refusal needs a reason", requestID, node.ErrInvalid)
	}
	var res ReleaseResult
	err := rs.n.Store().Update(ctx, func(tx store.Tx) error {
		q, err := rs.pendingRequest(ctx, tx, p, requestID)
		if err != nil {
			return err
		}
		q.State, q.Reason, q.Updated = store.RequestRefused, reason, rs.n.Now()
		if err := tx.UpdateReleaseRequest(ctx, q); err != nil {
			return err
		}
		res = ReleaseResult{Object: q.ObjectID, Modified: q.Modified, Party: q.Party, Purpose: q.Purpose, Outcome: "refuse",
			Agreement: q.Agreement, Version: q.AgreementVersion, Term: -1, Reasons: []string{reasonReleaserRefuse}, Request: q.ID}
		res.Words = Words(res.Reasons)
		seq, err := tx.AppendLedger(ctx, store.LedgerEntry{ObjectID: q.ObjectID, Modified: q.Modified, Instance: q.Instance, Party: q.Party, Agreement: q.Agreement,
			AgreementVersion: q.AgreementVersion, Term: -1, Outcome: store.LedgerRefuse, Reasons: res.Reasons, Request: q.ID, By: p.Actor(), At: rs.n.Now()})
		if err != nil {
			return err
		}
		res.Ledger = seq
		return rs.n.AppendAudit(ctx, tx, audit.Event{Actor: p.Actor(), Action: audit.ActionReleaseRefuse, Object: q.ObjectID, Modified: q.Modified,
			Subject: "party:" + q.Party, Decision: audit.Deny, Reasons: res.Reasons, Detail: clip.String("request="+q.ID+" reason="+reason, 300)})
	})
	if err != nil {
		return ReleaseResult{}, fmt.Errorf("refuse %s: %w", requestID, err)
	}
	return counted(p, res), nil
}

// pendingRequest returns request id for p to approve or refuse. A request
// for an object version p may not read answers exactly as a request that
// does not exist, before anything else about it (its state) is told.
func (rs *Service) pendingRequest(ctx context.Context, tx store.Tx, p *node.Principal, id string) (store.ReleaseRequest, error) {
	notFound := fmt.Errorf("release request %s: %w", id, node.ErrNotFound)
	q, err := tx.ReleaseRequest(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return q, notFound
	}
	if err != nil {
		return q, err
	}
	if err := rs.n.AuthorizeObject(ctx, tx, p, node.ActApprove, q.ObjectID, []node.VersionKey{requestKey(q)}, notFound); err != nil {
		return store.ReleaseRequest{}, err
	}
	if q.State != store.RequestPending {
		return q, fmt.Errorf("%w: release request %s is %s, not pending", node.ErrInvalid, id, q.State)
	}
	return q, nil
}

// redecide decides a queued request again, now, under the agreement
// version it was made under. A version that is no longer compiled (it can
// no longer decide) refuses.
func (rs *Service) redecide(ctx context.Context, tx store.Tx, q store.ReleaseRequest) (*facts, decision, error) {
	v, err := node.VersionOf(ctx, tx, q.ObjectID, requestKey(q))
	if err != nil {
		return nil, decision{}, err
	}
	c, err := rs.n.Classes().Of(ctx, tx, v.Class)
	if err != nil {
		return nil, decision{}, err
	}
	compiled, _, err := rs.n.CompiledAgreements(ctx, tx)
	if err != nil {
		return nil, decision{}, err
	}
	f, err := rs.buildFacts(ctx, tx, v, c, compiled)
	if err != nil {
		return nil, decision{}, err
	}
	best := decision{Agreement: q.Agreement, Version: q.AgreementVersion, d: policy.ReleaseDecision{Reasons: policy.SetNotActive, Terms: -1}}
	if a := compiled[node.AgreementKey(q.Agreement, q.AgreementVersion)]; a != nil {
		best.State = string(a.Status().State)
		best.d = policy.Decide(a, f.obj, policy.Recipient{Party: q.Party}, q.Purpose, rs.n.Now())
	}
	return f, best, nil
}

// requestKey names the version request q holds: of its instance only, so a
// request for one instance never releases another sharing its modified.
func requestKey(q store.ReleaseRequest) node.VersionKey {
	return node.VersionKey{Instance: q.Instance, Modified: q.Modified}
}
