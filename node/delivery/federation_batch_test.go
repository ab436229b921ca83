package delivery_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/binding"
	"github.com/tearline/tearline/federation"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/delivery"
	"github.com/tearline/tearline/node/nodetest"
	"github.com/tearline/tearline/node/stack"
	"github.com/tearline/tearline/store"
)

// referencePayload assembles the bundle of one reference the way the
// sender did before batch reads: one Versions read, one Provenance read.
func referencePayload(t *testing.T, n *stack.Node, ref node.ObjectsRef) federation.ObjectsBundle {
	t.Helper()
	ctx := context.Background()
	v, err := node.VersionOf(ctx, n.Store(), ref.Object, node.VersionKey{Instance: ref.Instance, Modified: ref.Modified})
	if err != nil {
		t.Fatal(err)
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(v.Bindings, &raws); err != nil {
		t.Fatal(err)
	}
	b := federation.ObjectsBundle{Type: "bundle", Release: federation.ReleaseEnvelope{Agreement: ref.Agreement, Version: ref.Version, Originator: v.Originator}}
	seen := map[string]bool{}
	for _, raw := range raws {
		bb, err := binding.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, l := range bb.Labels {
			ids = append(ids, l.Ref)
		}
		for _, l := range bb.PartLabels {
			ids = append(ids, l.Ref)
		}
		for _, id := range ids {
			if !seen[id] {
				seen[id] = true
				lraw, err := n.Store().Label(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				b.Objects = append(b.Objects, lraw)
			}
		}
	}
	b.Objects = append(b.Objects, v.Raw)
	b.Objects = append(b.Objects, raws...)
	p, err := n.Store().Provenance(ctx, v.ID)
	switch {
	case err == nil:
		b.Release.Originator, b.Release.Hops = p.Originator, p.Hops
	case !errors.Is(err, store.ErrNotFound):
		t.Fatal(err)
	}
	return b
}

func normalised(t *testing.T, b federation.ObjectsBundle) []byte {
	t.Helper()
	b.ID = ""
	out, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// objectsItems makes outbox items of kind objects for the latest version
// of each id.
func objectsItems(t *testing.T, n *stack.Node, ids ...string) ([]store.OutboxItem, []node.ObjectsRef) {
	t.Helper()
	var items []store.OutboxItem
	var refs []node.ObjectsRef
	for i, id := range ids {
		vs, err := n.Store().Versions(context.Background(), id)
		ref := node.ObjectsRef{Ledger: int64(i + 1), Object: id, Agreement: "gbr-fra", Version: 1}
		if err == nil && len(vs) > 0 {
			ref.Modified = vs[len(vs)-1].Modified
		} else {
			ref.Modified = nodetest.T0
		}
		p, _ := json.Marshal(ref)
		items = append(items, store.OutboxItem{ID: int64(100 + i), Peer: "fra", Kind: store.OutboxObjects, Payload: p})
		refs = append(refs, ref)
	}
	return items, refs
}

// A batch assembled from one read of all its versions and provenance is,
// message by message, what one read per message gave; a version no longer
// stored is gone, not sent; a received object keeps its provenance.
func TestBuildBatchMatchesPerObjectReads(t *testing.T) {
	ctx := context.Background()
	gbr, fra := nodetest.NewFedPair(t, "analysis")
	var ids []string
	for range 5 {
		ids = append(ids, gbr.IngestAs(t, nodetest.Actor(nodetest.NewID("threat-actor"), nil), nodetest.OKBanner))
	}
	// One object with a second version: the first is sent.
	two := ids[1]
	vs, err := gbr.N.Store().Versions(ctx, two)
	if err != nil {
		t.Fatal(err)
	}
	second := nodetest.Actor(two, nil)
	second["modified"] = "2026-03-01T00:00:00.000Z"
	gbr.IngestAs(t, second, nodetest.OKBanner)
	// One received from fra: it has provenance with a hop.
	got := fra.IngestAs(t, nodetest.Actor(nodetest.NewID("threat-actor"), nil), nodetest.OKBanner)
	if res := nodetest.MustRelease(t, fra.N, fra.Admin, got, "gbr"); res.Outcome != "release" {
		t.Fatalf("release: %+v", res)
	}
	nodetest.Eventually(t, "gbr holds fra's object", func() bool { return nodetest.Held(gbr.N, got) })
	ids = append(ids, got, nodetest.NewID("threat-actor")) // and one never stored

	items, refs := objectsItems(t, gbr.N, ids...)
	refs[1].Modified = vs[0].Modified
	items[1].Payload, _ = json.Marshal(refs[1])
	// Other kinds pass through as they are.
	items = append(items[:3], append([]store.OutboxItem{{ID: 99, Peer: "fra", Kind: "ack", Payload: []byte(`{"x":1}`)}}, items[3:]...)...)

	bb, err := gbr.N.Deliveries.Sender().BuildBatch(ctx, delivery.WirePeer(gbr.Peer(t, "fra")), items)
	if err != nil {
		t.Fatal(err)
	}
	if len(bb.Gone) != 1 || bb.Gone[0] != items[len(items)-1].ID {
		t.Fatalf("gone = %+v, want the unstored one", bb.Gone)
	}
	if sent := bb.Note.(delivery.SentObjects); len(bb.Messages) != len(items)-1 || len(sent) != len(ids)-1 {
		t.Fatalf("%d messages, %d sent", len(bb.Messages), len(sent))
	}
	hops := 0
	for i, m := range bb.Messages {
		if m.ID != items[i].ID || m.Kind != items[i].Kind {
			t.Fatalf("message %d = %d %s, want %d %s", i, m.ID, m.Kind, items[i].ID, items[i].Kind)
		}
		if m.Kind != store.OutboxObjects {
			if !bytes.Equal(m.Payload, items[i].Payload) {
				t.Fatalf("message %d payload changed", i)
			}
			continue
		}
		var ref node.ObjectsRef
		if err := json.Unmarshal(items[i].Payload, &ref); err != nil {
			t.Fatal(err)
		}
		var b federation.ObjectsBundle
		if err := json.Unmarshal(m.Payload, &b); err != nil {
			t.Fatal(err)
		}
		if want := normalised(t, referencePayload(t, gbr.N, ref)); !bytes.Equal(normalised(t, b), want) {
			t.Fatalf("message %d:\n got %s\nwant %s", i, normalised(t, b), want)
		}
		hops += len(b.Release.Hops)
	}
	if hops != 1 {
		t.Fatalf("%d hops in the batch, want the one of the received object", hops)
	}
}

// One delivery mixing good messages and refused ones: each good one is
// stored and audited, each refused one leaves nothing, whatever its place,
// and a resend of the whole delivery answers exists.
func TestReceiveMixedBatch(t *testing.T) {
	ctx := context.Background()
	gbr, fra := nodetest.NewFedPair(t, "analysis")
	// fra's inbox is down, so gbr's automatic releases do not reach it:
	// the delivery below is handed to fra directly.
	fra.Stop()
	var ids []string
	for range 9 {
		ids = append(ids, gbr.IngestAs(t, nodetest.Actor(nodetest.NewID("threat-actor"), nil), nodetest.OKBanner))
	}
	// fra held an object of its own under ids[2] and purged it: storing
	// gbr's version is refused (a purge is forever), after every check
	// passed. (Other content under the id, from fra itself, would not
	// refuse it: a partner's version from another originator is an
	// instance of its own, package instance.)
	fra.IngestAs(t, nodetest.Actor(ids[2], map[string]any{"name": "fra's own"}), nodetest.OKBanner)
	if _, err := fra.N.Purge(ctx, node.ConsoleAdmin(), node.PurgeTarget{ID: ids[2], Reason: "test"}); err != nil {
		t.Fatal(err)
	}
	items, _ := objectsItems(t, gbr.N, ids...)
	bb, err := gbr.N.Deliveries.Sender().BuildBatch(ctx, delivery.WirePeer(gbr.Peer(t, "fra")), items)
	if err != nil {
		t.Fatal(err)
	}
	msgs := bb.Messages
	bad := map[int]bool{2: true}
	// Forged: the content changed after signing (first, middle, last).
	for _, i := range []int{0, 4, 8} {
		bad[i] = true
		msgs[i].Payload = bytes.Replace(msgs[i].Payload, []byte(`"name":"`), []byte(`"name":"forged `), 1)
	}
	// Not a bundle at all.
	msgs[6].Payload = []byte(`{"type":"bundle","objects":[]}`)
	bad[6] = true

	peer := fra.Peer(t, "gbr")
	before := len(nodetest.AuditLog(t, fra.N.Store()))
	res := fra.N.Inbox.HandleInboxBatch(ctx, peer, msgs)
	if len(res) != len(msgs) {
		t.Fatalf("%d results", len(res))
	}
	for i, r := range res {
		want := federation.InboxAccepted
		if bad[i] {
			want = federation.InboxRefused
		}
		if r.ID != msgs[i].ID || r.Status != want {
			t.Fatalf("result %d = %+v, want %s", i, r, want)
		}
		if i != 2 && nodetest.Held(fra.N, ids[i]) == bad[i] {
			t.Fatalf("object %d held = %t", i, nodetest.Held(fra.N, ids[i]))
		}
	}
	evs := nodetest.AuditLog(t, fra.N.Store())[before:]
	var received, refused []string
	for _, e := range evs {
		if e.Actor != "peer:gbr" {
			continue // fra's own outbox (its release of ids[2] refused by gbr)
		}
		switch e.Action {
		case audit.ActionFederationReceive:
			received = append(received, e.Object)
		case audit.ActionFederationRefuse:
			refused = append(refused, e.Object)
		}
	}
	// Refusals on checking come first, then the one on storing.
	var wantReceived, wantRefused []string
	for i, id := range ids {
		switch {
		case !bad[i]:
			wantReceived = append(wantReceived, id)
		case i == 6:
			wantRefused = append(wantRefused, "")
		case i != 2:
			wantRefused = append(wantRefused, id)
		}
	}
	wantRefused = append(wantRefused, ids[2])
	if vs, err := fra.N.Store().Versions(ctx, ids[2]); err != nil || len(vs) != 0 {
		t.Fatalf("purged at fra, ids[2] has versions: %v %v", vs, err)
	}
	if fmt.Sprint(received) != fmt.Sprint(wantReceived) || fmt.Sprint(refused) != fmt.Sprint(wantRefused) {
		t.Fatalf("audit: received %v refused %v; want %v and %v", received, refused, wantReceived, wantRefused)
	}
	// A resend stores nothing new.
	res = fra.N.Inbox.HandleInboxBatch(ctx, peer, msgs)
	for i, r := range res {
		if bad[i] {
			continue
		}
		out, _ := json.Marshal(r.Result)
		if r.Status != federation.InboxAccepted || !bytes.Contains(out, []byte(`"status":"exists"`)) {
			t.Fatalf("resend %d = %+v %s", i, r, out)
		}
	}
}
