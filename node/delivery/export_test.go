package delivery

import "github.com/tearline/tearline/federation"

// Exported for the external tests (package delivery_test): the node as
// federation.Sender, the peer as the protocol knows it, and the sender's
// note on a built batch.

// Sender returns d's federation.Sender.
func (d *Service) Sender() federation.Sender { return d.sender() }

// WirePeer is wirePeer.
var WirePeer = wirePeer

// SentObjects is the type of a built batch's Note.
type SentObjects = sentObjects
