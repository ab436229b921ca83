package label

import (
	"fmt"
	"regexp"
	"strings"
)

// Markings on screens and printouts (docs/UI.md): a portion mark before
// each object, e.g. "(NS//REL GBR,USA)", and banners whose colour says the
// level. Both come from the policy configuration (LevelConfig.Portion and
// Colour), with defaults for levels that set none.

var (
	colourRE  = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)
	portionRE = regexp.MustCompile(`^[A-Z0-9][A-Z0-9 -]{0,15}$`)
)

// markingOf checks and completes a level's portion and colour.
func markingOf(policy, level, banner string, lv LevelConfig) (LevelConfig, error) {
	out := LevelConfig{Name: level, Banner: banner, Portion: upperTrim(lv.Portion), Colour: strings.ToLower(strings.TrimSpace(lv.Colour))}
	if out.Portion == "" {
		for _, w := range strings.Fields(banner) {
			out.Portion += w[:1]
		}
	}
	if !portionRE.MatchString(out.Portion) {
		return out, fmt.Errorf("label config: policy %s: level %s: portion %q: want up to 16 letters, digits, spaces or hyphens", policy, level, lv.Portion)
	}
	if out.Colour != "" && !colourRE.MatchString(out.Colour) {
		return out, fmt.Errorf("label config: policy %s: level %s: colour %q: want #rrggbb", policy, level, lv.Colour)
	}
	return out, nil
}

// systemMarkings checks the configured system-high and system-low banners,
// or takes the first policy's highest and lowest levels.
func (r *Registry) systemMarkings(cfg Config) error {
	if len(cfg.Policies) == 0 {
		return nil
	}
	first := r.policies[upperTrim(cfg.Policies[0].Name)]
	r.systemHigh, r.systemLow = first.cfg.Levels[len(first.cfg.Levels)-1].Banner, first.cfg.Levels[0].Banner
	for _, m := range []struct {
		name string
		in   string
		out  *string
	}{{"system_high", cfg.SystemHigh, &r.systemHigh}, {"system_low", cfg.SystemLow, &r.systemLow}} {
		if m.in == "" {
			continue
		}
		l, err := r.ParseBanner(m.in)
		if err != nil {
			return fmt.Errorf("label config: %s: %w", m.name, err)
		}
		*m.out = r.Banner(l)
	}
	return nil
}

// SystemHigh is the banner of what no single label dominates.
func (r *Registry) SystemHigh() string { return r.systemHigh }

// SystemLow is the banner of a page that shows no intelligence.
func (r *Registry) SystemLow() string { return r.systemLow }

// Portion renders l's portion mark: the level's abbreviation, then its
// compartments, releasability and caveats, e.g. "(NS//HERON//REL GBR,USA)".
// Discipline, topic, TLP, grading and originator stay in the full banner.
func (r *Registry) Portion(l Label) string {
	l = r.Normalize(l)
	head := strings.TrimSpace(l.Policy + " " + l.Classification)
	if p, ok := r.policies[l.Policy]; ok {
		if i, ok := p.rank[l.Classification]; ok {
			head = p.cfg.Levels[i].Portion
		}
	}
	var b strings.Builder
	b.WriteString("(" + head)
	if len(l.Compartments) > 0 {
		b.WriteString("//" + strings.Join(l.Compartments, "/"))
	}
	if len(l.ReleasableTo) > 0 {
		b.WriteString("//REL " + strings.Join(l.ReleasableTo, ","))
	}
	for _, c := range l.Caveats {
		b.WriteString("//" + c)
	}
	b.WriteString(")")
	return b.String()
}

// defaultColours are banner colours by a level's place among its policy's
// levels, lowest to highest: green, purple, blue, red, orange (the
// convention of unclassified, restricted, confidential, secret, top
// secret banners).
var defaultColours = []string{"#007a33", "#502b85", "#0033a0", "#c8102e", "#ff8c00"}

// Colour returns the banner colour of a policy's level, "#rrggbb"; an
// unknown level is grey.
func (r *Registry) Colour(policy, level string) string {
	p, ok := r.policies[policy]
	if !ok {
		return "#555555"
	}
	i, ok := p.rank[level]
	if !ok {
		return "#555555"
	}
	if c := p.cfg.Levels[i].Colour; c != "" {
		return c
	}
	n := len(p.cfg.Levels)
	if n == 1 {
		return defaultColours[0]
	}
	return defaultColours[i*(len(defaultColours)-1)/(n-1)]
}
