package node

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/tearline/tearline/policy"
	"github.com/tearline/tearline/store"
)

// Authority in one place. Every action a principal asks of the node is
// checked by authorize against the table below, and nowhere else: not in
// package api (which maps ErrForbidden to 403 and ErrNotFound to 404 and
// knows no roles), not in the files of each concern. An action on an
// object id is a read first (authorizeObject): a caller not cleared for the
// object gets exactly what a missing id gets.

// Action is something a principal asks the node to do. Its value names it
// in ErrForbidden messages.
type Action string

// The actions, by concern.
const (
	ActUserAdmin Action = "user administration" // users and tokens: list, add, update, issue, revoke

	ActPublish       Action = "publishing"                 // Ingest, TAXII add
	ActTAXIIContent  Action = "reading content over TAXII" // the holdings collections
	ActTAXIIDelete   Action = "deleting over TAXII"        // a purge, of what one posted and never released (taxii.go)
	ActDeleteOrigin  Action = "deleting our objects"       // over TAXII: anything this node originated
	ActPurge         Action = "purging an object"          // crypto-shred: the console's (the CLI, the admin socket); no read
	ActProvenanceIn  Action = "recording provenance"       // by hand, for material that came otherwise
	ActConsent       Action = "recording a consent"        // ORCON, third-party rule
	ActConsentRead   Action = "reading consents"           // metadata
	ActLedgerRead    Action = "reading the ledger"         // metadata
	ActAuditRead     Action = "reading the audit log"      // metadata: checkpoints, entries, proofs
	ActRecall        Action = "recalling an object"        // from every partner it went to
	ActRecallRead    Action = "reading recalls"            // metadata, with signed notices and acks
	ActAgreementAdm  Action = "managing agreements"        // import, sign, transition
	ActAgreementRd   Action = "reading agreements"         // list, show
	ActRelease       Action = "requesting a release"       // release, explain (a dry run)
	ActReleaseQueue  Action = "reading the release queue"  // requests: ids, parties, decisions
	ActApprove       Action = "approving or refusing a release request"
	ActSplitViewRd   Action = "reading split views"           // of partners' logs this node witnesses
	ActSplitViewAck  Action = "acknowledging a split view"    // deliveries to that partner resume
	ActDeliveryRetry Action = "retrying a failed delivery"    // to a partner; an action on the object delivered
	ActSearch        Action = "searching"                     // what one may read (node/search), and one's saved searches
	ActHealthRead    Action = "reading the node's health"     // outbox, checkpoints, peers and witnesses, disk
	ActDeliveryRead  Action = "reading delivery states"       // where objects went and how each delivery goes (node/delivery)
	ActPeerAdmin     Action = "managing peers and keys"       // add and remove partners, revoke signing keys (node/partners)
	ActOwnWork       Action = "reading one's own recent work" // one's own audited actions, on objects one may still read
)

// rule is who may take an action: roles, and which of them act on every
// level, seeing the metadata (ids, labels, parties, decisions, actors) of
// objects above their clearance, never content (docs/AUDIT.md). Everyone
// else acts only on objects they may read.
type rule struct {
	roles      []string
	EveryLevel []string
}

// authority is the one table of who may do what. (A function rather than
// a map, so that nothing can change it at run time.)
func authority(act Action) rule {
	all := []string{RoleAnalyst, RoleReleaser, RoleAdmin, RoleAuditor}
	content := []string{RoleAnalyst, RoleReleaser, RoleAdmin}
	auditors := []string{RoleAuditor, RoleAdmin}
	switch act {
	case ActUserAdmin, ActPurge, ActProvenanceIn, ActAgreementAdm, ActSplitViewAck, ActHealthRead, ActPeerAdmin:
		return rule{roles: []string{RoleAdmin}}
	case ActPublish, ActTAXIIContent, ActRelease, ActTAXIIDelete:
		return rule{roles: content}
	case ActConsent, ActRecall, ActDeliveryRetry, ActDeleteOrigin:
		return rule{roles: []string{RoleAdmin, RoleReleaser}}
	case ActConsentRead, ActRecallRead, ActDeliveryRead:
		return rule{roles: []string{RoleAdmin, RoleReleaser, RoleAuditor}, EveryLevel: auditors}
	case ActLedgerRead, ActAuditRead, ActSplitViewRd:
		return rule{roles: auditors, EveryLevel: auditors}
	case ActAgreementRd, ActSearch, ActOwnWork:
		return rule{roles: all}
	case ActReleaseQueue:
		return rule{roles: all, EveryLevel: auditors}
	case ActApprove:
		return rule{roles: []string{RoleReleaser}}
	}
	return rule{} // an action not in the table is nobody's
}

// Authorize checks that p's role may take act.
func Authorize(p *Principal, act Action) error {
	r := authority(act)
	if p == nil || !slices.Contains(r.roles, p.User.Role) {
		return fmt.Errorf("%w: %s needs the role %s", ErrForbidden, act, strings.Join(r.roles, " or "))
	}
	return nil
}

// EveryLevel reports whether p takes act on objects of every level (the
// metadata of objects above its clearance), rather than only on objects it
// may read.
func EveryLevel(p *Principal, act Action) bool {
	return p != nil && slices.Contains(authority(act).EveryLevel, p.User.Role)
}

// MayCount reports whether p sees the node's counters: ledger sequence
// numbers and outbox ids number every release and message of every level,
// so a caller who does not read every level's metadata could subtract two
// of its own and count the releases hidden from it between them (as it
// could with a store position, docs/SECURITY.md "Cursors"). Those who read
// the ledger see them; others get answers without them.
func MayCount(p *Principal) bool { return EveryLevel(p, ActLedgerRead) }

// VersionKey names one version of an object id: its instance and its
// modified (docs/SECURITY.md, "Versions belong to their owner": two
// instances may share an id and a modified, so a modified alone names
// nothing).
type VersionKey struct {
	Instance int64
	Modified string
}

// AuthorizeObject is Authorize for act on the versions of object id that
// versions name (some version, of any instance, when versions is empty):
// p must also be cleared to read them, by the rule of a read
// (policy.CanRead), unless act lets p's role act on every level. When p
// may not read them, or they do not exist, the answer is notFound, the
// error the caller gives for a missing id, so the two cannot be told
// apart.
func (n *Node) AuthorizeObject(ctx context.Context, r store.Reader, p *Principal, act Action, id string, versions []VersionKey, notFound error) error {
	if err := Authorize(p, act); err != nil {
		return err
	}
	ok, err := n.ActsOn(ctx, r, p, act, id, versions)
	if err != nil {
		return err
	}
	if !ok {
		return notFound
	}
	return nil
}

// ActsOn reports whether p may take act on every one of versions of id
// (on some version, of any instance, when versions is empty), without an
// error for the versions it may not read: for filtering lists (the release
// queue, recalls, consents) and for narrowing an action to what p may read
// (a recall recalls only the releases of versions p may read). A version
// that is not stored is not readable. A role that acts on every level acts
// on all of them; the role itself is checked by Authorize first.
func (n *Node) ActsOn(ctx context.Context, r store.Reader, p *Principal, act Action, id string, versions []VersionKey) (bool, error) {
	if EveryLevel(p, act) {
		return true, nil
	}
	stored, err := r.Versions(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	readable := func(v store.ObjectVersion) (bool, error) {
		c, err := n.Classes().Of(ctx, r, v.Class)
		if err != nil {
			return false, err
		}
		return policy.CanRead(n.reg, p.Subject, c.Labels).Allow, nil
	}
	if len(versions) == 0 {
		for _, v := range stored {
			if ok, err := readable(v); err != nil || ok {
				return ok, err
			}
		}
		return false, nil
	}
	for _, k := range versions {
		i := slices.IndexFunc(stored, func(v store.ObjectVersion) bool { return v.Instance == k.Instance && v.Modified == k.Modified })
		if i < 0 {
			return false, nil
		}
		if ok, err := readable(stored[i]); err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}
