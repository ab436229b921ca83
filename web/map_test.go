package web_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/tearline/tearline/node/nodetest"
)

// places are the map's objects in a fixture: a NATO UNCLASSIFIED location
// with coordinates (London), a NATO SECRET one (Tallinn), one without
// coordinates; the open actor located at London; the secret actor located
// at London by an UNCLASSIFIED relationship (readable, but its source is
// not, for rita); a RESTRICTED sighting at London.
type places struct {
	london, tallinn, region    string
	openAt, secretAt, sighting string
}

func addPlaces(t *testing.T, f *fixture) places {
	t.Helper()
	pl := places{london: nodetest.NewID("location"), tallinn: nodetest.NewID("location"), region: nodetest.NewID("location"),
		openAt: nodetest.NewID("relationship"), secretAt: nodetest.NewID("relationship"), sighting: nodetest.NewID("sighting")}
	f.land(t, "NATO UNCLASSIFIED",
		obj(pl.london, map[string]any{"name": "London", "latitude": 51.5072, "longitude": -0.1276}),
		obj(pl.region, map[string]any{"name": "Northern Europe", "region": "northern-europe"}),
		obj(pl.openAt, map[string]any{"relationship_type": "located-at", "source_ref": f.open, "target_ref": pl.london}),
		obj(pl.secretAt, map[string]any{"relationship_type": "located-at", "source_ref": f.secret, "target_ref": pl.london}))
	f.land(t, "NATO SECRET", obj(pl.tallinn, map[string]any{"name": "Tallinn", "latitude": 59.437, "longitude": 24.7536}))
	f.land(t, "NATO RESTRICTED", obj(pl.sighting, map[string]any{"sighting_of_ref": f.open, "where_sighted_refs": []string{pl.london}, "count": 3}))
	return pl
}

// mapPoint matches a point on the map: its object id, its circle, and its
// portion mark's title.
var mapPoint = regexp.MustCompile(`<g class="pt[^"]*" data-object-id="([^"]+)"><title>[^<]*</title><circle cx="([^"]+)" cy="([^"]+)"[^>]*/><text [^>]*data-portion title="([^"]+)">`)

// TestMap draws what each user may read on the map, and nothing else: a
// location the user may not read is missing, and so is a readable
// relationship whose source they may not read, with every trace of that
// source.
func TestMap(t *testing.T) {
	f := newFixture(t)
	pl := addPlaces(t, f)
	for _, c := range []struct {
		user    string
		points  []string
		missing []string
		banner  string
	}{
		{"ana", []string{pl.london, pl.tallinn, f.open, f.secret, pl.sighting}, nil, "NATO SECRET // REL TO GBR, USA"},
		{"rita", []string{pl.london, f.open, pl.sighting}, []string{pl.tallinn, f.secret, pl.secretAt, "Tallinn", "secret actor"}, "NATO RESTRICTED"},
	} {
		cl := f.client(t)
		cl.mustLogin(c.user)
		p := cl.get("/ui/map")
		if p.code != http.StatusOK {
			t.Fatalf("%s: /ui/map answered %d", c.user, p.code)
		}
		if b := banners(t, p.body); b != c.banner {
			t.Errorf("%s: banner %q, want %q", c.user, b, c.banner)
		}
		got := map[string]bool{}
		for _, m := range mapPoint.FindAllStringSubmatch(p.body, -1) {
			got[m[1]] = true
			if m[1] == pl.london && (m[2] != "179.8724" || m[3] != "38.4928") {
				t.Errorf("London drawn at %s, %s", m[2], m[3])
			}
			if m[1] == pl.tallinn && unescape(m[4]) != "NATO SECRET" {
				t.Errorf("Tallinn's portion title %q", m[4])
			}
		}
		for _, id := range c.points {
			if !got[id] {
				t.Errorf("%s: no point for %s", c.user, id)
			}
		}
		if len(got) != len(c.points) {
			t.Errorf("%s: %d points, want %d", c.user, len(got), len(c.points))
		}
		for _, s := range c.missing {
			if strings.Contains(p.body, s) {
				t.Errorf("%s: the map shows %s", c.user, s)
			}
		}
		// The location without coordinates is listed, marked, not drawn.
		if !strings.Contains(p.body, `data-object-id="`+pl.region+`"`) || got[pl.region] {
			t.Errorf("%s: the location without coordinates is not listed apart", c.user)
		}
		if !strings.Contains(p.body, `<a href="/ui/objects/`+pl.openAt+`">located-at</a>`) {
			t.Errorf("%s: the located-at link is not listed", c.user)
		}
	}
	// The outline is served from here, as an SVG image, cacheable.
	cl := f.client(t)
	cl.mustLogin("rita")
	p := cl.get("/ui/static/world.svg")
	if p.code != http.StatusOK || p.hdr.Get("Content-Type") != "image/svg+xml" || !strings.HasPrefix(p.body, "<svg") {
		t.Errorf("world.svg: %d %s", p.code, p.hdr.Get("Content-Type"))
	}
}
