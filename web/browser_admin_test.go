package web_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/tearline/tearline/node/nodetest"
	"github.com/tearline/tearline/store"
)

// clickAndLoad clicks sel, which submits a form, and waits for the page
// that answers (a new document).
func clickAndLoad(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	do(t, ctx, chromedp.WaitVisible(sel), evalVoid(`document.body.dataset.before = 'submit'`), chromedp.Click(sel))
	waitFor(t, ctx, `document.readyState === 'complete' && !!document.body && document.body.dataset.before !== 'submit'`)
}

// TestBrowserAdminAndDeliveries drives the administrator's screens in a
// browser: add a user with a password, change her clearance, disable her;
// add a peer from its identity, revoke its key and remove it; read the
// node's health. Then a releaser reads the deliveries to a partner, where
// one failed, retries it, and finds his recent work on the dashboard.
func TestBrowserAdminAndDeliveries(t *testing.T) {
	ctx0 := context.Background()
	rf, f := relWeb(t)
	nodetest.AddPeerNode(t, rf.N, "usa", "USA")
	// Rob publishes two objects; gbr-usa releases each to usa as it
	// lands, and the first delivery fails for good.
	first := nodetest.NewID("threat-actor")
	nodetest.MustLand(t, rf.N, rf.Rob, nodetest.Bundle(obj(first, map[string]any{"name": "Kestrel infrastructure"})), "NATO RESTRICTED // DISC SIGINT // TOPIC CYBER")
	second := nodetest.NewID("indicator")
	nodetest.MustLand(t, rf.N, rf.Rob, nodetest.Bundle(obj(second, map[string]any{"name": "Kestrel C2 address", "pattern": "[ipv4-addr:value = '198.51.100.7']",
		"pattern_type": "stix", "valid_from": nodetest.T0, "indicator_types": []any{"malicious-activity"}})), "NATO RESTRICTED // DISC SIGINT // TOPIC CYBER")
	its, err := rf.N.Store().OutboxItems(ctx0, "usa", 0, 10)
	if err != nil || len(its) != 2 {
		t.Fatalf("outbox: %d items, %v", len(its), err)
	}
	if err := rf.N.Store().MarkFailed(ctx0, rf.N.Now(), "revoked-key", "refused by usa: the signing key is revoked", its[0].ID); err != nil {
		t.Fatal(err)
	}
	ctx := browser(t)
	base := f.srv.URL
	low := rf.N.Registry().SystemLow()

	browserLogin(t, ctx, base, "admin", password)
	// Users: add one with a password.
	do(t, ctx, chromedp.Navigate(base+"/ui/admin/users"), chromedp.WaitVisible(`[data-form="add-user"]`),
		chromedp.SendKeys(`[data-form="add-user"] input[name="name"]`, "nadia"),
		chromedp.SetValue(`[data-form="add-user"] select[name="role"]`, "analyst"),
		chromedp.SendKeys(`[data-form="add-user"] input[name="nationality"]`, "GBR"),
		chromedp.SendKeys(`[data-form="add-user"] input[name="clearances"]`, "NATO:RESTRICTED"),
		chromedp.SendKeys(`[data-form="add-user"] input[name="password"]`, password))
	clickAndLoad(t, ctx, `[data-form="add-user"] button[type="submit"]`)
	do(t, ctx, chromedp.WaitVisible(`[data-user-row="nadia"]`))
	if got := text(t, ctx, `[data-outcome="done"]`); !strings.Contains(got, "nadia") {
		t.Errorf("add user: %q", got)
	}
	wantBanners(t, ctx, low)
	screenshot(t, ctx, "admin-users")
	// Her clearance, then disabled.
	do(t, ctx, chromedp.Navigate(base+"/ui/admin/users/nadia"), chromedp.WaitVisible(`[data-user="nadia"]`),
		chromedp.SetValue(`form:has(input[value="add-clearance"]) select[name="value"]`, "NATO:SECRET"))
	clickAndLoad(t, ctx, `form:has(input[value="add-clearance"]) button`)
	if got := text(t, ctx, `[data-field="clearances"]`); got != "NATO:SECRET" {
		t.Errorf("clearances after the change: %q", got)
	}
	clickAndLoad(t, ctx, `form:has(input[value="disable"]) button`)
	if got := text(t, ctx, `[data-field="state"]`); got != "disabled" {
		t.Errorf("state after disabling: %q", got)
	}
	if u, err := rf.N.Store().UserByName(ctx0, "nadia"); err != nil || !u.Disabled || u.Clearances["NATO"] != "SECRET" {
		t.Fatalf("nadia in the store: %+v %v", u, err)
	}

	// Peers: add from an identity, revoke its key, remove it.
	ident := string(nodetest.PartnerIdentity(t, "deu", "DEU"))
	do(t, ctx, chromedp.Navigate(base+"/ui/admin/peers"))
	do(t, ctx, chromedp.WaitVisible(`#add-peer`), evalVoid(`document.querySelector('#add-peer textarea[name="identity"]').value = `+strconv.Quote(ident)))
	clickAndLoad(t, ctx, `#add-peer button[type="submit"]`)
	if got := text(t, ctx, `[data-outcome]`); !strings.Contains(got, "Added peer deu") {
		t.Fatalf("add peer: %q", got)
	}
	if p, _ := rf.N.Peer("deu"); p == nil {
		t.Fatal("the serving node does not trust deu after the form")
	}
	wantBanners(t, ctx, low)
	screenshot(t, ctx, "admin-peers")
	var keyID string
	ring, _ := rf.N.Keyring()
	for _, k := range ring.Keys() {
		if k.Node == "deu" {
			keyID = k.KeyID
		}
	}
	clickAndLoad(t, ctx, `tr[data-key="`+keyID+`"] button`)
	if got := text(t, ctx, `[data-outcome="done"]`); !strings.Contains(got, "Revoked "+keyID) {
		t.Errorf("revoke: %q", got)
	}
	if got := run(t, ctx, chromedp.Evaluate[string](`document.querySelector('tr[data-key="`+keyID+`"] [data-revoked]').dataset.revoked`)); got == "" {
		t.Error("the key is not shown revoked")
	}
	clickAndLoad(t, ctx, `[data-remove-peer="deu"] button`)
	if n := run(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('[data-peer="deu"]').length`)); n != 0 {
		t.Error("deu is still listed after its removal")
	}
	if p, _ := rf.N.Peer("deu"); p != nil {
		t.Error("the serving node still trusts deu")
	}

	// Health: the failed delivery counts.
	do(t, ctx, chromedp.Navigate(base+"/ui/admin/health"), chromedp.WaitVisible(`[data-health="failed"]`))
	if got := text(t, ctx, `[data-health="failed"]`); got != "1" {
		t.Errorf("health: failed = %q, want 1", got)
	}
	wantBanners(t, ctx, low)
	screenshot(t, ctx, "admin-health")
	do(t, ctx, chromedp.Click(`.who button`), chromedp.WaitVisible(`input[name="password"]`))

	// The releaser's dashboard: what he published, newest first, and the
	// failed delivery.
	browserLogin(t, ctx, base, "rob", password)
	do(t, ctx, chromedp.Navigate(base+"/ui/"), chromedp.WaitVisible(`section.work`))
	if n := run(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('section.work [data-work="published"]').length`)); n != 2 {
		t.Errorf("rob's recent work has %d publishes, want 2", n)
	}
	if n := run(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('table.failed [data-object-id="`+first+`"]').length`)); n != 1 {
		t.Errorf("rob's dashboard shows %d failed deliveries of his first object, want 1", n)
	}
	screenshot(t, ctx, "dashboard-work")

	// The releaser: deliveries to usa, one failed; he retries it.
	do(t, ctx, chromedp.Navigate(base+"/ui/deliveries?party=usa&days=7"), chromedp.WaitVisible(`table.deliveries`))
	if n := run(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('table.deliveries [data-object-id]').length`)); n != 2 {
		t.Errorf("rob sees %d deliveries to usa, want 2", n)
	}
	screenshot(t, ctx, "deliveries")
	clickAndLoad(t, ctx, `tr[data-object-id="`+first+`"] button`)
	if got := text(t, ctx, `.result`); !strings.Contains(got, "queued again") {
		t.Errorf("retry: %q", got)
	}
	if its, _ := rf.N.Store().OutboxItems(ctx0, "usa", 0, 10); its[0].State() != store.DeliveryQueued {
		t.Errorf("after the retry the delivery is %s", its[0].State())
	}
}
