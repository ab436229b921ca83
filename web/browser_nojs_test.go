package web_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/google/uuid"

	"github.com/tearline/tearline/internal/demo"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/nodetest"
	"github.com/tearline/tearline/node/stack"
	"github.com/tearline/tearline/node/users"
	storebackend "github.com/tearline/tearline/store/backend"
	"github.com/tearline/tearline/web/site"
)

// demoNode is the demo's node (its sample bundles and users, as `tearline
// demo` makes it) with a releaser and an auditor added, every web password
// set to password, and enough more intelligence for the lists to page: long
// hashes, long patterns, files, addresses, locations.
type demoNode struct {
	n      *stack.Node
	base   string
	ind    string // an indicator with a long pattern, NATO UNCLASSIFIED
	file   string // a file with long hashes
	report string
}

func newDemoNode(t *testing.T) *demoNode {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	us, err := demo.Setup(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	n, err := stack.Open(ctx, dir, node.Options{OpenStore: storebackend.Opener("")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	for _, s := range []users.UserSpec{
		{Name: "rob", Role: node.RoleReleaser, Nationality: "GBR", Clearances: map[string]string{"NATO": "SECRET", "NATIONAL": "SECRET"}},
		{Name: "audrey", Role: node.RoleAuditor, Nationality: "GBR", Clearances: map[string]string{"NATO": "RESTRICTED"}},
	} {
		nodetest.AddUser(t, n, s)
		us = append(us, demo.User{Spec: s})
	}
	for _, u := range us {
		if err := n.Users.SetPassword(ctx, node.ConsoleAdmin(), u.Spec.Name, password); err != nil {
			t.Fatal(err)
		}
	}
	admin, err := n.PrincipalByName(ctx, "admin")
	if err != nil {
		t.Fatal(err)
	}
	d := &demoNode{n: n, ind: nodetest.NewID("indicator"), file: "file--" + uuid.NewString(), report: nodetest.NewID("report")}
	pattern := "[file:hashes.'SHA-256' = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' AND file:name = 'invoice_2026_final_really_final_payload_dropper.exe'] OR [url:value = 'https://login.example-update-service.invalid/oauth2/v2.0/authorize?client_id=4765445b-32c6-49b0-83e6-1d93765276ca&redirect_uri=https%3A%2F%2Fexample.invalid']"
	var objs [][]byte
	objs = append(objs, nodetest.SDO(d.ind, nodetest.T0, nodetest.T0, map[string]any{"name": "Dropper hash and phishing URL",
		"pattern": pattern, "pattern_type": "stix", "valid_from": nodetest.T0, "indicator_types": []string{"malicious-activity"}}))
	objs = append(objs, []byte(`{"type":"file","spec_version":"2.1","id":"`+d.file+`","name":"invoice_2026_final_really_final_payload_dropper.exe","size":482304,"hashes":{"SHA-256":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","SHA-512":"cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e","MD5":"d41d8cd98f00b204e9800998ecf8427e"}}`))
	refs := []string{d.ind, d.file}
	for i := range 55 {
		id := nodetest.NewID("indicator")
		refs = append(refs, id)
		objs = append(objs, nodetest.SDO(id, nodetest.T0, nodetest.T0, map[string]any{"name": fmt.Sprintf("C2 address %d", i),
			"pattern": fmt.Sprintf("[ipv4-addr:value = '203.0.113.%d']", i), "pattern_type": "stix", "valid_from": nodetest.T0}))
	}
	objs = append(objs, nodetest.SDO(d.report, nodetest.T0, nodetest.T0, map[string]any{"name": "Weekly cyber summary",
		"published": nodetest.T0, "report_types": []string{"threat-report"}, "object_refs": refs,
		"description": "Dropper campaign against logistics firms; the indicators below were seen in the last week."}))
	nodetest.MustLand(t, n, admin, nodetest.Bundle(objs...), "NATO UNCLASSIFIED // TLP:CLEAR // DISC OSINT // TOPIC CYBER")
	if _, err := n.Oversight.SignAuditCheckpoint(ctx); err != nil {
		t.Fatal(err)
	}
	ui, err := site.New(n, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(ui)
	t.Cleanup(srv.Close)
	d.base = srv.URL
	return d
}

// noScript turns the page's JavaScript off (or on again).
func noScript(off bool) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: off})
		return err
	})
}

// reviewShots saves, when TEARLINE_UI_REVIEW names a directory, the page
// at desktop width, at 800 px and as printed: pictures for a person to
// look at, not an assertion.
func reviewShots(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("TEARLINE_UI_REVIEW")
	if dir == "" {
		return
	}
	for _, v := range []struct {
		suffix string
		width  int64
		media  string
	}{{"", 1280, ""}, {"-800", 800, ""}, {"-print", 1000, "print"}} {
		do(t, ctx, emulateMedia(v.media), chromedp.EmulateViewport(v.width, 900))
		h := run(t, ctx, chromedp.Evaluate[int64](`document.documentElement.scrollHeight`))
		do(t, ctx, chromedp.EmulateViewport(v.width, min(h, 2400)))
		png := run(t, ctx, chromedp.CaptureScreenshot())
		if err := os.WriteFile(filepath.Join(dir, name+v.suffix+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	do(t, ctx, emulateMedia(""), chromedp.EmulateViewport(1280, 900))
}

// TestBrowserWithoutJavaScript reads every reading page with JavaScript
// off, as each role: each renders its content between its two banners,
// and the lists page by plain links.
func TestBrowserWithoutJavaScript(t *testing.T) {
	d := newDemoNode(t)
	ctx := browser(t)
	base := d.base
	do(t, ctx, noScript(true))

	// Signing in is a plain form post.
	do(t, ctx, chromedp.Navigate(base+"/ui/login"), chromedp.WaitVisible(`input[name="password"]`))
	reviewShots(t, ctx, "login")
	count := func(sel string) int {
		t.Helper()
		return run(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll(`+jsString(sel)+`).length`))
	}
	attr := func(sel, name string) string {
		t.Helper()
		return run(t, ctx, chromedp.Evaluate[string](`(document.querySelector(`+jsString(sel)+`) || {getAttribute: () => ''}).getAttribute(`+jsString(name)+`) || ''`))
	}
	visit := func(path, wait string) {
		t.Helper()
		do(t, ctx, chromedp.Navigate(base+path), chromedp.WaitReady(wait))
		if n := count(`[data-banner]`); n != 2 {
			t.Fatalf("%s: %d banners", path, n)
		}
	}
	for _, user := range []string{"alice", "bob", "rob", "audrey", "admin"} {
		t.Run(user, func(t *testing.T) {
			browserLogin(t, ctx, base, user, password)
			if loc := location(t, ctx); loc != base+"/ui/" {
				t.Fatalf("%s signed in to %s", user, loc)
			}
			visit("/ui/objects", `#rows`)
			if n := count(`#rows [data-object-id] [data-portion][title]`); n != 50 {
				t.Errorf("objects: %d rows on page 1, want 50", n)
			}
			reviewShots(t, ctx, user+"-objects")
			first := attr(`#rows [data-object-id]`, "data-object-id")
			next := attr(`#more a`, "href")
			if next == "" {
				t.Fatal("objects: no link to the next page")
			}
			visit(next, `#rows`)
			if n := count(`#rows [data-object-id]`); n == 0 || attr(`#rows [data-object-id]`, "data-object-id") == first {
				t.Errorf("objects page 2 (%s): %d rows, first %s", next, n, first)
			}

			visit("/ui/search?q=203.0.113.7", `[data-results]`)
			if n := count(`[data-results] [data-object-id] [data-portion]`); n != 1 {
				t.Errorf("search: %d hits", n)
			}
			visit("/ui/search?q=C2+address", `[data-results]`)
			reviewShots(t, ctx, user+"-search")
			if next := attr(`[data-results] a.next`, "href"); next == "" {
				t.Error("search: no link to more results")
			} else {
				visit(next, `[data-results]`)
				if n := count(`[data-results] [data-object-id]`); n == 0 {
					t.Errorf("search page 2 (%s): no hits", next)
				}
			}

			visit("/ui/objects/"+d.report, `article.object`)
			if n := count(`article.object .refs [data-object-id]`); n == 0 {
				t.Error("report: no referenced objects")
			}
			reviewShots(t, ctx, user+"-report")
			visit("/ui/objects/"+d.ind, `article.object`)
			if got := run(t, ctx, chromedp.Text(`article.object .summary`)); !strings.Contains(got, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") {
				t.Errorf("indicator: the pattern is not shown whole: %q", got)
			}
			reviewShots(t, ctx, user+"-indicator")
			visit("/ui/objects/"+d.file, `article.object`)
			reviewShots(t, ctx, user+"-file")

			visit("/ui/map", `svg.world`)
			reviewShots(t, ctx, user+"-map")

			if user == "audrey" || user == "admin" {
				visit("/ui/audit", `table.audit`)
				if n := count(`[data-audit-index]`); n == 0 {
					t.Error("audit: no entries")
				}
				reviewShots(t, ctx, user+"-audit")
				older := attr(`a.older`, "href")
				if older == "" {
					t.Error("audit: no link to older entries")
				} else {
					visit(older, `table.audit`)
					if n := count(`[data-audit-index]`); n == 0 {
						t.Errorf("audit (%s): no older entries", older)
					}
				}
				visit("/ui/audit/entries/1", `[data-proof]`)
				if p := attr(`[data-proof]`, "data-proof"); p != "verified" {
					t.Errorf("audit entry 1: proof %q", p)
				}
				reviewShots(t, ctx, user+"-audit-entry")
				visit("/ui/audit/checkpoints", `.checkpoint`)
				reviewShots(t, ctx, user+"-checkpoints")
			}
			do(t, ctx, chromedp.Click(`.who button`), chromedp.WaitVisible(`input[name="password"]`))
		})
	}
}
