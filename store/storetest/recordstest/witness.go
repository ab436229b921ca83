package recordstest

import (
	"errors"
	"reflect"
	"testing"

	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/store/storetest/internal/suite"
)

// witnessTests cover the witnessing tables (store/witness.go).
var witnessTests = []suite.Test{
	{Name: "WitnessedLogs", Fn: testWitnessedLogs},
	{Name: "SplitViews", Fn: testSplitViews},
	{Name: "AuditCosignatures", Fn: testAuditCosignatures},
}

func testWitnessedLogs(t *testing.T, s store.Store) {
	ctx := t.Context()
	if _, err := s.WitnessedLog(ctx, "usa/audit"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("WitnessedLog of a log never cosigned: %v, want ErrNotFound", err)
	}
	a := store.WitnessedLog{Origin: "usa/audit", Size: 3, Root: []byte{1, 2}, Note: []byte("n3"), Updated: suite.At(1)}
	b := store.WitnessedLog{Origin: "fra/audit", Size: 1, Root: []byte{9}, Note: []byte("f1"), Updated: suite.At(2)}
	suite.Update(t, s, func(tx store.Tx) error { return errors.Join(tx.PutWitnessedLog(ctx, a), tx.PutWitnessedLog(ctx, b)) })
	a.Size, a.Root, a.Note, a.Updated = 7, []byte{3}, []byte("n7"), suite.At(3)
	suite.Update(t, s, func(tx store.Tx) error { return tx.PutWitnessedLog(ctx, a) })
	got, err := s.WitnessedLog(ctx, "usa/audit")
	if err != nil || !reflect.DeepEqual(got, a) {
		t.Fatalf("WitnessedLog = %+v, %v; want the replacement %+v", got, err, a)
	}
	all, err := s.WitnessedLogs(ctx)
	if err != nil || len(all) != 2 || all[0].Origin != "fra/audit" || all[1].Size != 7 {
		t.Fatalf("WitnessedLogs = %+v, %v", all, err)
	}

	r := store.WitnessRollback{Origin: "usa/audit", OldSize: 7, OldRoot: []byte{3}, NewSize: 4, NewRoot: []byte{4}, Statement: []byte("st"), At: suite.At(4)}
	var first, again bool
	suite.Update(t, s, func(tx store.Tx) error {
		var err1, err2 error
		first, err1 = tx.PutWitnessRollback(ctx, r)
		again, err2 = tx.PutWitnessRollback(ctx, r)
		return errors.Join(err1, err2)
	})
	if !first || again {
		t.Fatalf("PutWitnessRollback: first %v, again %v; want true, false", first, again)
	}
	rs, err := s.WitnessRollbacks(ctx, "usa/audit")
	if err != nil || len(rs) != 1 || !reflect.DeepEqual(rs[0], r) {
		t.Fatalf("WitnessRollbacks = %+v, %v; want [%+v]", rs, err, r)
	}
	if rs, err := s.WitnessRollbacks(ctx, "fra/audit"); err != nil || len(rs) != 0 {
		t.Fatalf("WitnessRollbacks of another log = %+v, %v", rs, err)
	}
}

func testSplitViews(t *testing.T, s store.Store) {
	ctx := t.Context()
	sv := store.SplitView{Origin: "usa/audit", Peer: "usa", Size: 5, Ours: []byte("a"), Theirs: []byte("b"),
		OursRoot: []byte{1}, TheirRoot: []byte{2}, Reporter: "fra", Detected: suite.At(1)}
	var first, again bool
	suite.Update(t, s, func(tx store.Tx) error {
		var err1, err2 error
		first, err1 = tx.PutSplitView(ctx, sv)
		again, err2 = tx.PutSplitView(ctx, sv)
		return errors.Join(err1, err2)
	})
	if !first || again {
		t.Fatalf("PutSplitView: first %v, again %v; want true, false (one fork, one alert)", first, again)
	}
	open, err := s.SplitViews(ctx, "usa/audit", true)
	if err != nil || len(open) != 1 || open[0].Peer != "usa" || !open[0].AckedAt.IsZero() || string(open[0].Theirs) != "b" {
		t.Fatalf("open SplitViews = %+v, %v", open, err)
	}
	var n int
	suite.Update(t, s, func(tx store.Tx) error {
		var err error
		n, err = tx.AckSplitViews(ctx, "usa/audit", "user:admin", suite.At(2))
		return err
	})
	if n != 1 {
		t.Fatalf("AckSplitViews = %d, want 1", n)
	}
	if open, err := s.SplitViews(ctx, "usa/audit", true); err != nil || len(open) != 0 {
		t.Fatalf("open SplitViews after ack = %+v, %v", open, err)
	}
	all, err := s.SplitViews(ctx, "", false)
	if err != nil || len(all) != 1 || !all[0].AckedAt.Equal(suite.At(2)) || all[0].AckedBy != "user:admin" {
		t.Fatalf("SplitViews after ack = %+v, %v", all, err)
	}
	// The same fork seen again after the acknowledgement raises nothing.
	suite.Update(t, s, func(tx store.Tx) error {
		var err error
		again, err = tx.PutSplitView(ctx, sv)
		return err
	})
	if again {
		t.Fatal("an acknowledged split view was recorded again")
	}
}

func testAuditCosignatures(t *testing.T, s store.Store) {
	ctx := t.Context()
	if _, err := s.LatestAuditCosignature(ctx, "fra"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("LatestAuditCosignature of none: %v, want ErrNotFound", err)
	}
	c3 := store.AuditCosignature{Size: 3, Witness: "fra", Line: []byte("— fra x\n"), Created: suite.At(1)}
	c5 := store.AuditCosignature{Size: 5, Witness: "fra", Line: []byte("— fra y\n"), Created: suite.At(2)}
	d5 := store.AuditCosignature{Size: 5, Witness: "deu", Line: []byte("— deu z\n"), Created: suite.At(3)}
	suite.Update(t, s, func(tx store.Tx) error {
		return errors.Join(tx.PutAuditCosignature(ctx, c3), tx.PutAuditCosignature(ctx, c5), tx.PutAuditCosignature(ctx, d5))
	})
	got, err := s.AuditCosignatures(ctx, 5)
	if err != nil || len(got) != 2 || !reflect.DeepEqual(got[0], d5) || !reflect.DeepEqual(got[1], c5) {
		t.Fatalf("AuditCosignatures(5) = %+v, %v", got, err)
	}
	if l, err := s.LatestAuditCosignature(ctx, "fra"); err != nil || l.Size != 5 {
		t.Fatalf("LatestAuditCosignature = %+v, %v", l, err)
	}
	r := store.AuditRollback{OldSize: 9, NewSize: 4, Statement: []byte("s"), Created: suite.At(4)}
	suite.Update(t, s, func(tx store.Tx) error { return errors.Join(tx.PutAuditRollback(ctx, r), tx.PutAuditRollback(ctx, r)) })
	rs, err := s.AuditRollbacks(ctx)
	if err != nil || len(rs) != 2 || rs[0].Seq >= rs[1].Seq || rs[0].OldSize != 9 || string(rs[1].Statement) != "s" {
		t.Fatalf("AuditRollbacks = %+v, %v", rs, err)
	}
}
