package release

import (
	"context"
	"encoding/json"
	"errors"
	"slices"

	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/internal/clip"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/policy"
	"github.com/tearline/tearline/store"
)

// Sightings back (docs/FEDERATION.md, "Sightings back"). When this node
// stores a STIX sighting of an object it received from a partner, the
// sighting goes back to the object's originator if an agreement with the
// originator allows releasing it for the purpose PurposeSighting: the same
// decision as any release (labels, levels, topics, conditions), so an
// agreement opts in by listing the purpose "sighting" in the terms from
// this node to the originator. The ingest writes a follow-up row
// (node/followup.go); after it commits, the row's transaction decides, records
// the sighting in the dissemination ledger and queues it in the outbox; a
// refusal is audited.

// PurposeSighting is the purpose a sighting is sent back under.
const PurposeSighting = "sighting"

// sightingsBack carries out a follow-up row of kind store.FollowupSighting:
// the sighting refs[0], ingested here, goes back to the originator of what
// it sights when the agreements let it (sightingBack).
func (rs *Service) sightingsBack(ctx context.Context, row int64, p *node.Principal, _ string, refs []node.VersionRef) error {
	return rs.n.Outbox().Update(ctx, func(tx store.Tx) error {
		if ok, err := tx.TakeFollowup(ctx, row); err != nil || !ok {
			return err
		}
		for _, r := range refs {
			v, err := node.VersionOf(ctx, tx, r.ID, r.Key())
			if errors.Is(err, node.ErrNotFound) {
				continue // purged since: nothing to send back
			}
			if err != nil {
				return err
			}
			c, err := rs.n.Classes().Of(ctx, tx, v.Class)
			if err != nil {
				return err
			}
			if _, err := rs.sightingBack(ctx, tx, p, &v, v.Raw, c.LabelIDs); err != nil {
				return err
			}
		}
		return nil
	})
}

// sightingBack decides and queues the return of sighting v (raw is its
// plain content) to the originator of what it sights. It runs in the
// transaction of the sighting's follow-up row, after the ingest committed;
// only a store failure is an error, a decision not to send is audited.
func (rs *Service) sightingBack(ctx context.Context, tx store.Tx, p *node.Principal, v *store.ObjectVersion, raw []byte, classLabels []string) (bool, error) {
	var s struct {
		Ref string `json:"sighting_of_ref"`
	}
	if json.Unmarshal(raw, &s) != nil || s.Ref == "" {
		return false, nil
	}
	prov, err := tx.Provenance(ctx, s.Ref)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil // not from a partner
	}
	if err != nil {
		return false, err
	}
	to := prov.Originator
	if to == "" || to == rs.n.Config().Name {
		return false, nil
	}
	deny := func(reasons ...string) (bool, error) {
		return false, rs.n.AppendAudit(ctx, tx, audit.Event{Actor: p.Actor(), Action: audit.ActionSightingSend, Object: v.ID, Modified: v.Modified,
			Subject: "party:" + to, Decision: audit.Deny, Reasons: reasons, Detail: "sighting_of=" + s.Ref})
	}
	peers, err := rs.n.Peers()
	if err != nil {
		// A broken peers file must not stop ingest: the sighting stays here.
		rs.n.Logger().Warn("sighting back: peers", "err", err)
		return deny("peers-unreadable")
	}
	if !slices.ContainsFunc(peers, func(pe node.Peer) bool { return pe.Name == to }) {
		return deny("not-a-peer")
	}
	c, err := rs.n.Classes().Uncached(ctx, tx, v.Class, classLabels)
	if err != nil {
		return false, err
	}
	compiled, _, err := rs.n.CompiledAgreements(ctx, tx)
	if err != nil {
		return false, err
	}
	plain := *v
	plain.Raw, plain.Key = raw, nil
	f, err := rs.buildFacts(ctx, tx, plain, c, compiled)
	if err != nil {
		return false, err
	}
	best, _ := rs.decideAll(f, compiled, to, PurposeSighting)
	if best.d.Outcome != policy.Release {
		reasons := ReasonCodes(best.d.Reasons)
		if best.d.Outcome != policy.Refuse {
			// A sighting goes back whole and without a person's approval,
			// or not at all.
			reasons = append(reasons, "outcome-"+best.d.Outcome.String())
		}
		return deny(reasons...)
	}
	seq, err := tx.AppendLedger(ctx, store.LedgerEntry{ObjectID: v.ID, Modified: v.Modified, Instance: v.Instance, Party: to, Agreement: best.Agreement,
		AgreementVersion: best.Version, Term: best.d.Terms, Outcome: store.LedgerRelease, State: store.LedgerReady, Labels: f.labels,
		By: p.Actor(), At: rs.n.Now()})
	if err != nil {
		return false, err
	}
	// The sighting travels as any released object (an "objects" message:
	// the originator verifies its binding and decides it inbound under the
	// agreement), followed by a "sighting" message that tells the
	// originator what it sights. A peer's messages arrive in order.
	e := store.LedgerEntry{ObjectID: v.ID, Modified: v.Modified, Instance: v.Instance, Party: to, Agreement: best.Agreement, AgreementVersion: best.Version,
		State: store.LedgerReady}
	if _, err := rs.n.Outbox().QueueRelease(ctx, tx, e, seq); err != nil {
		return false, err
	}
	note, err := json.Marshal(SightingNote{Sighting: v.ID, Modified: v.Modified, Instance: v.Instance, SightingOf: s.Ref})
	if err != nil {
		return false, err
	}
	if err := rs.n.Outbox().Enqueue(ctx, tx, to, store.OutboxSighting, note); err != nil {
		return false, err
	}
	return true, rs.n.AppendAudit(ctx, tx, audit.Event{Actor: p.Actor(), Action: audit.ActionSightingSend, Object: v.ID, Modified: v.Modified,
		Labels: f.labels, Subject: "party:" + to, Decision: audit.Allow,
		Detail: clip.String("sighting_of="+s.Ref+" agreement="+node.AgreementKey(best.Agreement, best.Version), 300)})
}

// SightingNote is the payload of a "sighting" message: ids only. The
// sighting itself came just before it as an "objects" message.
type SightingNote struct {
	Sighting string `json:"sighting"`
	Modified string `json:"modified"`
	// Instance is the sighting's instance here, at its originator: the
	// receiver finds the instance it keeps of it as it does for the
	// objects message before (docs/FEDERATION.md, "Instances on the
	// wire"). Absent (0) from senders older than instances on the wire.
	Instance   int64  `json:"instance,omitempty"`
	SightingOf string `json:"sighting_of_ref"`
}
