package stack_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/nodetest"
	"github.com/tearline/tearline/node/stack"
	"github.com/tearline/tearline/node/users"
)

// Polyinstantiation, written from the attacker's side: rita, cleared only
// to NATO RESTRICTED, publishes ids that exist at NATO SECRET (sam's). What
// she is told must be what a fresh id tells her, and nothing of sam's may
// change: his GET, his versions, his listing.

const (
	secretBanner     = "NATO SECRET"
	restrictedBanner = "NATO RESTRICTED"
)

type instancesFixture struct {
	n         *stack.Node
	sam, rita *node.Principal
	admin     *node.Principal
}

func newInstancesFixture(t *testing.T) instancesFixture {
	n := nodetest.New(t, "gbr", "GBR")
	sam, _ := nodetest.AddUser(t, n, users.UserSpec{Name: "sam", Role: node.RoleAnalyst, Nationality: "GBR",
		Clearances: map[string]string{"NATO": "SECRET"}})
	rita, _ := nodetest.AddUser(t, n, users.UserSpec{Name: "rita", Role: node.RoleAnalyst, Nationality: "GBR",
		Clearances: map[string]string{"NATO": "RESTRICTED"}})
	admin, _ := nodetest.AddUser(t, n, nodetest.AdminSpec())
	return instancesFixture{n: n, sam: sam, rita: rita, admin: admin}
}

// answer is what a publish answered, with id written as ID: the answer for
// another id must then be the same bytes.
func answer(t *testing.T, n *stack.Node, p *node.Principal, id string, data []byte, banner string) string {
	t.Helper()
	res, err := n.Ingest(context.Background(), p, data, node.IngestOptions{Label: banner})
	if err != nil {
		t.Fatalf("ingest %s: %v", id, err)
	}
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	return strings.ReplaceAll(string(b), id, "ID")
}

// asFresh publishes obj(id) as p, then obj(fresh) for a new id of the same
// type, and fails unless the two answers are the same.
func asFresh(t *testing.T, n *stack.Node, p *node.Principal, what, id string, obj func(id string) []byte, banner string) {
	t.Helper()
	fresh := nodetest.NewID(strings.SplitN(id, "--", 2)[0])
	got := answer(t, n, p, id, nodetest.Bundle(obj(id)), banner)
	want := answer(t, n, p, fresh, nodetest.Bundle(obj(fresh)), banner)
	if got != want {
		t.Errorf("%s: the answer tells an existing id from a fresh one:\n existing %s\n fresh    %s", what, got, want)
	}
	if !strings.Contains(got, `"status":"created"`) {
		t.Errorf("%s: answer %s, want created", what, got)
	}
}

func nameOf(t *testing.T, o node.Object) string {
	t.Helper()
	var m struct {
		Name string `json:"name"`
	}
	if err := json.Unmarshal(o.Raw, &m); err != nil {
		t.Fatalf("object %s: %v", o.ID, err)
	}
	return m.Name
}

func TestInstancesPublishOverHigh(t *testing.T) {
	ctx := context.Background()
	f := newInstancesFixture(t)
	n := f.n
	id := nodetest.NewID("threat-actor")
	high := nodetest.SDO(id, nodetest.T0, nodetest.T1, map[string]any{"name": "sam's"})
	nodetest.MustLand(t, n, f.sam, nodetest.Bundle(high), secretBanner)

	// The same modified with other content: a fresh id's answer, not 422.
	asFresh(t, n, f.rita, "same modified", id, func(id string) []byte {
		return nodetest.SDO(id, nodetest.T0, nodetest.T1, map[string]any{"name": "rita's"})
	}, restrictedBanner)
	// A newer modified: created, as for a fresh id...
	asFresh(t, n, f.rita, "newer modified", id, func(id string) []byte {
		return nodetest.SDO(id, nodetest.T0, nodetest.T2, map[string]any{"name": "rita's newer"})
	}, restrictedBanner)

	// ...and sam still reads his own object.
	got, err := n.Get(ctx, f.sam, id)
	if err != nil {
		t.Fatal(err)
	}
	if nameOf(t, got) != "sam's" || got.Modified != nodetest.T1 {
		t.Fatalf("sam's GET after rita's publish: %q @ %s, want his own version", nameOf(t, got), got.Modified)
	}
	if got.Instances != 2 {
		t.Errorf("sam's GET: Instances = %d, want 2 (he may read both)", got.Instances)
	}
	// Rita reads hers as an ordinary object: no sign of another instance.
	mine, err := n.Get(ctx, f.rita, id)
	if err != nil {
		t.Fatal(err)
	}
	if nameOf(t, mine) != "rita's newer" || mine.Instances != 1 {
		t.Errorf("rita's GET: %q, instances %d; want her newer version, one instance", nameOf(t, mine), mine.Instances)
	}
	vs, err := n.Versions(ctx, f.rita, id)
	if err != nil || len(vs) != 2 {
		t.Fatalf("rita's versions: %d, %v; want her two", len(vs), err)
	}
	for _, v := range vs {
		if v.Instances != 1 || v.Instance == 0 {
			t.Errorf("rita's version %s: instance %d of %d, want one of hers only (not the default instance)", v.Modified, v.Instance, v.Instances)
		}
	}
	// Sam sees all three versions, each marked as one of two instances.
	vs, err = n.Versions(ctx, f.sam, id)
	if err != nil || len(vs) != 3 {
		t.Fatalf("sam's versions: %d, %v; want 3", len(vs), err)
	}
	for _, v := range vs {
		if v.Instances != 2 {
			t.Errorf("sam's version %s (instance %d): Instances = %d, want 2", v.Modified, v.Instance, v.Instances)
		}
	}
	// Rita's listing holds her instance; sam's listing holds his object
	// as its latest version, and rita's instance beside it.
	page, err := n.List(ctx, f.rita, node.ListOptions{Route: "objects", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var hers []string
	for _, o := range page.Objects {
		if o.ID == id {
			hers = append(hers, nameOf(t, o))
		}
	}
	if strings.Join(hers, ",") != "rita's newer" {
		t.Fatalf("rita's list of %s: %v, want her latest only", id, hers)
	}
	page, err = n.List(ctx, f.sam, node.ListOptions{Route: "objects", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, o := range page.Objects {
		if o.ID == id {
			names = append(names, nameOf(t, o))
		}
	}
	if strings.Join(names, ",") != "sam's,rita's newer" {
		t.Errorf("sam's list of %s: %v, want his version then rita's instance", id, names)
	}

	// Sam's own update joins his object, not rita's instance.
	nodetest.MustLand(t, n, f.sam, nodetest.Bundle(nodetest.SDO(id, nodetest.T0, nodetest.T3, map[string]any{"name": "sam's update"})), secretBanner)
	if got, err = n.Get(ctx, f.sam, id); err != nil || nameOf(t, got) != "sam's update" || got.Instance != 0 {
		t.Fatalf("sam's GET after his update: %q instance %d, %v", nameOf(t, got), got.Instance, err)
	}
	if mine, err = n.Get(ctx, f.rita, id); err != nil || nameOf(t, mine) != "rita's newer" {
		t.Fatalf("rita's GET after sam's update: %q, %v", nameOf(t, mine), err)
	}
}

// A high object revoked, or purged, at a level rita cannot read answers
// her as a fresh id; a purge she could read still refuses her.
func TestInstancesRevokedAndPurgedHigh(t *testing.T) {
	ctx := context.Background()
	f := newInstancesFixture(t)
	n := f.n

	revoked := nodetest.NewID("threat-actor")
	nodetest.MustLand(t, n, f.sam, nodetest.Bundle(nodetest.SDO(revoked, nodetest.T0, nodetest.T0, nil)), secretBanner)
	nodetest.MustLand(t, n, f.sam, nodetest.Bundle(nodetest.SDO(revoked, nodetest.T0, nodetest.T1, map[string]any{"revoked": true})), secretBanner)
	asFresh(t, n, f.rita, "after a revocation she cannot read", revoked, func(id string) []byte {
		return nodetest.SDO(id, nodetest.T0, nodetest.T2, nil)
	}, restrictedBanner)
	// Sam's object stays revoked, and is still his latest.
	got, err := n.Get(ctx, f.sam, revoked)
	if err != nil || !got.Revoked || got.Instance != 0 {
		t.Fatalf("sam's GET of his revoked object: revoked %v instance %d, %v", got.Revoked, got.Instance, err)
	}

	purged := nodetest.NewID("threat-actor")
	nodetest.MustLand(t, n, f.sam, nodetest.Bundle(nodetest.SDO(purged, nodetest.T0, nodetest.T0, nil)), secretBanner)
	if _, err := n.Purge(ctx, f.admin, node.PurgeTarget{ID: purged, Reason: "test"}); err != nil {
		t.Fatalf("purge: %v", err)
	}
	asFresh(t, n, f.rita, "after a purge she cannot read", purged, func(id string) []byte {
		return nodetest.SDO(id, nodetest.T0, nodetest.T0, map[string]any{"name": "rita's"})
	}, restrictedBanner)
	// A purge is forever for whoever could read what it destroyed.
	res, err := n.Ingest(ctx, f.sam, nodetest.Bundle(nodetest.SDO(purged, nodetest.T0, nodetest.T0, nil)), node.IngestOptions{Label: secretBanner})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Refused) != 1 || !strings.Contains(res.Refused[0].Reason, "purged") {
		t.Errorf("sam republishing the purged object: %+v, want refused as purged", res)
	}

	// The same rule at a level rita can read: her own purged object.
	own := nodetest.NewID("threat-actor")
	nodetest.MustLand(t, n, f.rita, nodetest.Bundle(nodetest.SDO(own, nodetest.T0, nodetest.T0, nil)), restrictedBanner)
	if _, err := n.Purge(ctx, f.admin, node.PurgeTarget{ID: own, Reason: "test"}); err != nil {
		t.Fatalf("purge: %v", err)
	}
	res, err = n.Ingest(ctx, f.rita, nodetest.Bundle(nodetest.SDO(own, nodetest.T0, nodetest.T0, nil)), node.IngestOptions{Label: restrictedBanner})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Refused) != 1 || !strings.Contains(res.Refused[0].Reason, "purged") {
		t.Errorf("rita republishing her purged object: %+v, want refused as purged", res)
	}
}
