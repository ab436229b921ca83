// Package stack composes a whole Tearline node: the core (package node:
// open, keys, authority, ingest, reads, audit recording, follow-up work)
// and the services that stand on it, each in its package under node/ and
// each deciding through the core's one authority table. Commands, the API
// and tests open a node here; whoever needs only the core (offline tools)
// opens package node.
package stack

import (
	"context"

	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/agreements"
	"github.com/tearline/tearline/node/delivery"
	"github.com/tearline/tearline/node/inbox"
	"github.com/tearline/tearline/node/oversight"
	"github.com/tearline/tearline/node/partners"
	"github.com/tearline/tearline/node/publish"
	"github.com/tearline/tearline/node/recalls"
	"github.com/tearline/tearline/node/release"
	"github.com/tearline/tearline/node/retention"
	"github.com/tearline/tearline/node/search"
	"github.com/tearline/tearline/node/taxiiview"
	"github.com/tearline/tearline/node/users"
	"github.com/tearline/tearline/store"
)

// Node is a node with every service.
type Node struct {
	*node.Node // the core

	Users      *users.Service      // users and tokens
	Agreements *agreements.Service // sharing agreements and their lifecycle
	Releases   *release.Service    // releases, approvals, tearlines, the ledger, consents
	Recalls    *recalls.Service    // recalls sent and honoured
	Deliveries *delivery.Service   // the delivery loop and delivery states
	Inbox      *inbox.Service      // what partners deliver, and pulls from them
	Oversight  *oversight.Service  // checkpoints, proofs, witnesses, backup and restore
	TAXII      *taxiiview.TAXII    // the TAXII collections of users and partners
	Retention  *retention.Service  // purging what outlived its retention
	Search     *search.Service     // search over the blind index, saved searches
	Publish    *publish.Service    // publishing from forms: labels one may apply, an indicator, a short report
	Partners   *partners.Service   // peers and signing keys as administrators change them
}

// Open opens the node in dir with every service (node.Open, then New).
func Open(ctx context.Context, dir string, o node.Options) (*Node, error) {
	n, err := node.Open(ctx, dir, o)
	if err != nil {
		return nil, err
	}
	return New(n), nil
}

// New puts every service on core n and wires them together: the follow-up
// rows the core's ingest writes are carried out by Releases (New registers
// them), and the inbox hands recall notices and acknowledgements to
// Recalls.
func New(n *node.Node) *Node {
	s := &Node{
		Node:       n,
		Users:      users.New(n),
		Agreements: agreements.New(n),
		Releases:   release.New(n),
		Recalls:    recalls.New(n),
		Deliveries: delivery.New(n),
		Inbox:      inbox.New(n),
		Oversight:  oversight.New(n),
		Retention:  retention.New(n),
		Search:     search.New(n),
		Publish:    publish.New(n),
		Partners:   partners.New(n),
	}
	s.TAXII = taxiiview.New(n, s.Releases, s.Recalls)
	s.Inbox.RegisterInboxHandler(store.OutboxRecall, s.Recalls.ReceiveRecall)
	s.Inbox.RegisterInboxHandler(store.OutboxAck, s.Recalls.ReceiveRecallAck)
	return s
}
