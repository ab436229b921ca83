package node

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tearline/tearline/accessmac"
	"github.com/tearline/tearline/accessmac/checks"
	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/internal/pgtest"
	"github.com/tearline/tearline/store/backend"
)

// These tests are written from the side of someone who can write the
// database (SQLite file, PostgreSQL role) but holds no node key: they
// rewrite the stored access rule and check that what they touched reads
// as absent to everyone, and only that.

const (
	bannerSecret = "NATO SECRET // REL TO GBR, USA"
	bannerUnclas = "NATO UNCLASSIFIED"
)

// accessFixture is a node with a top-cleared reader, an UNCLASSIFIED
// reader, and objects at SECRET and UNCLASSIFIED, on SQLite or on
// PostgreSQL; rawExec writes its database as the attacker does.
type accessFixture struct {
	n          *Node
	top, low   *Principal
	secret     []string
	unclas     []string
	secretLbl  string // label id
	unclasLbl  string
	classOf    map[string]int64 // object id -> class
	rawExec    func(q string, args ...any)
	dir        string
	dsn        string // the PostgreSQL store's URL; "" for SQLite
	reopenedAt int
}

// backends are the stores the access tests run on: SQLite, and
// PostgreSQL (a throwaway server, internal/pgtest).
var backends = []string{"sqlite", "postgres"}

// onBackends runs fn as a subtest on each backend.
func onBackends(t *testing.T, fn func(t *testing.T, backend string)) {
	for _, b := range backends {
		t.Run(b, func(t *testing.T) { fn(t, b) })
	}
}

func newAccessFixture(t *testing.T, perLabel int, on string) *accessFixture {
	t.Helper()
	f := &accessFixture{classOf: map[string]int64{}}
	if on == "postgres" {
		f.dsn = pgtest.DSN(t)
	}
	f.dir = filepath.Join(t.TempDir(), "gbr")
	if err := Init(t.Context(), f.dir, InitOptions{Name: "gbr", Country: "GBR", CreateStore: backend.Creator(f.dsn)}); err != nil {
		t.Fatalf("Init: %v", err)
	}
	n, err := Open(t.Context(), f.dir, Options{OpenStore: backend.Opener(f.dsn)})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { n.Close() })
	f.n = n
	f.top, _ = addUser(t, n, adminSpec())
	f.low, _ = addUser(t, n, UserSpec{Name: "low", Role: RoleAnalyst, Nationality: "GBR", Clearances: map[string]string{"NATO": "UNCLASSIFIED"}})
	for range perLabel {
		f.secret = append(f.secret, f.land(t, bannerSecret))
		f.unclas = append(f.unclas, f.land(t, bannerUnclas))
	}
	f.secretLbl, f.unclasLbl = mustLabel(t, n, bannerSecret).ID(), mustLabel(t, n, bannerUnclas).ID()
	for _, id := range append(slices.Clone(f.secret), f.unclas...) {
		f.classOf[id] = stored(t, n, id)[0].Class
	}
	if f.dsn == "" {
		_, f.rawExec = rawDB(t, n)
	} else {
		f.rawExec = rawPostgres(t, f.dsn)
	}
	return f
}

// rawPostgres is rawDB for a PostgreSQL store: the same statements, in
// SQLite's words, said as PostgreSQL says them (placeholders $n; foreign
// keys dropped instead of switched off), and those on SQLite's id index
// (object_ids, which PostgreSQL has no need of) skipped.
func rawPostgres(t *testing.T, dsn string) func(q string, args ...any) {
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return func(q string, args ...any) {
		t.Helper()
		switch {
		case strings.Contains(q, "object_ids"):
			return
		case strings.HasPrefix(q, "PRAGMA foreign_keys"):
			q = `ALTER TABLE objects DROP CONSTRAINT IF EXISTS objects_class_fkey`
		}
		var b strings.Builder
		n := 0
		for _, r := range q {
			if r == '?' {
				n++
				fmt.Fprintf(&b, "$%d", n)
				continue
			}
			b.WriteRune(r)
		}
		if _, err := conn.Exec(t.Context(), b.String(), args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

func (f *accessFixture) land(t *testing.T, banner string) string {
	t.Helper()
	id := newID("threat-actor")
	mustLand(t, f.n, f.top, bundle(sdo(id, "2026-01-01T00:00:00.000Z", "2026-01-01T00:00:00.000Z", nil)), banner)
	return id
}

// reopen opens the node again, as a restart would: nothing cached from
// before the tampering.
func (f *accessFixture) reopen(t *testing.T) {
	t.Helper()
	f.n.Close()
	n, err := Open(context.Background(), f.dir, Options{OpenStore: backend.Opener(f.dsn)})
	if err != nil {
		t.Fatalf("Open after tampering: %v", err)
	}
	t.Cleanup(func() { n.Close() })
	f.n = n
	f.top = reauth(t, n, f.top)
	f.low = reauth(t, n, f.low)
}

// reauth is p on node n (its user row, read again).
func reauth(t *testing.T, n *Node, p *Principal) *Principal {
	t.Helper()
	u, err := n.Store().User(context.Background(), p.User.ID)
	if err != nil {
		t.Fatal(err)
	}
	q := *p
	q.User = u
	return &q
}

// readable reports whether p reads id by Get and finds it in a listing.
func (f *accessFixture) readable(t *testing.T, p *Principal, id string) (get, listed bool) {
	t.Helper()
	_, err := f.n.Get(t.Context(), p, id)
	if err != nil && !isNotFound(err) {
		t.Fatalf("Get %s: %v (want an answer, not an error)", id, err)
	}
	pg, lerr := f.n.List(t.Context(), p, ListOptions{Route: "objects", Limit: MaxPage})
	if lerr != nil {
		t.Fatalf("List: %v", lerr)
	}
	for _, o := range pg.Objects {
		if o.ID == id {
			listed = true
		}
	}
	return err == nil, listed
}

// waitMismatchAudit waits (bounded) for an audit entry reporting id.
func waitMismatchAudit(t *testing.T, n *Node, id string) audit.Event {
	t.Helper()
	for range 200 {
		evs := findEvents(auditLog(t, n.Store()), func(e audit.Event) bool {
			return e.Action == audit.ActionAccessMismatch && e.Object == id
		})
		if len(evs) > 0 {
			return evs[0]
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("no %s audit entry for %s", audit.ActionAccessMismatch, id)
	return audit.Event{}
}

// The reproduction: a SECRET version's class column rewritten to
// the UNCLASSIFIED class. Before access MACs it was readable and listable
// at UNCLASSIFIED; now it reads as absent to everyone, and is reported.
func TestAccessMACRewrittenClassColumn(t *testing.T) { onBackends(t, testRewrittenClassColumn) }

func testRewrittenClassColumn(t *testing.T, on string) {
	f := newAccessFixture(t, 2, on)
	victim := f.secret[0]
	f.rawExec(`UPDATE objects SET class = ? WHERE id = ?`, f.classOf[f.unclas[0]], victim)
	f.rawExec(`UPDATE object_ids SET class = ? WHERE id = ?`, f.classOf[f.unclas[0]], victim)
	for _, p := range []*Principal{f.low, f.top} {
		if get, listed := f.readable(t, p, victim); get || listed {
			t.Errorf("%s: rewritten version readable (get %v, listed %v)", p.Actor(), get, listed)
		}
	}
	// Nothing else is touched.
	if get, listed := f.readable(t, f.top, f.secret[1]); !get || !listed {
		t.Errorf("untouched SECRET object: get %v, listed %v", get, listed)
	}
	if get, listed := f.readable(t, f.low, f.unclas[0]); !get || !listed {
		t.Errorf("untouched UNCLASSIFIED object: get %v, listed %v", get, listed)
	}
	ev := waitMismatchAudit(t, f.n, victim)
	if ev.Decision != audit.Deny || !slices.Equal(ev.Reasons, []string{accessmac.ReasonChanged}) {
		t.Errorf("audit entry = %+v", ev)
	}
	if got := mismatchMetric(t, f.n, accessmac.ReasonChanged); got < 1 {
		t.Errorf("mismatch metric = %v", got)
	}
	// Versions too.
	if _, err := f.n.Versions(t.Context(), f.top, victim); !isNotFound(err) {
		t.Errorf("Versions of the rewritten object = %v, want not found", err)
	}
}

// A label row rewritten in place (the SECRET label's row made to hold the
// UNCLASSIFIED marking-definition, or garbage): the objects bearing it read
// as absent, every other object keeps reading (before: every read touching
// the label failed with an internal error).
func TestAccessMACRewrittenLabelRow(t *testing.T) { onBackends(t, testRewrittenLabelRow) }

func testRewrittenLabelRow(t *testing.T, on string) {
	for _, tc := range []struct{ name, raw string }{
		{"other label", ""}, // filled with the UNCLASSIFIED marking-definition
		{"garbage", `{"type":"marking-definition"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newAccessFixture(t, 2, on)
			raw := tc.raw
			if raw == "" {
				b, err := f.n.Store().Label(t.Context(), f.unclasLbl)
				if err != nil {
					t.Fatal(err)
				}
				raw = string(b)
			}
			f.rawExec(`UPDATE labels SET raw = ? WHERE id = ?`, []byte(raw), f.secretLbl)
			f.reopen(t)
			for _, id := range f.secret {
				for _, p := range []*Principal{f.low, f.top} {
					if get, listed := f.readable(t, p, id); get || listed {
						t.Errorf("%s: object under the altered label readable (get %v, listed %v)", p.Actor(), get, listed)
					}
				}
			}
			for _, id := range f.unclas {
				if get, listed := f.readable(t, f.low, id); !get || !listed {
					t.Errorf("object without the altered label: get %v, listed %v", get, listed)
				}
			}
			ev := waitMismatchAudit(t, f.n, f.secret[0])
			if !slices.Equal(ev.Reasons, []string{accessmac.ReasonLabel}) {
				t.Errorf("audit entry = %+v", ev)
			}
		})
	}
}

// renamedID is the id a tampered row is made to claim.
const renamedID = "threat-actor--00000000-0000-4000-8000-00000000beef"

// The other ways into a row's access rule: its class's label list, its
// bindings, its MAC itself, the row's version key.
func TestAccessMACOtherRewrites(t *testing.T) { onBackends(t, testOtherRewrites) }

func testOtherRewrites(t *testing.T, on string) {
	for _, tc := range []struct {
		name   string
		tamper func(f *accessFixture, victim string)
		reason string
		as     string // the id the row claims once tampered, when not victim's
	}{
		{"class label list", func(f *accessFixture, victim string) {
			// The UNCLASSIFIED label (twice: the key is unique).
			f.rawExec(`UPDATE access_classes SET key = ? WHERE id = ?`, f.unclasLbl+","+f.unclasLbl, f.classOf[victim])
		}, accessmac.ReasonChanged, ""},
		{"bindings swapped", func(f *accessFixture, victim string) {
			f.rawExec(`UPDATE objects SET bindings = (SELECT bindings FROM objects WHERE id = ?) WHERE id = ?`, f.unclas[0], victim)
		}, accessmac.ReasonChanged, ""},
		{"MAC deleted", func(f *accessFixture, victim string) {
			f.rawExec(`DELETE FROM access_macs WHERE seq = (SELECT seq FROM objects WHERE id = ?)`, victim)
		}, accessmac.ReasonMissing, ""},
		{"MAC copied from another row", func(f *accessFixture, victim string) {
			f.rawExec(`UPDATE access_macs SET mac = (SELECT m.mac FROM access_macs m JOIN objects o ON o.seq = m.seq WHERE o.id = ?)
				WHERE seq = (SELECT seq FROM objects WHERE id = ?)`, f.unclas[0], victim)
		}, accessmac.ReasonChanged, ""},
		{"class made unknown", func(f *accessFixture, victim string) {
			f.rawExec(`PRAGMA foreign_keys = OFF`)
			f.rawExec(`UPDATE objects SET class = 999999 WHERE id = ?`, victim)
		}, accessmac.ReasonClass, ""},
		// The id, version and digest bind the sealed content too: before
		// the checks ran beneath the sealing, such a row failed every read
		// it was in with an error.
		{"id rewritten", func(f *accessFixture, victim string) {
			f.rawExec(`UPDATE objects SET id = ? WHERE id = ?`, renamedID, victim)
		}, accessmac.ReasonChanged, renamedID},
		{"version rewritten", func(f *accessFixture, victim string) {
			f.rawExec(`UPDATE objects SET modified_us = modified_us + 1000, modified = ? WHERE id = ?`, "2026-01-01T00:00:00.001Z", victim)
		}, accessmac.ReasonChanged, ""},
		{"version text rewritten", func(f *accessFixture, victim string) {
			f.rawExec(`UPDATE objects SET modified = ? WHERE id = ?`, "2027-06-01T00:00:00.000Z", victim)
		}, accessmac.ReasonChanged, ""},
		{"digest rewritten", func(f *accessFixture, victim string) {
			f.rawExec(`UPDATE objects SET digest = ? WHERE id = ?`, strings.Repeat("ab", 32), victim)
		}, accessmac.ReasonChanged, ""},
		{"type rewritten", func(f *accessFixture, victim string) {
			f.rawExec(`UPDATE objects SET type = 'indicator' WHERE id = ?`, victim)
		}, accessmac.ReasonChanged, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newAccessFixture(t, 2, on)
			victim := f.secret[0]
			tc.tamper(f, victim)
			f.reopen(t)
			if get, listed := f.readable(t, f.top, victim); get || listed {
				t.Errorf("tampered object readable (get %v, listed %v)", get, listed)
			}
			if get, listed := f.readable(t, f.low, f.unclas[0]); !get || !listed {
				t.Errorf("untouched object: get %v, listed %v", get, listed)
			}
			reported := victim
			if tc.as != "" {
				reported = tc.as
			}
			if ev := waitMismatchAudit(t, f.n, reported); !slices.Equal(ev.Reasons, []string{tc.reason}) {
				t.Errorf("audit entry = %+v, want reason %s", ev, tc.reason)
			}
		})
	}
}

// A property over random corruptions of the stored access rule: after
// any set of them, an object reads (by Get and in a listing, to a reader
// cleared for all) exactly when no corruption touched it, reads never
// fail, and the UNCLASSIFIED reader never sees a SECRET object.
func TestAccessMACRandomCorruptions(t *testing.T) { onBackends(t, testRandomCorruptions) }

func testRandomCorruptions(t *testing.T, on string) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 7))
	rounds := 6
	if testing.Short() {
		rounds = 2
	}
	for round := range rounds {
		f := newAccessFixture(t, 3, on)
		all := append(slices.Clone(f.secret), f.unclas...)
		touched := map[string]bool{}
		renamed := map[string]bool{} // ids whose row now holds another id
		// The labels as stored before any corruption: a round may replace
		// both rows, each with the other's original.
		original := map[string][]byte{}
		for _, l := range []string{f.secretLbl, f.unclasLbl} {
			raw, err := f.n.Store().Label(t.Context(), l)
			if err != nil {
				t.Fatal(err)
			}
			original[l] = raw
		}
		pick := func() string { return all[rng.IntN(len(all))] }
		for range 1 + rng.IntN(3) {
			victim := pick()
			switch k := rng.IntN(13); k {
			case 0: // class column moved to another class
				other := f.classOf[pick()]
				if other == f.classOf[victim] {
					continue
				}
				f.rawExec(`UPDATE objects SET class = ? WHERE id = ?`, other, victim)
				f.rawExec(`UPDATE object_ids SET class = ? WHERE id = ?`, other, victim)
				touched[victim] = true
			case 1: // a label row replaced by the other label's
				from, to := f.unclasLbl, f.secretLbl
				if rng.IntN(2) == 0 {
					from, to = to, from
				}
				f.rawExec(`UPDATE labels SET raw = ? WHERE id = ?`, original[from], to)
				for _, id := range all {
					if (to == f.secretLbl) == slices.Contains(f.secret, id) {
						touched[id] = true
					}
				}
			case 2: // a class's label list rewritten
				c := f.classOf[victim]
				f.rawExec(`UPDATE access_classes SET key = ? WHERE id = ?`, fmt.Sprintf("marking-definition--%08d", rng.IntN(1e8)), c)
				for _, id := range all {
					if f.classOf[id] == c {
						touched[id] = true
					}
				}
			case 3: // bindings of another row
				other := pick()
				if other == victim || renamed[other] {
					continue
				}
				f.rawExec(`UPDATE objects SET bindings = (SELECT bindings FROM objects WHERE id = ?) WHERE id = ?`, other, victim)
				touched[victim] = true
			case 4: // one bit of the MAC
				f.rawExec(`UPDATE access_macs SET mac = ? WHERE seq = (SELECT seq FROM objects WHERE id = ?)`, make([]byte, accessmac.Size), victim)
				touched[victim] = true
			case 5: // MAC removed
				f.rawExec(`DELETE FROM access_macs WHERE seq = (SELECT seq FROM objects WHERE id = ?)`, victim)
				touched[victim] = true
			case 6: // originator rewritten
				f.rawExec(`UPDATE objects SET originator = ? WHERE id = ?`, fmt.Sprintf("node-%d", rng.IntN(1000)), victim)
				touched[victim] = true
			case 7: // moved to another instance of its id
				f.rawExec(`UPDATE objects SET instance = instance + 1 WHERE id = ?`, victim)
				touched[victim] = true
			// The id, version and digest are the sealed content's too
			// (package seal): the checks meet the row first, so it reads
			// as absent instead of failing to open.
			case 8: // id rewritten (the row now claims another object)
				f.rawExec(`UPDATE objects SET id = ? WHERE id = ?`, newID("threat-actor"), victim)
				touched[victim], renamed[victim] = true, true
			case 9: // version rewritten, the key and its text
				f.rawExec(`UPDATE objects SET modified_us = modified_us + 1000, modified = ? WHERE id = ?`, "2026-01-01T00:00:00.001Z", victim)
				touched[victim] = true
			case 10: // the version's text alone
				f.rawExec(`UPDATE objects SET modified = ? WHERE id = ?`, "2027-06-01T00:00:00.000Z", victim)
				touched[victim] = true
			case 11: // digest rewritten
				f.rawExec(`UPDATE objects SET digest = ? WHERE id = ?`, fmt.Sprintf("%064x", rng.Uint64()), victim)
				touched[victim] = true
			case 12: // type rewritten
				f.rawExec(`UPDATE objects SET type = 'indicator' WHERE id = ?`, victim)
				touched[victim] = true
			}
		}
		f.reopen(t)
		for _, id := range all {
			get, listed := f.readable(t, f.top, id)
			if get == touched[id] || listed == touched[id] {
				t.Errorf("round %d: %s touched=%v: get %v, listed %v", round, id, touched[id], get, listed)
			}
			if slices.Contains(f.secret, id) {
				if get, listed := f.readable(t, f.low, id); get || listed {
					t.Errorf("round %d: SECRET %s readable at UNCLASSIFIED", round, id)
				}
			}
		}
	}
}

// mismatchMetric is the mismatch counter of n for reason, as scraped.
func mismatchMetric(t *testing.T, n *Node, reason string) float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(n.sealed.Unwrap().(*checks.Store).Collector())
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "reason" && l.GetValue() == reason {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// The backfill: rows stored before access MACs existed get theirs at the
// next open, once (audited with their count); a MAC removed afterwards is
// never made again, so its row reads as absent.
func TestAccessMACBackfill(t *testing.T) {
	f := newAccessFixture(t, 2, "sqlite") // PostgreSQL: TestAccessMACBackfillPostgres
	// As the migration leaves a node upgraded from a release without MACs.
	f.rawExec(`DELETE FROM access_macs`)
	f.rawExec(`UPDATE access_mac_backfill SET upto = (SELECT MAX(seq) FROM objects), done_us = 0`)
	f.reopen(t)
	all := append(slices.Clone(f.secret), f.unclas...)
	for _, id := range all {
		if get, listed := f.readable(t, f.top, id); !get || !listed {
			t.Errorf("%s after the backfill: get %v, listed %v", id, get, listed)
		}
	}
	evs := findEvents(auditLog(t, f.n.Store()), func(e audit.Event) bool { return e.Action == audit.ActionAccessBackfill })
	if len(evs) != 1 || evs[0].Count != len(all) {
		t.Fatalf("backfill audit = %+v, want one entry counting %d", evs, len(all))
	}
	f.rawExec(`DELETE FROM access_macs WHERE seq = (SELECT seq FROM objects WHERE id = ?)`, f.secret[0])
	f.reopen(t)
	if get, listed := f.readable(t, f.top, f.secret[0]); get || listed {
		t.Errorf("row whose MAC was removed after the backfill: get %v, listed %v", get, listed)
	}
	if evs := findEvents(auditLog(t, f.n.Store()), func(e audit.Event) bool { return e.Action == audit.ActionAccessBackfill }); len(evs) != 1 {
		t.Errorf("backfill ran again: %+v", evs)
	}
}

// Counts and the label route's "does the reader read an object bearing
// this label" come from the rows the checks pass: a SECRET version's class
// column rewritten to the UNCLASSIFIED class adds nothing to the
// UNCLASSIFIED reader's count, a count always equals the length of the
// listing, and a label borne only by rows that fail their MAC does not
// exist for the reader.
func TestAccessMACCounts(t *testing.T) { onBackends(t, testCounts) }

func testCounts(t *testing.T, on string) {
	ctx := t.Context()
	f := newAccessFixture(t, 2, on)
	count := func(p *Principal) int64 {
		t.Helper()
		n, err := f.n.Count(ctx, p, ListOptions{IncludeRevoked: true})
		if err != nil {
			t.Fatalf("Count: %v", err)
		}
		pg, err := f.n.List(ctx, p, ListOptions{Route: "objects", Limit: MaxPage, IncludeRevoked: true})
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		if n != int64(len(pg.Objects)) {
			t.Errorf("%s: count %d, listing %d", p.Actor(), n, len(pg.Objects))
		}
		return n
	}
	if got := count(f.low); got != 2 {
		t.Fatalf("UNCLASSIFIED reader counts %d before tampering, want 2", got)
	}
	if _, err := f.n.Label(ctx, f.low, f.unclasLbl); err != nil {
		t.Fatalf("Label before tampering: %v", err)
	}
	unclas := f.classOf[f.unclas[0]]
	f.rawExec(`UPDATE objects SET class = ? WHERE id = ?`, unclas, f.secret[0])
	f.rawExec(`UPDATE object_ids SET class = ? WHERE id = ?`, unclas, f.secret[0])
	f.reopen(t)
	if got := count(f.low); got != 2 {
		t.Errorf("UNCLASSIFIED reader counts %d once a SECRET row claims its class, want 2", got)
	}
	if got := count(f.top); got != 3 {
		t.Errorf("top reader counts %d, want 3 (the rewritten row reads as absent)", got)
	}
	waitMismatchAudit(t, f.n, f.secret[0])

	// The UNCLASSIFIED rows' MACs removed: only rows that fail their
	// check bear the UNCLASSIFIED label now.
	f.rawExec(`DELETE FROM access_macs WHERE seq IN (SELECT seq FROM objects WHERE class = ?)`, unclas)
	if got := count(f.low); got != 0 {
		t.Errorf("UNCLASSIFIED reader counts %d with every row it could read tampered, want 0", got)
	}
	if _, err := f.n.Label(ctx, f.low, f.unclasLbl); !isNotFound(err) {
		t.Errorf("Label borne only by tampered rows: %v, want not found", err)
	}
	if _, err := f.n.Label(ctx, f.top, f.secretLbl); err != nil {
		t.Errorf("Label borne by an untouched row: %v", err)
	}
}
