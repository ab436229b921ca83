package api

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are served on a listener of their own, never on the public one:
// counts of requests and ingests by outcome say what a node holds and how
// busy it is, which is itself something to keep from whoever can reach the
// API. The listener is the operator's (loopback by default, the
// metrics_listen setting), as Prometheus exporters usually are.

// Option adjusts Serve.
type Option func(*serveOptions)

type serveOptions struct {
	reg    *prometheus.Registry
	mounts []mount
}

type mount struct {
	pattern string
	h       http.Handler
}

// WithHandler mounts h at pattern on the same listener, beside the API
// (the web interface under /ui/); Routes lists it.
func WithHandler(pattern string, h http.Handler) Option {
	return func(o *serveOptions) { o.mounts = append(o.mounts, mount{pattern, h}) }
}

// WithRegistry makes Serve register the API's metrics in reg, to be served
// by ServeMetrics; without it they are kept in a registry nobody serves.
func WithRegistry(reg *prometheus.Registry) Option {
	return func(o *serveOptions) { o.reg = reg }
}

// ServeMetrics serves reg over plain HTTP at /metrics on ln until ctx
// ends.
func ServeMetrics(ctx context.Context, reg *prometheus.Registry, ln net.Listener, log *slog.Logger) error {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		MaxHeaderBytes: 16 << 10, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug)}
	return serveUntil(ctx, srv, ln, 5*time.Second)
}
