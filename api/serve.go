package api

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"github.com/tearline/tearline/node"
)

// Serve serves the API for n over HTTPS with the node's certificate on ln
// until ctx ends, then shuts down gracefully.
func Serve(ctx context.Context, n *node.Node, ln net.Listener, log *slog.Logger) error {
	cert, err := tls.LoadX509KeyPair(filepath.Join(n.Dir(), node.TLSCert), filepath.Join(n.Dir(), node.TLSKey))
	if err != nil {
		return fmt.Errorf("serve: node certificate: %w", err)
	}
	srv := &http.Server{
		Handler:           New(n, log, nil),
		TLSConfig:         &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}},
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       5 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(tls.NewListener(ln, srv.TLSConfig)) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shut); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
