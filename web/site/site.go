// Package site composes Tearline's web interface: the frame and the
// analyst's screens (package web) with every role's screens (web/releaser,
// web/auditor, web/admin), as node/stack composes the node's services.
// tearline serve mounts what New returns.
package site

import (
	"log/slog"

	"github.com/tearline/tearline/node/stack"
	"github.com/tearline/tearline/web"
	"github.com/tearline/tearline/web/admin"
	"github.com/tearline/tearline/web/auditor"
	"github.com/tearline/tearline/web/releaser"
)

// New returns the whole web interface of n.
func New(n *stack.Node, log *slog.Logger) (*web.Server, error) {
	return web.New(n, log, releaser.Routes, auditor.Routes, admin.Routes)
}
