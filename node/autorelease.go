package node

import (
	"context"
	"fmt"

	"github.com/tearline/tearline/datadir"
	"github.com/tearline/tearline/policy"
	"github.com/tearline/tearline/store"
)

// Automatic release on ingest. An agreement whose terms to a partner say
// `release: {mode: automatic}` means the parties agreed that what qualifies
// goes without a person deciding each object. So after an ingest (or a
// receipt from a partner) commits, every newly created object is decided for
// every such partner that has a URL, under those automatic agreements only,
// and what may go is written to the ledger and the outbox exactly as Release
// writes it (carryOut). A hold (this node's own ORCON material) goes to the
// approval queue as a release request; a refusal sends nothing and records
// nothing, since it is no dissemination and one row per object and partner
// would drown the ledger.
//
// It runs after the ingest committed, from a follow-up row the ingest wrote
// in its own transaction (followup.go): a crash in between loses nothing,
// and the next run (serve) resumes it. Resends ("exists") are never
// decided again, and an object is never sent back to the partner it came
// from or to its originator.

// AutoReleasePurpose is the purpose automatic releases and partner pulls
// are decided for: the agreement's terms must list it. It is the default
// purpose of `tearline release request`.
const AutoReleasePurpose = "analysis"

// autoReleaseBatch is how many objects one automatic-release transaction
// (one follow-up row) decides: bounded, so a large ingest does not hold
// one long write.
const autoReleaseBatch = 256

// AutoReleaser is the principal of automatic releases of received objects:
// no person asked for them. Its name is not a valid user name, so no token
// can ever authenticate as it.
func AutoReleaser() *Principal {
	return &Principal{User: store.User{Name: "auto-release", Role: RoleReleaser}}
}

// AutoReleaseTargets reports whether anything created by an ingest (from
// "") or a receipt from peer from may be released automatically: the
// setting is on, some peer other than from has a URL, and an active
// agreement releases to it automatically. A cheap look with no
// transaction: most ingests on a node with no automatic agreement write no
// follow-up row.
func (n *Node) AutoReleaseTargets(ctx context.Context, from string) (map[string]bool, error) {
	if !n.cfg.AutoReleaseOn() {
		return nil, nil
	}
	peers, err := n.Peers()
	if err != nil {
		return nil, fmt.Errorf("auto-release: %w", err)
	}
	reachable := map[string]bool{}
	for _, pe := range peers {
		if pe.URL != "" && pe.Name != from && pe.Name != n.cfg.Name {
			reachable[pe.Name] = true
		}
	}
	if len(reachable) == 0 {
		return nil, nil
	}
	compiled, _, err := n.CompiledAgreements(ctx, n.st)
	if err != nil {
		return nil, fmt.Errorf("auto-release: %w", err)
	}
	if len(policy.AutomaticParties(n.cfg.Name, compiled, reachable)) == 0 {
		return nil, nil
	}
	return reachable, nil
}

// CreatedOf returns the versions of landed that were created (not resends).
func CreatedOf(landed []Landed) []VersionRef {
	var out []VersionRef
	for _, l := range landed {
		if l.Status == "created" {
			out = append(out, VersionRef{ID: l.ID, Modified: l.Modified, Instance: l.instance})
		}
	}
	return out
}

// SetAutoRelease records auto_release in the node's configuration file in
// dir; it applies when the node is next opened.
func SetAutoRelease(dir string, on bool) error {
	file := path(dir, ConfigFile)
	c, err := LoadConfig(file)
	if err != nil {
		return err
	}
	c.AutoRelease = &on
	if err := datadir.WriteConfig(file, c); err != nil {
		return fmt.Errorf("config %s: %w", file, err)
	}
	return nil
}
