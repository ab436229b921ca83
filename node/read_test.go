package node

import (
	"bytes"
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/label"
	"github.com/tearline/tearline/policy"
	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/store/backend"
)

// readFixture is a node holding objects under labels that different readers
// are and are not entitled to.
type readFixture struct {
	n       *Node
	admin   *Principal
	objs    map[string]string // name -> object id
	raw     map[string][]byte // name -> newest raw
	banners map[string]string // name -> banner
}

var fixtureBanners = []struct{ name, banner string }{
	{"open", "NATO UNCLASSIFIED"},
	{"secret", "NATO SECRET // REL TO GBR, USA"},
	{"heron", "NATO SECRET // COMPARTMENTS HERON // REL TO FVEY"},
	{"national", "GBR SECRET // NOFORN"},
	{"usnoforn", "NATO SECRET // NOFORN // ORIG USA"},
}

func newReadFixture(t *testing.T) *readFixture {
	t.Helper()
	n := newTestNode(t, "gbr", "GBR")
	f := &readFixture{n: n, objs: map[string]string{}, raw: map[string][]byte{}, banners: map[string]string{}}
	f.admin, _ = addUser(t, n, adminSpec())
	for _, b := range fixtureBanners {
		id := newID("threat-actor")
		raw := sdo(id, t0, t0, map[string]any{"name": b.name})
		mustLand(t, n, f.admin, raw, b.banner)
		f.objs[b.name], f.raw[b.name], f.banners[b.name] = id, raw, b.banner
	}
	return f
}

// readers and what each may see of the fixture.
var fixtureReaders = []struct {
	spec UserSpec
	sees []string
}{
	{UserSpec{Name: "low", Role: RoleAnalyst, Nationality: "GBR", Clearances: map[string]string{"NATO": "RESTRICTED"}}, []string{"open"}},
	{UserSpec{Name: "noclear", Role: RoleAnalyst, Nationality: "GBR"}, nil},
	{UserSpec{Name: "gbr", Role: RoleAnalyst, Nationality: "GBR", Clearances: map[string]string{"NATO": "SECRET", "NATIONAL": "SECRET"}}, []string{"open", "secret", "national"}},
	{UserSpec{Name: "deu", Role: RoleAnalyst, Nationality: "DEU", Clearances: map[string]string{"NATO": "TOP-SECRET", "NATIONAL": "TOP-SECRET"}, Compartments: []string{"HERON"}}, []string{"open"}},
	{UserSpec{Name: "usa", Role: RoleAnalyst, Nationality: "USA", Clearances: map[string]string{"NATO": "SECRET", "NATIONAL": "TOP-SECRET"}, Compartments: []string{"HERON"}}, []string{"open", "secret", "heron", "usnoforn"}},
	{UserSpec{Name: "aus", Role: RoleAnalyst, Nationality: "AUS", Clearances: map[string]string{"NATO": "SECRET"}, Compartments: []string{"HERON"}}, []string{"heron"}}, // REL TO may reach beyond the policy audience
}

// listAll walks every page of List with a small page size.
func listAll(t testing.TB, n *Node, p *Principal, o ListOptions) []Object {
	t.Helper()
	var out []Object
	for pages := 0; ; pages++ {
		page, err := n.List(context.Background(), p, o)
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		out = append(out, page.Objects...)
		if !page.More {
			return out
		}
		if page.Next == "" || pages > 100000 {
			t.Fatal("List: more pages but no cursor")
		}
		o.Next = page.Next
	}
}

// Requirement 4 at the node: a reader lacking clearance, compartment or
// nationality sees nothing of a restricted object through any read path.
func TestReadRestrictedInvisibleOnEveryPath(t *testing.T) {
	ctx := context.Background()
	f := newReadFixture(t)
	n := f.n
	for _, r := range fixtureReaders {
		t.Run(r.spec.Name, func(t *testing.T) {
			p, _ := addUser(t, n, r.spec)
			listed := map[string][]byte{}
			for _, o := range listAll(t, n, p, ListOptions{Limit: 1}) {
				if _, dup := listed[o.ID]; dup {
					t.Errorf("List returned %s twice", o.ID)
				}
				listed[o.ID] = o.Raw
			}
			for _, b := range fixtureBanners {
				id := f.objs[b.name]
				lblID := mustLabel(t, n, b.banner).ID()
				if slices.Contains(r.sees, b.name) {
					if o, err := n.Get(ctx, p, id); err != nil || !bytes.Equal(o.Raw, f.raw[b.name]) {
						t.Errorf("%s: Get: %v", b.name, err)
					}
					if vs, err := n.Versions(ctx, p, id); err != nil || len(vs) != 1 {
						t.Errorf("%s: Versions: %d, %v", b.name, len(vs), err)
					}
					if !bytes.Equal(listed[id], f.raw[b.name]) {
						t.Errorf("%s: not listed", b.name)
					}
					if _, err := n.Label(ctx, p, lblID); err != nil {
						t.Errorf("%s: Label: %v", b.name, err)
					}
					continue
				}
				if o, err := n.Get(ctx, p, id); !isNotFound(err) {
					t.Errorf("%s: Get = %s, %v; want ErrNotFound", b.name, o.Raw, err)
				}
				if vs, err := n.Versions(ctx, p, id); !isNotFound(err) || len(vs) != 0 {
					t.Errorf("%s: Versions = %d versions, %v; want ErrNotFound", b.name, len(vs), err)
				}
				if _, ok := listed[id]; ok {
					t.Errorf("%s: listed", b.name)
				}
				if raw, err := n.Label(ctx, p, lblID); !isNotFound(err) || raw != nil {
					t.Errorf("%s: Label = %s, %v; want ErrNotFound", b.name, raw, err)
				}
			}
			// Denied and nonexistent are the same error.
			_, errNo := n.Get(ctx, p, newID("threat-actor"))
			if !isNotFound(errNo) {
				t.Errorf("nonexistent: %v", errNo)
			}
			if len(listed) != len(r.sees) {
				t.Errorf("List: %d objects, want %d", len(listed), len(r.sees))
			}
			if c, err := n.Count(ctx, p, ListOptions{}); err != nil || c != int64(len(r.sees)) {
				t.Errorf("Count = %d, %v; want %d", c, err, len(r.sees))
			}
			if c, _ := n.Count(ctx, p, ListOptions{Types: []string{"threat-actor"}, IncludeRevoked: true}); c != int64(len(r.sees)) {
				t.Errorf("Count(threat-actor, revoked) = %d; want %d", c, len(r.sees))
			}
			// Where narrows a count as it narrows a listing.
			secret := func(c policy.Class) bool {
				return slices.ContainsFunc(c.Labels, func(l label.Label) bool { return l.Classification == "SECRET" })
			}
			inList := len(listAll(t, n, p, ListOptions{Where: secret, WhereKey: "secret"}))
			if c, err := n.Count(ctx, p, ListOptions{Where: secret}); err != nil || c != int64(inList) {
				t.Errorf("Count(where SECRET) = %d, %v; List gives %d", c, err, inList)
			}
		})
	}
}

// An older version the reader may see stands in for a newer one it may not.
func TestReadOlderVersionVisibleWhenNewestIsNot(t *testing.T) {
	ctx := context.Background()
	n := newTestNode(t, "gbr", "GBR")
	admin, _ := addUser(t, n, adminSpec())
	low, _ := addUser(t, n, fixtureReaders[0].spec) // NATO RESTRICTED
	id := newID("threat-actor")
	v1 := sdo(id, t0, t0, map[string]any{"name": "v1"})
	v2 := sdo(id, t0, t1, map[string]any{"name": "v2"})
	v3 := sdo(id, t0, t2, map[string]any{"name": "v3"})
	mustLand(t, n, admin, v1, "NATO RESTRICTED")
	mustLand(t, n, admin, v2, "NATO UNCLASSIFIED")
	mustLand(t, n, admin, v3, "NATO SECRET // REL TO GBR")

	o, err := n.Get(ctx, low, id)
	if err != nil || !bytes.Equal(o.Raw, v2) {
		t.Errorf("Get = %s, %v; want v2", o.Raw, err)
	}
	vs, err := n.Versions(ctx, low, id)
	if err != nil || len(vs) != 2 || !bytes.Equal(vs[0].Raw, v1) || !bytes.Equal(vs[1].Raw, v2) {
		t.Errorf("Versions = %d, %v; want v1, v2", len(vs), err)
	}
	all := listAll(t, n, low, ListOptions{})
	if len(all) != 1 || !bytes.Equal(all[0].Raw, v2) {
		t.Errorf("List = %d objects; want v2 alone", len(all))
	}
	if c, _ := n.Count(ctx, low, ListOptions{}); c != 1 {
		t.Errorf("Count = %d, want 1", c)
	}
	if o, _ := n.Get(ctx, admin, id); !bytes.Equal(o.Raw, v3) {
		t.Errorf("admin Get = %s, want v3", o.Raw)
	}
}

// Requirement 7: every read decision, auth failure and ingest is audited.
func TestAuditRecordsEveryDecision(t *testing.T) {
	ctx := context.Background()
	f := newReadFixture(t)
	n := f.n
	low, _ := addUser(t, n, fixtureReaders[0].spec)
	before := len(auditLog(t, n.st))

	heron := f.objs["heron"]
	if _, err := n.Get(ctx, low, heron); !isNotFound(err) {
		t.Fatal(err)
	}
	if _, err := n.Get(ctx, low, f.objs["open"]); err != nil {
		t.Fatal(err)
	}
	missing := newID("threat-actor")
	n.Get(ctx, low, missing)
	n.Versions(ctx, low, heron)
	n.Label(ctx, low, mustLabel(t, n, f.banners["heron"]).ID())
	listAll(t, n, low, ListOptions{})
	n.Authenticate(ctx, "tl_0123456789abcdef_nope")

	evs := auditLog(t, n.st)[before:]
	has := func(what string, match func(e audit.Event) bool) {
		t.Helper()
		if len(findEvents(evs, match)) == 0 {
			t.Errorf("no audit entry for %s", what)
		}
	}
	has("denied Get", func(e audit.Event) bool {
		return e.Action == audit.ActionRead && e.Decision == audit.Deny && e.Object == heron && e.Actor == "user:low" &&
			slices.Contains(e.Reasons, "clearance") && slices.Contains(e.Reasons, "compartment") && !slices.Contains(e.Reasons, "releasability") &&
			e.Modified == t0 && len(e.Labels) == 1
	})
	has("allowed Get", func(e audit.Event) bool {
		return e.Action == audit.ActionRead && e.Decision == audit.Allow && e.Object == f.objs["open"] && e.Modified == t0
	})
	has("Get of a missing object", func(e audit.Event) bool {
		return e.Action == audit.ActionRead && e.Decision == audit.Deny && e.Object == missing && slices.Contains(e.Reasons, "no-such-object")
	})
	has("denied Versions", func(e audit.Event) bool {
		return e.Action == audit.ActionRead && e.Decision == audit.Deny && e.Object == heron && e.Detail == "versions" && len(e.Reasons) > 0
	})
	has("denied Label", func(e audit.Event) bool {
		return e.Action == audit.ActionLabelRead && e.Decision == audit.Deny
	})
	has("List", func(e audit.Event) bool { return e.Action == audit.ActionList && e.Count == 1 })
	has("listed object", func(e audit.Event) bool {
		return e.Action == audit.ActionRead && e.Detail == "list" && e.Object == f.objs["open"] && e.Decision == audit.Allow
	})
	has("auth failure", func(e audit.Event) bool {
		return e.Action == audit.ActionAuthRefuse && e.Decision == audit.Deny && e.Actor == "token:0123456789abcdef" &&
			slices.Equal(e.Reasons, []string{"unknown"})
	})
	for _, e := range evs {
		if e.Node != "gbr" || e.Time.IsZero() {
			t.Errorf("entry without node or time: %+v", e)
		}
	}

	// Every ingested object has its object.ingest entry, with its labels.
	all := auditLog(t, n.st)
	for _, b := range fixtureBanners {
		id := f.objs[b.name]
		if len(findEvents(all, func(e audit.Event) bool {
			return e.Action == audit.ActionIngest && e.Object == id && e.Decision == audit.Accept && e.Actor == "user:admin" &&
				slices.Equal(e.Labels, []string{mustLabel(t, n, b.banner).ID()})
		})) != 1 {
			t.Errorf("no single object.ingest entry for %s", b.name)
		}
	}
	if all[0].Action != audit.ActionNodeInit {
		t.Errorf("first entry is %s, want %s", all[0].Action, audit.ActionNodeInit)
	}
}

// Requirement 6: a restart keeps objects, users, tokens and the audit log.
func TestRestartKeepsEverything(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir() + "/node"
	if err := Init(ctx, dir, InitOptions{Name: "gbr", Country: "GBR", CreateStore: backend.Creator("")}); err != nil {
		t.Fatal(err)
	}
	n, err := Open(ctx, dir, Options{OpenStore: backend.Opener("")})
	if err != nil {
		t.Fatal(err)
	}
	admin, adminTok := addUser(t, n, adminSpec())
	_, lowTok := addUser(t, n, fixtureReaders[0].spec)
	id := newID("threat-actor")
	mustLand(t, n, admin, bundle(sdo(id, t0, t0, nil), sdo(id, t0, t1, nil), sdo(newID("campaign"), t0, t0, nil)), secretBanner)
	mustLand(t, n, admin, sdo(newID("identity"), t0, t0, nil), "NATO UNCLASSIFIED")
	revokeTokensOf(t, n, "low")
	n.Get(ctx, admin, id)

	snapshot := func(n *Node) (objs []store.ObjectVersion, users []store.User, audit []store.AuditEntry, versions int) {
		p, err := n.Authenticate(ctx, adminTok)
		if err != nil {
			t.Fatalf("admin token: %v", err)
		}
		size, _ := n.st.AuditSize(ctx) // before this snapshot's own reads
		audit, _ = n.st.AuditEntries(ctx, 0, size)
		for _, o := range listAll(t, n, p, ListOptions{IncludeRevoked: true}) {
			objs = append(objs, o.ObjectVersion)
		}
		vs, _ := n.Versions(ctx, p, id)
		users, _ = n.st.Users(ctx)
		return objs, users, audit, len(vs)
	}
	objs1, users1, audit1, vers1 := snapshot(n)
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	n2, err := Open(ctx, dir, Options{OpenStore: backend.Opener("")})
	if err != nil {
		t.Fatal(err)
	}
	defer n2.Close()
	objs2, users2, audit2, vers2 := snapshot(n2)

	if len(objs1) != 3 || len(objs2) != len(objs1) || vers1 != 2 || vers2 != 2 {
		t.Fatalf("objects %d -> %d, versions %d -> %d", len(objs1), len(objs2), vers1, vers2)
	}
	for i := range objs1 {
		a, b := objs1[i], objs2[i]
		if a.ID != b.ID || !bytes.Equal(a.Raw, b.Raw) || !bytes.Equal(a.Bindings, b.Bindings) || a.Class != b.Class ||
			a.Seq != b.Seq || !a.DateAdded.Equal(b.DateAdded) || a.Digest != b.Digest {
			t.Errorf("object %d changed across restart:\n%+v\n%+v", i, a, b)
		}
	}
	if len(users1) != 2 || len(users2) != 2 {
		t.Fatalf("users %d -> %d", len(users1), len(users2))
	}
	for i := range users1 {
		a, b := users1[i], users2[i]
		if a.ID != b.ID || a.Name != b.Name || a.Role != b.Role || a.Nationality != b.Nationality ||
			!slices.Equal(a.Compartments, b.Compartments) || len(a.Clearances) != len(b.Clearances) || !a.Created.Equal(b.Created) {
			t.Errorf("user %d changed across restart:\n%+v\n%+v", i, a, b)
		}
		for k, v := range a.Clearances {
			if b.Clearances[k] != v {
				t.Errorf("user %s clearance %s: %s -> %s", a.Name, k, v, b.Clearances[k])
			}
		}
	}
	// The revoked token stays revoked.
	if _, err := n2.Authenticate(ctx, lowTok); err != ErrUnauthenticated {
		t.Errorf("revoked token after restart: %v", err)
	}
	// The audit log is kept entry for entry, and grows from where it was.
	if len(audit2) <= len(audit1) {
		t.Fatalf("audit %d -> %d entries", len(audit1), len(audit2))
	}
	for i := range audit1 {
		if audit1[i].Index != audit2[i].Index || !bytes.Equal(audit1[i].Data, audit2[i].Data) {
			t.Fatalf("audit entry %d changed across restart", i)
		}
	}
	auditLog(t, n2.st) // dense and parseable
}

// revokeTokensOf revokes every token of the named user in the store, as
// users.RevokeToken does by user name.
func revokeTokensOf(t testing.TB, n *Node, name string) {
	t.Helper()
	ctx := context.Background()
	err := n.st.Update(ctx, func(tx store.Tx) error {
		u, err := tx.UserByName(ctx, name)
		if err != nil {
			return err
		}
		toks, err := tx.Tokens(ctx, u.ID)
		if err != nil {
			return err
		}
		for _, tok := range toks {
			if err := tx.RevokeToken(ctx, tok.ID, n.now()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("revoke the tokens of %s: %v", name, err)
	}
}

// Concurrent reads share their audit commits (group commit), and still each
// read that was answered has its own entry, and the log verifies.
func TestConcurrentReadsEachAudited(t *testing.T) {
	ctx := context.Background()
	f := newReadFixture(t)
	n := f.n
	gbr, _ := addUser(t, n, fixtureReaders[2].spec)
	before := len(auditLog(t, n.st))
	const readers, reads = 12, 10
	var wg sync.WaitGroup
	var answered atomic.Int64
	for r := range readers {
		wg.Go(func() {
			for i := range reads {
				var err error
				switch (r + i) % 3 {
				case 0:
					_, err = n.Get(ctx, gbr, f.objs["secret"])
				case 1:
					_, err = n.Versions(ctx, gbr, f.objs["open"])
				default:
					_, err = n.Get(ctx, gbr, f.objs["heron"]) // not cleared: a denial, audited too
					if isNotFound(err) {
						err = nil
					}
				}
				if err != nil {
					t.Errorf("read: %v", err)
					return
				}
				answered.Add(1)
			}
		})
	}
	wg.Wait()
	evs := auditLog(t, n.st)[before:]
	got := findEvents(evs, func(e audit.Event) bool { return e.Action == audit.ActionRead && e.Actor == "user:gbr" })
	if int64(len(got)) != answered.Load() || answered.Load() != readers*reads {
		t.Errorf("%d read entries for %d reads answered, want %d", len(got), answered.Load(), readers*reads)
	}
	v, _ := note.NewVerifier(n.AuditLogKey())
	if _, err := audit.Verify(ctx, n.Store(), v); err != nil {
		t.Errorf("audit.Verify: %v", err)
	}
}
