package api_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tearline/tearline/api"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/stack"
	"github.com/tearline/tearline/pki"
	"github.com/tearline/tearline/store/backend"
	"github.com/tearline/tearline/trust"
)

// Federation tests: real nodes, real certificates made through the same
// code paths as the CLI, served by api.Serve on a loopback listener.

// alliance is a CA and the nodes it issued certificates to.
type alliance struct {
	ca *pki.CA
}

func newAlliance(t *testing.T, name string) *alliance {
	t.Helper()
	ca, err := pki.NewCA(pki.Subject{Name: name, Org: "Alliance"}, 24*time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return &alliance{ca: ca}
}

// initFedNode makes a node whose TLS certificate ca issued (self-signed
// with ca nil).
func initFedNode(t *testing.T, name, country string, ca *pki.CA) string {
	t.Helper()
	return initFedNodeOn(t, name, country, ca, "")
}

// initFedNodeOn is initFedNode with the store at storeURL ("" for SQLite
// in the directory, else a postgres:// URL).
func initFedNodeOn(t *testing.T, name, country string, ca *pki.CA, storeURL string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	if err := node.Init(context.Background(), dir, node.InitOptions{Name: name, Country: country, CA: ca, CreateStore: backend.Creator(storeURL)}); err != nil {
		t.Fatalf("Init %s: %v", name, err)
	}
	return dir
}

// addPeer adds the node in peerDir to the node in dir, as `peer add
// --identity` does.
func addPeer(t *testing.T, dir, peerDir string) {
	t.Helper()
	id, err := node.ReadIdentity(peerDir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := trust.AddPeer(dir, trust.PeerSpec{Name: id.Name, CertPEM: []byte(id.CertPEM), SigningKey: id.SigningKey}, time.Now()); err != nil {
		t.Fatalf("AddPeer %s: %v", id.Name, err)
	}
}

// serveNode opens the node in dir and serves it with api.Serve on a loopback
// port until the test ends. The listener is open on return, so connections
// need no waiting.
func serveNode(t *testing.T, dir string) (*stack.Node, string) {
	t.Helper()
	return serveNodeOn(t, dir, "")
}

// serveNodeOn is serveNode for a node whose store is at storeURL.
func serveNodeOn(t *testing.T, dir, storeURL string) (*stack.Node, string) {
	t.Helper()
	n, err := stack.Open(context.Background(), dir, node.Options{OpenStore: backend.Opener(storeURL)})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- api.Serve(ctx, n, ln, slog.New(slog.DiscardHandler)) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
		n.Close()
	})
	return n, "https://" + ln.Addr().String()
}

// keyPair loads a node's TLS certificate, as its client presents it.
func keyPair(t *testing.T, dir string) tls.Certificate {
	t.Helper()
	c, err := trust.LoadTLSCertificate(dir)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// issued makes a key and a certificate from ca with the given validity.
func issued(t *testing.T, ca *pki.CA, name string, notBefore, notAfter time.Time) tls.Certificate {
	t.Helper()
	k, err := pki.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	c, err := ca.Issue(pki.Leaf{Subject: pki.Subject{Name: name, Country: "ZZZ"}, NotBefore: notBefore, NotAfter: notAfter}, k.Public(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{c.Raw}, PrivateKey: k, Leaf: c}
}

// client is an HTTPS client that trusts the server's node (by its trust
// bundle or its own certificate) and presents certs, if any.
func client(t *testing.T, serverDir string, certs ...tls.Certificate) *http.Client {
	t.Helper()
	roots := x509.NewCertPool()
	for _, f := range []string{node.TrustCAFile, node.TLSCert} {
		if b, err := os.ReadFile(filepath.Join(serverDir, filepath.FromSlash(f))); err == nil {
			roots.AppendCertsFromPEM(b)
		}
	}
	c := &tls.Config{RootCAs: roots}
	if len(certs) > 0 {
		// Present the certificate whatever CAs the server names: crypto/tls
		// would otherwise send none when its issuer is not among them, and
		// the stranger would look like a client without a certificate.
		c.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &certs[0], nil }
	}
	return tlsClient(c)
}

func tlsClient(c *tls.Config) *http.Client {
	// No keep-alive: each request is its own handshake, so each tests the
	// trust as it is at that moment.
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: c, DisableKeepAlives: true}}
}

func getJSON(t *testing.T, c *http.Client, url, token string) (int, map[string]any, error) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	var body map[string]any
	b, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(b, &body)
	return resp.StatusCode, body, nil
}

// wantHandshakeRefused asserts that err is the server's TLS alert: the
// connection was refused in the handshake, no HTTP status was ever sent.
func wantHandshakeRefused(t *testing.T, what string, code int, err error) {
	t.Helper()
	var op *net.OpError
	if err == nil {
		t.Fatalf("%s: got HTTP %d, want the TLS handshake refused", what, code)
	}
	if !errors.As(err, &op) || op.Op != "remote error" || !strings.Contains(err.Error(), "tls:") {
		t.Fatalf("%s: got error %v, want a TLS alert from the server", what, err)
	}
}

func TestFederationHandshake(t *testing.T) {
	al := newAlliance(t, "Alliance CA")
	gbr := initFedNode(t, "gbr-node", "GBR", al.ca)
	fra := initFedNode(t, "fra-node", "FRA", al.ca)
	deu := initFedNode(t, "deu-node", "DEU", al.ca) // an alliance node, not gbr's peer
	addPeer(t, gbr, fra)
	addPeer(t, fra, gbr)
	n, base := serveNode(t, gbr)
	_, tok, err := n.Users.AddUser(context.Background(), node.ConsoleAdmin(), adminSpec())
	if err != nil {
		t.Fatal(err)
	}
	hello := base + "/federation/v1/hello"

	t.Run("partner admitted and named", func(t *testing.T) {
		// fra's own federation client, pinned to gbr.
		c, err := trust.FederationClient(fra, "gbr-node")
		if err != nil {
			t.Fatal(err)
		}
		code, body, err := getJSON(t, c, hello, "")
		if err != nil || code != http.StatusOK {
			t.Fatalf("hello: %d %v %v", code, body, err)
		}
		if body["peer"] != "fra-node" || body["country"] != "FRA" || body["node"] != "gbr-node" {
			t.Fatalf("hello answered %v", body)
		}
	})

	t.Run("federation client refuses the wrong server", func(t *testing.T) {
		// gbr is valid under the CA, but fra expects deu there.
		addPeer(t, fra, deu)
		c, err := trust.FederationClient(fra, "deu-node")
		if err != nil {
			t.Fatal(err)
		}
		if code, _, err := getJSON(t, c, hello, ""); err == nil || !strings.Contains(err.Error(), "not peer deu-node's") {
			t.Fatalf("got %d, %v; want the client to refuse gbr's certificate", code, err)
		}
	})

	t.Run("alliance node that is no peer gets 403", func(t *testing.T) {
		code, _, err := getJSON(t, client(t, gbr, keyPair(t, deu)), hello, "")
		if err != nil || code != http.StatusForbidden {
			t.Fatalf("got %d, %v; want 403", code, err)
		}
	})

	t.Run("stranger self-signed refused in handshake", func(t *testing.T) {
		stranger := initFedNode(t, "stranger", "ZZZ", nil)
		code, _, err := getJSON(t, client(t, gbr, keyPair(t, stranger)), hello, "")
		wantHandshakeRefused(t, "self-signed", code, err)
		// Not even a user route with a valid token gets through.
		code, _, err = getJSON(t, client(t, gbr, keyPair(t, stranger)), base+"/api/v1/whoami", tok)
		wantHandshakeRefused(t, "self-signed, user route", code, err)
	})

	t.Run("other CA refused in handshake", func(t *testing.T) {
		other := newAlliance(t, "Other CA")
		now := time.Now()
		code, _, err := getJSON(t, client(t, gbr, issued(t, other.ca, "fra-node", now.Add(-time.Hour), now.Add(time.Hour))), hello, "")
		wantHandshakeRefused(t, "other CA", code, err)
	})

	t.Run("expired refused in handshake", func(t *testing.T) {
		now := time.Now()
		code, _, err := getJSON(t, client(t, gbr, issued(t, al.ca, "expired", now.Add(-48*time.Hour), now.Add(-24*time.Hour))), hello, "")
		wantHandshakeRefused(t, "expired", code, err)
	})

	t.Run("no client certificate", func(t *testing.T) {
		c := client(t, gbr) // a stock TAXII or API client
		if code, _, err := getJSON(t, c, hello, ""); err != nil || code != http.StatusUnauthorized {
			t.Fatalf("partner route: got %d, %v; want 401", code, err)
		}
		if code, _, err := getJSON(t, c, hello, tok); err != nil || code != http.StatusUnauthorized {
			t.Fatalf("partner route with a user token: got %d, %v; want 401", code, err)
		}
		code, body, err := getJSON(t, c, base+"/api/v1/whoami", tok)
		if err != nil || code != http.StatusOK || body["name"] != "admin" {
			t.Fatalf("user route: got %d %v, %v", code, body, err)
		}
		if code, _, err := getJSON(t, c, base+"/api/v1/whoami", ""); err != nil || code != http.StatusUnauthorized {
			t.Fatalf("user route without token: got %d, %v", code, err)
		}
	})

	t.Run("partner certificate does not replace a token", func(t *testing.T) {
		code, _, err := getJSON(t, client(t, gbr, keyPair(t, fra)), base+"/api/v1/whoami", "")
		if err != nil || code != http.StatusUnauthorized {
			t.Fatalf("got %d, %v; want 401", code, err)
		}
	})

	t.Run("TLS 1.2 refused", func(t *testing.T) {
		c := client(t, gbr)
		c.Transport.(*http.Transport).TLSClientConfig.MaxVersion = tls.VersionTLS12
		code, _, err := getJSON(t, c, base+"/healthz", "")
		wantHandshakeRefused(t, "TLS 1.2", code, err)
	})
}

func TestFederationRevokedCertificate(t *testing.T) {
	al := newAlliance(t, "Alliance CA")
	gbr := initFedNode(t, "gbr-node", "GBR", al.ca)
	fra := initFedNode(t, "fra-node", "FRA", al.ca)
	addPeer(t, gbr, fra)
	_, base := serveNode(t, gbr)
	hello := base + "/federation/v1/hello"

	// One connection, kept: it is admitted before the revocation.
	roots := x509.NewCertPool()
	roots.AddCert(al.ca.Cert)
	conn, err := tls.Dial("tcp", strings.TrimPrefix(base, "https://"), &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{keyPair(t, fra)}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	br := bufio.NewReader(conn)
	ask := func() int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, hello, nil)
		if err := req.Write(conn); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(br, req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := ask(); code != http.StatusOK {
		t.Fatalf("before revocation: %d", code)
	}

	// The running listener sees the change at the next handshake: no restart.
	leaf, err := pki.ParseCert([]byte(mustIdentity(t, fra).CertPEM))
	if err != nil {
		t.Fatal(err)
	}
	if err := trust.RevokeCert(gbr, leaf, "key compromise", time.Now()); err != nil {
		t.Fatal(err)
	}
	code, _, err := getJSON(t, client(t, gbr, keyPair(t, fra)), hello, "")
	wantHandshakeRefused(t, "revoked", code, err)
	// The connection admitted before is refused from its next request on.
	if code := ask(); code != http.StatusForbidden {
		t.Fatalf("kept connection after revocation: %d, want 403", code)
	}
}

func TestFederationPinnedSelfSignedPeer(t *testing.T) {
	// Two nodes made by `init` alone, no CA: each pins the other's
	// certificate.
	gbr := initFedNode(t, "gbr-node", "GBR", nil)
	nld := initFedNode(t, "nld-node", "NLD", nil)
	addPeer(t, gbr, nld)
	addPeer(t, nld, gbr)
	_, base := serveNode(t, gbr)
	hello := base + "/federation/v1/hello"

	c, err := trust.FederationClient(nld, "gbr-node")
	if err != nil {
		t.Fatal(err)
	}
	code, body, err := getJSON(t, c, hello, "")
	if err != nil || code != http.StatusOK || body["peer"] != "nld-node" {
		t.Fatalf("hello: %d %v %v", code, body, err)
	}

	// A pinned certificate is trusted as itself, not as an issuer: a
	// certificate nld's key signs for another name is a stranger.
	kb, err := os.ReadFile(filepath.Join(nld, filepath.FromSlash(node.TLSKey)))
	if err != nil {
		t.Fatal(err)
	}
	cb, err := os.ReadFile(filepath.Join(nld, filepath.FromSlash(node.TLSCert)))
	if err != nil {
		t.Fatal(err)
	}
	nldCA, err := pki.LoadCA(cb, kb)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	code, _, err = getJSON(t, client(t, gbr, issued(t, nldCA, "mallory", now.Add(-time.Hour), now.Add(time.Hour))), hello, "")
	wantHandshakeRefused(t, "issued by a pinned peer", code, err)
}

func TestFederationPeerRemovedTakesEffect(t *testing.T) {
	al := newAlliance(t, "Alliance CA")
	gbr := initFedNode(t, "gbr-node", "GBR", al.ca)
	fra := initFedNode(t, "fra-node", "FRA", al.ca)
	addPeer(t, gbr, fra)
	_, base := serveNode(t, gbr)
	c := client(t, gbr, keyPair(t, fra))
	if code, _, err := getJSON(t, c, base+"/federation/v1/hello", ""); err != nil || code != http.StatusOK {
		t.Fatalf("before: %d %v", code, err)
	}
	if err := trust.RemovePeer(gbr, "fra-node"); err != nil {
		t.Fatal(err)
	}
	// Still a valid alliance certificate, no longer a peer.
	if code, _, err := getJSON(t, c, base+"/federation/v1/hello", ""); err != nil || code != http.StatusForbidden {
		t.Fatalf("after: %d %v, want 403", code, err)
	}
}

func mustIdentity(t *testing.T, dir string) node.Identity {
	t.Helper()
	id, err := node.ReadIdentity(dir)
	if err != nil {
		t.Fatal(err)
	}
	return id
}
