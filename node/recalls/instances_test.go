package recalls_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/tearline/tearline/internal/pgtest"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/nodetest"
	"github.com/tearline/tearline/node/recalls"
	"github.com/tearline/tearline/node/users"
	"github.com/tearline/tearline/store"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// Instances on the wire, from the attacker's side: at gbr, hugh (cleared
// to NATO SECRET) holds an object that lola (NATO RESTRICTED) cannot read,
// and lola publishes the same id, with the same modified and then a newer
// one: a low instance of it, from the same originating node. Both go to
// fra. fra must keep them apart (the low one is never a version of the
// high one there), and lola's recall of hers must take back hers alone:
// at gbr it names only her instance's releases, and at fra it purges only
// the instance holding hers.
func TestInstancesOnTheWire(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		gbr, fra := nodetest.NewFedPair(t, "analysis")
		testInstancesOnTheWire(t, gbr, fra)
	})
	t.Run("postgres", func(t *testing.T) {
		gbr, fra := nodetest.NewFedPairOn(t, [2]string{pgtest.DSN(t), pgtest.DSN(t)}, "analysis")
		testInstancesOnTheWire(t, gbr, fra)
	})
}

const (
	highBanner = "NATO SECRET // DISC SIGINT // TOPIC CYBER"
	lowBanner  = "NATO RESTRICTED // DISC SIGINT // TOPIC CYBER"
)

func testInstancesOnTheWire(t *testing.T, gbr, fra *nodetest.FedNode) {
	ctx := context.Background()
	hugh, _ := nodetest.AddUser(t, gbr.N, users.UserSpec{Name: "hugh", Role: node.RoleReleaser, Nationality: "GBR",
		Clearances: map[string]string{"NATO": "SECRET"}})
	lola, _ := nodetest.AddUser(t, gbr.N, users.UserSpec{Name: "lola", Role: node.RoleReleaser, Nationality: "GBR",
		Clearances: map[string]string{"NATO": "RESTRICTED"}})
	id := nodetest.NewID("threat-actor")
	nodetest.MustLand(t, gbr.N, hugh, nodetest.Bundle(nodetest.SDO(id, nodetest.T0, nodetest.T1, map[string]any{"name": "high"})), highBanner)
	if res := nodetest.MustRelease(t, gbr.N, hugh, id, "fra"); res.Outcome != "release" {
		t.Fatalf("hugh's release: %+v", res)
	}
	nodetest.Eventually(t, "fra holds the high object", func() bool { return len(instancesAt(t, fra, id)) == 1 })

	// Lola's: the same id and modified, then a newer modified.
	nodetest.MustLand(t, gbr.N, lola, nodetest.Bundle(nodetest.SDO(id, nodetest.T0, nodetest.T1, map[string]any{"name": "low"})), lowBanner)
	if res := nodetest.MustRelease(t, gbr.N, lola, id, "fra"); res.Outcome != "release" {
		t.Fatalf("lola's release: %+v", res)
	}
	nodetest.MustLand(t, gbr.N, lola, nodetest.Bundle(nodetest.SDO(id, nodetest.T0, nodetest.T2, map[string]any{"name": "low newer"})), lowBanner)
	if res := nodetest.MustRelease(t, gbr.N, lola, id, "fra"); res.Outcome != "release" {
		t.Fatalf("lola's second release: %+v", res)
	}
	// The ledger names each release's instance.
	entries, err := gbr.N.Store().Ledger(ctx, store.LedgerQuery{ObjectID: id})
	if err != nil {
		t.Fatal(err)
	}
	byInstance := map[int64][]string{}
	for _, e := range entries {
		if e.Party == "fra" && e.Outcome == store.LedgerRelease {
			byInstance[e.Instance] = append(byInstance[e.Instance], e.Modified)
		}
	}
	if len(byInstance) != 2 || len(byInstance[0]) == 0 {
		t.Fatalf("gbr's ledger releases to fra by instance: %v; want hugh's instance 0 and lola's own", byInstance)
	}
	nodetest.Eventually(t, "fra holds both instances", func() bool {
		got := instancesAt(t, fra, id)
		return len(got) == 2 && len(flatten(got)) == 3
	})
	insts := instancesAt(t, fra, id)
	var high, low int64 = -1, -1
	for k, names := range insts {
		switch strings.Join(names, ",") {
		case "high":
			high = k
		case "low,low newer":
			low = k
		}
	}
	if high < 0 || low < 0 {
		t.Fatalf("fra's instances of %s: %v; want hugh's version alone in one, lola's two in another", id, insts)
	}
	// fra's reader of both gets the high one by GET: lola's newer version
	// superseded nothing.
	if got, err := fra.N.Get(ctx, fra.Admin, id); err != nil || nameOf(t, got.Raw) != "high" {
		t.Fatalf("fra's GET: %s, %v; want the high object", got.Raw, err)
	}

	// Lola recalls hers: one notice, for her instance, to fra; at gbr it
	// names her instance's releases only.
	rs, err := gbr.N.Recalls.Recall(ctx, lola, id, "withdrawn")
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 1 || rs[0].Party != "fra" {
		t.Fatalf("lola's recall: %+v", rs)
	}
	var notice struct {
		Instance int64    `json:"instance"`
		Versions []string `json:"versions"`
	}
	if err := json.Unmarshal(rs[0].Notice, &notice); err != nil {
		t.Fatal(err)
	}
	var lolas int64
	for k := range byInstance {
		if k != 0 {
			lolas = k
		}
	}
	released := slices.Compact(slices.Sorted(slices.Values(byInstance[lolas]))) // by hand and automatically
	if notice.Instance != lolas || strings.Join(notice.Versions, ",") != strings.Join(released, ",") {
		t.Fatalf("lola's notice names instance %d, versions %v; want her instance %d and its releases %v", notice.Instance, notice.Versions, lolas, released)
	}
	lr, err := gbr.N.Recalls.LedgerRecalls(ctx, gbr.Admin, entries)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := lr[recalls.LedgerRecallKey(id, 0, "fra")]; ok {
		t.Errorf("hugh's release shows lola's recall: %+v", lr)
	}
	if _, ok := lr[recalls.LedgerRecallKey(id, lolas, "fra")]; !ok {
		t.Errorf("lola's releases do not show her recall: %+v", lr)
	}
	// fra purges lola's instance alone: the notice is delivered, and the
	// low instance goes while the high instance and its GET stand.
	nodetest.Eventually(t, "the notice was delivered to fra", func() bool {
		items, err := gbr.N.Store().OutboxItems(ctx, "fra", 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range items {
			if it.Kind == store.OutboxRecall && !it.Delivered.IsZero() {
				return true
			}
		}
		return false
	})
	nodetest.Eventually(t, "fra purged lola's instance", func() bool { return len(instancesAt(t, fra, id)[low]) == 0 })
	if got := instancesAt(t, fra, id); len(got) != 1 || strings.Join(got[high], ",") != "high" {
		t.Fatalf("fra after lola's recall: %v; want hugh's instance alone, unchanged", got)
	}
	if got, err := fra.N.Get(ctx, fra.Admin, id); err != nil || nameOf(t, got.Raw) != "high" {
		t.Fatalf("fra's GET after the recall: %s, %v", got.Raw, err)
	}
	// Hugh's object goes on: a newer version reaches fra's high instance.
	nodetest.MustLand(t, gbr.N, hugh, nodetest.Bundle(nodetest.SDO(id, nodetest.T0, nodetest.T2, map[string]any{"name": "high newer"})), highBanner)
	nodetest.MustRelease(t, gbr.N, hugh, id, "fra")
	nodetest.Eventually(t, "fra holds hugh's newer version", func() bool {
		return strings.Join(instancesAt(t, fra, id)[high], ",") == "high,high newer"
	})
}

// instancesAt returns the names of the versions n holds of id, by instance,
// oldest first, as a reader of every level reads them.
func instancesAt(t *testing.T, f *nodetest.FedNode, id string) map[int64][]string {
	t.Helper()
	vs, err := f.N.Versions(context.Background(), f.Admin, id)
	if nodetest.IsNotFound(err) {
		return map[int64][]string{}
	}
	if err != nil {
		t.Fatal(err)
	}
	out := map[int64][]string{}
	for _, v := range vs {
		out[v.Instance] = append(out[v.Instance], nameOf(t, v.Raw))
	}
	return out
}

func flatten(m map[int64][]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v...)
	}
	return out
}

func nameOf(t *testing.T, raw []byte) string {
	t.Helper()
	var m struct {
		Name string `json:"name"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	return m.Name
}
