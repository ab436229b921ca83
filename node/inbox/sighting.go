package inbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/instance"
	"github.com/tearline/tearline/internal/clip"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/release"
	"github.com/tearline/tearline/store"
)

// Sightings come back here from partners we released to (docs/FEDERATION.md,
// "Sightings back"); sending them is node/release's (release/sighting.go).

// receiveSighting records that a partner sent back a sighting of an object
// this node originated and released to it. The sighting must have arrived
// (the "objects" message before this one, verified and accepted under the
// agreement), be bound by that partner, and sight what it says it sights.
func (ib *Service) receiveSighting(ctx context.Context, peer *node.Peer, payload []byte) error {
	// refuseAs audits why and answers the peer told.
	refuseAs := func(object, why, told string) error {
		ev := audit.Event{Actor: "peer:" + peer.Name, Action: audit.ActionSightingRecv, Object: object, Subject: "party:" + peer.Name,
			Decision: audit.Refuse, Detail: clip.String(why, 300)}
		if err := ib.n.Store().Update(ctx, func(tx store.Tx) error { return ib.n.AppendAudit(ctx, tx, ev) }); err != nil {
			return fmt.Errorf("sighting from %s: audit refusal: %w", peer.Name, err)
		}
		return fmt.Errorf("sighting from %s: %w: %s", peer.Name, node.ErrRefused, told)
	}
	refuse := func(object, why string) error { return refuseAs(object, why, why) }
	var note release.SightingNote
	if err := json.Unmarshal(payload, &note); err != nil || note.Sighting == "" || note.SightingOf == "" {
		return refuse("", "not a sighting message")
	}
	// The sighting's instance here is the one holding the peer's instance
	// of it (the objects message before this one started or joined it).
	k, ok, err := instance.Local(ctx, ib.n.Store(), ib.n.Config().Name, note.Sighting, instance.Origin{Originator: peer.Name, Instance: note.Instance})
	if err != nil {
		return fmt.Errorf("sighting from %s: %w", peer.Name, err)
	}
	if !ok {
		return refuse(note.Sighting, "the sighting was not received (refused, or never sent)")
	}
	v, err := node.VersionOf(ctx, ib.n.Store(), note.Sighting, node.VersionKey{Instance: k, Modified: note.Modified})
	if errors.Is(err, node.ErrNotFound) {
		return refuse(note.Sighting, "the sighting was not received (refused, or never sent)")
	}
	if err != nil {
		return fmt.Errorf("sighting from %s: %w", peer.Name, err)
	}
	if v.Type != "sighting" || v.Originator != peer.Name {
		return refuse(note.Sighting, "not a sighting bound by "+peer.Name)
	}
	var s struct {
		Ref string `json:"sighting_of_ref"`
	}
	if err := json.Unmarshal(v.Raw, &s); err != nil || s.Ref != note.SightingOf {
		return refuse(note.Sighting, "the sighting does not sight "+note.SightingOf)
	}
	if ok, why, err := ib.sentTo(ctx, s.Ref, peer.Name); err != nil {
		return fmt.Errorf("sighting from %s: %w", peer.Name, err)
	} else if !ok {
		// Whether this node holds the object, and from whom, is not the
		// peer's to learn from a sighting it makes up: one answer for all
		// (the audit entry keeps why).
		return refuseAs(note.Sighting, why, "sighting of "+s.Ref+": not an object this node originated and sent to "+peer.Name)
	}
	err = ib.n.Store().Update(ctx, func(tx store.Tx) error {
		return ib.n.AppendAudit(ctx, tx, audit.Event{Actor: "peer:" + peer.Name, Action: audit.ActionSightingRecv, Object: note.Sighting,
			Modified: note.Modified, Subject: "party:" + peer.Name, Decision: audit.Accept, Detail: "sighting_of=" + s.Ref})
	})
	if err != nil {
		return fmt.Errorf("sighting from %s: %w", peer.Name, err)
	}
	return nil
}

// sentTo reports whether object id is this node's and went to party, whole
// or as a tearline; if not, why.
func (ib *Service) sentTo(ctx context.Context, id, party string) (bool, string, error) {
	versions, err := ib.n.Store().Versions(ctx, id)
	if err != nil {
		return false, "", err
	}
	if len(versions) == 0 {
		return false, "sighting of " + id + ", which this node does not hold", nil
	}
	orig, err := node.OriginatorOf(ctx, ib.n.Store(), id, versions)
	if err != nil {
		return false, "", err
	}
	if orig != ib.n.Config().Name {
		return false, "sighting of " + id + ", which " + orig + " originated, not this node", nil
	}
	went, err := node.WentTo(ctx, ib.n.Store(), id, party)
	if err != nil || went {
		return went, "", err
	}
	return false, "sighting of " + id + ", which never went to " + party, nil
}
