package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

var objectIDAttr = regexp.MustCompile(`data-object-id="([^"]+)"`)

func shownIDs(body string) map[string]bool {
	out := map[string]bool{}
	for _, m := range objectIDAttr.FindAllStringSubmatch(body, -1) {
		out[m[1]] = true
	}
	return out
}

// The search page answers every signed-in user with what they may read:
// hits carry their portion marks, the banner rises to the dominant label
// of the hits, and what a user may not read is in no result and no count.
func TestSearchPage(t *testing.T) {
	f := newFixture(t)
	ana, rita := f.client(t), f.client(t)
	ana.mustLogin("ana")
	rita.mustLogin("rita")

	p := ana.get("/ui/search?q=" + url.QueryEscape("SECRET actor"))
	if p.code != http.StatusOK || !shownIDs(p.body)[f.secret] || len(shownIDs(p.body)) != 1 {
		t.Fatalf("ana: %d, shown %v\n%s", p.code, shownIDs(p.body), p.body)
	}
	if b := banners(t, p.body); b != "NATO SECRET // REL TO GBR, USA" {
		t.Errorf("ana's banner = %q", b)
	}
	if !strings.Contains(p.body, `data-portion title="NATO SECRET // REL TO GBR, USA"`) && !strings.Contains(p.body, `data-portion title="NATO SECRET // REL TO GBR, USA"`) {
		t.Errorf("no portion mark with the full banner")
	}

	p = rita.get("/ui/search?q=" + url.QueryEscape("secret actor"))
	if p.code != http.StatusOK || len(shownIDs(p.body)) != 0 || !strings.Contains(p.body, "0 objects") {
		t.Fatalf("rita: %d, shown %v", p.code, shownIDs(p.body))
	}
	if b := banners(t, p.body); b != f.n.Registry().SystemLow() {
		t.Errorf("rita's empty result: banner %q, want system-low", b)
	}
	p = rita.get("/ui/search?q=actor")
	if ids := shownIDs(p.body); len(ids) != 1 || !ids[f.open] || !strings.Contains(p.body, "1 object<") {
		t.Errorf("rita, actor: %v", ids)
	}

	// A pasted list: grouped by value, each group its own count.
	list := f.open + "\n" + f.secret + ", " + f.national
	p = rita.get("/ui/search?q=" + url.QueryEscape(list))
	if p.code != http.StatusOK || strings.Count(p.body, `class="group" data-value=`) != 3 {
		t.Fatalf("rita's list: %d\n%s", p.code, p.body)
	}
	if ids := shownIDs(p.body); len(ids) != 1 || !ids[f.open] {
		t.Errorf("rita's list shows %v", ids)
	}
	p = ana.get("/ui/search?q=" + url.QueryEscape(list))
	if ids := shownIDs(p.body); len(ids) != 3 {
		t.Errorf("ana's list shows %v", ids)
	}
	if b := banners(t, p.body); b != f.n.Registry().SystemHigh() {
		t.Errorf("ana's list of NATO and national objects: banner %q, want system-high", b)
	}

	// Filters are form fields.
	p = ana.get("/ui/search?q=actor&class=NATO:SECRET")
	if ids := shownIDs(p.body); len(ids) != 1 || !ids[f.secret] {
		t.Errorf("class filter: %v", ids)
	}
	if p = ana.get("/ui/search?q=actor&since=yesterday"); p.code != http.StatusBadRequest {
		t.Errorf("a bad date: %d", p.code)
	}
	if p = ana.get("/ui/search?q=" + url.QueryEscape("::/4")); p.code != http.StatusBadRequest || len(shownIDs(p.body)) != 0 {
		t.Errorf("a block too broad: %d", p.code)
	}
}

// Saved searches: saved with the form's CSRF token, listed for their user
// only, deleted; a save without the token is refused and saves nothing.
func TestSavedSearchesPage(t *testing.T) {
	f := newFixture(t)
	ana, rita := f.client(t), f.client(t)
	ana.mustLogin("ana")
	rita.mustLogin("rita")
	p := ana.get("/ui/search?q=actor&type=threat-actor")
	csrf := csrfOf(t, p.body)
	if r := ana.post("/ui/search/saved", url.Values{"name": {"actors"}, "q": {"actor"}, "type": {"threat-actor"}}); r.code != http.StatusForbidden {
		t.Fatalf("save without CSRF: %d", r.code)
	}
	if strings.Contains(ana.get("/ui/search").body, `data-saved="actors"`) {
		t.Fatal("a save without CSRF saved")
	}
	if r := ana.post("/ui/search/saved", url.Values{"csrf": {csrf}, "name": {"actors"}, "q": {"actor"}, "type": {"threat-actor"}}); r.code != http.StatusSeeOther {
		t.Fatalf("save: %d %s", r.code, r.body)
	}
	p = ana.get("/ui/search")
	if !strings.Contains(p.body, `data-saved="actors"`) || !strings.Contains(p.body, `href="/ui/search?q=actor&amp;type=threat-actor"`) {
		t.Fatalf("saved search not listed:\n%s", p.body)
	}
	if strings.Contains(rita.get("/ui/search").body, `data-saved="actors"`) {
		t.Error("another user sees the saved search")
	}
	if r := ana.post("/ui/search/saved/delete", url.Values{"csrf": {csrf}, "name": {"actors"}}); r.code != http.StatusSeeOther {
		t.Fatalf("delete: %d", r.code)
	}
	if strings.Contains(ana.get("/ui/search").body, `data-saved="actors"`) {
		t.Error("deleted search still listed")
	}
}
