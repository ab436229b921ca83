package node

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/policy"
	"github.com/tearline/tearline/store"
)

// ReleaseQueue lists release requests in state ("" for all), oldest first.
// Requests carry ids, parties and decisions, no content: auditors and
// admins see every request, everyone else only those for objects they may
// read (authority.go).
func (n *Node) ReleaseQueue(ctx context.Context, p *Principal, state string) ([]store.ReleaseRequest, error) {
	if err := authorize(p, ActReleaseQueue); err != nil {
		return nil, fmt.Errorf("release queue: %w", err)
	}
	qs, err := n.st.ReleaseRequests(ctx, state)
	if err != nil {
		return nil, fmt.Errorf("release queue: %w", err)
	}
	// A request for an object version p may not read is not there for p.
	out := qs[:0]
	for _, q := range qs {
		ok, err := n.actsOn(ctx, n.st, p, ActReleaseQueue, q.ObjectID, []string{q.Modified})
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
func (n *Node) ApproveRelease(ctx context.Context, p *Principal, requestID string) (ReleaseResult, error) {
	if err := authorize(p, ActApprove); err != nil {
		return ReleaseResult{}, fmt.Errorf("approve %s: %w", requestID, err)
	}
	var res ReleaseResult
	var refused bool
	err := n.updateOutbox(ctx, func(tx store.Tx) error {
		res, refused = ReleaseResult{}, false
		q, err := n.pendingRequest(ctx, tx, p, requestID)
		if err != nil {
			return err
		}
		if q.Requester == p.Actor() {
			return fmt.Errorf("%w: the requester cannot approve their own release", ErrForbidden)
		}
		if slices.ContainsFunc(q.Approvals, func(a store.Approval) bool { return a.By == p.Actor() }) {
			return fmt.Errorf("%w: %s has already approved: the same person twice does not count", ErrInvalid, p.Actor())
		}
		f, best, err := n.redecide(ctx, tx, q)
		if err != nil {
			return err
		}
		res = n.result(f, q.Party, q.Purpose, best, nil)
		now := n.now()
		if best.d.Outcome == policy.Refuse {
			refused = true
			q.State, q.Reason, q.Updated = store.RequestRefused, "re-decided at approval: "+joinOr(res.Reasons, "refused"), now
			if err := tx.UpdateReleaseRequest(ctx, q); err != nil {
				return err
			}
			return n.carryOut(ctx, tx, p, f, best, &res, q.ID)
		}
		q.Approvals = append(q.Approvals, store.Approval{By: p.Actor(), At: now})
		q.Required = max(q.Required, best.d.Approvals)
		q.Updated = now
		res.Request = q.ID
		ev := n.releaseEvent(p, audit.ActionReleaseApprove, f, res)
		ev.Detail = truncate(fmt.Sprintf("request=%s approvals=%d/%d", q.ID, len(q.Approvals), q.Required), 300)
		ev.Decision = audit.Allow
		if err := n.appendAudit(ctx, tx, ev); err != nil {
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
		return n.carryOut(ctx, tx, p, f, best, &res, q.ID)
	})
	if err != nil {
		return ReleaseResult{}, fmt.Errorf("approve %s: %w", requestID, err)
	}
	if refused {
		return counted(p, res), fmt.Errorf("approve %s: %w: %v", requestID, ErrNotReleased, Words(res.Reasons))
	}
	return counted(p, res), nil
}

// RefuseRelease refuses a pending request with a reason.
func (n *Node) RefuseRelease(ctx context.Context, p *Principal, requestID, reason string) (ReleaseResult, error) {
	if err := authorize(p, ActApprove); err != nil {
		return ReleaseResult{}, fmt.Errorf("refuse %s: %w", requestID, err)
	}
	if reason == "" {
		return ReleaseResult{}, fmt.Errorf("refuse %s: %w: a refusal needs a reason", requestID, ErrInvalid)
	}
	var res ReleaseResult
	err := n.st.Update(ctx, func(tx store.Tx) error {
		q, err := n.pendingRequest(ctx, tx, p, requestID)
		if err != nil {
			return err
		}
		q.State, q.Reason, q.Updated = store.RequestRefused, reason, n.now()
		if err := tx.UpdateReleaseRequest(ctx, q); err != nil {
			return err
		}
		res = ReleaseResult{Object: q.ObjectID, Modified: q.Modified, Party: q.Party, Purpose: q.Purpose, Outcome: "refuse",
			Agreement: q.Agreement, Version: q.AgreementVersion, Term: -1, Reasons: []string{reasonReleaserRefuse}, Request: q.ID}
		res.Words = Words(res.Reasons)
		seq, err := tx.AppendLedger(ctx, store.LedgerEntry{ObjectID: q.ObjectID, Modified: q.Modified, Party: q.Party, Agreement: q.Agreement,
			AgreementVersion: q.AgreementVersion, Term: -1, Outcome: store.LedgerRefuse, Reasons: res.Reasons, Request: q.ID, By: p.Actor(), At: n.now()})
		if err != nil {
			return err
		}
		res.Ledger = seq
		return n.appendAudit(ctx, tx, audit.Event{Actor: p.Actor(), Action: audit.ActionReleaseRefuse, Object: q.ObjectID, Modified: q.Modified,
			Subject: "party:" + q.Party, Decision: audit.Deny, Reasons: res.Reasons, Detail: truncate("request="+q.ID+" reason="+reason, 300)})
	})
	if err != nil {
		return ReleaseResult{}, fmt.Errorf("refuse %s: %w", requestID, err)
	}
	return counted(p, res), nil
}

// pendingRequest returns request id for p to approve or refuse. A request
// for an object version p may not read answers exactly as a request that
// does not exist, before anything else about it (its state) is told.
func (n *Node) pendingRequest(ctx context.Context, tx store.Tx, p *Principal, id string) (store.ReleaseRequest, error) {
	notFound := fmt.Errorf("release request %s: %w", id, ErrNotFound)
	q, err := tx.ReleaseRequest(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return q, notFound
	}
	if err != nil {
		return q, err
	}
	if err := n.authorizeObject(ctx, tx, p, ActApprove, q.ObjectID, q.Modified, notFound); err != nil {
		return store.ReleaseRequest{}, err
	}
	if q.State != store.RequestPending {
		return q, fmt.Errorf("%w: release request %s is %s, not pending", ErrInvalid, id, q.State)
	}
	return q, nil
}

// redecide decides a queued request again, now, under the agreement
// version it was made under. A version that is no longer compiled (it can
// no longer decide) refuses.
func (n *Node) redecide(ctx context.Context, tx store.Tx, q store.ReleaseRequest) (*facts, decision, error) {
	v, err := versionOf(ctx, tx, q.ObjectID, q.Modified)
	if err != nil {
		return nil, decision{}, err
	}
	c, err := n.class(ctx, tx, v.Class)
	if err != nil {
		return nil, decision{}, err
	}
	compiled, _, err := n.compiledAgreements(ctx, tx)
	if err != nil {
		return nil, decision{}, err
	}
	f, err := n.buildFacts(ctx, tx, v, c, compiled)
	if err != nil {
		return nil, decision{}, err
	}
	best := decision{Agreement: q.Agreement, Version: q.AgreementVersion, d: policy.ReleaseDecision{Reasons: policy.SetNotActive, Terms: -1}}
	if a := compiled[agreementKey(q.Agreement, q.AgreementVersion)]; a != nil {
		best.State = string(a.Status().State)
		best.d = policy.Decide(a, f.obj, policy.Recipient{Party: q.Party}, q.Purpose, n.now())
	}
	return f, best, nil
}
