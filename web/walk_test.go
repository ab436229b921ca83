package web_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/tearline/tearline/label"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/nodetest"
)

var portionTitle = regexp.MustCompile(`data-portion title="([^"]*)"`)

// TestWalkEveryPageAsEveryRole walks the interface's pages as users of each
// role and clearance: nothing a user may not read appears on any page (the
// audit log, metadata for auditors and admins, excepted), and no page's
// banner is lower than any portion on it.
func TestWalkEveryPageAsEveryRole(t *testing.T) {
	f := newFixture(t)
	f.addUser(t, usersSpec("otto", node.RoleAuditor))
	f.addUser(t, usersSpec("adam", node.RoleAdmin))
	f.addUser(t, usersSpec("rel", node.RoleReleaser))
	addPlaces(t, f)
	f.land(t, "NATO SECRET // DISC SIGINT // TOPIC CYBER", obj(nodetest.NewID("campaign"), map[string]any{"name": "sigint campaign"}))
	reg := f.n.Registry()
	paths := []string{"/ui/", "/ui/objects", "/ui/objects?class=NATO:SECRET", "/ui/objects?type=threat-actor", "/ui/objects?disc=SIGINT", "/ui/objects?topic=CYBER",
		"/ui/publish", "/ui/publish/banner?label=NATO+SECRET+%2F%2F+REL+TO+GBR%2C+USA", "/ui/publish/banner?label=GBR+SECRET", "/ui/publish/banner?label=NATO+RESTRICTED",
		"/ui/releases", "/ui/releases?state=", "/ui/deliveries", "/ui/deliveries?party=usa&state=failed&days=30", "/ui/audit", "/ui/admin/users", "/ui/admin/users/ana", "/ui/admin/peers", "/ui/admin/agreements", "/ui/admin/health", "/ui/nowhere", "/ui/map",
		"/ui/audit?object=" + f.secret, "/ui/audit?actor=user:ana", "/ui/audit/entries/3", "/ui/audit/checkpoints",
		"/ui/ledger", "/ui/ledger?object=" + f.secret, "/ui/agreements", "/ui/agreements/nowhere",
		"/ui/search", "/ui/search?q=actor", "/ui/search?q=actor&class=NATO:SECRET", "/ui/search?q=threat-actor&type=threat-actor"}
	for _, id := range f.ids {
		paths = append(paths, "/ui/objects/"+id, "/ui/objects/"+id+"/preview", "/ui/objects/"+id+"/preview?to=usa&purpose=analysis")
	}
	for _, user := range []string{"ana", "rita", "otto", "adam", "rel"} {
		may := f.readable(t, user)
		c := f.client(t)
		c.mustLogin(user)
		for _, path := range paths {
			p := c.get(path)
			if p.code >= 500 {
				t.Fatalf("%s %s: %d", user, path, p.code)
			}
			b := banners(t, p.body)
			// Audit and ledger metadata of every level is for auditors
			// and admins; everyone else gets 403 there, naming nothing.
			meta := strings.HasPrefix(path, "/ui/audit") || strings.HasPrefix(path, "/ui/ledger")
			if !meta || user != "otto" && user != "adam" {
				for _, id := range f.ids {
					if !may[id] && strings.Contains(p.body, id) {
						t.Errorf("%s %s shows %s, which they may not read", user, path, id)
					}
				}
				for _, name := range []string{"secret actor", "national actor"} {
					if strings.Contains(p.body, name) && user != "ana" {
						t.Errorf("%s %s shows %q", user, path, name)
					}
				}
			}
			if b == reg.SystemHigh() {
				continue
			}
			bl, err := reg.ParseBanner(b)
			if err != nil {
				t.Fatalf("%s %s: banner %q does not parse: %v", user, path, b, err)
			}
			for _, m := range portionTitle.FindAllStringSubmatch(p.body, -1) {
				pl, err := reg.ParseBanner(unescape(m[1]))
				if err != nil {
					t.Fatalf("%s %s: portion title %q: %v", user, path, m[1], err)
				}
				if d, err := label.Dominate(reg, bl, pl); err != nil || !d.Equal(reg.Normalize(bl)) {
					t.Errorf("%s %s: banner %q is lower than a portion %q", user, path, b, m[1])
				}
			}
		}
	}
}
