package api

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/tearline/tearline/federation"
	"github.com/tearline/tearline/node/stack"
	"github.com/tearline/tearline/trust"
)

// Serve serves the API for n over HTTPS with the node's certificate on ln
// until ctx ends, then shuts down gracefully.
func Serve(ctx context.Context, n *stack.Node, ln net.Listener, log *slog.Logger, opts ...Option) error {
	var o serveOptions
	for _, f := range opts {
		f(&o)
	}
	cert, err := trust.LoadTLSCertificate(n.Dir())
	if err != nil {
		ln.Close() // the caller handed it over: a failed start must not keep the port
		return fmt.Errorf("serve: %w", err)
	}
	// One listener for people and partners: TLS 1.3, client certificates
	// verified in the handshake when given (package federation, package trust).
	ts := trust.NewStore(n.Dir())
	if _, err := ts.Current(); err != nil {
		ln.Close()
		return fmt.Errorf("serve: %w", err)
	}
	a := New(n, log, o.reg)
	for _, m := range o.mounts {
		a.Handle(m.pattern, m.h)
	}
	srv := &http.Server{
		Handler:           federation.WithPeer(identifyPeer(ts), log, a),
		TLSConfig:         ts.ServerConfig(cert),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       5 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
	return serveUntil(ctx, srv, tls.NewListener(ln, srv.TLSConfig), 10*time.Second)
}

// serveUntil serves srv on ln until ctx ends, then shuts it down, giving
// requests in flight grace to finish.
func serveUntil(ctx context.Context, srv *http.Server, ln net.Listener, grace time.Duration) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := srv.Shutdown(shut); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
