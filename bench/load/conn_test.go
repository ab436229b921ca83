package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// A client's connection is kept alive across requests, reads every answer
// whole (a body larger than its buffers, a POST's answer), and dials again
// when the server ends the connection after an answer.
func TestConnKeepsAliveAndRedials(t *testing.T) {
	var conns, requests atomic.Int64
	big := strings.Repeat("x", 100_000)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := requests.Add(1)
		if n%3 == 0 {
			w.Header().Set("Connection", "close")
		}
		body, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%d %s %s %s", n, r.Method, body, big)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.StartTLS()
	defer srv.Close()
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	k := newConn(srv.Listener.Addr().String(), &tls.Config{RootCAs: roots, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS13})
	defer k.close()
	for i := 1; i <= 7; i++ {
		method, body := http.MethodGet, ""
		if i%2 == 0 {
			method, body = http.MethodPost, "bundle"
		}
		req, err := http.NewRequestWithContext(t.Context(), method, srv.URL+"/api/v1/objects", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		status, _, got, err := k.do(req)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		if want := fmt.Sprintf("%d %s %s %s", i, method, body, big); status != http.StatusOK || string(got) != want {
			t.Fatalf("request %d: %d, %d bytes %.40q; want 200, %d bytes %.40q", i, status, len(got), got, len(want), want)
		}
	}
	// Requests 1–3 on the first connection, 4–6 on the second, 7 on a third.
	if n := conns.Load(); n != 3 {
		t.Errorf("the server saw %d connections for 7 requests closing after every third; want 3", n)
	}
}
