package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tearline/tearline/api"
	"github.com/tearline/tearline/datadir"
	"github.com/tearline/tearline/federation"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/users"
	"github.com/tearline/tearline/store"
)

// reportCopy is the scenario report under another id: one more object gbr
// releases whole to usa.
func reportCopy(n int) Labelled {
	o := ScenarioReport()
	o.Object = maps.Clone(o.Object)
	o.Object["id"] = fmt.Sprintf("threat-actor--6b3c1f0e-2a4d-4b8e-9c51-%012d", n)
	return o
}

// releaseToUSA publishes o at gbr and releases it to usa, returning the
// object's id and the ledger entry's seq.
func releaseToUSA(t *testing.T, gbr *Member, o Labelled) (string, int64) {
	t.Helper()
	ctx := context.Background()
	id, err := Publish(ctx, gbr, o)
	if err != nil {
		t.Fatal(err)
	}
	res, err := gbr.Node.Releases.Release(ctx, gbr.Analyst, id, "usa", "analysis")
	if err != nil || res.Outcome != "release" {
		t.Fatalf("release to usa: %+v %v", res, err)
	}
	if res.Delivery != store.DeliveryQueued {
		t.Fatalf("release result delivery = %q, want queued", res.Delivery)
	}
	// The sequence number is the ledger's (an analyst's answer has none).
	led, err := gbr.Node.Store().Ledger(ctx, store.LedgerQuery{ObjectID: id})
	if err != nil || len(led) != 1 || led[0].Party != "usa" {
		t.Fatalf("ledger of %s: %+v %v", id, led, err)
	}
	return id, led[0].Seq
}

// deliveryOf is the state of ledger entry seq's delivery at m, as the store
// holds it (polled without auditing a ledger read each time).
func deliveryOf(t *testing.T, m *Member, seq int64) store.OutboxItem {
	t.Helper()
	its, err := m.Node.Store().OutboxOfLedger(context.Background(), []int64{seq})
	if err != nil {
		t.Fatal(err)
	}
	it, ok := its[seq]
	if !ok {
		t.Fatalf("ledger entry %d has no outbox item", seq)
	}
	return it
}

// setKeyring rewrites m's keyring.yaml with entries changed by edit.
func setKeyring(t *testing.T, m *Member, edit func([]datadir.KeyringEntry) []datadir.KeyringEntry) []datadir.KeyringEntry {
	t.Helper()
	es, err := datadir.ReadKeyringEntries(m.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := datadir.WriteKeyringEntries(m.Dir, edit(append([]datadir.KeyringEntry(nil), es...))); err != nil {
		t.Fatal(err)
	}
	return es
}

func without(node string) func([]datadir.KeyringEntry) []datadir.KeyringEntry {
	return func(es []datadir.KeyringEntry) []datadir.KeyringEntry {
		var out []datadir.KeyringEntry
		for _, e := range es {
			if e.Node != node {
				out = append(out, e)
			}
		}
		return out
	}
}

// The receiver does not hold the sender's key yet ("unknown key", as right
// after a peer add): the delivery is retrying, not lost and not shown as
// delivered; once the key is added it lands.
func TestDeliveryTransientRefusalRetried(t *testing.T) {
	eachBackend(t, testDeliveryTransientRefusalRetried)
}

func testDeliveryTransientRefusalRetried(t *testing.T, b backend) {
	c := newScenario(t, b, "gbr", "usa")
	gbr, usa := c.Member("gbr"), c.Member("usa")
	saved := setKeyring(t, usa, without("gbr"))

	id, seq := releaseToUSA(t, gbr, ScenarioReport())
	waitFor(t, "a retry after unknown-key", func() bool {
		it := deliveryOf(t, gbr, seq)
		return it.State() == store.DeliveryRetrying && it.Attempts >= 2
	})
	it := deliveryOf(t, gbr, seq)
	if it.Reason != string(federation.ReasonUnknownKey) || !strings.Contains(it.LastError, "unknown key") || it.NextAttempt.IsZero() {
		t.Fatalf("retrying delivery: %+v", it)
	}
	if len(versions(t, usa, id)) != 0 {
		t.Fatal("usa holds an object it could not verify")
	}

	// The key arrives: the next retry lands.
	if err := datadir.WriteKeyringEntries(usa.Dir, saved); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "usa to receive the report", func() bool { return len(versions(t, usa, id)) == 1 })
	waitFor(t, "the delivery to show delivered", func() bool { return deliveryOf(t, gbr, seq).State() == store.DeliveryDelivered })
}

// A permanent refusal (the receiver revoked the sender's key) fails the
// delivery at once with its reason; a later message to the same partner
// still lands; a releaser retries the failed one and it lands too. The
// ledger API shows each state; the retry route answers a caller who may
// not read the object as for an entry that does not exist.
func TestDeliveryPermanentRefusalAndRetry(t *testing.T) {
	eachBackend(t, testDeliveryPermanentRefusalAndRetry)
}

func testDeliveryPermanentRefusalAndRetry(t *testing.T, b backend) {
	ctx := context.Background()
	c := newScenario(t, b, "gbr", "usa")
	gbr, usa := c.Member("gbr"), c.Member("usa")
	saved := setKeyring(t, usa, func(es []datadir.KeyringEntry) []datadir.KeyringEntry {
		for i := range es {
			if es[i].Node == "gbr" {
				es[i].RevokedAt = time.Now().Add(-time.Minute).UTC().Truncate(time.Second)
			}
		}
		return es
	})

	first, seq1 := releaseToUSA(t, gbr, reportCopy(1))
	waitFor(t, "the first delivery to fail", func() bool { return deliveryOf(t, gbr, seq1).State() == store.DeliveryFailed })
	it := deliveryOf(t, gbr, seq1)
	if it.Reason != string(federation.ReasonRevokedKey) || !strings.Contains(it.LastError, "refused by usa") || !it.Delivered.IsZero() {
		t.Fatalf("failed delivery: %+v", it)
	}
	if len(versions(t, usa, first)) != 0 {
		t.Fatal("usa holds an object signed with a revoked key")
	}

	// The key is restored (the revocation was a mistake); a later object
	// to usa is not held up by the failed one.
	if err := datadir.WriteKeyringEntries(usa.Dir, saved); err != nil {
		t.Fatal(err)
	}
	second, seq2 := releaseToUSA(t, gbr, reportCopy(2))
	waitFor(t, "usa to receive the second object", func() bool { return len(versions(t, usa, second)) == 1 })
	waitFor(t, "the second delivery to show delivered", func() bool { return deliveryOf(t, gbr, seq2).State() == store.DeliveryDelivered })
	if st := deliveryOf(t, gbr, seq1).State(); st != store.DeliveryFailed {
		t.Fatalf("first delivery after the second landed: %s, want still failed", st)
	}

	// The ledger API shows both, with the new delivery fields.
	tc, err := api.ClientTLS(filepath.Join(gbr.Dir, "tls", "cert.pem"), false)
	if err != nil {
		t.Fatal(err)
	}
	admin := api.NewClient(gbr.URL, gbr.AdminToken, tc)
	ledger := func(id string) map[string]any {
		t.Helper()
		body, err := admin.GetRaw(ctx, "/api/v1/ledger?object="+id)
		if err != nil {
			t.Fatal(err)
		}
		var out struct {
			Entries []map[string]any `json:"entries"`
		}
		if err := json.Unmarshal(body, &out); err != nil || len(out.Entries) != 1 {
			t.Fatalf("ledger of %s: %v %s", id, err, body)
		}
		return out.Entries[0]
	}
	e1 := ledger(first)
	d1, _ := e1["delivery"].(map[string]any)
	if e1["state"] != "ready" || d1["state"] != "failed" || d1["reason"] != "revoked-key" || d1["failed_at"] == nil || d1["last_error"] == "" {
		t.Fatalf("ledger entry of the failed delivery: %v", e1)
	}
	if d2, _ := ledger(second)["delivery"].(map[string]any); d2["state"] != "delivered" || d2["delivered_at"] == nil {
		t.Fatalf("ledger entry of the delivered one: %v", d2)
	}

	// Retry: not by an analyst; a releaser who may not read the object,
	// and a seq that does not exist, get the same 404; a delivery that did
	// not fail is 409.
	post := func(token string, seq int64) (int, string) {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, fmt.Sprintf("%s/api/v1/deliveries/%d/retry", gbr.URL, seq), nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := admin.HTTP.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body struct {
			Error string `json:"error"`
			State string `json:"state"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body.Error + body.State
	}
	_, lowTok, err := gbr.Node.Users.AddUser(ctx, gbr.Admin, users.UserSpec{Name: "lowrel", Role: node.RoleReleaser, Nationality: "GBR",
		Clearances: map[string]string{"NATO": "UNCLASSIFIED"}})
	if err != nil {
		t.Fatal(err)
	}
	codeHidden, msgHidden := post(lowTok, seq1)
	codeMissing, msgMissing := post(lowTok, seq2+1000)
	if codeHidden != http.StatusNotFound || codeHidden != codeMissing || msgHidden != msgMissing {
		t.Fatalf("retry by a releaser who may not read: %d %q; of no entry: %d %q; want the same 404", codeHidden, msgHidden, codeMissing, msgMissing)
	}
	if code, _ := post(gbr.AnalystToken, seq1); code != http.StatusForbidden {
		t.Fatalf("retry by an analyst: %d, want 403", code)
	}
	if code, _ := post(gbr.AdminToken, seq2); code != http.StatusConflict {
		t.Fatalf("retry of a delivered one: %d, want 409", code)
	}
	if st := deliveryOf(t, gbr, seq1).State(); st != store.DeliveryFailed {
		t.Fatalf("refused retries changed the delivery: %s", st)
	}
	// As a releaser through node (what `tearline release retry` calls).
	d, err := gbr.Node.Deliveries.RetryDelivery(ctx, gbr.Releaser1, seq1)
	if err != nil || d.State != store.DeliveryQueued {
		t.Fatalf("retry: %+v %v", d, err)
	}
	waitFor(t, "usa to receive the first object after the retry", func() bool { return len(versions(t, usa, first)) == 1 })
	waitFor(t, "the retried delivery to show delivered", func() bool { return deliveryOf(t, gbr, seq1).State() == store.DeliveryDelivered })
	if _, err := gbr.Node.Deliveries.RetryDelivery(ctx, gbr.Releaser1, seq1); !errors.Is(err, node.ErrNotFailed) {
		t.Fatalf("retry of a delivered one = %v, want ErrNotFailed", err)
	}
}
