package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"

	"github.com/tearline/tearline/node/nodetest"
)

// TestBrowserSearch searches in a real browser by text, by value, by CIDR
// and by a pasted list, and checks the hits' marks and the banners.
func TestBrowserSearch(t *testing.T) {
	f := newFixture(t)
	admin := nodeAdmin(t, f)
	addr := "ipv4-addr--" + uuid.NewString()
	nodetest.MustLand(t, f.n, admin, nodetest.Bundle([]byte(`{"type":"ipv4-addr","spec_version":"2.1","id":"`+addr+`","value":"198.51.100.7"}`)), "NATO UNCLASSIFIED")
	ind := nodetest.NewID("indicator")
	nodetest.MustLand(t, f.n, admin, nodetest.SDO(ind, nodetest.T0, nodetest.T0, map[string]any{"name": "c2 beacon",
		"pattern": "[ipv4-addr:value = '203.0.113.9']", "pattern_type": "stix", "valid_from": nodetest.T0}), "NATO SECRET // REL TO GBR, USA")
	ctx := browser(t)
	base := f.srv.URL
	browserLogin(t, ctx, base, "ana", password)

	search := func(q string) {
		t.Helper()
		do(t, ctx, chromedp.Navigate(base+"/ui/search"), chromedp.WaitVisible(`textarea[name="q"]`),
			chromedp.SetValue(`textarea[name="q"]`, q),
			evalVoid(`document.body.dataset.before = 'submit'`),
			chromedp.Submit(`textarea[name="q"]`))
		waitFor(t, ctx, `document.readyState === 'complete' && !!document.body && document.body.dataset.before !== 'submit' && !!document.querySelector('[data-results]')`)
	}
	hits := func() []string {
		t.Helper()
		return run(t, ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('[data-results] [data-object-id]')].map(e => e.dataset.objectId)`))
	}
	portionOf := func(id string) string {
		t.Helper()
		return run(t, ctx, chromedp.Evaluate[string](`document.querySelector('[data-object-id="`+id+`"] [data-portion]').title`))
	}

	// By text.
	search("Secret ACTOR")
	if got := hits(); len(got) != 1 || got[0] != f.secret {
		t.Fatalf("text: hits %v, want [%s]", got, f.secret)
	}
	if p := portionOf(f.secret); p != "NATO SECRET // REL TO GBR, USA" {
		t.Errorf("portion title %q", p)
	}
	wantBanners(t, ctx, "NATO SECRET // REL TO GBR, USA")
	screenshot(t, ctx, "search")

	// By value: an address, and the indicator whose pattern names another.
	search("198.51.100.7")
	if got := hits(); len(got) != 1 || got[0] != addr {
		t.Fatalf("value: hits %v", got)
	}
	wantBanners(t, ctx, "NATO UNCLASSIFIED")
	search("203.0.113.9")
	if got := hits(); len(got) != 1 || got[0] != ind {
		t.Fatalf("pattern value: hits %v", got)
	}

	// By CIDR: the address inside it.
	search("198.51.0.0/16")
	if got := hits(); len(got) != 1 || got[0] != addr {
		t.Fatalf("CIDR: hits %v", got)
	}

	// A pasted list: a group per value, each with its hits and count.
	search("198.51.100.7\n203.0.113.9\nnothing.example.org")
	groups := run(t, ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('section.group')].map(g => g.dataset.value + '=' + [...g.querySelectorAll('[data-object-id]')].map(e => e.dataset.objectId).join(',') + '|' + g.querySelector('[data-count]').textContent)`))
	want := []string{"198.51.100.7=" + addr + "|1 object", "203.0.113.9=" + ind + "|1 object", "nothing.example.org=|0 objects"}
	if strings.Join(groups, "\n") != strings.Join(want, "\n") {
		t.Fatalf("list groups:\n%s\nwant\n%s", strings.Join(groups, "\n"), strings.Join(want, "\n"))
	}
	wantBanners(t, ctx, "NATO SECRET // REL TO GBR, USA")

	// The low analyst's list: the SECRET indicator is in no group, no count.
	browserLogin(t, ctx, base, "rita", password)
	search("198.51.100.7\n203.0.113.9")
	if got := hits(); len(got) != 1 || got[0] != addr {
		t.Fatalf("rita's list: hits %v", got)
	}
	if c := run(t, ctx, chromedp.Evaluate[string](`document.querySelector('section.group[data-value="203.0.113.9"] [data-count]').textContent`)); c != "0 objects" {
		t.Errorf("rita's count for the SECRET value: %q", c)
	}
	wantBanners(t, ctx, "NATO UNCLASSIFIED")
}
