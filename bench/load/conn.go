package main

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"time"
)

// conn is one client's keep-alive HTTPS connection to the node: HTTP/1.1
// written and read on the TLS connection by the calling goroutine itself.
// net/http's Transport hands every request to two goroutines of its own
// (the connection's reader and writer) and back, three wake-ups a request,
// which on the node's two cores cost the 32 client processes more CPU per
// read than the node spent answering it (BENCHMARKS.md, "Reads under
// load"). What goes over the wire is the same: one connection per client,
// requests one after another, each answer read whole.
type conn struct {
	addr string // host:port
	tls  *tls.Config
	c    *tls.Conn // nil until dialled, and after an error
	br   *bufio.Reader
	bw   *bufio.Writer
	body bytes.Buffer // the last answer's body, reused
}

func newConn(addr string, cfg *tls.Config) *conn {
	return &conn{addr: addr, tls: cfg}
}

// requestTimeout bounds one request, as http.Client.Timeout did.
const requestTimeout = time.Minute

// do sends req and reads its answer: the status and the body, which stays
// valid until the next call. A failed request closes the connection; the
// next one dials again.
func (k *conn) do(req *http.Request) (int, string, []byte, error) {
	if k.c == nil {
		d := net.Dialer{Timeout: requestTimeout}
		c, err := tls.DialWithDialer(&d, "tcp", k.addr, k.tls)
		if err != nil {
			return 0, "", nil, fmt.Errorf("dial %s: %w", k.addr, err)
		}
		k.c, k.br, k.bw = c, bufio.NewReader(c), bufio.NewWriter(c)
	}
	status, text, body, err := k.roundTrip(req)
	if err != nil {
		k.close()
	}
	return status, text, body, err
}

func (k *conn) roundTrip(req *http.Request) (int, string, []byte, error) {
	if err := k.c.SetDeadline(time.Now().Add(requestTimeout)); err != nil {
		return 0, "", nil, err
	}
	if err := req.Write(k.bw); err != nil {
		return 0, "", nil, fmt.Errorf("write request: %w", err)
	}
	if err := k.bw.Flush(); err != nil {
		return 0, "", nil, fmt.Errorf("write request: %w", err)
	}
	resp, err := http.ReadResponse(k.br, req)
	if err != nil {
		return 0, "", nil, fmt.Errorf("read answer: %w", err)
	}
	k.body.Reset()
	_, err = k.body.ReadFrom(resp.Body)
	resp.Body.Close()
	if err != nil {
		return 0, "", nil, fmt.Errorf("read answer: %w", err)
	}
	if resp.Close {
		// The node ends the connection after this answer: the next
		// request dials a new one.
		k.close()
	}
	return resp.StatusCode, resp.Status, k.body.Bytes(), nil
}

func (k *conn) close() {
	if k.c != nil {
		k.c.Close()
		k.c = nil
	}
}
