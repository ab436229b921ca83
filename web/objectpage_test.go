package web_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/nodetest"
)

// TestObjectPage shows an indicator and a report as users cleared
// differently: the type's layout (pattern, referenced objects), the bound
// label and its verified binding, the versions and their difference, what
// is one hop away (a relationship to an object the user may not read
// leaves no trace), sightings, and the graph expanded through htmx.
func TestObjectPage(t *testing.T) {
	f := newFixture(t)
	f.addUser(t, usersSpec("otto", node.RoleAuditor))
	ind, report := nodetest.NewID("indicator"), nodetest.NewID("report")
	toOpen, toSecret, seen := nodetest.NewID("relationship"), nodetest.NewID("relationship"), nodetest.NewID("sighting")
	indicator := func(modified, name string) []byte {
		return nodetest.SDO(ind, nodetest.T0, modified, map[string]any{"name": name, "pattern": "[ipv4-addr:value = '198.51.100.7']",
			"pattern_type": "stix", "valid_from": nodetest.T0, "indicator_types": []string{"malicious-activity"}})
	}
	f.land(t, "NATO UNCLASSIFIED", indicator(nodetest.T0, "bad address"))
	f.land(t, "NATO UNCLASSIFIED", indicator(nodetest.T1, "very bad address"),
		obj(report, map[string]any{"name": "weekly report", "published": nodetest.T0, "object_refs": []string{f.open, f.secret, ind}}),
		obj(toOpen, map[string]any{"relationship_type": "indicates", "source_ref": ind, "target_ref": f.open}),
		obj(toSecret, map[string]any{"relationship_type": "indicates", "source_ref": ind, "target_ref": f.secret}))
	f.land(t, "NATO RESTRICTED", obj(seen, map[string]any{"sighting_of_ref": ind, "count": 2}))

	rita := f.client(t)
	rita.mustLogin("rita")
	p := rita.get("/ui/objects/" + ind)
	if p.code != http.StatusOK {
		t.Fatalf("indicator page: %d", p.code)
	}
	if b := banners(t, p.body); b != "NATO RESTRICTED" {
		t.Errorf("banner %q, want NATO RESTRICTED (the sighting)", b)
	}
	for _, want := range []string{
		`<pre>[ipv4-addr:value = &#39;198.51.100.7&#39;]</pre>`, // the pattern, laid out
		`malicious-activity`,
		`<td>verified</td><td>originator</td><td>gbr</td>`,                 // the binding checked
		`the whole object</td><td><span class="portion`,                    // the bound label
		`data-object-id="` + toOpen + `"`, `data-object-id="` + seen + `"`, // one hop away
		`<td class="del"><pre>bad address</pre></td><td class="ins"><pre>very bad address</pre></td>`, // the difference
	} {
		if !strings.Contains(p.body, want) {
			t.Errorf("rita's indicator page lacks %s", want)
		}
	}
	if n := strings.Count(p.body, `data-version=`); n != 2 {
		t.Errorf("timeline has %d versions, want 2", n)
	}
	for _, hidden := range []string{f.secret, toSecret, "secret actor"} {
		if strings.Contains(p.body, hidden) {
			t.Errorf("rita's indicator page shows %s", hidden)
		}
	}
	if strings.Contains(p.body, "Where it went") {
		t.Error("an analyst is shown the ledger")
	}

	// The report lays out the objects it refers to that the reader may read.
	p = rita.get("/ui/objects/" + report)
	if !regexp.MustCompile(`object refs</dt><dd><div class="refs"[^>]*>.*data-object-id="`+f.open+`"`).MatchString(p.body) ||
		!strings.Contains(p.body, `data-object-id="`+ind+`"`) {
		t.Errorf("rita's report page does not list its readable objects")
	}
	if strings.Contains(p.body, f.secret) || strings.Contains(p.body, "secret actor") {
		t.Error("rita's report page shows the secret actor")
	}
	ana := f.client(t)
	ana.mustLogin("ana")
	p = ana.get("/ui/objects/" + report)
	if !strings.Contains(p.body, `data-object-id="`+f.secret+`"`) {
		t.Error("ana's report page lacks the secret actor")
	}
	if b := banners(t, p.body); b != "NATO SECRET // REL TO GBR, USA" {
		t.Errorf("ana's report banner %q", b)
	}
	// An auditor sees where it went (nowhere yet).
	otto := f.client(t)
	otto.mustLogin("otto")
	if p := otto.get("/ui/objects/" + ind); !strings.Contains(p.body, "It has not been released.") {
		t.Error("the auditor's page lacks where it went")
	}
}

// TestObjectGraphExpands: past the graph's cap, "Show more" answers the
// section with every neighbour and both banners, out of band, raised to
// cover them.
func TestObjectGraphExpands(t *testing.T) {
	f := newFixture(t)
	hub := nodetest.NewID("campaign")
	f.land(t, "NATO UNCLASSIFIED", obj(hub, map[string]any{"name": "hub"}))
	var objs [][]byte
	for range 14 {
		a, rel := nodetest.NewID("threat-actor"), nodetest.NewID("relationship")
		objs = append(objs, obj(a, map[string]any{"name": "member"}),
			obj(rel, map[string]any{"relationship_type": "attributed-to", "source_ref": hub, "target_ref": a}))
	}
	f.land(t, "NATO RESTRICTED", objs...)
	c := f.client(t)
	c.mustLogin("rita")
	p := c.get("/ui/objects/" + hub)
	if n := strings.Count(p.body, `<g class="gnode" data-object-id=`); n != 12 {
		t.Errorf("the graph draws %d neighbours, want 12 (capped)", n)
	}
	m := regexp.MustCompile(`hx-get="([^"]+)"`).FindStringSubmatch(p.body)
	if m == nil {
		t.Fatal("no way to show more")
	}
	frag := c.get(unescape(m[1]), "HX-Request", "true")
	if frag.code != http.StatusOK {
		t.Fatalf("fragment: %d", frag.code)
	}
	if n := strings.Count(frag.body, `<g class="gnode" data-object-id=`); n != 14 {
		t.Errorf("expanded, the graph draws %d neighbours, want 14", n)
	}
	if !strings.Contains(frag.body, `hx-swap-oob="true">NATO RESTRICTED</div>`) || strings.Count(frag.body, "hx-swap-oob") != 2 {
		t.Errorf("the fragment does not raise both banners:\n%s", frag.body)
	}
}
