package main

import (
	"log/slog"

	"github.com/tearline/tearline/api"
	"github.com/tearline/tearline/node/stack"
	"github.com/tearline/tearline/web"
	"github.com/tearline/tearline/web/site"
)

// uiOptions mounts the web interface (package web) on the API's listener:
// under /ui/, with / redirecting there.
func uiOptions(n *stack.Node, log *slog.Logger) ([]api.Option, error) {
	ui, err := site.New(n, log)
	if err != nil {
		return nil, err
	}
	return []api.Option{api.WithHandler(web.Prefix, ui), api.WithHandler("GET /{$}", ui)}, nil
}
