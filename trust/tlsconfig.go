package trust

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"time"

	"github.com/tearline/tearline/datadir"
	"github.com/tearline/tearline/pki"
)

// Store serves the current Trust of a data directory, reloading it when
// one of its files changes, so that `peer add`, `peer remove` and `cert
// revoke` take effect on a running listener at its next handshake. It is
// safe for concurrent use.
type Store struct {
	dir string
	now func() time.Time

	w    *datadir.Watched[*Trust]
	cert *datadir.Watched[*tls.Certificate] // the node's own, tls/cert.pem and key.pem
}

// NewStore returns a Store for the node in dir. The files are read
// at the first Current.
func NewStore(dir string) *Store {
	s := &Store{dir: dir, now: time.Now}
	s.w = datadir.NewWatched(func() (*Trust, error) { return LoadTrust(dir) },
		datadir.Path(dir, TrustCAFile), datadir.Path(dir, RevokedFile), datadir.Path(dir, PeersFile))
	s.cert = datadir.NewWatched(func() (*tls.Certificate, error) {
		c, err := LoadTLSCertificate(dir)
		return &c, err
	}, datadir.Path(dir, datadir.TLSCert), datadir.Path(dir, datadir.TLSKey))
	return s
}

// ownCertificate returns the node's certificate as tls/ is now (`cert
// install` replaces it), or fallback when the files cannot be read (a
// certificate half installed by hand): the listener keeps serving.
func (s *Store) ownCertificate(fallback tls.Certificate) tls.Certificate {
	if c, err := s.cert.Get(); err == nil {
		return *c
	}
	return fallback
}

// Current returns the trust as the files now say (a stat of each on every
// call; a changed file, even replaced within one clock tick, is read
// again). An unreadable or invalid file is an error, and the caller
// refuses the connection: trust fails closed.
func (s *Store) Current() (*Trust, error) { return s.w.Get() }

// Identify names the peer presenting certs under the current trust; see
// Trust.Identify.
func (s *Store) Identify(certs []*x509.Certificate) (*Peer, error) {
	t, err := s.Current()
	if err != nil {
		return nil, err
	}
	return t.Identify(certs, s.now())
}

// ServerConfig returns the TLS configuration of the node's one HTTPS
// listener, for people and partners alike:
//   - TLS 1.3 only;
//   - a client certificate is requested and, when one is presented,
//     verified against the trust bundle and the pinned peers during the
//     handshake: an unknown, expired or revoked certificate fails the
//     handshake before any request is read;
//   - no client certificate is fine: people and stock TAXII clients
//     authenticate with tokens, and partner routes refuse them;
//   - the node's certificate is tls/cert.pem as it is at each handshake
//     (`cert install` takes effect without a restart); cert is used while
//     the files cannot be read.
func (s *Store) ServerConfig(cert tls.Certificate) *tls.Config {
	base := &tls.Config{MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{cert}}
	// A per-handshake config, so that it sees the trust files as they are
	// now rather than as they were when the listener started.
	base.GetConfigForClient = func(*tls.ClientHelloInfo) (*tls.Config, error) {
		t, err := s.Current()
		if err != nil {
			return nil, fmt.Errorf("trust: %w", err)
		}
		c := base.Clone()
		c.GetConfigForClient = nil
		c.Certificates = []tls.Certificate{s.ownCertificate(cert)}
		c.ClientAuth = tls.VerifyClientCertIfGiven
		c.ClientCAs = t.Pool()
		c.VerifyConnection = func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return nil
			}
			// crypto/tls has verified the chain against ClientCAs; accept
			// adds what it cannot know: pinning, revocation.
			_, err := t.accept(cs.VerifiedChains, s.now())
			return err
		}
		return c, nil
	}
	return base
}

// ClientConfig returns the TLS configuration with which this node calls a
// partner: it presents cert, accepts TLS 1.3 only, and verifies the server
// against the same trust as its own listener (CA bundle, pinned peers,
// revocations). With peer set, the server must present exactly that peer's
// certificate: a valid certificate of another node is refused.
//
// crypto/tls verifies the chain and the host name against the trust pool
// as it is now; each handshake then re-checks the chain against the trust
// files as they are then, so a revocation or a CA removed from the bundle
// takes effect on an existing client too (a CA added needs a new client).
func (s *Store) ClientConfig(cert tls.Certificate, peer string) (*tls.Config, error) {
	t, err := s.Current()
	if err != nil {
		return nil, fmt.Errorf("trust: %w", err)
	}
	if peer != "" {
		if _, ok := t.Peer(peer); !ok {
			return nil, fmt.Errorf("trust: %s: %w", peer, ErrNoPeer)
		}
	}
	c := &tls.Config{MinVersion: tls.VersionTLS13, RootCAs: t.Pool()}
	c.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
		own := s.ownCertificate(cert)
		return &own, nil
	}
	c.VerifyConnection = func(cs tls.ConnectionState) error {
		t, err := s.Current()
		if err != nil {
			return fmt.Errorf("trust: %w", err)
		}
		chain, err := t.accept(cs.VerifiedChains, s.now())
		if err != nil {
			return err
		}
		if peer == "" {
			return nil
		}
		p, ok := t.Peer(peer)
		if !ok {
			return fmt.Errorf("trust: %s: %w", peer, ErrNoPeer)
		}
		if fp := pki.Fingerprint(chain[0]); fp != p.Fingerprint {
			return fmt.Errorf("trust: the server's certificate %s is not peer %s's (%s)", fp, peer, p.Fingerprint)
		}
		return nil
	}
	return c, nil
}

// LoadTLSCertificate reads the node's TLS certificate (with any chain) and
// key from dir.
func LoadTLSCertificate(dir string) (tls.Certificate, error) {
	c, err := tls.LoadX509KeyPair(datadir.Path(dir, datadir.TLSCert), datadir.Path(dir, datadir.TLSKey))
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("node certificate: %w", err)
	}
	return c, nil
}

// FederationClient returns an HTTP client with which the node in dir calls
// peer (or, with peer "", any node its trust accepts): it presents the
// node's certificate and verifies the server as ClientConfig says.
func FederationClient(dir, peer string) (*http.Client, error) {
	cert, err := LoadTLSCertificate(dir)
	if err != nil {
		return nil, err
	}
	tc, err := NewStore(dir).ClientConfig(cert, peer)
	if err != nil {
		return nil, err
	}
	tr := &http.Transport{TLSClientConfig: tc, ForceAttemptHTTP2: true,
		MaxIdleConnsPerHost: 4, IdleConnTimeout: 90 * time.Second, TLSHandshakeTimeout: 10 * time.Second}
	return &http.Client{Transport: tr, Timeout: 5 * time.Minute}, nil
}
