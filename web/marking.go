package web

import (
	"context"
	"fmt"
	"strings"

	"github.com/tearline/tearline/label"
	"github.com/tearline/tearline/node"
)

// A page's overall marking is the dominant label (label.Dominate) of every
// object it shows. Where none dominates (labels of different policies,
// releasabilities that do not intersect) it is the configured system-high
// marking; a page that shows no intelligence carries system-low. Each
// object shown carries its own portion mark.

// marking is a banner as a page shows it.
type marking struct {
	Text  string // the full banner
	Class string // the CSS class of its level's colour (levels.css)
}

// objectMark is one object's marking: its portion mark and full banner.
type objectMark struct {
	Portion string
	Banner  string
	Class   string
}

// marks collects the labels of what one page (or fragment) renders.
type marks struct {
	reg    *label.Registry
	labels []label.Label
	high   bool // something shown had no single dominant label
	any    bool
}

func (s *Server) newMarks() *marks { return &marks{reg: s.n.Registry()} }

// floor starts the page at a marking already shown (the banner of the page
// an htmx fragment is added to): the fragment's banner is never lower.
func (m *marks) floor(banner string) {
	if banner == "" {
		return
	}
	m.any = true
	if banner == m.reg.SystemHigh() {
		m.high = true
		return
	}
	l, err := m.reg.ParseBanner(banner)
	if err != nil {
		m.high = true // a banner we cannot read: assume the worst
		return
	}
	m.labels = append(m.labels, l)
}

// object records an object shown and returns its portion mark. Its labels
// are those of its access class: its own and the stricter labels of parts.
func (m *marks) object(ctx context.Context, n *node.Node, o node.Object) (objectMark, error) {
	c, err := n.Classes().Of(ctx, n.Store(), o.Class)
	if err != nil {
		return objectMark{}, fmt.Errorf("marking of %s: %w", o.ID, err)
	}
	m.any = true
	if len(c.Labels) == 0 {
		m.high = true
		return m.systemHighMark(), nil
	}
	l, err := label.Dominate(m.reg, c.Labels...)
	if err != nil {
		m.high = true
		return m.systemHighMark(), nil
	}
	m.labels = append(m.labels, l)
	return objectMark{Portion: m.reg.Portion(l), Banner: m.reg.Banner(l), Class: levelClass(l.Policy, l.Classification)}, nil
}

func (m *marks) systemHighMark() objectMark {
	hm := m.bannerOf(m.reg.SystemHigh())
	portion := "(" + hm.Text + ")"
	if l, err := m.reg.ParseBanner(hm.Text); err == nil {
		portion = m.reg.Portion(l)
	}
	return objectMark{Portion: portion, Banner: hm.Text, Class: hm.Class}
}

// banner is the page's overall marking.
func (m *marks) banner() marking {
	switch {
	case !m.any:
		return m.bannerOf(m.reg.SystemLow())
	case m.high:
		return m.bannerOf(m.reg.SystemHigh())
	}
	l, err := label.Dominate(m.reg, m.labels...)
	if err != nil {
		return m.bannerOf(m.reg.SystemHigh())
	}
	return marking{Text: m.reg.Banner(l), Class: levelClass(l.Policy, l.Classification)}
}

func (m *marks) bannerOf(banner string) marking {
	mk := marking{Text: banner, Class: "lvl-unknown"}
	if l, err := m.reg.ParseBanner(banner); err == nil {
		mk.Class = levelClass(l.Policy, l.Classification)
	}
	return mk
}

// levelClass names a level's CSS class; policy and level names are tokens
// of letters, digits and hyphens (label.NewRegistry checks).
func levelClass(policy, level string) string {
	return "lvl-" + strings.ToLower(policy) + "--" + strings.ToLower(level)
}
