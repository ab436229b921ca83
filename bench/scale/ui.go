package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/tearline/tearline/internal/stixgen"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/oversight"
	"github.com/tearline/tearline/node/stack"
	"github.com/tearline/tearline/node/users"
	"github.com/tearline/tearline/web"
	"github.com/tearline/tearline/web/site"
)

// The web interface at scale (docs/UI.md, "Speed"): each page a person
// opens, over HTTPS on loopback with a signed-in session, the body read to
// the end, timed -ui times per kind. The target is a p99 under 300 ms for
// every kind at 2M objects, on both backends.

const uiPassword = "scale benchmark password"

var auditorSpec = users.UserSpec{Name: "auditor", Role: node.RoleAuditor, Nationality: "GBR"}

// uiClient is a signed-in browser without JavaScript.
type uiClient struct {
	c    *http.Client
	base string
}

func uiLogin(ctx context.Context, srv *httptest.Server, name string) (*uiClient, error) {
	jar, _ := cookiejar.New(nil)
	c := *srv.Client()
	c.Jar = jar
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	u := &uiClient{c: &c, base: srv.URL}
	_, body, err := u.get(ctx, "/ui/login")
	if err != nil {
		return nil, err
	}
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(body)
	if m == nil {
		return nil, fmt.Errorf("ui login: no csrf input")
	}
	resp, err := u.c.PostForm(u.base+"/ui/login", url.Values{"csrf": {m[1]}, "name": {name}, "password": {uiPassword}})
	if err != nil {
		return nil, fmt.Errorf("ui login: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		return nil, fmt.Errorf("ui login as %s: %s", name, resp.Status)
	}
	return u, nil
}

func (u *uiClient) get(ctx context.Context, path string) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.base+path, nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := u.c.Do(req)
	if err != nil {
		return 0, "", fmt.Errorf("GET %s: %w", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// uiUsers gives the loader and the reader web passwords and adds an
// auditor; in a reused node the users were made with a suffix.
func uiUsers(ctx context.Context, n *stack.Node, loader, reader string) (auditor string, err error) {
	auditor = auditorSpec.Name + "-" + fmt.Sprint(time.Now().UnixNano())
	s := auditorSpec
	s.Name = auditor
	if _, _, err := n.Users.AddUser(ctx, node.ConsoleAdmin(), s); err != nil {
		return "", err
	}
	for _, name := range []string{loader, reader, auditor} {
		if err := n.Users.SetPassword(ctx, node.ConsoleAdmin(), name, uiPassword); err != nil {
			return "", fmt.Errorf("password of %s: %w", name, err)
		}
	}
	return auditor, nil
}

// timeUI times the pages. ids are object ids to open; the audit log is
// first brought fully under its index (what the node does in the
// background after the upgrade), timed on its own.
func timeUI(ctx context.Context, cfg config, n *stack.Node, loaderName, readerName string, ids []string, stderr io.Writer) ([]latencies, error) {
	auditor, err := uiUsers(ctx, n, loaderName, readerName)
	if err != nil {
		return nil, err
	}
	ui, err := site.New(n, nil)
	if err != nil {
		return nil, err
	}
	srv := httptest.NewTLSServer(ui)
	defer srv.Close()
	var lats []latencies

	fmt.Fprintln(stderr, "indexing the audit log")
	t0 := time.Now()
	done, err := n.Oversight.IndexAudit(ctx)
	if err != nil {
		return nil, err
	}
	d := time.Since(t0)
	lats = append(lats, latencies{name: "audit index catch-up (once)", n: 1, p50: d, p99: d, max: d,
		note: fmt.Sprintf("%d entries, %.0f entries/s", done, float64(done)/max(d.Seconds(), 1e-9))})
	// From here the pages run as under serve, whose loop keeps the index
	// behind the log (the pages' own reads are audited).
	loopCtx, stopLoop := context.WithCancel(ctx)
	defer stopLoop()
	go n.Oversight.RunAuditIndex(loopCtx, oversight.DefaultAuditIndexInterval)

	loader, err := uiLogin(ctx, srv, loaderName)
	if err != nil {
		return nil, err
	}
	reader, err := uiLogin(ctx, srv, readerName)
	if err != nil {
		return nil, err
	}
	aud, err := uiLogin(ctx, srv, auditor)
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(cfg.seed, 17))
	pick := func() string { return ids[rng.IntN(len(ids))] }
	search := slices.Contains(ui.Routes(), "GET "+web.Prefix+"search")
	kinds := []struct {
		name, note string
		c          *uiClient
		path       func() string
	}{
		{"UI dashboard", "/ui/ as the reader (counts capped at 1,000+)", reader, func() string { return "/ui/" }},
		{"UI object list, first page", "/ui/objects as the reader (sees ~50%)", reader, func() string { return "/ui/objects" }},
		{"UI object list by type", "/ui/objects?type=indicator as the reader", reader, func() string { return "/ui/objects?type=indicator" }},
		{"UI object page", "/ui/objects/{random id} as the loader (reads all)", loader, func() string { return "/ui/objects/" + pick() }},
		{"UI release queue", "/ui/releases as the loader", loader, func() string { return "/ui/releases" }},
		{"UI audit log filtered by actor", "/ui/audit?actor=user:" + loaderName + " (the loader's 2M ingest entries), newest 100", aud,
			func() string { return "/ui/audit?actor=user:" + url.QueryEscape(loaderName) }},
		{"UI audit log filtered by object", "/ui/audit?object={random id}", aud, func() string { return "/ui/audit?object=" + pick() }},
	}
	if search {
		kinds = append(kinds, struct {
			name, note string
			c          *uiClient
			path       func() string
		}{"UI search by value", "/ui/search?q={random id} as the reader", reader, func() string { return "/ui/search?q=" + url.QueryEscape(pick()) }},
			struct {
				name, note string
				c          *uiClient
				path       func() string
			}{"UI search by text", "/ui/search?q={two random words of the generator's 40} as the reader (each word in most objects)", reader, func() string {
				return "/ui/search?q=" + url.QueryEscape(stixgen.Word(rng.IntN(stixgen.Words))+" "+stixgen.Word(rng.IntN(stixgen.Words)))
			}})
	}
	for _, k := range kinds {
		ds := make([]time.Duration, 0, cfg.ui)
		cpu, ok := readCPU()
		for i := range cfg.ui {
			path := k.path()
			t0 := time.Now()
			code, body, err := k.c.get(ctx, path)
			if err != nil {
				return nil, err
			}
			if code != http.StatusOK && code != http.StatusNotFound {
				return nil, fmt.Errorf("%s: %d %.200s", path, code, body)
			}
			if !strings.Contains(body, `data-banner="bottom"`) {
				return nil, fmt.Errorf("%s: a page without its bottom banner", path)
			}
			ds = append(ds, cfg.named(k.name).took(k.name, i, t0))
		}
		note := k.note
		if s := stealSince(cpu, ok); s != "" {
			note += "; " + s
		}
		lats = append(lats, summarise(k.name, ds, note))
	}
	if !search {
		lats = append(lats, latencies{name: "UI search", note: "not timed: this build serves no /ui/search"})
	}
	return lats, nil
}
