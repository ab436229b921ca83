package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/tearline/tearline/binding"
	"github.com/tearline/tearline/jcs"
	"github.com/tearline/tearline/label"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/delivery"
	"github.com/tearline/tearline/store"
)

// objectPages shows one object (/ui/objects/{id}): its properties laid out
// for its type, its labels and the bindings that sign them, its versions
// and the difference between two, what is one hop away (relationships,
// sightings) as a table and a small graph, where it came from, and for
// those who read the ledger where it went. Everything is read as the user
// through node methods, so what they may not read is missing, and a
// neighbour they may not read leaves no trace.
type objectPages struct{ *Server }

// The neighbourhood read for a page: relationships and sightings read to
// find those that name the object, and the neighbours shown (the graph
// draws the first graphNodes until expanded).
const (
	objectScan     = 1000
	maxNeighbours  = 100
	graphNodes     = 12
	maxLedgerShown = 100
)

type field struct {
	Key, Value string
	Pre        bool       // shown preformatted (a pattern, JSON)
	Text       bool       // prose: its line breaks kept, in the page's font
	Pairs      []keyValue // a dictionary of strings (hashes): one line each
	Refs       []Row      // references the user may read
}

type keyValue struct{ Key, Value string }

type labelView struct {
	Mark      ObjectMark
	Selectors string // a part label's selectors; "" for the whole object
}

type bindingState struct {
	bindingView
	Verified bool
	Problem  string
}

type timelineEntry struct {
	versionView
	Instance int64
	Current  bool
}

type diffRow struct{ Key, A, B string }

type neighbour struct {
	Other Row
	Via   Row    // the relationship or sighting
	Kind  string // relationship type, or "sighting"
	Out   bool   // the object is the relationship's source
	X, Y  float64
	TX    float64
}

type wentRow struct {
	Party, Agreement, Outcome, State, By, At, Delivery, Reasons string
	Tearline                                                    *Row
}

type provenanceView struct {
	Originator, ReceivedFrom, ReceivedAt string
	Hops                                 []store.Hop
	DerivedFrom                          *Row
	DerivedVersion                       string
}

type objectPageData struct {
	Row
	Originator   string
	Revoked      bool
	Instances    int
	Summary      []field
	Props        []prop
	Labels       []labelView
	Bindings     []bindingState
	Timeline     []timelineEntry
	DiffA        string
	DiffB        string
	Diff         []diffRow
	DiffAsked    bool
	Neighbours   []neighbour
	Graph        []neighbour // the first graphNodes, drawn
	MoreURL      string      // expands the graph and table: the whole page, without htmx
	MoreFragment string      // the same, the section alone for htmx, banners raised to cover the page so far
	Capped       bool
	Sightings    []neighbour
	Provenance   *provenanceView
	Went         []wentRow
	WentShown    bool
}

func (op *objectPages) page(w http.ResponseWriter, r *http.Request) {
	ctx, p := r.Context(), Principal(r)
	o, err := op.n.Get(ctx, p, r.PathValue("id"))
	if err != nil {
		op.Fail(w, r, err)
		return
	}
	m := op.NewMarks()
	d, err := op.build(ctx, r, m, o)
	if err != nil {
		op.Fail(w, r, err)
		return
	}
	banner := m.Banner()
	if d.MoreURL != "" {
		d.MoreFragment = d.MoreURL + "?" + url.Values{"m": {banner.Text}}.Encode()
		d.MoreURL = Prefix + "objects/" + o.ID + "?neighbours=all#neighbours"
	}
	// The title leads with the object's portion mark: it leaves the marked
	// page for tabs, history and bookmarks.
	op.Render(w, http.StatusOK, "object", "", op.ViewFor(r, d.Mark.Portion+" "+d.Name, banner, d))
}

// neighbours answers htmx's "Show all": the neighbourhood section again,
// uncapped up to maxNeighbours, with both banners raised out of band to
// cover it and the page it joins (m=).
func (op *objectPages) neighbours(w http.ResponseWriter, r *http.Request) {
	ctx, p := r.Context(), Principal(r)
	o, err := op.n.Get(ctx, p, r.PathValue("id"))
	if err != nil {
		op.Fail(w, r, err)
		return
	}
	m := op.NewMarks()
	m.Floor(r.URL.Query().Get("m"))
	rw, err := op.Row(r, m, o)
	if err != nil {
		op.Fail(w, r, err)
		return
	}
	d := &objectPageData{Row: rw}
	if err := op.neighbourhood(ctx, r, m, o, d, maxNeighbours); err != nil {
		op.Fail(w, r, err)
		return
	}
	op.Render(w, http.StatusOK, "object", "neighbours-fragment", op.ViewFor(r, "", m.Banner(), d))
}

func (op *objectPages) build(ctx context.Context, r *http.Request, m *Marks, o node.Object) (*objectPageData, error) {
	p := Principal(r)
	rw, err := op.Row(r, m, o)
	if err != nil {
		return nil, err
	}
	rs, err := op.ReadRefs(ctx, p, o.Raw)
	if err != nil {
		return nil, err
	}
	d := &objectPageData{Row: rw, Originator: o.Originator, Revoked: o.Revoked, Instances: o.Instances}
	redacted := rs.Redact(o.Raw)
	d.Props = Props(redacted)
	if d.Summary, err = op.summary(r, m, o.Type, redacted, rs); err != nil {
		return nil, err
	}
	if err := op.labelsAndBindings(ctx, p, m, o, d); err != nil {
		return nil, err
	}
	if err := op.timeline(ctx, r, m, o, d); err != nil {
		return nil, err
	}
	limit := graphNodes
	if r.URL.Query().Get("neighbours") == "all" {
		limit = maxNeighbours
	}
	if err := op.neighbourhood(ctx, r, m, o, d, limit); err != nil {
		return nil, err
	}
	if err := op.provenance(ctx, r, m, o, d); err != nil {
		return nil, err
	}
	if err := op.went(ctx, r, m, o, d); err != nil {
		return nil, err
	}
	return d, nil
}

// typeFields are the properties laid out first for each type, in order;
// the full property table follows for every type, known or not.
var typeFields = map[string][]string{
	"indicator":         {"name", "description", "pattern", "pattern_type", "pattern_version", "indicator_types", "valid_from", "valid_until", "kill_chain_phases"},
	"report":            {"name", "description", "published", "report_types", "object_refs"},
	"location":          {"name", "description", "latitude", "longitude", "precision", "region", "country", "administrative_area", "city", "street_address", "postal_code"},
	"malware":           {"name", "description", "malware_types", "is_family", "aliases", "first_seen", "last_seen", "capabilities", "implementation_languages", "architecture_execution_envs", "sample_refs", "operating_system_refs"},
	"threat-actor":      {"name", "description", "threat_actor_types", "aliases", "roles", "goals", "sophistication", "resource_level", "primary_motivation", "secondary_motivations", "first_seen", "last_seen"},
	"campaign":          {"name", "description", "aliases", "first_seen", "last_seen", "objective"},
	"intrusion-set":     {"name", "description", "aliases", "first_seen", "last_seen", "goals", "resource_level", "primary_motivation", "secondary_motivations"},
	"vulnerability":     {"name", "description", "external_references"},
	"relationship":      {"relationship_type", "source_ref", "target_ref", "description", "start_time", "stop_time"},
	"sighting":          {"sighting_of_ref", "where_sighted_refs", "observed_data_refs", "first_seen", "last_seen", "count", "summary", "description"},
	"note":              {"abstract", "content", "authors", "object_refs"},
	"opinion":           {"opinion", "explanation", "authors", "object_refs"},
	"observed-data":     {"first_observed", "last_observed", "number_observed", "object_refs"},
	"ipv4-addr":         {"value", "resolves_to_refs", "belongs_to_refs"},
	"ipv6-addr":         {"value", "resolves_to_refs", "belongs_to_refs"},
	"domain-name":       {"value", "resolves_to_refs"},
	"url":               {"value"},
	"email-addr":        {"value", "display_name", "belongs_to_ref"},
	"file":              {"name", "hashes", "size", "mime_type", "parent_directory_ref", "contains_refs"},
	"mac-addr":          {"value"},
	"autonomous-system": {"number", "name", "rir"},
	"attack-pattern":    {"name", "description", "aliases", "kill_chain_phases", "external_references"},
	"tool":              {"name", "description", "tool_types", "aliases", "tool_version", "kill_chain_phases"},
	"identity":          {"name", "description", "identity_class", "sectors", "roles", "contact_information"},
	"infrastructure":    {"name", "description", "infrastructure_types", "aliases", "first_seen", "last_seen"},
	"course-of-action":  {"name", "description"},
	"grouping":          {"name", "description", "context", "object_refs"},
}

var (
	preformatted = []string{"pattern"}
	prose        = []string{"content", "description", "explanation", "abstract", "contact_information"}
)

// summary lays out the type's own properties: references as rows of the
// objects the user may read (with their portion marks), lists joined,
// structures as JSON.
func (op *objectPages) summary(r *http.Request, m *Marks, typ string, raw []byte, rs Refs) ([]field, error) {
	keys := typeFields[typ]
	if len(keys) == 0 {
		return nil, nil // an unknown or custom type: the property table says it all
	}
	var f map[string]json.RawMessage
	if json.Unmarshal(raw, &f) != nil {
		return nil, nil
	}
	var out []field
	for _, k := range keys {
		v, ok := f[k]
		if !ok {
			continue
		}
		fl := field{Key: strings.ReplaceAll(k, "_", " "), Pre: slices.Contains(preformatted, k), Text: slices.Contains(prose, k)}
		if strings.HasSuffix(k, "_ref") || strings.HasSuffix(k, "_refs") {
			var ids []string
			var one string
			if json.Unmarshal(v, &one) == nil {
				ids = []string{one}
			} else {
				json.Unmarshal(v, &ids)
			}
			for _, id := range ids {
				o, ok := rs.readable[id]
				if !ok {
					continue
				}
				rw, err := op.Row(r, m, o)
				if err != nil {
					return nil, err
				}
				fl.Refs = append(fl.Refs, rw)
			}
			if len(fl.Refs) == 0 {
				fl.Value = withheld
			}
			out = append(out, fl)
			continue
		}
		var s string
		var list []string
		var dict map[string]string
		switch {
		case json.Unmarshal(v, &s) == nil:
			fl.Value = s
		case json.Unmarshal(v, &list) == nil:
			fl.Value = strings.Join(list, ", ")
		case json.Unmarshal(v, &dict) == nil && len(dict) > 0:
			// Hashes: each algorithm beside its value, in a stable order.
			for _, k := range slices.Sorted(maps.Keys(dict)) {
				fl.Pairs = append(fl.Pairs, keyValue{k, dict[k]})
			}
			fl.Text = false
		default:
			fl.Value, fl.Pre = indentJSON(v), true
			if len(v) > 0 && v[0] != '{' && v[0] != '[' {
				fl.Pre = false // a number or a boolean
			}
		}
		out = append(out, fl)
	}
	return out, nil
}

// labelsAndBindings shows the labels the object's bindings sign, whole
// object and parts (stricter), and checks each binding against the node's
// keyring: its signature over this version and those labels.
func (op *objectPages) labelsAndBindings(ctx context.Context, p *node.Principal, m *Marks, o node.Object, d *objectPageData) error {
	var raws []json.RawMessage
	if len(o.Bindings) > 0 {
		if err := json.Unmarshal(o.Bindings, &raws); err != nil {
			return fmt.Errorf("bindings of %s: %w", o.ID, err)
		}
	}
	ring, err := op.n.Keyring()
	if err != nil {
		return err
	}
	canon, canonErr := jcs.Canonicalize(o.Raw)
	reg := op.n.Registry()
	seen := map[string]bool{}
	markings := map[string][]byte{}
	labelOf := func(ref string) (label.Label, bool, error) {
		raw, ok := markings[ref]
		if !ok {
			md, err := op.n.Label(ctx, p, ref)
			if errors.Is(err, node.ErrNotFound) {
				markings[ref] = nil
				return label.Label{}, false, nil
			}
			if err != nil {
				return label.Label{}, false, err
			}
			if raw, err = jcs.Canonicalize(md); err != nil {
				raw = md
			}
			markings[ref] = raw
		}
		if raw == nil {
			return label.Label{}, false, nil
		}
		l, _, err := label.ParseMarkingDefinition(raw)
		return l, err == nil, nil
	}
	addLabel := func(ref, selectors string) error {
		if seen[ref+"\x00"+selectors] {
			return nil
		}
		seen[ref+"\x00"+selectors] = true
		l, ok, err := labelOf(ref)
		if err != nil || !ok {
			return err
		}
		d.Labels = append(d.Labels, labelView{Mark: ObjectMark{Portion: reg.Portion(l), Banner: reg.Banner(l), Class: levelClass(l.Policy, l.Classification)}, Selectors: selectors})
		return nil
	}
	for _, raw := range raws {
		b, err := binding.Parse(raw)
		if err != nil {
			d.Bindings = append(d.Bindings, bindingState{Problem: "does not parse: " + err.Error()})
			continue
		}
		bs := bindingState{bindingView: bindingView{Kind: b.Kind, Node: b.Node, KeyID: b.KeyID, Created: b.Created, ObjectModified: b.ObjectModified}}
		supplied := map[string][]byte{}
		for _, l := range b.Labels {
			if err := addLabel(l.Ref, ""); err != nil {
				return err
			}
			if raw := markings[l.Ref]; raw != nil {
				supplied[l.Ref] = raw
			}
		}
		for _, pl := range b.PartLabels {
			if err := addLabel(pl.Ref, strings.Join(pl.Selectors, ", ")); err != nil {
				return err
			}
			if raw := markings[pl.Ref]; raw != nil {
				supplied[pl.Ref] = raw
			}
		}
		switch {
		case canonErr != nil:
			bs.Problem = "the object does not canonicalise: " + canonErr.Error()
		default:
			if err := ring.Verify(b, canon, supplied); err != nil {
				bs.Problem = err.Error()
			} else {
				bs.Verified = true
			}
		}
		d.Bindings = append(d.Bindings, bs)
	}
	return nil
}

// timeline lists the versions the user may read (node.Versions), and with
// a= and b= the difference between two of them, property by property.
func (op *objectPages) timeline(ctx context.Context, r *http.Request, m *Marks, o node.Object, d *objectPageData) error {
	p := Principal(r)
	versions, err := op.n.Versions(ctx, p, o.ID)
	if err != nil {
		return err
	}
	byMod := map[string]node.Object{}
	for _, v := range slices.Backward(versions) {
		mk, err := m.Object(ctx, op.n.Node, v)
		if err != nil {
			return err
		}
		d.Timeline = append(d.Timeline, timelineEntry{versionView: versionView{ID: v.ID, Modified: v.Modified, Revoked: v.Revoked, Mark: mk},
			Instance: v.Instance, Current: v.Modified == o.Modified && v.Instance == o.Instance})
		key := fmt.Sprintf("%d/%s", v.Instance, v.Modified)
		byMod[key] = v
	}
	q := r.URL.Query()
	d.DiffA, d.DiffB = q.Get("a"), q.Get("b")
	if len(d.Timeline) > 1 && d.DiffA == "" && d.DiffB == "" {
		d.DiffA = fmt.Sprintf("%d/%s", d.Timeline[1].Instance, d.Timeline[1].Modified)
		d.DiffB = fmt.Sprintf("%d/%s", d.Timeline[0].Instance, d.Timeline[0].Modified)
	}
	a, okA := byMod[d.DiffA]
	b, okB := byMod[d.DiffB]
	if !okA || !okB {
		return nil
	}
	d.DiffAsked = q.Has("a")
	ra, err := op.ReadRefs(ctx, p, a.Raw)
	if err != nil {
		return err
	}
	rb, err := op.ReadRefs(ctx, p, b.Raw)
	if err != nil {
		return err
	}
	pa, pb := Props(ra.Redact(a.Raw)), Props(rb.Redact(b.Raw))
	d.Diff = diffProps(pa, pb)
	return nil
}

// diffProps lists the properties whose values differ between two
// versions, sorted by name; a property one version lacks shows as empty.
func diffProps(a, b []prop) []diffRow {
	va, vb := map[string]string{}, map[string]string{}
	var keys []string
	for _, p := range a {
		va[p.Key] = p.Value
		keys = append(keys, p.Key)
	}
	for _, p := range b {
		vb[p.Key] = p.Value
		if _, ok := va[p.Key]; !ok {
			keys = append(keys, p.Key)
		}
	}
	slices.Sort(keys)
	var out []diffRow
	for _, k := range keys {
		if va[k] != vb[k] {
			out = append(out, diffRow{Key: k, A: va[k], B: vb[k]})
		}
	}
	return out
}

// neighbourhood finds what is one hop away: relationships that name the
// object (and, for a relationship, its two ends) and sightings of it, each
// shown only if the user may read both the link and the other end. The
// graph draws the first limit of them; more asks for the rest (htmx).
func (op *objectPages) neighbourhood(ctx context.Context, r *http.Request, m *Marks, o node.Object, d *objectPageData, limit int) error {
	p := Principal(r)
	others := map[string]*Row{}
	other := func(id string) (*Row, error) {
		if rw, ok := others[id]; ok {
			return rw, nil
		}
		oo, err := op.n.Get(ctx, p, id)
		if errors.Is(err, node.ErrNotFound) {
			others[id] = nil
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		rw, err := op.Row(r, m, oo)
		if err != nil {
			return nil, err
		}
		others[id] = &rw
		return &rw, nil
	}
	full := false
	add := func(nb neighbour, list *[]neighbour) {
		if len(d.Neighbours)+len(d.Sightings) >= limit {
			full = true
			return
		}
		*list = append(*list, nb)
	}
	if o.Type == "relationship" {
		var rel struct {
			Type   string `json:"relationship_type"`
			Source string `json:"source_ref"`
			Target string `json:"target_ref"`
		}
		if json.Unmarshal(o.Raw, &rel) == nil {
			self, err := op.Row(r, m, o)
			if err != nil {
				return err
			}
			for _, end := range []struct {
				id  string
				out bool
			}{{rel.Source, false}, {rel.Target, true}} {
				rw, err := other(end.id)
				if err != nil {
					return err
				}
				if rw != nil {
					add(neighbour{Other: *rw, Via: self, Kind: rel.Type, Out: end.out}, &d.Neighbours)
				}
			}
		}
	}
	rels, more, err := op.listUpTo(ctx, p, "ui/object", []string{"relationship"}, objectScan)
	if err != nil {
		return err
	}
	d.Capped = more
	for _, ro := range rels {
		var rel struct {
			Type   string `json:"relationship_type"`
			Source string `json:"source_ref"`
			Target string `json:"target_ref"`
		}
		if json.Unmarshal(ro.Raw, &rel) != nil || rel.Source != o.ID && rel.Target != o.ID || full {
			continue
		}
		end := rel.Target
		if rel.Target == o.ID {
			end = rel.Source
		}
		rw, err := other(end)
		if err != nil {
			return err
		}
		if rw == nil {
			continue // the other end is hidden from the user: so is the link
		}
		via, err := op.Row(r, m, ro)
		if err != nil {
			return err
		}
		add(neighbour{Other: *rw, Via: via, Kind: rel.Type, Out: rel.Source == o.ID}, &d.Neighbours)
	}
	sightings, more, err := op.listUpTo(ctx, p, "ui/object", []string{"sighting"}, objectScan)
	if err != nil {
		return err
	}
	d.Capped = d.Capped || more
	for _, so := range sightings {
		var s struct {
			Of string `json:"sighting_of_ref"`
		}
		if json.Unmarshal(so.Raw, &s) != nil || s.Of != o.ID || full {
			continue
		}
		via, err := op.Row(r, m, so)
		if err != nil {
			return err
		}
		add(neighbour{Other: via, Via: via, Kind: "sighting"}, &d.Sightings)
	}
	d.Capped = d.Capped || full
	all := append(slices.Clone(d.Neighbours), d.Sightings...)
	d.Graph = all[:min(len(all), limit)]
	n := len(d.Graph)
	for i := range d.Graph {
		a := 2*math.Pi*float64(i)/float64(max(n, 1)) - math.Pi/2
		d.Graph[i].X, d.Graph[i].Y = round2(150+110*math.Cos(a)), round2(110+80*math.Sin(a))
		d.Graph[i].TX = d.Graph[i].X + 7
	}
	if limit < maxNeighbours && full {
		d.MoreURL = Prefix + "objects/" + o.ID + "/neighbours"
	}
	return nil
}

// provenance shows where a received object came from: the partner, the
// agreements of each hop, and the object a tearline was cut from, if the
// user may read it.
func (op *objectPages) provenance(ctx context.Context, r *http.Request, m *Marks, o node.Object, d *objectPageData) error {
	prov, err := op.n.Store().Provenance(ctx, o.ID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("provenance of %s: %w", o.ID, err)
	}
	pv := &provenanceView{Originator: prov.Originator, ReceivedFrom: prov.ReceivedFrom, Hops: prov.Hops}
	if !prov.ReceivedAt.IsZero() {
		pv.ReceivedAt = prov.ReceivedAt.UTC().Format(time.RFC3339)
	}
	if prov.DerivedFrom != "" {
		id, mod, _ := strings.Cut(prov.DerivedFrom, "@")
		src, err := op.n.Get(ctx, Principal(r), id)
		switch {
		case errors.Is(err, node.ErrNotFound):
		case err != nil:
			return err
		default:
			rw, err := op.Row(r, m, src)
			if err != nil {
				return err
			}
			pv.DerivedFrom, pv.DerivedVersion = &rw, mod
		}
	}
	d.Provenance = pv
	return nil
}

// went shows, to those who may read delivery states (node decides:
// releasers and admins for what they may read, auditors), where the object
// went and each delivery's state (node/delivery's States: no ledger
// numbers). A tearline sent in its place is named only if the user may
// read it.
func (op *objectPages) went(ctx context.Context, r *http.Request, m *Marks, o node.Object, d *objectPageData) error {
	p := Principal(r)
	es, _, err := op.n.Deliveries.States(ctx, p, delivery.Query{ObjectID: o.ID, Limit: maxLedgerShown})
	if errors.Is(err, node.ErrForbidden) {
		return nil
	}
	if err != nil {
		return err
	}
	d.WentShown = true
	for _, e := range es {
		wr := wentRow{Party: e.Party, Agreement: fmt.Sprintf("%s v%d", e.Agreement, e.AgreementVersion), Outcome: e.Outcome,
			State: e.State, By: e.By, At: e.At.UTC().Format(time.RFC3339), Reasons: strings.Join(e.Reasons, ", ")}
		if dl := e.Delivery; dl != nil {
			wr.Delivery = dl.State
			if dl.Reason != "" {
				wr.Delivery += " (" + dl.Reason + ")"
			}
		}
		if e.TearlineID != "" {
			t, err := op.n.Get(ctx, p, e.TearlineID)
			switch {
			case errors.Is(err, node.ErrNotFound):
			case err != nil:
				return err
			default:
				rw, err := op.Row(r, m, t)
				if err != nil {
					return err
				}
				wr.Tearline = &rw
			}
		}
		d.Went = append(d.Went, wr)
	}
	return nil
}
