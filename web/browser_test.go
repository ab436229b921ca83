package web_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/tearline/tearline/node/nodetest"
)

// Browser tests drive Debian's chromium with chromedp (.ci/run installs
// it). Without a chromium they skip, except under CI=true, where they fail:
// CI must never pass by not running them.

func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no chromium binary on PATH: .ci/run must install Debian's chromium (apt-get install chromium)")
	}
	t.Skip("no chromium binary on PATH (apt-get install chromium): browser tests skipped")
	return ""
}

// browser starts a headless chromium for the test and returns its tab.
func browser(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium(t)),
		chromedp.NoSandbox, chromedp.IgnoreCertErrors, chromedp.Flag("disable-gpu", true), chromedp.WindowSize(1280, 900))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	if err := chromedp.Do(ctx); err != nil { // starts the browser; no timeout on this first run
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// run runs steps with a bound, so a broken page fails instead of hanging.
func run[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(c, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	run(t, ctx, chromedp.Steps(steps...))
}

// pageBanners reads the page's data-banner elements as "top|TEXT".
func pageBanners(t *testing.T, ctx context.Context) []string {
	t.Helper()
	return run(t, ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('[data-banner]')].map(e => e.dataset.banner + '|' + e.textContent.trim())`))
}

func wantBanners(t *testing.T, ctx context.Context, want string) {
	t.Helper()
	got := pageBanners(t, ctx)
	if len(got) != 2 || got[0] != "top|"+want || got[1] != "bottom|"+want {
		t.Fatalf("banners = %q, want top and bottom %q", got, want)
	}
}

func browserLogin(t *testing.T, ctx context.Context, base, name, pw string) {
	t.Helper()
	do(t, ctx,
		chromedp.Navigate(base+"/ui/login"),
		chromedp.SendKeys(`input[name="name"]`, name),
		chromedp.SendKeys(`input[name="password"]`, pw),
		evalVoid(`document.body.dataset.before = 'submit'`),
		chromedp.Submit(`input[name="password"]`),
	)
	// The answer is a new document: wait until the old one is gone.
	waitFor(t, ctx, `document.readyState === 'complete' && !!document.body && document.body.dataset.before !== 'submit'`)
}

// waitFor polls a condition until it holds, across navigations (which
// make single evaluations fail while the new document loads), for at most
// 30 seconds.
func waitFor(t *testing.T, ctx context.Context, cond string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		c, cancel := context.WithTimeout(ctx, 5*time.Second)
		ok, err := chromedp.Run(c, chromedp.Evaluate[bool](cond))
		cancel()
		if err == nil && ok {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("condition never held: %s", cond)
}

func evalVoid(js string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := chromedp.Evaluate[any](js)(ctx, tg)
		return chromedp.Void{}, err
	}
}

// bannerGeometry is where an element and the banners are, scrolled to
// the end of a page (and the header, scrolled to its start).
type bannerGeometry struct {
	Top, Bottom      float64 // the element
	BannerTopBottom  float64
	BannerBottomTop  float64
	BannerBottomEnd  float64
	Window           float64
	HeaderTop        float64 // scrolled to the start
	BannerTopBottom0 float64
	ScrolledToTheEnd bool
}

// bannersClear scrolls to the end of the page and checks that the element
// sel is wholly between the two banners, that both banners are in the
// window, and, scrolled back to the top, that the top banner covers
// nothing of the header.
func bannersClear(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	g := run(t, ctx, chromedp.Evaluate[bannerGeometry](`(() => {
		const box = id => document.getElementById(id).getBoundingClientRect();
		window.scrollTo(0, 0);
		const out = {HeaderTop: document.querySelector('header.top').getBoundingClientRect().top, BannerTopBottom0: box('banner-top').bottom};
		window.scrollTo(0, document.documentElement.scrollHeight);
		const el = document.querySelector(`+strconv.Quote(sel)+`).getBoundingClientRect();
		return Object.assign(out, {Top: el.top, Bottom: el.bottom, BannerTopBottom: box('banner-top').bottom,
			BannerBottomTop: box('banner-bottom').top, BannerBottomEnd: box('banner-bottom').bottom, Window: window.innerHeight,
			ScrolledToTheEnd: Math.ceil(window.scrollY + window.innerHeight) >= document.documentElement.scrollHeight});
	})()`))
	if !g.ScrolledToTheEnd {
		t.Fatalf("%s: the page did not scroll to its end: %+v", sel, g)
	}
	if g.Bottom > g.BannerBottomTop || g.Top < g.BannerTopBottom {
		t.Errorf("%s (%v..%v) is not between the banners (top banner ends at %v, bottom banner starts at %v)", sel, g.Top, g.Bottom, g.BannerTopBottom, g.BannerBottomTop)
	}
	if g.BannerBottomEnd > g.Window+0.5 {
		t.Errorf("the bottom banner ends at %v, below the window (%v)", g.BannerBottomEnd, g.Window)
	}
	if g.HeaderTop < g.BannerTopBottom0 {
		t.Errorf("the top banner (to %v) covers the header (from %v)", g.BannerTopBottom0, g.HeaderTop)
	}
}

// emulateMedia renders the page for a CSS media type ("print"), or again
// for the screen ("").
func emulateMedia(media string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: media})
		return err
	})
}

func location(t *testing.T, ctx context.Context) string {
	t.Helper()
	return run(t, ctx, chromedp.Location())
}

func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("TEARLINE_UI_SCREENSHOTS")
	if dir == "" {
		return
	}
	// The window is made as tall as the page, so the fixed banners are at
	// the page's ends in the picture (a full-page capture of a shorter
	// window would leave the bottom one in the middle).
	h := run(t, ctx, chromedp.Evaluate[int64](`document.documentElement.scrollHeight`))
	do(t, ctx, chromedp.EmulateViewport(1280, h))
	png := run(t, ctx, chromedp.CaptureScreenshot())
	do(t, ctx, chromedp.EmulateViewport(1280, 900))
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestBrowser signs in, reads and pages through objects with htmx, and
// checks the Marking of every page, in a real browser.
func TestBrowser(t *testing.T) {
	f := newFixture(t)
	admin := nodeAdmin(t, f)
	pl := addPlaces(t, f)
	var objs [][]byte
	for range 60 {
		objs = append(objs, nodetest.SDO(nodetest.NewID("campaign"), nodetest.T0, nodetest.T0, nil))
	}
	nodetest.MustLand(t, f.n, admin, nodetest.Bundle(objs...), "NATO RESTRICTED")
	later := nodetest.NewID("campaign")
	nodetest.MustLand(t, f.n, admin, nodetest.SDO(later, nodetest.T0, nodetest.T0, map[string]any{"name": "later secret"}), "NATO SECRET")
	ctx := browser(t)
	base := f.srv.URL

	// Signed out, every page leads to the sign-in form, marked system-low.
	do(t, ctx, chromedp.Navigate(base+"/"), chromedp.WaitVisible(`input[name="password"]`))
	if loc := location(t, ctx); loc != base+"/ui/login" {
		t.Fatalf("/ led to %s", loc)
	}
	wantBanners(t, ctx, f.n.Registry().SystemLow())
	screenshot(t, ctx, "login")

	browserLogin(t, ctx, base, "ana", "wrong password here")
	if loc := location(t, ctx); loc != base+"/ui/login" {
		t.Fatalf("a wrong password led to %s", loc)
	}
	browserLogin(t, ctx, base, "ana", password)
	if loc := location(t, ctx); loc != base+"/ui/" {
		t.Fatalf("login led to %s:\n%s", loc, run(t, ctx, chromedp.OuterHTML(`html`)))
	}
	do(t, ctx, chromedp.WaitVisible(`[data-user="ana"]`))
	if loc := location(t, ctx); loc != base+"/ui/" {
		t.Fatalf("login led to %s", loc)
	}
	header := run(t, ctx, chromedp.Text(`.who`))
	for _, want := range []string{"ana", "analyst", "NATO SECRET", "GBR"} {
		if !strings.Contains(header, want) {
			t.Errorf("header %q lacks %q", header, want)
		}
	}
	// The start page is the dashboard: counts by discipline, no object.
	do(t, ctx, chromedp.WaitVisible(`section.facets`))
	wantBanners(t, ctx, f.n.Registry().SystemLow())
	screenshot(t, ctx, "dashboard")
	do(t, ctx, chromedp.Navigate(base+"/ui/objects"), chromedp.WaitVisible(`#rows [data-object-id]`))
	wantBanners(t, ctx, f.n.Registry().SystemHigh()) // NATO and GBR labels on one page
	screenshot(t, ctx, "objects")

	// htmx: "More" appends the next rows and raises both banners out of band.
	do(t, ctx, chromedp.Navigate(base+"/ui/objects?type=campaign"), chromedp.WaitVisible(`#more a`))
	wantBanners(t, ctx, "NATO RESTRICTED")
	if n := run(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('#rows [data-object-id]').length`)); n != 50 {
		t.Fatalf("page 1 has %d rows", n)
	}
	do(t, ctx, chromedp.Click(`#more a`), chromedp.WaitVisible(`[data-object-id="`+later+`"]`))
	if n := run(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('#rows [data-object-id]').length`)); n != 61 {
		t.Fatalf("after More: %d rows, want 61 (appended by htmx, not a new page)", n)
	}
	if loc := location(t, ctx); loc != base+"/ui/objects?type=campaign" {
		t.Errorf("More navigated to %s", loc)
	}
	wantBanners(t, ctx, "NATO SECRET")
	// A long page: scrolled to its end, its last row and the "More" link
	// are above the bottom banner, on screen and on paper.
	bannersClear(t, ctx, `#rows [data-object-id]:last-child`)
	bannersClear(t, ctx, `#more`)
	do(t, ctx, emulateMedia("print"))
	bannersClear(t, ctx, `#rows [data-object-id]:last-child`)
	do(t, ctx, emulateMedia(""))
	portion := run(t, ctx, chromedp.Evaluate[string](`document.querySelector('[data-object-id="`+later+`"] [data-portion]').getAttribute('title')`))
	if portion != "NATO SECRET" {
		t.Errorf("secret row's portion title = %q", portion)
	}

	// The object page carries its label.
	resp := run(t, ctx, chromedp.NavigateResponse(base+"/ui/objects/"+f.secret))
	if resp.Status != 200 {
		t.Fatalf("object page: %d", resp.Status)
	}
	wantBanners(t, ctx, "NATO SECRET // REL TO GBR, USA")
	screenshot(t, ctx, "object")

	// The map: London's point links to its object page.
	do(t, ctx, chromedp.Navigate(base+"/ui/map"), chromedp.WaitVisible(`svg.world`))
	wantBanners(t, ctx, "NATO SECRET // REL TO GBR, USA")
	if n := run(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('svg.world [data-object-id] [data-portion]').length`)); n != 5 {
		t.Errorf("the map draws %d points, want 5", n)
	}
	if w := run(t, ctx, chromedp.Evaluate[float64](`document.querySelector('svg.world').getBoundingClientRect().width`)); w < 600 {
		t.Errorf("the map is %v px wide", w)
	}
	screenshot(t, ctx, "map")
	do(t, ctx, chromedp.Click(`[data-object-id="`+pl.london+`"] circle`), chromedp.WaitVisible(`article.object[data-object-id="`+pl.london+`"]`))

	// A post without the CSRF token is refused, in the browser too.
	status := run(t, ctx, chromedp.Evaluate[int](`(async () => (await fetch('/ui/publish', {method: 'POST', body: new URLSearchParams({bundle: '{}'})})).status)()`, chromedp.EvalAwaitPromise))
	if status != 403 {
		t.Errorf("CSRF-less publish from the page answered %d", status)
	}

	do(t, ctx, chromedp.Navigate(base+"/ui/publish"), chromedp.WaitVisible(`textarea[name="bundle"]`))
	wantBanners(t, ctx, f.n.Registry().SystemLow()) // (its screenshot: TestBrowserPublishIndicator)

	// Sign out; rita, cleared lower, sees the secret object nowhere.
	do(t, ctx, chromedp.Click(`.who button`), chromedp.WaitVisible(`input[name="password"]`))
	browserLogin(t, ctx, base, "rita", password)
	do(t, ctx, chromedp.WaitVisible(`[data-user="rita"]`), chromedp.Navigate(base+"/ui/objects"), chromedp.WaitVisible(`#rows [data-object-id]`))
	html := run(t, ctx, chromedp.OuterHTML(`html`))
	if strings.Contains(html, f.secret) || strings.Contains(html, "secret actor") {
		t.Errorf("rita's list shows the secret object")
	}
	wantBanners(t, ctx, "NATO RESTRICTED") // the open object and the restricted campaigns
	resp = run(t, ctx, chromedp.NavigateResponse(base+"/ui/objects/"+f.secret))
	if resp.Status != 404 {
		t.Errorf("rita's view of the secret object: %d, want 404", resp.Status)
	}
	wantBanners(t, ctx, f.n.Registry().SystemLow())
	if html := run(t, ctx, chromedp.OuterHTML(`html`)); strings.Contains(html, f.secret) {
		t.Errorf("the not-found page names the id asked for")
	}
}
