package recordstest

import (
	"errors"
	"reflect"
	"testing"

	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/store/storetest/internal/suite"
)

// recallTests cover recalls and their acknowledgements.
var recallTests = []suite.Test{
	{Name: "Recalls", Fn: testRecalls},
}

func testRecalls(t *testing.T, s store.Store) {
	ctx := t.Context()
	obj := suite.ObjectID("indicator", 1)
	if got, err := s.Recalls(ctx, store.RecallQuery{ObjectID: obj}); err != nil || len(got) != 0 {
		t.Fatalf("Recalls of nothing = %v, %v", got, err)
	}
	usa := store.Recall{ID: "recall--1", Party: "usa", ObjectID: obj, Originator: "gbr", Objects: []string{obj},
		Reason: "wrong", Notice: []byte(`{"n":1}`), State: store.RecallPending, Issued: suite.At(1), By: "user:a"}
	fra := usa
	fra.Party, fra.Objects, fra.Notice = "fra", []string{suite.ObjectID("indicator", 2)}, []byte(`{"n":2}`)
	other := store.Recall{ID: "recall--2", Party: "gbr", ObjectID: suite.ObjectID("report", 3), Originator: "gbr", Inbound: true,
		Objects: []string{suite.ObjectID("report", 3)}, Reason: "r", Notice: []byte(`{}`), State: store.RecallAcknowledged,
		Issued: suite.At(2), AckedAt: suite.At(3), Ack: []byte(`{"ack":1}`)}
	suite.Update(t, s, func(tx store.Tx) error {
		return errors.Join(tx.PutRecall(ctx, usa), tx.PutRecall(ctx, fra), tx.PutRecall(ctx, other))
	})
	if err := s.Update(ctx, func(tx store.Tx) error { return tx.PutRecall(ctx, usa) }); !errors.Is(err, store.ErrExists) {
		t.Fatalf("second PutRecall: %v, want ErrExists", err)
	}
	got, err := s.Recalls(ctx, store.RecallQuery{ID: "recall--1"})
	if err != nil || len(got) != 2 || !reflect.DeepEqual(got[0], fra) || !reflect.DeepEqual(got[1], usa) {
		t.Fatalf("Recalls(id) = %+v, %v; want %+v then %+v", got, err, fra, usa)
	}
	got, err = s.Recalls(ctx, store.RecallQuery{ObjectID: other.ObjectID})
	if err != nil || len(got) != 1 || !reflect.DeepEqual(got[0], other) {
		t.Fatalf("Recalls(object) = %+v, %v; want %+v", got, err, other)
	}

	suite.Update(t, s, func(tx store.Tx) error {
		return tx.AckRecall(ctx, "recall--1", "usa", suite.At(9), []byte(`{"ack":"usa"}`))
	})
	// A second acknowledgement keeps the first.
	suite.Update(t, s, func(tx store.Tx) error {
		return tx.AckRecall(ctx, "recall--1", "usa", suite.At(10), []byte(`{"ack":"again"}`))
	})
	if err := s.Update(ctx, func(tx store.Tx) error { return tx.AckRecall(ctx, "recall--1", "deu", suite.At(9), nil) }); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("AckRecall of an unknown party: %v, want ErrNotFound", err)
	}
	got, err = s.Recalls(ctx, store.RecallQuery{ID: "recall--1"})
	if err != nil || len(got) != 2 {
		t.Fatalf("Recalls = %+v, %v", got, err)
	}
	if g := got[1]; g.State != store.RecallAcknowledged || !g.AckedAt.Equal(suite.At(9)) || string(g.Ack) != `{"ack":"usa"}` {
		t.Errorf("acknowledged row = %+v", g)
	}
	if g := got[0]; g.State != store.RecallPending || !g.AckedAt.IsZero() || g.Ack != nil {
		t.Errorf("pending row = %+v", g)
	}
}
