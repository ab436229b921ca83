package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/nodetest"
)

var optionRE = regexp.MustCompile(`<option value="([^"]*)"`)

// stored counts the objects the node holds (as its administrator, cleared
// for every level the fixture uses).
func (f *fixture) stored(t *testing.T) int64 {
	t.Helper()
	n, err := f.n.Count(context.Background(), f.admin, node.ListOptions{IncludeRevoked: true})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestPublishLabelPicker: the picker offers only labels node/publish lets
// the user apply (and each of them), the htmx preview shows the banner of
// one they may apply and nothing of one they may not, and without
// JavaScript the same preview is a whole page, marked system-low.
func TestPublishLabelPicker(t *testing.T) {
	f := newFixture(t)
	reg := f.n.Registry()
	for _, user := range []string{"ana", "rita"} {
		p, err := f.n.PrincipalByName(context.Background(), user)
		if err != nil {
			t.Fatal(err)
		}
		c := f.client(t)
		c.mustLogin(user)
		pg := c.get("/ui/publish")
		if pg.code != http.StatusOK || banners(t, pg.body) != reg.SystemLow() {
			t.Fatalf("%s: publish page %d", user, pg.code)
		}
		opts := optionRE.FindAllStringSubmatch(pg.body, -1)
		offered := map[string]bool{}
		for _, o := range opts {
			b := unescape(o[1])
			offered[b] = true
			if _, err := f.n.Publish.Label(p, b); err != nil {
				t.Errorf("%s is offered %q, which node/publish refuses: %v", user, b, err)
			}
		}
		labels, err := f.n.Publish.Labels(context.Background(), p)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range labels {
			if !offered[reg.Banner(l)] {
				t.Errorf("%s is not offered %q", user, reg.Banner(l))
			}
		}
		if !offered["NATO RESTRICTED // REL TO GBR"] {
			t.Errorf("%s: offered %v", user, offered)
		}
		if user == "rita" && (offered["NATO SECRET"] || offered["GBR OFFICIAL"]) {
			t.Errorf("rita is offered labels above her: %v", offered)
		}
		for _, b := range []string{"NATO SECRET", "NATO RESTRICTED"} {
			frag := c.get("/ui/publish/banner?label="+url.QueryEscape(b), "HX-Request", "true")
			if frag.code != http.StatusOK || strings.Contains(frag.body, "data-banner") {
				t.Fatalf("%s: preview fragment %d\n%s", user, frag.code, frag.body)
			}
			may := user == "ana" || b == "NATO RESTRICTED"
			if shown := strings.Contains(frag.body, `data-label-preview="`+b+`"`); shown != may {
				t.Errorf("%s: preview of %q shown = %v\n%s", user, b, shown, frag.body)
			}
			if !may && (strings.Contains(frag.body, b) || !strings.Contains(frag.body, `data-label-preview="refused"`)) {
				t.Errorf("%s: preview of %q:\n%s", user, b, frag.body)
			}
			whole := c.get("/ui/publish/banner?label=" + url.QueryEscape(b))
			if whole.code != http.StatusOK || banners(t, whole.body) != reg.SystemLow() ||
				strings.Contains(whole.body, `data-label-preview="`+b+`"`) != may {
				t.Errorf("%s: preview page of %q: %d\n%s", user, b, whole.code, whole.body)
			}
		}
	}
}

// TestPublishIndicatorForm publishes one indicator from a defanged domain
// under a picked label, previews without publishing, and refuses a forged
// label, a malformed value and a post without the CSRF token, each
// storing nothing.
func TestPublishIndicatorForm(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	ana := f.client(t)
	ana.mustLogin("ana")
	csrf := csrfOf(t, ana.get("/ui/publish").body)
	const lbl = "NATO SECRET // REL TO GBR, USA"
	form := url.Values{"csrf": {csrf}, "label": {lbl}, "value": {"evil[.]example.com"}, "name": {"C2 domain"},
		"description": {"beacons every 60 s"}, "indicator_types": {"malicious-activity"}, "valid_from": {"2026-12-01T08:00"}}

	before := f.stored(t)
	prev := url.Values{"preview": {"1"}}
	for k, v := range form {
		prev[k] = v
	}
	p := ana.post("/ui/publish/indicator", prev)
	if p.code != http.StatusOK || f.stored(t) != before || !strings.Contains(p.body, `data-label-preview="`+lbl+`"`) ||
		!strings.Contains(p.body, `value="evil[.]example.com"`) || strings.Contains(p.body, `data-result`) {
		t.Fatalf("preview: %d, stored %d -> %d\n%s", p.code, before, f.stored(t), p.body)
	}
	if b := banners(t, p.body); b != lbl {
		t.Errorf("the preview shows what was typed for %q under %q", lbl, b)
	}

	p = ana.post("/ui/publish/indicator", form)
	if p.code != http.StatusOK || f.stored(t) != before+1 {
		t.Fatalf("publish: %d, stored %d -> %d\n%s", p.code, before, f.stored(t), resultRE.FindString(p.body))
	}
	m := regexp.MustCompile(`data-object-id="(indicator--[0-9a-f-]+)"><span class="portion [^"]*" data-portion title="([^"]*)">`).FindStringSubmatch(p.body)
	if m == nil || unescape(m[2]) != lbl || !strings.Contains(p.body, `href="/ui/objects/`+m[1]+`"`) {
		t.Fatalf("the result lists no marked, linked indicator:\n%s", p.body)
	}
	if b := banners(t, p.body); b != lbl {
		t.Errorf("result banner %q", b)
	}
	o, err := f.n.Get(ctx, nodeAdmin(t, f), m[1])
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"pattern":"[domain-name:value = 'evil.example.com']"`, `"pattern_type":"stix"`, `"name":"C2 domain"`,
		`"valid_from":"2026-12-01T08:00:00.000Z"`, `"indicator_types":["malicious-activity"]`} {
		if !strings.Contains(string(o.Raw), want) {
			t.Errorf("indicator lacks %s: %s", want, o.Raw)
		}
	}
	if want := nodetest.MustLabel(t, f.n, lbl).ID(); len(o.Labels) != 1 || o.Labels[0] != want {
		t.Errorf("indicator labels %v, want %s", o.Labels, want)
	}

	// rita may not apply NATO SECRET: a forged value is refused, nothing
	// stored, and what she typed is not shown again under a low banner.
	rita := f.client(t)
	rita.mustLogin("rita")
	rform := url.Values{"csrf": {csrfOf(t, rita.get("/ui/publish").body)}, "label": {"NATO SECRET"}, "value": {"198.51.100.77"}, "description": {"typed secret words"}}
	before = f.stored(t)
	p = rita.post("/ui/publish/indicator", rform)
	if p.code != http.StatusForbidden || f.stored(t) != before || !strings.Contains(p.body, "You may not publish under that label") ||
		strings.Contains(p.body, "typed secret words") || strings.Contains(p.body, "198.51.100.77") {
		t.Fatalf("forged label: %d, stored %d -> %d\n%s", p.code, before, f.stored(t), p.body)
	}
	if b := banners(t, p.body); b != f.n.Registry().SystemLow() {
		t.Errorf("forged label page banner %q", b)
	}
	// A malformed value: a clear error, nothing stored.
	rform.Set("label", "NATO RESTRICTED")
	rform.Set("value", "not a value at all")
	p = rita.post("/ui/publish/indicator", rform)
	if p.code != http.StatusBadRequest || f.stored(t) != before || !strings.Contains(p.body, "not an IP address, CIDR block, domain name") {
		t.Fatalf("malformed value: %d\n%s", p.code, p.body)
	}
	rform.Set("value", "[ipv4-addr:value = ")
	if p = rita.post("/ui/publish/indicator", rform); p.code != http.StatusBadRequest || f.stored(t) != before || !strings.Contains(p.body, "not a STIX pattern") {
		t.Fatalf("malformed pattern: %d\n%s", p.code, p.body)
	}
	rform.Set("value", "198.51.100.77")
	rform.Set("valid_from", "last tuesday")
	if p = rita.post("/ui/publish/indicator", rform); p.code != http.StatusBadRequest || f.stored(t) != before {
		t.Fatalf("malformed valid_from: %d\n%s", p.code, p.body)
	}
	// Without the CSRF token: 403, nothing stored.
	rform.Del("valid_from")
	for _, path := range []string{"/ui/publish/indicator", "/ui/publish/report", "/ui/publish"} {
		for _, tok := range []string{"", "forged"} {
			rform.Set("csrf", tok)
			rform.Set("refs", f.open)
			rform.Set("name", "no token")
			rform.Set("bundle", string(nodetest.SDO(nodetest.NewID("threat-actor"), nodetest.T0, nodetest.T0, nil)))
			if p = rita.post(path, rform); p.code != http.StatusForbidden || f.stored(t) != before {
				t.Fatalf("%s with csrf %q: %d, stored %d -> %d", path, tok, p.code, before, f.stored(t))
			}
		}
	}
}

var resultRE = regexp.MustCompile(`(?s)<section class="result".*?</section>`)

// TestPublishReportForm: a report over an object the user may read lands;
// one naming an id they may not read is refused exactly as one naming an
// id that does not exist (the same page, no id echoed) and stores nothing.
func TestPublishReportForm(t *testing.T) {
	f := newFixture(t)
	rita := f.client(t)
	rita.mustLogin("rita")
	csrf := csrfOf(t, rita.get("/ui/publish").body)
	form := func(refs string) url.Values {
		return url.Values{"csrf": {csrf}, "label": {"NATO RESTRICTED"}, "name": {"weekly summary"}, "description": {"what we saw"},
			"published": {"2026-12-07"}, "report_types": {"threat-report"}, "refs": {refs}}
	}
	before := f.stored(t)
	var answers []string
	for _, ref := range []string{f.secret, f.national, nodetest.NewID("threat-actor")} {
		p := rita.post("/ui/publish/report", form(f.open+"\n"+ref))
		if p.code != http.StatusUnprocessableEntity || f.stored(t) != before {
			t.Fatalf("report with a ref she may not read: %d, stored %d -> %d\n%s", p.code, before, f.stored(t), p.body)
		}
		res := resultRE.FindString(p.body)
		if !strings.Contains(res, "ref 2: no object with this id, or none you may read") || strings.Contains(p.body, ref) {
			t.Errorf("result:\n%s", res)
		}
		answers = append(answers, regexp.MustCompile(`report--[0-9a-f-]+`).ReplaceAllString(res, "REPORT"))
	}
	if answers[0] != answers[1] || answers[1] != answers[2] {
		t.Errorf("refs to hidden ids are answered unlike refs to missing ones:\n%s\n%s\n%s", answers[0], answers[1], answers[2])
	}
	if p := rita.post("/ui/publish/report", form("not-an-id")); p.code != http.StatusBadRequest || f.stored(t) != before ||
		!strings.Contains(p.body, "is not a STIX id") {
		t.Fatalf("malformed ref: %d\n%s", p.code, p.body)
	}
	p := rita.post("/ui/publish/report", form(f.open))
	if p.code != http.StatusOK || f.stored(t) != before+1 {
		t.Fatalf("report: %d, stored %d -> %d\n%s", p.code, before, f.stored(t), resultRE.FindString(p.body))
	}
	m := regexp.MustCompile(`data-object-id="(report--[0-9a-f-]+)"><span class="portion [^"]*" data-portion title="NATO RESTRICTED">`).FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no marked report row:\n%s", p.body)
	}
	o, err := f.n.Get(context.Background(), nodeAdmin(t, f), m[1])
	if err != nil || !strings.Contains(string(o.Raw), `"object_refs":["`+f.open+`"]`) || !strings.Contains(string(o.Raw), `"published":"2026-12-07T00:00:00.000Z"`) {
		t.Fatalf("report %s: %v", o.Raw, err)
	}
	if b := banners(t, p.body); b != "NATO RESTRICTED" {
		t.Errorf("result banner %q", b)
	}
}

// TestPublishBundleUnderPickedLabel: a pasted bundle lands under the
// picked label; a forged one publishes nothing.
func TestPublishBundleUnderPickedLabel(t *testing.T) {
	f := newFixture(t)
	rita := f.client(t)
	rita.mustLogin("rita")
	csrf := csrfOf(t, rita.get("/ui/publish").body)
	id := nodetest.NewID("threat-actor")
	bundle := string(nodetest.Bundle(nodetest.SDO(id, nodetest.T0, nodetest.T0, map[string]any{"name": "pasted"})))
	before := f.stored(t)
	if p := rita.post("/ui/publish", url.Values{"csrf": {csrf}, "label": {"COSMIC TOP SECRET"}, "bundle": {bundle}}); p.code != http.StatusForbidden ||
		f.stored(t) != before || strings.Contains(p.body, "pasted") {
		t.Fatalf("forged label: %d\n%s", p.code, p.body)
	}
	if p := rita.post("/ui/publish", url.Values{"csrf": {csrf}, "label": {"NO SUCH LABEL"}, "bundle": {bundle}}); p.code != http.StatusBadRequest || f.stored(t) != before {
		t.Fatalf("unknown label: %d\n%s", p.code, p.body)
	}
	p := rita.post("/ui/publish", url.Values{"csrf": {csrf}, "label": {"NATO RESTRICTED // REL TO GBR"}, "bundle": {bundle}})
	if p.code != http.StatusOK || !strings.Contains(p.body, `data-object-id="`+id+`"`) {
		t.Fatalf("publish: %d\n%s", p.code, p.body)
	}
	if b := banners(t, p.body); b != "NATO RESTRICTED // REL TO GBR" {
		t.Errorf("banner %q", b)
	}
	// Bad JSON: a clear error, nothing stored.
	before = f.stored(t)
	if p := rita.post("/ui/publish", url.Values{"csrf": {csrf}, "label": {"NATO RESTRICTED"}, "bundle": {"{not json"}}); p.code != http.StatusBadRequest ||
		f.stored(t) != before || !strings.Contains(p.body, "Nothing was published") {
		t.Fatalf("bad json: %d\n%s", p.code, p.body)
	}
}
