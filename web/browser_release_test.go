package web_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tearline/tearline/agreement"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/nodetest"
	"github.com/tearline/tearline/node/users"
	"github.com/tearline/tearline/web/site"
)

// TestBrowserReleaser: between two real nodes whose agreement needs two
// releasers, an analyst requests a release in the browser, two releasers
// approve it, the administrator watches the delivery reach the partner,
// then recalls the object with a reason and watches the partner's
// acknowledgement arrive; the partner no longer holds it.
func TestBrowserReleaser(t *testing.T) {
	ctx0 := context.Background()
	gbr, fra := nodetest.NewFedPairTerms(t, func(tm *agreement.Terms) {
		tm.Release = agreement.Release{Mode: agreement.ModeTwo}
	}, "analysis")
	n := gbr.N
	clr := map[string]string{"NATO": "SECRET"}
	for _, u := range []users.UserSpec{{Name: "ann", Role: node.RoleAnalyst, Nationality: "GBR", Clearances: clr},
		{Name: "rob", Role: node.RoleReleaser, Nationality: "GBR", Clearances: clr}, {Name: "rita", Role: node.RoleReleaser, Nationality: "GBR", Clearances: clr}} {
		nodetest.AddUser(t, n, u)
	}
	for _, name := range []string{"ann", "rob", "rita", "admin"} {
		if err := n.Users.SetPassword(ctx0, node.ConsoleAdmin(), name, password); err != nil {
			t.Fatal(err)
		}
	}
	id := gbr.IngestAs(t, nodetest.Actor(nodetest.NewID("threat-actor"), nil), nodetest.OKBanner)
	ui, err := site.New(n, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(ui)
	t.Cleanup(srv.Close)
	ctx := browser(t)
	base := srv.URL

	// The analyst requests it; policy holds it for two releasers.
	browserLogin(t, ctx, base, "ann", password)
	do(t, ctx, chromedp.Navigate(base+"/ui/releases"), chromedp.WaitVisible(`#request-release input[name="object"]`),
		chromedp.SendKeys(`#request-release input[name="object"]`, id), evalVoid(`document.body.dataset.before = 'submit'`),
		chromedp.Submit(`#request-release input[name="object"]`))
	waitFor(t, ctx, `document.readyState === 'complete' && document.body.dataset.before !== 'submit' && !!document.querySelector('.result')`)
	if got := text(t, ctx, `.result`); !strings.Contains(got, "outcome hold") {
		t.Fatalf("request: %s", got)
	}
	if got := text(t, ctx, `tr[data-object-id="`+id+`"] [data-mine]`); !strings.Contains(got, "(you)") {
		t.Fatalf("the analyst's own request is not marked: %q", got)
	}
	wantBanners(t, ctx, nodetest.OKBanner)

	approve := func(name, want string) {
		t.Helper()
		browserLogin(t, ctx, base, name, password)
		do(t, ctx, chromedp.Navigate(base+"/ui/releases"), chromedp.WaitVisible(`tr[data-object-id="`+id+`"] form[action$="/approve"] button`),
			evalVoid(`document.body.dataset.before = 'submit'`), chromedp.Click(`tr[data-object-id="`+id+`"] form[action$="/approve"] button`))
		waitFor(t, ctx, `document.readyState === 'complete' && document.body.dataset.before !== 'submit' && !!document.querySelector('.result')`)
		if got := text(t, ctx, `.result`); !strings.Contains(got, want) {
			t.Fatalf("%s approves: %s, want %s", name, got, want)
		}
	}
	approve("rob", "outcome hold")
	if got := text(t, ctx, `tr[data-object-id="`+id+`"] [data-approvals]`); !strings.Contains(got, "1 of 2") || !strings.Contains(got, "user:rob") {
		t.Fatalf("after the first approval: %q", got)
	}
	screenshot(t, ctx, "releases")
	approve("rita", "outcome release")

	// The administrator watches the delivery on the object's release page.
	browserLogin(t, ctx, base, "admin", password)
	page := base + "/ui/objects/" + id + "/preview"
	waitPage(t, ctx, page, `document.querySelector('tr[data-party="fra"] [data-delivery]')?.dataset.delivery === 'delivered'`)
	wantBanners(t, ctx, nodetest.OKBanner)
	nodetest.Eventually(t, "fra holds the object", func() bool { return nodetest.Held(fra.N, id) })

	// Recall, with a reason; fra acknowledges.
	do(t, ctx, chromedp.SendKeys(`#recall input[name="reason"]`, "source withdrawn"), evalVoid(`document.body.dataset.before = 'submit'`),
		chromedp.Submit(`#recall input[name="reason"]`))
	waitFor(t, ctx, `document.readyState === 'complete' && document.body.dataset.before !== 'submit' && !!document.querySelector('tr[data-recall][data-party="fra"]')`)
	waitPage(t, ctx, page, `document.querySelector('tr[data-recall][data-party="fra"]')?.dataset.recallState === 'acknowledged'`)
	if got := text(t, ctx, `tr[data-recall][data-party="fra"]`); !strings.Contains(got, "source withdrawn") {
		t.Fatalf("recall row: %q", got)
	}
	screenshot(t, ctx, "release-page")
	nodetest.Eventually(t, "fra no longer holds the object", func() bool { return !nodetest.Held(fra.N, id) })
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	return run(t, ctx, chromedp.Evaluate[string](`(document.querySelector(`+jsString(sel)+`) || {}).textContent || ''`))
}

func jsString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// waitPage loads url again until cond holds on it, for at most 30 seconds
// (what it waits for happens on the server: a delivery, an acknowledgement).
func waitPage(t *testing.T, ctx context.Context, url, cond string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		do(t, ctx, chromedp.Navigate(url))
		if run(t, ctx, chromedp.Evaluate[bool](`!!(`+cond+`)`)) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("never held on %s: %s", url, cond)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
