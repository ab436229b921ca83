package recordstest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/store/storetest/internal/suite"
)

var nodeKeyTests = []suite.Test{
	{Name: "NodeKeys", Fn: testNodeKeys},
	{Name: "NodeKeyFirstWins", Fn: testNodeKeyFirstWins},
}

// testNodeKeys: a key is absent until added, kept as given, listed, and
// rewrapped in place; a second add under the same name keeps the first.
func testNodeKeys(t *testing.T, s store.Store) {
	ctx := context.Background()
	if _, err := s.NodeKey(ctx, "cursor"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("NodeKey before any add: %v, want ErrNotFound", err)
	}
	first := store.NodeKey{Name: "cursor", Wrapped: []byte("wrapped-one"), Created: suite.At(1)}
	var got store.NodeKey
	err := s.Update(ctx, func(tx store.Tx) error {
		var err error
		got, err = tx.AddNodeKey(ctx, first)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != first.Name || !bytes.Equal(got.Wrapped, first.Wrapped) || !got.Created.Equal(first.Created) {
		t.Fatalf("AddNodeKey = %+v, want %+v", got, first)
	}
	err = s.Update(ctx, func(tx store.Tx) error {
		var err error
		got, err = tx.AddNodeKey(ctx, store.NodeKey{Name: "cursor", Wrapped: []byte("wrapped-two"), Created: suite.At(2)})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Wrapped, first.Wrapped) || !got.Created.Equal(first.Created) {
		t.Fatalf("second AddNodeKey returned %q, want the first key %q kept", got.Wrapped, first.Wrapped)
	}
	if err := s.Update(ctx, func(tx store.Tx) error {
		_, err := tx.AddNodeKey(ctx, store.NodeKey{Name: "access-mac", Wrapped: []byte("mac"), Created: suite.At(3)})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	all, err := s.NodeKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[0].Name != "access-mac" || all[1].Name != "cursor" {
		t.Fatalf("NodeKeys = %+v, want access-mac then cursor", all)
	}
	if err := s.Update(ctx, func(tx store.Tx) error { return tx.RewrapNodeKey(ctx, "cursor", []byte("rewrapped")) }); err != nil {
		t.Fatal(err)
	}
	if got, err = s.NodeKey(ctx, "cursor"); err != nil || string(got.Wrapped) != "rewrapped" || !got.Created.Equal(first.Created) {
		t.Fatalf("after rewrap: %+v, %v; want rewrapped, created kept", got, err)
	}
	err = s.Update(ctx, func(tx store.Tx) error { return tx.RewrapNodeKey(ctx, "none", []byte("x")) })
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("RewrapNodeKey of a missing key: %v, want ErrNotFound", err)
	}
	// A rewrap in a transaction that fails is not kept.
	boom := errors.New("boom")
	err = s.Update(ctx, func(tx store.Tx) error {
		if err := tx.RewrapNodeKey(ctx, "cursor", []byte("lost")); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if got, _ = s.NodeKey(ctx, "cursor"); string(got.Wrapped) != "rewrapped" {
		t.Fatalf("rolled-back rewrap kept: %q", got.Wrapped)
	}
}

// testNodeKeyFirstWins: writers that each make a key at once all end up
// with the same one, the one stored.
func testNodeKeyFirstWins(t *testing.T, s store.Store) {
	ctx := context.Background()
	const n = 8
	got := make([][]byte, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.Update(ctx, func(tx store.Tx) error {
				k, err := tx.AddNodeKey(ctx, store.NodeKey{Name: "cursor", Wrapped: fmt.Appendf(nil, "key-%d", i), Created: suite.At(i)})
				got[i] = k.Wrapped
				return err
			})
		}()
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("writer %d: %v", i, errs[i])
		}
	}
	stored, err := s.NodeKey(ctx, "cursor")
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if !bytes.Equal(got[i], stored.Wrapped) {
			t.Errorf("writer %d uses %q, the store holds %q", i, got[i], stored.Wrapped)
		}
	}
}
