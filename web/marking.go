package web

import (
	"context"
	"fmt"
	"strings"

	"github.com/tearline/tearline/label"
	"github.com/tearline/tearline/node"
)

// A page's overall Marking is the dominant label (label.Dominate) of every
// object it shows. Where none dominates (labels of different policies,
// releasabilities that do not intersect) it is the configured system-high
// Marking; a page that shows no intelligence carries system-low. Each
// object shown carries its own portion mark.

// Marking is a banner as a page shows it.
type Marking struct {
	Text  string // the full banner
	Class string // the CSS class of its level's colour (levels.css)
}

// ObjectMark is one object's Marking: its portion mark and full banner.
type ObjectMark struct {
	Portion string
	Banner  string
	Class   string
}

// marks collects the labels of what one page (or fragment) renders.
type Marks struct {
	reg    *label.Registry
	labels []label.Label
	high   bool // something shown had no single dominant label
	any    bool
}

func (s *Server) NewMarks() *Marks { return &Marks{reg: s.n.Registry()} }

// floor starts the page at a Marking already shown (the banner of the page
// an htmx fragment is added to): the fragment's banner is never lower.
func (m *Marks) Floor(banner string) {
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
func (m *Marks) Object(ctx context.Context, n *node.Node, o node.Object) (ObjectMark, error) {
	c, err := n.Classes().Of(ctx, n.Store(), o.Class)
	if err != nil {
		return ObjectMark{}, fmt.Errorf("Marking of %s: %w", o.ID, err)
	}
	m.any = true
	if len(c.Labels) == 0 {
		m.high = true
		return m.SystemHighMark(), nil
	}
	l, err := label.Dominate(m.reg, c.Labels...)
	if err != nil {
		m.high = true
		return m.SystemHighMark(), nil
	}
	m.labels = append(m.labels, l)
	return ObjectMark{Portion: m.reg.Portion(l), Banner: m.reg.Banner(l), Class: levelClass(l.Policy, l.Classification)}, nil
}

func (m *Marks) SystemHighMark() ObjectMark {
	hm := m.BannerOf(m.reg.SystemHigh())
	portion := "(" + hm.Text + ")"
	if l, err := m.reg.ParseBanner(hm.Text); err == nil {
		portion = m.reg.Portion(l)
	}
	return ObjectMark{Portion: portion, Banner: hm.Text, Class: hm.Class}
}

// banner is the page's overall Marking.
func (m *Marks) Banner() Marking {
	switch {
	case !m.any:
		return m.BannerOf(m.reg.SystemLow())
	case m.high:
		return m.BannerOf(m.reg.SystemHigh())
	}
	l, err := label.Dominate(m.reg, m.labels...)
	if err != nil {
		return m.BannerOf(m.reg.SystemHigh())
	}
	return Marking{Text: m.reg.Banner(l), Class: levelClass(l.Policy, l.Classification)}
}

func (m *Marks) BannerOf(banner string) Marking {
	mk := Marking{Text: banner, Class: "lvl-unknown"}
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

// SystemHigh marks the page system-high whatever it shows: audit and
// ledger metadata spans every level.
func (m *Marks) SystemHigh() { m.high, m.any = true, true }
