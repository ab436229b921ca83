// Package federation is the partner wire protocol between Tearline nodes,
// client and server side together (docs/FEDERATION.md):
//
//   - the wire types of a delivery (InboxRequest, InboxResponse, the
//     "objects" bundle and its release envelope) and their bounds;
//   - the outbox loop (Outbox.Run): claim what is due from the store's
//     outbox, batch it per peer, POST it to the peer's inbox under a lease,
//     and record each message's state: delivered, retrying with backoff
//     (transient refusals, up to a maximum age), or failed (permanent);
//   - the reason-code table (reasons.go) that sender and receiver share to
//     class every refusal as transient or permanent;
//   - the inbox http.Handler, over the Receiver interface the node
//     implements (it decides and audits; this package only speaks the
//     protocol);
//   - peer authentication: the request's mutual-TLS client certificate
//     resolved to a partner (WithPeer, RequirePeer, PeerFrom);
//   - the pull client: reading a partner's TAXII holdings collection page
//     by page from a saved cursor.
//
// It does not import node: the node implements Sender and Receiver, as it
// implements taxii.Backend.
package federation
