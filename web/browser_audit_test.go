package web_test

import (
	"context"
	"net/http/httptest"
	"regexp"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/nodetest"
	"github.com/tearline/tearline/web/site"
)

// TestBrowserAuditor: an auditor filters the audit log, opens an entry and
// sees its inclusion proof verified, checks two checkpoints' consistency
// and reports the ledger for a partner, in a real browser; then, idle past
// the session's timeout (the node's clock moved on), the next page is the
// sign-in form.
func TestBrowserAuditor(t *testing.T) {
	ctx0 := context.Background()
	rf := nodetest.NewRelFixture(t)
	n := rf.N
	id := rf.IngestLabelled(t, nodetest.Actor(nodetest.NewID("threat-actor"), nil), nodetest.OKBanner, nil)
	if res := nodetest.MustRelease(t, n, rf.Rob, id, "usa"); res.Outcome != "release" {
		t.Fatalf("release: %+v", res)
	}
	if err := n.Users.SetPassword(ctx0, node.ConsoleAdmin(), "audrey", password); err != nil {
		t.Fatal(err)
	}
	ui, err := site.New(n, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(ui)
	t.Cleanup(srv.Close)
	ctx := browser(t)
	base := srv.URL
	high := n.Registry().SystemHigh()

	browserLogin(t, ctx, base, "audrey", password)
	do(t, ctx, chromedp.Navigate(base+"/ui/audit"), chromedp.WaitVisible(`input[name="actor"]`))
	wantBanners(t, ctx, high)
	do(t, ctx, chromedp.SendKeys(`input[name="actor"]`, "user:rob"), chromedp.Submit(`input[name="actor"]`))
	waitFor(t, ctx, `location.search.includes('actor=') && document.readyState === 'complete' && !!document.querySelector('[data-audit-index]')`)
	actors := run(t, ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('[data-audit-index] td:nth-child(3)')].map(e => e.textContent)`))
	if len(actors) == 0 {
		t.Fatal("no entries by rob")
	}
	for _, a := range actors {
		if a != "user:rob" {
			t.Errorf("the filter by user:rob shows an entry by %q", a)
		}
	}
	screenshot(t, ctx, "audit")

	// The first entry, proved against the signed checkpoint.
	do(t, ctx, chromedp.Click(`[data-audit-index] a`))
	waitFor(t, ctx, `document.readyState === 'complete' && !!document.querySelector('[data-proof]')`)
	if got := run(t, ctx, chromedp.Evaluate[string](`document.querySelector('[data-proof]').dataset.proof`)); got != "verified" {
		t.Fatalf("the entry's proof: %s", got)
	}
	wantBanners(t, ctx, high)
	screenshot(t, ctx, "audit-entry")

	// Two checkpoints: the log grows between them.
	do(t, ctx, chromedp.Navigate(base+"/ui/audit/checkpoints"), chromedp.WaitVisible(`input[name="from"]`))
	first := run(t, ctx, chromedp.Evaluate[string](`document.querySelector('[data-checkpoint-size]').dataset.checkpointSize`))
	nodetest.MustRelease(t, n, rf.Rob, id, "usa") // a resend: more entries
	do(t, ctx, chromedp.Navigate(base+"/ui/audit/checkpoints"), chromedp.WaitVisible(`input[name="from"]`))
	sizes := run(t, ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('[data-checkpoint-size]')].map(e => e.dataset.checkpointSize)`))
	last := sizes[len(sizes)-1]
	if last == first {
		t.Fatalf("one checkpoint only: %v", sizes)
	}
	do(t, ctx, chromedp.SendKeys(`input[name="from"]`, first), chromedp.SendKeys(`input[name="to"]`, last),
		chromedp.Submit(`input[name="to"]`))
	waitFor(t, ctx, `document.readyState === 'complete' && !!document.querySelector('[data-consistency]')`)
	if got := run(t, ctx, chromedp.Evaluate[string](`document.querySelector('[data-consistency]').dataset.consistency`)); got != "verified" {
		t.Fatalf("consistency %s..%s: %s", first, last, got)
	}
	screenshot(t, ctx, "checkpoints")

	// The ledger for usa names the object; its CSV link is offered.
	do(t, ctx, chromedp.Navigate(base+"/ui/ledger"), chromedp.WaitVisible(`input[name="party"]`),
		chromedp.SendKeys(`input[name="party"]`, "usa"), chromedp.Submit(`input[name="party"]`))
	waitFor(t, ctx, `document.readyState === 'complete' && !!document.querySelector('[data-export="csv"]')`)
	body := run(t, ctx, chromedp.OuterHTML(`main`))
	if !regexp.MustCompile(`data-ledger-seq="\d+"`).MatchString(body) || !regexp.MustCompile(regexp.QuoteMeta(id)).MatchString(body) {
		t.Fatalf("the ledger for usa lacks the release:\n%s", body)
	}
	wantBanners(t, ctx, high)

	// Idle past the timeout: the next page asks to sign in again.
	rf.Clock.Set(nodetest.RelNow.Add(16 * time.Minute))
	do(t, ctx, chromedp.Navigate(base+"/ui/audit"), chromedp.WaitVisible(`input[name="password"]`))
	if loc := location(t, ctx); loc != base+"/ui/login" {
		t.Fatalf("an expired session led to %s", loc)
	}
	wantBanners(t, ctx, n.Registry().SystemLow())
}
