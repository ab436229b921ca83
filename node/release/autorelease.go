package release

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/policy"
	"github.com/tearline/tearline/store"
)

// autoRelease carries out follow-up row id: it decides and carries out the
// automatic releases of refs, created by p (an ingest) or received from
// peer from (from != ""), in one transaction that takes the row. It wakes
// the delivery loop when it wrote anything.
func (rs *Service) autoRelease(ctx context.Context, id int64, p *node.Principal, from string, refs []node.VersionRef) error {
	reachable, err := rs.n.AutoReleaseTargets(ctx, from)
	if err != nil {
		return err
	}
	err = rs.n.Outbox().Update(ctx, func(tx store.Tx) error {
		if ok, err := tx.TakeFollowup(ctx, id); err != nil || !ok {
			return err
		}
		if len(reachable) == 0 {
			return nil // nothing goes automatically any more
		}
		compiled, _, err := rs.n.CompiledAgreements(ctx, tx)
		if err != nil {
			return err
		}
		parties := policy.AutomaticParties(rs.n.Config().Name, compiled, reachable)
		for _, r := range refs {
			if err := rs.autoReleaseOne(ctx, tx, p, compiled, parties, r); err != nil {
				return fmt.Errorf("%s: %w", r.ID, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("auto-release: %w", err)
	}
	return nil
}

func (rs *Service) autoReleaseOne(ctx context.Context, tx store.Tx, p *node.Principal, compiled map[string]*policy.Agreement,
	parties map[string]map[string]*policy.Agreement, r node.VersionRef) error {
	v, err := node.VersionOf(ctx, tx, r.ID, r.Key())
	if errors.Is(err, node.ErrNotFound) || errors.Is(err, store.ErrNotFound) {
		return nil // purged since: nothing to send
	}
	if err != nil {
		return err
	}
	// Sightings have their own way back to the originator (sighting.go).
	if v.Type == "sighting" {
		return nil
	}
	c, err := rs.n.Classes().Of(ctx, tx, v.Class)
	if err != nil {
		return err
	}
	f, err := rs.buildFacts(ctx, tx, v, c, compiled)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(parties))
	for party := range parties {
		names = append(names, party)
	}
	slices.Sort(names)
	for _, party := range names {
		if party == f.obj.Originator {
			continue // never echo an object to the node it came from
		}
		best, _ := rs.decideAll(f, parties[party], party, node.AutoReleasePurpose)
		res := rs.result(f, party, node.AutoReleasePurpose, best, nil)
		switch best.d.Outcome {
		case policy.Release, policy.Tearline:
			if err := rs.carryOut(ctx, tx, p, f, best, &res, ""); err != nil {
				return err
			}
		case policy.Hold:
			if err := rs.enqueue(ctx, tx, p, f, best, &res); err != nil {
				return err
			}
			if err := rs.n.AppendAudit(ctx, tx, rs.releaseEvent(p, audit.ActionReleaseRequest, f, res)); err != nil {
				return err
			}
		}
	}
	return nil
}
