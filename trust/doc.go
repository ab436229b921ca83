// Package trust is what a node trusts for TLS and who its partners are:
// the alliance CA bundle (trust/ca.pem), revoked certificates
// (trust/revoked.yaml), the peers (peers.yaml, each with its certificate
// and URL), the node's own certificate (tls/), and the TLS configurations
// of its listener and of its calls to partners built from them.
//
// The files are edited by operator commands in other processes; Store
// re-reads them when they change (datadir.Watched), so a peer added, a
// peer removed or a certificate revoked takes effect at the next handshake
// of every process serving the directory, and is checked again on every
// request of a connection admitted before (Trust.Identify).
package trust
