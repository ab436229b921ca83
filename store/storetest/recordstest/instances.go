package recordstest

import (
	"errors"
	"reflect"
	"testing"

	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/store/storetest/internal/suite"
)

// instanceTests cover what names an instance outside the objects table:
// the ledger's and release requests' instance, and instance origins
// (store/instances.go).
var instanceTests = []suite.Test{
	{Name: "LedgerAndRequestsKeepInstances", Fn: testLedgerInstances},
	{Name: "InstanceOrigins", Fn: testInstanceOrigins},
}

// testLedgerInstances: two entries and two requests sharing id and
// modified, of two instances, read back apart.
func testLedgerInstances(t *testing.T, s store.Store) {
	ctx := t.Context()
	id := suite.ObjectID("indicator", 41)
	var seqs [2]int64
	suite.Update(t, s, func(tx store.Tx) error {
		var errs []error
		for i := range 2 {
			var err error
			seqs[i], err = tx.AppendLedger(ctx, store.LedgerEntry{ObjectID: id, Modified: "2026-01-01T00:00:00.000Z", Instance: int64(i * 3), Party: "usa",
				Agreement: "a", AgreementVersion: 1, Outcome: store.LedgerRelease, State: store.LedgerReady, By: "user:r", At: suite.At(i)})
			errs = append(errs, err,
				tx.PutReleaseRequest(ctx, store.ReleaseRequest{ID: "release--" + string(rune('a'+i)), ObjectID: id, Modified: "2026-01-01T00:00:00.000Z",
					Instance: int64(i * 3), Party: "usa", Agreement: "a", AgreementVersion: 1, Requester: "user:r", Required: 1,
					State: store.RequestPending, Created: suite.At(i), Updated: suite.At(i)}))
		}
		return errors.Join(errs...)
	})
	entries, err := s.Ledger(ctx, store.LedgerQuery{ObjectID: id})
	if err != nil || len(entries) != 2 || entries[0].Seq != seqs[0] || entries[0].Instance != 0 || entries[1].Instance != 3 {
		t.Fatalf("Ledger = %+v, %v; want instances 0 and 3", entries, err)
	}
	for i, want := range []int64{0, 3} {
		q, err := s.ReleaseRequest(ctx, "release--"+string(rune('a'+i)))
		if err != nil || q.Instance != want {
			t.Fatalf("ReleaseRequest %d = %+v, %v; want instance %d", i, q, err, want)
		}
	}
	qs, err := s.ReleaseRequests(ctx, "")
	if err != nil || len(qs) < 2 {
		t.Fatalf("ReleaseRequests = %+v, %v", qs, err)
	}
	for _, q := range qs {
		if q.ObjectID == id && q.Instance != map[string]int64{"release--a": 0, "release--b": 3}[q.ID] {
			t.Fatalf("ReleaseRequests: %s has instance %d", q.ID, q.Instance)
		}
	}
}

func testInstanceOrigins(t *testing.T, s store.Store) {
	ctx := t.Context()
	a, b := suite.ObjectID("indicator", 42), suite.ObjectID("indicator", 43)
	if got, err := s.InstanceOrigins(ctx, []string{a}); err != nil || len(got) != 0 {
		t.Fatalf("InstanceOrigins of nothing = %+v, %v", got, err)
	}
	o1 := store.InstanceOrigin{ObjectID: a, Instance: 1, Originator: "fra", OriginInstance: 0}
	o2 := store.InstanceOrigin{ObjectID: a, Instance: 0, Originator: "fra", OriginInstance: 5}
	o3 := store.InstanceOrigin{ObjectID: b, Instance: 0, Originator: "deu", OriginInstance: 2}
	suite.Update(t, s, func(tx store.Tx) error {
		return errors.Join(tx.PutInstanceOrigin(ctx, o1), tx.PutInstanceOrigin(ctx, o2), tx.PutInstanceOrigin(ctx, o3))
	})
	// An instance's origin never changes: a second record is ignored.
	suite.Update(t, s, func(tx store.Tx) error {
		return tx.PutInstanceOrigin(ctx, store.InstanceOrigin{ObjectID: a, Instance: 1, Originator: "fra", OriginInstance: 9})
	})
	got, err := s.InstanceOrigins(ctx, []string{b, a, a})
	want := []store.InstanceOrigin{o2, o1, o3}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("InstanceOrigins = %+v, %v; want %+v", got, err, want)
	}
}
