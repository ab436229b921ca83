package delivery_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/tearline/tearline/federation"
	"github.com/tearline/tearline/node/delivery"
	"github.com/tearline/tearline/node/nodetest"
	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/trust"
)

// slowLink delays every POST to the partner, as a slow network does, and
// holds the first until gate is closed.
type slowLink struct {
	next    http.RoundTripper
	delay   time.Duration
	once    sync.Once
	reached chan struct{} // closed when the first POST reaches the gate
	gate    chan struct{}
}

func (l *slowLink) RoundTrip(r *http.Request) (*http.Response, error) {
	first := false
	l.once.Do(func() { first = true })
	if first {
		close(l.reached)
		<-l.gate
	}
	time.Sleep(l.delay)
	return l.next.RoundTrip(r)
}

// TestLeaseLostIsRetried: a claim of several messages to a slow partner
// starts a POST only while the claim outlasts it; the messages the claim
// can no longer cover go back as lost to the lease (transient, retried),
// instead of being sent while another replica may claim them too, and
// every one of them still lands.
func TestLeaseLostIsRetried(t *testing.T) {
	ctx := context.Background()
	dirs := map[string]string{} // peer name -> the dir of the node that sends to it
	var mu sync.Mutex
	gbrLink := &slowLink{delay: 700 * time.Millisecond, reached: make(chan struct{}), gate: make(chan struct{})}
	o := delivery.OutboxOptions{Batch: 1, Timeout: time.Second, Lease: 2 * time.Second, BaseBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond,
		Client: func(peer string) (*http.Client, error) {
			mu.Lock()
			dir := dirs[peer]
			mu.Unlock()
			cl, err := trust.FederationClient(dir, peer)
			if err != nil || peer != "fra" {
				return cl, err
			}
			gbrLink.next = cl.Transport
			return &http.Client{Transport: gbrLink, Timeout: cl.Timeout}, nil
		}}
	gbr, fra := nodetest.NewFedPairWith(t, o, "analysis")
	mu.Lock()
	dirs["fra"], dirs["gbr"] = gbr.Dir, fra.Dir
	mu.Unlock()

	// The first release is claimed alone and held at the gate; the others
	// queue behind it and are claimed together (Batch 1: four to a claim),
	// one POST each, 700 ms apart, while the claim (2 s) still outlasts a
	// POST (1 s timeout): two POSTs, not the rest.
	var ids []string
	for i := range 6 {
		id := gbr.IngestAs(t, nodetest.Actor(nodetest.NewID("threat-actor"), nil), nodetest.OKBanner)
		nodetest.MustRelease(t, gbr.N, gbr.Admin, id, "fra")
		ids = append(ids, id)
		if i == 0 {
			<-gbrLink.reached // claimed alone, its POST held
		}
	}
	close(gbrLink.gate)
	for _, id := range ids {
		nodetest.Eventually(t, "fra to hold "+id, func() bool { return nodetest.Held(fra.N, id) })
	}
	var its []store.OutboxItem
	nodetest.Eventually(t, "every delivery to be recorded", func() bool {
		var err error
		its, err = gbr.N.Store().OutboxItems(ctx, "fra", 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range its {
			if it.State() != store.DeliveryDelivered {
				return false
			}
		}
		return true
	})
	lost := 0
	for _, it := range its {
		if it.Reason == string(federation.ReasonLeaseLost) {
			lost++
		}
	}
	if lost == 0 {
		t.Fatalf("no delivery of %d went back as lost to the lease", len(its))
	}
}
