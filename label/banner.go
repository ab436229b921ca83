package label

import (
	"fmt"
	"strings"
)

// Banner segment keywords. The order of the constants is the canonical
// rendering order after the classification marking.
const (
	kwCompartments = "COMPARTMENTS"
	kwRelTo        = "REL TO"
	kwTLP          = "TLP:"
	kwDisc         = "DISC"
	kwTopic        = "TOPIC"
	kwGrade        = "GRADE"
	kwOrig         = "ORIG"

	bannerSep = " // "
	listSep   = ", "
)

// isReserved reports whether w starts a keyword segment, so that it cannot
// also be a caveat.
func isReserved(w string) bool {
	switch w {
	case "COMPARTMENTS", "REL", "TLP", "DISC", "TOPIC", "GRADE", "ORIG":
		return true
	}
	return false
}

// Banner renders l (after Normalize) in canonical form:
//
//	<level banner> [// COMPARTMENTS A, B] [// REL TO X, Y] [// <caveat>]...
//	[// TLP:<level>] [// DISC D, E] [// TOPIC T, U] [// GRADE B2] [// ORIG XXX]
//
// Lists and caveats are sorted; ORIG is left out when it is implied by the
// owner of a national policy. A label whose policy or level is unknown is
// rendered with "<POLICY> <LEVEL>" as its first segment, which ParseBanner
// will refuse: validate labels before showing them.
func (r *Registry) Banner(l Label) string {
	l = r.Normalize(l)
	var b strings.Builder
	p, ok := r.policies[l.Policy]
	head := ""
	if ok {
		if i, ok := p.rank[l.Classification]; ok {
			head = p.cfg.Levels[i].Banner
		}
	}
	if head == "" {
		head = strings.TrimSpace(l.Policy + " " + l.Classification)
	}
	b.WriteString(head)
	list := func(kw string, items []string) {
		if len(items) == 0 {
			return
		}
		b.WriteString(bannerSep)
		b.WriteString(kw)
		b.WriteByte(' ')
		b.WriteString(strings.Join(items, listSep))
	}
	single := func(s string) {
		b.WriteString(bannerSep)
		b.WriteString(s)
	}
	list(kwCompartments, l.Compartments)
	list(kwRelTo, l.ReleasableTo)
	for _, c := range l.Caveats {
		single(c)
	}
	if l.TLP != "" {
		single(kwTLP + l.TLP)
	}
	list(kwDisc, l.Disciplines)
	list(kwTopic, l.Topics)
	if l.Grading != "" {
		single(kwGrade + " " + l.Grading)
	}
	if l.Originator != "" && !(ok && p.cfg.Owner == l.Originator) {
		single(kwOrig + " " + l.Originator)
	}
	return b.String()
}

// ParseBanner parses a banner (see Banner for the grammar; docs/LABELS.md
// has the EBNF). Matching is case-insensitive, white space around "//",
// after commas and inside keywords is free, and segments after the first
// may come in any order but each at most once. The result is normalised and
// validated; an error names the segment or field that was not understood.
func (r *Registry) ParseBanner(s string) (Label, error) {
	segs := strings.Split(s, "//")
	head := collapse(segs[0])
	ref, ok := r.banners[head]
	if !ok {
		return Label{}, fmt.Errorf("label: banner: classification marking %q not understood", strings.TrimSpace(segs[0]))
	}
	l := Label{Policy: ref.policy, Classification: ref.level}
	seen := make(map[string]bool, len(segs))
	once := func(kind, raw string) error {
		if seen[kind] {
			return fmt.Errorf("label: banner: segment %q repeats %s", strings.TrimSpace(raw), kind)
		}
		seen[kind] = true
		return nil
	}
	for _, raw := range segs[1:] {
		seg := collapse(raw)
		if seg == "" {
			return Label{}, fmt.Errorf("label: banner: empty segment in %q", s)
		}
		var err error
		switch {
		case hasKeyword(seg, kwCompartments):
			if err = once(kwCompartments, raw); err == nil {
				l.Compartments, err = parseList(kwCompartments, seg, raw)
			}
		case hasKeyword(seg, kwRelTo):
			if err = once(kwRelTo, raw); err == nil {
				l.ReleasableTo, err = parseList(kwRelTo, seg, raw)
			}
		case strings.HasPrefix(seg, kwTLP):
			if err = once(kwTLP, raw); err == nil {
				l.TLP = strings.TrimSpace(seg[len(kwTLP):])
				if l.TLP == "" {
					err = fmt.Errorf("label: banner: segment %q has no TLP level", strings.TrimSpace(raw))
				}
			}
		case hasKeyword(seg, kwDisc):
			if err = once(kwDisc, raw); err == nil {
				l.Disciplines, err = parseList(kwDisc, seg, raw)
			}
		case hasKeyword(seg, kwTopic):
			if err = once(kwTopic, raw); err == nil {
				l.Topics, err = parseList(kwTopic, seg, raw)
			}
		case hasKeyword(seg, kwGrade):
			if err = once(kwGrade, raw); err == nil {
				l.Grading, err = parseWord(kwGrade, seg, raw)
			}
		case hasKeyword(seg, kwOrig):
			if err = once(kwOrig, raw); err == nil {
				l.Originator, err = parseWord(kwOrig, seg, raw)
			}
		default:
			if _, known := r.caveats[seg]; !known {
				return Label{}, fmt.Errorf("label: banner: segment %q not understood (not a keyword segment or a configured caveat)", strings.TrimSpace(raw))
			}
			err = once("caveat "+seg, raw)
			l.Caveats = append(l.Caveats, seg)
		}
		if err != nil {
			return Label{}, err
		}
	}
	l = r.Normalize(l)
	if err := r.Validate(l); err != nil {
		return Label{}, fmt.Errorf("label: banner %q: %w", strings.TrimSpace(s), err)
	}
	return l, nil
}

// hasKeyword reports whether the collapsed segment seg is kw or starts with
// kw followed by a space.
func hasKeyword(seg, kw string) bool {
	return seg == kw || strings.HasPrefix(seg, kw+" ")
}

func parseList(kw, seg, raw string) ([]string, error) {
	rest := strings.TrimSpace(seg[len(kw):])
	if rest == "" {
		return nil, fmt.Errorf("label: banner: segment %q: empty %s list", strings.TrimSpace(raw), kw)
	}
	items := strings.Split(rest, ",")
	for i, it := range items {
		it = strings.TrimSpace(it)
		if it == "" {
			return nil, fmt.Errorf("label: banner: segment %q: empty entry in %s list", strings.TrimSpace(raw), kw)
		}
		items[i] = it
	}
	return items, nil
}

func parseWord(kw, seg, raw string) (string, error) {
	rest := strings.TrimSpace(seg[len(kw):])
	if rest == "" || strings.ContainsAny(rest, " ,") {
		return "", fmt.Errorf("label: banner: segment %q: %s takes exactly one value", strings.TrimSpace(raw), kw)
	}
	return rest, nil
}
