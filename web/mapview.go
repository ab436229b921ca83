package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"

	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/web/worldmap"
)

// mapPages draws the map (/ui/map): the STIX locations the user may read
// that have coordinates, and the objects and sightings that point to them,
// over the embedded world outline (package worldmap), all as SVG made here:
// no script, nothing fetched from elsewhere.
type mapPages struct {
	*Server
	world []byte // the outline, a standalone SVG served as an image
}

// The map reads at most this much, so a page never grows with the node:
// locations and related points drawn, and relationships and sightings read
// to find what points to a location. Past either, the page says so.
const (
	mapMaxLocations = 500
	mapMaxRelated   = 500
	mapScan         = 2000
)

// mapLinks are the relationship types that place their source at their
// target location (STIX 2.1 §5.2: located-at, originates-from, targets).
var mapLinks = []string{"located-at", "originates-from", "targets"}

type mapPoint struct {
	Row
	X, Y     float64 // the point, in the outline's viewBox (a degree a unit)
	TX, TY   float64 // its portion mark's text
	Location bool
}

type mapLink struct {
	Location Row
	Via      Row    // the relationship or the sighting
	Kind     string // located-at, originates-from, targets, sighted at
	Object   *Row   // the relationship's source; nil for a sighting
}

type mapData struct {
	Width, Height int
	View          string  // the viewBox: the locations' extent, or the world
	RLoc, RObj    float64 // the points' radii and
	Font          float64 // their marks' size, in viewBox units
	Points        []mapPoint
	Unplaced      []Row // locations without coordinates
	Links         []mapLink
	Capped        []string // what the page left out, and why
}

func (mp *mapPages) outline(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("Cache-Control", "public, max-age=86400")
	w.Write(mp.world)
}

// page lists through the same node.List as the API (so only what the user
// may read, pushed down into the store, and audited), and reads a
// relationship's source through node.Get: a source the user may not read
// drops the link, so a hidden neighbour never appears, not even its id.
func (mp *mapPages) page(w http.ResponseWriter, r *http.Request) {
	ctx, p := r.Context(), Principal(r)
	d := mapData{Width: worldmap.Width, Height: worldmap.Height}
	m := mp.NewMarks()
	locs, more, err := mp.listUpTo(ctx, p, "ui/map", []string{"location"}, mapMaxLocations)
	if err != nil {
		mp.Fail(w, r, err)
		return
	}
	if more {
		d.Capped = append(d.Capped, fmt.Sprintf("Only the first %d locations are shown.", mapMaxLocations))
	}
	placed := map[string]*mapPoint{}
	var order []string
	for _, o := range locs {
		rw, err := mp.Row(r, m, o)
		if err != nil {
			mp.Fail(w, r, err)
			return
		}
		var c struct {
			Lat *float64 `json:"latitude"`
			Lon *float64 `json:"longitude"`
		}
		if json.Unmarshal(o.Raw, &c) != nil || c.Lat == nil || c.Lon == nil || math.IsNaN(*c.Lat) || math.IsNaN(*c.Lon) {
			d.Unplaced = append(d.Unplaced, rw)
			continue
		}
		x, y := worldmap.Project(*c.Lon, *c.Lat)
		placed[o.ID] = &mapPoint{Row: rw, X: x, Y: y, Location: true}
		order = append(order, o.ID)
	}
	related := map[string][]Row{} // location id -> the objects drawn around it
	shown := map[string]bool{}
	sources := map[string]*Row{} // read once each; nil: not readable
	full := false
	add := func(loc string, o Row) {
		if shown[loc+" "+o.ID] {
			return
		}
		if len(shown) == mapMaxRelated {
			full = true
			return
		}
		shown[loc+" "+o.ID] = true
		related[loc] = append(related[loc], o)
	}
	if len(placed) > 0 {
		rels, more, err := mp.listUpTo(ctx, p, "ui/map", []string{"relationship"}, mapScan)
		if err != nil {
			mp.Fail(w, r, err)
			return
		}
		for _, o := range rels {
			var rel struct {
				Type   string `json:"relationship_type"`
				Source string `json:"source_ref"`
				Target string `json:"target_ref"`
			}
			if json.Unmarshal(o.Raw, &rel) != nil || !slices.Contains(mapLinks, rel.Type) || placed[rel.Target] == nil || full {
				continue
			}
			src, seen := sources[rel.Source]
			if !seen {
				so, err := mp.n.Get(ctx, p, rel.Source)
				switch {
				case errors.Is(err, node.ErrNotFound):
				case err != nil:
					mp.Fail(w, r, err)
					return
				default:
					srw, err := mp.Row(r, m, so)
					if err != nil {
						mp.Fail(w, r, err)
						return
					}
					src = &srw
				}
				sources[rel.Source] = src
			}
			if src == nil {
				continue // the user may not read the source: no trace of it
			}
			via, err := mp.Row(r, m, o)
			if err != nil {
				mp.Fail(w, r, err)
				return
			}
			add(rel.Target, *src)
			d.Links = append(d.Links, mapLink{Location: placed[rel.Target].Row, Via: via, Kind: rel.Type, Object: src})
		}
		if more {
			d.Capped = append(d.Capped, fmt.Sprintf("Only the first %d relationships were read for links to locations.", mapScan))
		}
		sightings, more, err := mp.listUpTo(ctx, p, "ui/map", []string{"sighting"}, mapScan)
		if err != nil {
			mp.Fail(w, r, err)
			return
		}
		for _, o := range sightings {
			var s struct {
				Where []string `json:"where_sighted_refs"`
			}
			if json.Unmarshal(o.Raw, &s) != nil || full {
				continue
			}
			var via *Row
			for _, loc := range s.Where {
				if placed[loc] == nil {
					continue
				}
				if via == nil {
					rw, err := mp.Row(r, m, o)
					if err != nil {
						mp.Fail(w, r, err)
						return
					}
					via = &rw
				}
				add(loc, *via)
				d.Links = append(d.Links, mapLink{Location: placed[loc].Row, Via: *via, Kind: "sighted at"})
			}
		}
		if more {
			d.Capped = append(d.Capped, fmt.Sprintf("Only the first %d sightings were read for where they were seen.", mapScan))
		}
	}
	if full {
		d.Capped = append(d.Capped, fmt.Sprintf("Only %d objects are drawn around the locations.", mapMaxRelated))
	}
	// Frame the locations, then size the points and their marks to the
	// frame, so they read alike however far the map is zoomed.
	locPts := make([]mapPoint, 0, len(order))
	for _, id := range order {
		locPts = append(locPts, *placed[id])
	}
	var vw float64
	d.View, vw = viewBox(locPts)
	k := vw / worldmap.Width
	d.RLoc, d.RObj, d.Font = round2(2.4*k), round2(1.6*k), round2(3*k)
	for _, loc := range locPts {
		loc.TX, loc.TY = round2(loc.X+3.2*k), round2(loc.Y+1*k)
		d.Points = append(d.Points, loc)
		// What points to a location is drawn on a ring around it, so each
		// is a point of its own that a click reaches.
		n := len(related[loc.ID])
		for i, o := range related[loc.ID] {
			a := 2*math.Pi*float64(i)/float64(max(n, 6)) - math.Pi/2
			x, y := loc.X+6*k*math.Cos(a), loc.Y+6*k*math.Sin(a)
			d.Points = append(d.Points, mapPoint{Row: o, X: round2(x), Y: round2(y), TX: round2(x + 2.2*k), TY: round2(y + 1*k)})
		}
	}
	mp.Render(w, http.StatusOK, "map", "", mp.ViewFor(r, "Map", m.Banner(), d))
}

// viewBox frames the points with a margin, at the world's 2:1 aspect and
// at least a sixth of it wide, so points close together are told apart;
// no points, the whole world.
func viewBox(pts []mapPoint) (string, float64) {
	const W, H = float64(worldmap.Width), float64(worldmap.Height)
	if len(pts) == 0 {
		return fmt.Sprintf("0 0 %v %v", W, H), W
	}
	x0, y0, x1, y1 := W, H, 0.0, 0.0
	for _, p := range pts {
		x0, y0, x1, y1 = min(x0, p.X), min(y0, p.Y), max(x1, p.X), max(y1, p.Y)
	}
	w := max(x1-x0+20, 2*(y1-y0+20), W/6)
	w = min(w, W)
	h := w / 2
	cx, cy := (x0+x1)/2, (y0+y1)/2
	x, y := max(0, min(W-w, cx-w/2)), max(0, min(H-h, cy-h/2))
	return fmt.Sprintf("%v %v %v %v", round2(x), round2(y), round2(w), round2(h)), w
}

func round2(v float64) float64 { return math.Round(v*100) / 100 }

// listUpTo reads up to max objects of types that p may read, through
// node.List a page at a time, and says whether there were more.
func (s *Server) listUpTo(ctx context.Context, p *node.Principal, route string, types []string, max int) ([]node.Object, bool, error) {
	var out []node.Object
	next := ""
	for {
		page, err := s.n.List(ctx, p, node.ListOptions{Route: route, Types: types, Limit: min(node.MaxPage, max-len(out)), Next: next})
		if err != nil {
			return nil, false, err
		}
		out = append(out, page.Objects...)
		if !page.More {
			return out, false, nil
		}
		if len(out) >= max {
			return out, true, nil
		}
		next = page.Next
	}
}
