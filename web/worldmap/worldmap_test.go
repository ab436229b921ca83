package worldmap

import (
	"encoding/xml"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func TestProject(t *testing.T) {
	for _, c := range []struct{ lon, lat, x, y float64 }{
		{-180, 90, 0, 0}, {180, -90, 360, 180}, {0, 0, 180, 90},
		{-0.1276, 51.5072, 179.8724, 38.4928}, // London
		{200, -100, 360, 180},                 // clamped
	} {
		x, y := Project(c.lon, c.lat)
		if x != c.x || y != c.y {
			t.Errorf("Project(%v, %v) = %v, %v; want %v, %v", c.lon, c.lat, x, y, c.x, c.y)
		}
	}
}

var coord = regexp.MustCompile(`([ML])(-?[0-9.]+) (-?[0-9.]+)`)

// TestOutline draws the embedded countries: a well-formed SVG with a path
// per country, every point inside the viewBox, and Great Britain where it
// belongs.
func TestOutline(t *testing.T) {
	m, err := New()
	if err != nil {
		t.Fatal(err)
	}
	if m.Countries() < 170 {
		t.Errorf("%d countries drawn, want the 177 of Natural Earth 1:110m", m.Countries())
	}
	svg := string(m.SVG())
	if err := xml.Unmarshal(m.SVG(), new(struct{})); err != nil {
		t.Fatalf("not well-formed XML: %v", err)
	}
	if n := strings.Count(svg, "<path "); n != m.Countries() {
		t.Errorf("%d paths for %d countries", n, m.Countries())
	}
	if strings.Contains(svg, "NaN") || strings.Contains(svg, "Inf") {
		t.Fatal("the outline has a coordinate that is not a number")
	}
	pts := coord.FindAllStringSubmatch(svg, -1)
	if len(pts) < 8000 {
		t.Fatalf("%d points drawn", len(pts))
	}
	near, cut := false, 0
	var px float64
	for _, p := range pts {
		x, _ := strconv.ParseFloat(p[2], 64)
		y, _ := strconv.ParseFloat(p[3], 64)
		// No line runs across the world: rings that cross the antimeridian
		// are cut at the edge and go on from the other.
		if p[1] == "L" && abs(x-px) > 180 {
			t.Fatalf("a line from x=%v to x=%v crosses the map", px, x)
		}
		if p[1] == "M" && (x == 0 || x == Width) {
			cut++
		}
		px = x
		if x < 0 || x > Width || y < 0 || y > Height {
			t.Fatalf("point %v, %v outside the viewBox", x, y)
		}
		// Land's End (5.7°W, 50.1°N) is on Great Britain's outline.
		if lx, ly := Project(-5.7, 50.1); abs(x-lx) < 0.5 && abs(y-ly) < 0.5 {
			near = true
		}
	}
	if !near {
		t.Error("no outline point near Land's End")
	}
	if cut < 2 { // Fiji and Russia cross the antimeridian
		t.Errorf("%d rings cut at the antimeridian, want Fiji's and Russia's", cut)
	}
}

func abs(v float64) float64 { return max(v, -v) }

func TestBadTopology(t *testing.T) {
	for _, in := range []string{`{`, `{"type":"Feature"}`, `{"type":"Topology","objects":{}}`,
		`{"type":"Topology","objects":{"countries":{"geometries":[{"type":"Polygon","arcs":[[5]]}]}},"arcs":[]}`} {
		if _, err := draw([]byte(in)); err == nil {
			t.Errorf("draw(%s) accepted", in)
		}
	}
}
