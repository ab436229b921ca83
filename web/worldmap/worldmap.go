// Package worldmap draws the world outline of the web interface's map
// (docs/UI.md): the countries of Natural Earth at 1:110m, from npm
// world-atlas (TopoJSON, embedded), projected equirectangularly into a
// 360 × 180 SVG viewBox, one unit a degree. It is built once at start-up
// and fetched by the browser as an image, so the map pages that draw
// points over it stay small and nothing is fetched from elsewhere.
package worldmap

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

//go:embed countries-110m.json
var countries []byte

// Width and Height are the SVG viewBox's size: one unit a degree.
const (
	Width  = 360
	Height = 180
)

// Project maps a longitude and latitude (degrees, WGS 84) to the viewBox,
// equirectangularly: x grows east from the antimeridian, y south from the
// north pole. Coordinates outside the ranges are clamped to the edge.
func Project(lon, lat float64) (x, y float64) {
	lon = max(-180, min(180, lon))
	lat = max(-90, min(90, lat))
	return lon + 180, 90 - lat
}

// Map is the drawn outline.
type Map struct {
	svg       []byte
	countries int
}

// New decodes the embedded TopoJSON and draws the outline.
func New() (*Map, error) { return draw(countries) }

// SVG is the outline as a standalone SVG document.
func (m *Map) SVG() []byte { return m.svg }

// Countries is how many countries the outline draws.
func (m *Map) Countries() int { return m.countries }

type topology struct {
	Type      string `json:"type"`
	Transform *struct {
		Scale     [2]float64 `json:"scale"`
		Translate [2]float64 `json:"translate"`
	} `json:"transform"`
	Objects map[string]struct {
		Geometries []geometry `json:"geometries"`
	} `json:"objects"`
	Arcs [][][2]float64 `json:"arcs"`
}

type geometry struct {
	Type string          `json:"type"`
	Arcs json.RawMessage `json:"arcs"`
	ID   string          `json:"id"`
}

// draw turns a TopoJSON topology's "countries" into SVG paths: one path per
// country, its rings closed.
func draw(data []byte) (*Map, error) {
	var t topology
	if err := json.Unmarshal(data, &t); err != nil {
		return nil, fmt.Errorf("worldmap: decode: %w", err)
	}
	if t.Type != "Topology" {
		return nil, fmt.Errorf("worldmap: not a TopoJSON topology (type %q)", t.Type)
	}
	arcs := decodeArcs(t)
	obj, ok := t.Objects["countries"]
	if !ok {
		return nil, fmt.Errorf("worldmap: no countries in the topology")
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d">`, Width, Height, Width*4, Height*4)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#dbe9f4"/>`, Width, Height)
	b.WriteString(`<g fill="#f4f1e8" stroke="#9a9a8a" stroke-width="0.08" stroke-linejoin="round">`)
	m := &Map{}
	for _, g := range obj.Geometries {
		var polygons [][][]int
		switch g.Type {
		case "Polygon":
			var rings [][]int
			if err := json.Unmarshal(g.Arcs, &rings); err != nil {
				return nil, fmt.Errorf("worldmap: country %s: %w", g.ID, err)
			}
			polygons = [][][]int{rings}
		case "MultiPolygon":
			if err := json.Unmarshal(g.Arcs, &polygons); err != nil {
				return nil, fmt.Errorf("worldmap: country %s: %w", g.ID, err)
			}
		default:
			continue // a null geometry: nothing to draw
		}
		var d strings.Builder
		for _, rings := range polygons {
			for _, ring := range rings {
				pts, err := ringPoints(arcs, ring)
				if err != nil {
					return nil, fmt.Errorf("worldmap: country %s: %w", g.ID, err)
				}
				writeRing(&d, pts)
			}
		}
		if d.Len() > 0 {
			fmt.Fprintf(&b, `<path d="%s"/>`, d.String())
			m.countries++
		}
	}
	b.WriteString(`</g></svg>`)
	m.svg = []byte(b.String())
	return m, nil
}

// writeRing draws a ring as path data. A ring that crosses the
// antimeridian (Fiji, Chukotka: consecutive points more than 180° apart)
// is cut there: a line to the map's edge at the latitude where it crosses,
// and a new subpath from the other edge, so no stroke runs across the
// world and each part fills against its own edge.
func writeRing(d *strings.Builder, pts [][2]float64) {
	pt := func(cmd byte, lon, lat float64) {
		x, y := Project(lon, lat)
		d.WriteByte(cmd)
		d.WriteString(num(x))
		d.WriteByte(' ')
		d.WriteString(num(y))
	}
	for i, p := range pts {
		if i == 0 {
			pt('M', p[0], p[1])
			continue
		}
		q := pts[i-1]
		if dl := p[0] - q[0]; dl > 180 || dl < -180 {
			edge, lon := 180.0, p[0]+360 // eastwards: from 179 to -179 is to 181
			if dl > 180 {
				edge, lon = -180, p[0]-360 // westwards
			}
			lat := q[1] // q on the antimeridian itself
			if lon != q[0] {
				lat += (edge - q[0]) / (lon - q[0]) * (p[1] - q[1])
			}
			pt('L', edge, lat)
			pt('M', -edge, lat)
		}
		pt('L', p[0], p[1])
	}
	d.WriteByte('Z')
}

// decodeArcs undoes TopoJSON's quantisation: each arc's positions are
// deltas from the previous one, in units of the transform's scale.
func decodeArcs(t topology) [][][2]float64 {
	out := make([][][2]float64, len(t.Arcs))
	for i, arc := range t.Arcs {
		pts := make([][2]float64, len(arc))
		var x, y float64
		for j, p := range arc {
			if t.Transform == nil {
				pts[j] = p
				continue
			}
			x, y = x+p[0], y+p[1]
			pts[j] = [2]float64{x*t.Transform.Scale[0] + t.Transform.Translate[0], y*t.Transform.Scale[1] + t.Transform.Translate[1]}
		}
		out[i] = pts
	}
	return out
}

// ringPoints joins a ring's arcs: a negative index ~i is arc i reversed,
// and each arc after the first starts where the previous one ended, so its
// first point is dropped.
func ringPoints(arcs [][][2]float64, ring []int) ([][2]float64, error) {
	var pts [][2]float64
	for k, idx := range ring {
		reverse := idx < 0
		if reverse {
			idx = ^idx
		}
		if idx >= len(arcs) {
			return nil, fmt.Errorf("arc %d of %d", idx, len(arcs))
		}
		a := arcs[idx]
		for j := range a {
			p := a[j]
			if reverse {
				p = a[len(a)-1-j]
			}
			if k > 0 && j == 0 {
				continue
			}
			pts = append(pts, p)
		}
	}
	return pts, nil
}

// num writes a coordinate to a hundredth of a degree (about 1 km), enough
// for a map a screen wide.
func num(v float64) string {
	return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64)
}
