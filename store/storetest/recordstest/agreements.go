package recordstest

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/store/storetest/internal/suite"
)

// agreementTests cover agreements, provenance, consents, the release queue
// and the dissemination ledger.
var agreementTests = []suite.Test{
	{Name: "Agreements", Fn: testAgreements},
	{Name: "Provenance", Fn: testProvenance},
	{Name: "Consents", Fn: testConsents},
	{Name: "ReleaseRequests", Fn: testReleaseRequests},
	{Name: "Ledger", Fn: testLedger},
}

func testAgreements(t *testing.T, s store.Store) {
	ctx := t.Context()
	if _, err := s.Agreement(ctx, "a", 1); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Agreement of nothing: %v, want ErrNotFound", err)
	}
	a1 := store.Agreement{ID: "gbr-usa", Version: 1, State: "draft", Since: suite.At(1), Document: []byte(`{"id":"gbr-usa"}`), Updated: suite.At(1)}
	a2 := store.Agreement{ID: "gbr-usa", Version: 2, State: "draft", Since: suite.At(2), Document: []byte(`{"id":"gbr-usa","version":2}`), Updated: suite.At(2)}
	suite.Update(t, s, func(tx store.Tx) error {
		return errors.Join(tx.PutAgreement(ctx, a2), tx.PutAgreement(ctx, a1),
			tx.AppendAgreementTransition(ctx, store.AgreementTransition{ID: "gbr-usa", Version: 1, From: "draft", To: "proposed", At: suite.At(3), By: "user:a", Note: "n"}),
			tx.AppendAgreementTransition(ctx, store.AgreementTransition{ID: "gbr-usa", Version: 1, From: "proposed", To: "active", At: suite.At(4), By: "user:b"}))
	})
	a1.State, a1.Since, a1.Updated = "active", suite.At(4), suite.At(4)
	suite.Update(t, s, func(tx store.Tx) error { return tx.PutAgreement(ctx, a1) })
	got, err := s.Agreement(ctx, "gbr-usa", 1)
	if err != nil || !reflect.DeepEqual(got, a1) {
		t.Fatalf("Agreement = %+v, %v; want %+v", got, err, a1)
	}
	all, err := s.Agreements(ctx)
	if err != nil || len(all) != 2 || all[0].Version != 1 || all[1].Version != 2 {
		t.Fatalf("Agreements = %+v, %v", all, err)
	}
	h, err := s.AgreementHistory(ctx, "gbr-usa")
	if err != nil || len(h) != 2 || h[0].To != "proposed" || h[1].To != "active" || h[0].Note != "n" || !h[1].At.Equal(suite.At(4)) || h[1].By != "user:b" {
		t.Fatalf("AgreementHistory = %+v, %v", h, err)
	}
}

func testProvenance(t *testing.T, s store.Store) {
	ctx := t.Context()
	id := suite.ObjectID("indicator", 1)
	if _, err := s.Provenance(ctx, id); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Provenance of nothing: %v", err)
	}
	p := store.Provenance{ObjectID: id, Originator: "fra", ReceivedFrom: "usa", ReceivedAt: suite.At(5),
		Hops: []store.Hop{{Agreement: "fra-usa", Version: 1, From: "fra", To: "usa"}, {Agreement: "gbr-usa", Version: 2, From: "usa", To: "gbr"}}}
	suite.Update(t, s, func(tx store.Tx) error { return tx.PutProvenance(ctx, p) })
	got, err := s.Provenance(ctx, id)
	if err != nil || !reflect.DeepEqual(got, p) {
		t.Fatalf("Provenance = %+v, %v; want %+v", got, err, p)
	}
	err = s.Update(ctx, func(tx store.Tx) error { return tx.PutProvenance(ctx, p) })
	if !errors.Is(err, store.ErrExists) {
		t.Fatalf("second PutProvenance: %v, want ErrExists", err)
	}
	local := store.Provenance{ObjectID: suite.ObjectID("indicator", 2), Originator: "gbr", DerivedFrom: id + "@x", ReceivedAt: suite.At(6)}
	suite.Update(t, s, func(tx store.Tx) error { return tx.PutProvenance(ctx, local) })
	got, err = s.Provenance(ctx, local.ObjectID)
	if err != nil || got.DerivedFrom != local.DerivedFrom || len(got.Hops) != 0 {
		t.Fatalf("Provenance = %+v, %v", got, err)
	}
}

func testConsents(t *testing.T, s store.Store) {
	ctx := t.Context()
	id := suite.ObjectID("report", 1)
	c1 := store.Consent{ObjectID: id, Originator: "fra", To: "usa", By: "user:a", At: suite.At(1)}
	c2 := store.Consent{ObjectID: id, Originator: "fra", To: "deu", By: "user:b", At: suite.At(2)}
	suite.Update(t, s, func(tx store.Tx) error { return errors.Join(tx.PutConsent(ctx, c1), tx.PutConsent(ctx, c2)) })
	got, err := s.Consents(ctx, id)
	if err != nil || !reflect.DeepEqual(got, []store.Consent{c1, c2}) {
		t.Fatalf("Consents = %+v, %v", got, err)
	}
	if got, err := s.Consents(ctx, suite.ObjectID("report", 2)); err != nil || len(got) != 0 {
		t.Fatalf("Consents of another = %+v, %v", got, err)
	}
}

func testReleaseRequests(t *testing.T, s store.Store) {
	ctx := t.Context()
	q := store.ReleaseRequest{ID: "req-1", ObjectID: suite.ObjectID("indicator", 1), Modified: "m", Party: "usa", Agreement: "gbr-usa",
		AgreementVersion: 2, Purpose: "analysis", Requester: "user:ann", Decision: []byte(`{"outcome":"hold"}`), Required: 2,
		State: store.RequestPending, Created: suite.At(1), Updated: suite.At(1)}
	q2 := q
	q2.ID, q2.Created, q2.Updated = "req-2", suite.At(2), suite.At(2)
	suite.Update(t, s, func(tx store.Tx) error {
		return errors.Join(tx.PutReleaseRequest(ctx, q), tx.PutReleaseRequest(ctx, q2))
	})
	if err := s.Update(ctx, func(tx store.Tx) error { return tx.PutReleaseRequest(ctx, q) }); !errors.Is(err, store.ErrExists) {
		t.Fatalf("duplicate PutReleaseRequest: %v", err)
	}
	q.Approvals = []store.Approval{{By: "user:bob", At: suite.At(3)}}
	q.State, q.Reason, q.Updated = store.RequestApproved, "ok", suite.At(3)
	suite.Update(t, s, func(tx store.Tx) error { return tx.UpdateReleaseRequest(ctx, q) })
	got, err := s.ReleaseRequest(ctx, "req-1")
	q.Approvals[0].At = q.Approvals[0].At.UTC()
	if err != nil || !reflect.DeepEqual(got, q) {
		t.Fatalf("ReleaseRequest = %+v, %v; want %+v", got, err, q)
	}
	pending, err := s.ReleaseRequests(ctx, store.RequestPending)
	if err != nil || len(pending) != 1 || pending[0].ID != "req-2" || len(pending[0].Approvals) != 0 {
		t.Fatalf("pending = %+v, %v", pending, err)
	}
	all, err := s.ReleaseRequests(ctx, "")
	if err != nil || len(all) != 2 || all[0].ID != "req-1" {
		t.Fatalf("all = %+v, %v", all, err)
	}
	if _, err := s.ReleaseRequest(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("ReleaseRequest(nope): %v", err)
	}
	err = s.Update(ctx, func(tx store.Tx) error { return tx.UpdateReleaseRequest(ctx, store.ReleaseRequest{ID: "nope"}) })
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("UpdateReleaseRequest(nope): %v", err)
	}
}

func testLedger(t *testing.T, s store.Store) {
	ctx := t.Context()
	a, b := suite.ObjectID("indicator", 1), suite.ObjectID("indicator", 2)
	entries := []store.LedgerEntry{
		{ObjectID: a, Modified: "m1", Party: "usa", Agreement: "gbr-usa", AgreementVersion: 1, Term: 0, Outcome: store.LedgerRelease, Labels: []string{"l1"}, State: store.LedgerReady, By: "user:x", At: suite.At(1)},
		{ObjectID: a, Modified: "m1", Party: "fra", Agreement: "gbr-fra", AgreementVersion: 3, Term: -1, Outcome: store.LedgerRefuse, Reasons: []string{"tlp", "orcon"}, By: "user:x", At: suite.At(2)},
		{ObjectID: b, Modified: "m2", Party: "usa", Agreement: "gbr-usa", AgreementVersion: 1, Term: 0, Outcome: store.LedgerTearline, TearlineID: suite.ObjectID("indicator", 3), Request: "req-1", By: "user:y", At: suite.At(3)},
	}
	var seqs []int64
	suite.Update(t, s, func(tx store.Tx) error {
		for _, e := range entries {
			n, err := tx.AppendLedger(ctx, e)
			if err != nil {
				return err
			}
			seqs = append(seqs, n)
		}
		return nil
	})
	if seqs[0] >= seqs[1] || seqs[1] >= seqs[2] {
		t.Fatalf("ledger seqs %v not increasing", seqs)
	}
	check := func(q store.LedgerQuery, want ...int) {
		t.Helper()
		got, err := s.Ledger(context.Background(), q)
		if err != nil {
			t.Fatalf("Ledger(%+v): %v", q, err)
		}
		if len(got) != len(want) {
			t.Fatalf("Ledger(%+v) = %d entries, want %d", q, len(got), len(want))
		}
		for i, w := range want {
			e := entries[w]
			e.Seq = seqs[w]
			if e.Labels == nil {
				e.Labels = []string{}
			}
			if e.Reasons == nil {
				e.Reasons = []string{}
			}
			if !reflect.DeepEqual(got[i], e) {
				t.Fatalf("Ledger(%+v)[%d] = %+v, want %+v", q, i, got[i], e)
			}
		}
	}
	check(store.LedgerQuery{ObjectID: a}, 0, 1)
	check(store.LedgerQuery{Agreement: "gbr-usa"}, 0, 2)
	check(store.LedgerQuery{Agreement: "gbr-usa", From: suite.At(2), To: suite.At(3)})
	check(store.LedgerQuery{Agreement: "gbr-usa", From: suite.At(1), To: suite.At(2)}, 0)
	check(store.LedgerQuery{}, 0, 1, 2)
	check(store.LedgerQuery{Party: "usa"}, 0, 2)
	check(store.LedgerQuery{Party: "usa", ObjectID: a}, 0)
	check(store.LedgerQuery{Party: "fra", From: suite.At(2)}, 1)
	check(store.LedgerQuery{Party: "gbr"})
	check(store.LedgerQuery{Limit: 2}, 0, 1)
}
