package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserPublishIndicator publishes a single indicator through the
// form in a real browser: the picked label's banner is previewed by htmx,
// the indicator lands under it, its row is marked and linked, and the
// page's banners rise to its label.
func TestBrowserPublishIndicator(t *testing.T) {
	f := newFixture(t)
	ctx := browser(t)
	base := f.srv.URL
	browserLogin(t, ctx, base, "ana", password)
	do(t, ctx, chromedp.WaitVisible(`[data-user="ana"]`), chromedp.Navigate(base+"/ui/publish"), chromedp.WaitVisible(`#form-indicator select[name="label"]`))
	wantBanners(t, ctx, f.n.Registry().SystemLow())

	// Picking a label: htmx fetches its banner into the preview.
	const lbl = "NATO SECRET // REL TO GBR, USA"
	do(t, ctx, evalVoid(`(() => {
		const s = document.querySelector('#form-indicator select[name="label"]');
		s.value = `+jsString(lbl)+`;
		s.dispatchEvent(new Event('change', {bubbles: true}));
	})()`))
	waitFor(t, ctx, `[...document.querySelectorAll('#preview-indicator [data-label-preview]')].some(e => e.dataset.labelPreview === `+jsString(lbl)+`)`)
	if loc := location(t, ctx); loc != base+"/ui/publish" {
		t.Fatalf("the preview navigated to %s", loc)
	}

	do(t, ctx,
		chromedp.SendKeys(`#form-indicator input[name="value"]`, "203.0.113.0/24"),
		chromedp.SendKeys(`#form-indicator input[name="name"]`, "scanner block"),
		chromedp.Click(`#form-indicator input[value="malicious-activity"]`),
		evalVoid(`document.body.dataset.before = 'submit'`),
		chromedp.Click(`#form-indicator button[type="submit"]:not([name])`),
	)
	waitFor(t, ctx, `document.readyState === 'complete' && !!document.body && document.body.dataset.before !== 'submit'`)
	do(t, ctx, chromedp.WaitVisible(`[data-result="indicator"] [data-object-id^="indicator--"]`))
	id := run(t, ctx, chromedp.Evaluate[string](`document.querySelector('[data-result="indicator"] [data-object-id]').dataset.objectId`))
	portion := run(t, ctx, chromedp.Evaluate[string](`document.querySelector('[data-object-id="`+id+`"] [data-portion]').getAttribute('title')`))
	if portion != lbl {
		t.Errorf("the landed row's portion title = %q, want %q", portion, lbl)
	}
	wantBanners(t, ctx, lbl)
	o, err := f.n.Get(context.Background(), f.admin, id)
	if err != nil {
		t.Fatalf("the indicator did not land: %v", err)
	}
	if !strings.Contains(string(o.Raw), `"pattern":"[ipv4-addr:value ISSUBSET '203.0.113.0/24']"`) {
		t.Errorf("indicator %s", o.Raw)
	}
	screenshot(t, ctx, "publish")

	// Its row links to its object page.
	do(t, ctx, chromedp.Click(`[data-object-id="`+id+`"] a`), chromedp.WaitVisible(`article.object[data-object-id="`+id+`"]`))
	wantBanners(t, ctx, lbl)
}
