package storetest

import (
	"errors"
	"slices"
	"testing"

	"github.com/tearline/tearline/store"
)

// Instances (store.ObjectVersion.Instance): an object's key is (id,
// instance, modified), and each rule of PutObject applies within one
// instance. The stories are a low submitter's against a high object.

var instanceTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"InstancesKeepApart", testInstancesKeepApart},
	{"InstancesList", testInstancesList},
}

// A version of instance 1 with the (id, modified) of instance 0 and other
// content is stored, not a conflict; a newer one does not supersede
// instance 0, and one after instance 0's revocation is not refused.
func testInstancesKeepApart(t *testing.T, s store.Store) {
	ctx := t.Context()
	high, low := class(t, s, "label-high"), class(t, s, "label-low")
	id := objectID("indicator", 1)
	h := version(id, "indicator", 0, high, false, "high")
	mustPut(t, s, &h)
	same := version(id, "indicator", 0, low, false, "low, same modified")
	same.Instance = 1
	mustPut(t, s, &same)
	newer := version(id, "indicator", 10, low, false, "low, newer")
	newer.Instance = 1
	mustPut(t, s, &newer)
	resend := version(id, "indicator", 0, low, false, "low, same modified")
	resend.Instance = 1
	if ins, err := put(t, s, &resend); ins || err != nil {
		t.Errorf("resend into instance 1 = %v, %v; want false, nil", ins, err)
	}
	clash := version(id, "indicator", 10, low, false, "low, other content")
	clash.Instance = 1
	if _, err := put(t, s, &clash); !errors.Is(err, store.ErrConflict) {
		t.Errorf("conflict within instance 1 = %v, want ErrConflict", err)
	}

	got, err := s.Versions(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	var inst []int64
	for _, v := range got {
		inst = append(inst, v.Instance)
	}
	slices.Sort(inst)
	if !slices.Equal(inst, []int64{0, 1, 1}) {
		t.Fatalf("Versions: instances %v, want [0 1 1]", inst)
	}
	for _, v := range got {
		if v.Instance == 0 {
			if d := sameVersion(v, h); d != "" {
				t.Errorf("instance 0 changed: %s", d)
			}
		}
	}
	vo, err := s.VersionsOf(ctx, []string{id})
	if err != nil || len(vo) != 3 {
		t.Fatalf("VersionsOf: %d versions, %v; want 3", len(vo), err)
	}

	// A revocation in instance 0 refuses later versions of instance 0 only.
	r := version(id, "indicator", 20, high, true, "high revoked")
	mustPut(t, s, &r)
	after := version(id, "indicator", 30, low, false, "low after the high revocation")
	after.Instance = 1
	mustPut(t, s, &after)
	late := version(id, "indicator", 40, high, false, "high after its revocation")
	if _, err := put(t, s, &late); !errors.Is(err, store.ErrRevoked) {
		t.Errorf("instance 0 after its revocation = %v, want ErrRevoked", err)
	}
}

// A listing holds the latest version of each instance: a newer version of
// instance 1 hides neither instance 0 from its readers nor anything from
// a reader of instance 1 alone.
func testInstancesList(t *testing.T, s store.Store) {
	ctx := t.Context()
	high, low := class(t, s, "label-high"), class(t, s, "label-low")
	id := objectID("indicator", 1)
	h := version(id, "indicator", 0, high, false, "high")
	mustPut(t, s, &h)
	l1 := version(id, "indicator", 10, low, false, "low 1")
	l1.Instance = 1
	mustPut(t, s, &l1)
	l2 := version(id, "indicator", 20, low, false, "low 2")
	l2.Instance = 1
	mustPut(t, s, &l2)

	seqs := func(classes ...int64) []int64 {
		var out []int64
		for _, v := range listAll(t, s, store.ListQuery{Classes: classes, Limit: 1}) {
			out = append(out, v.Seq)
		}
		return out
	}
	if got := seqs(high); !slices.Equal(got, []int64{h.Seq}) {
		t.Errorf("List at high alone = %v, want [%d] (the high object, not superseded)", got, h.Seq)
	}
	if got := seqs(low); !slices.Equal(got, []int64{l2.Seq}) {
		t.Errorf("List at low alone = %v, want [%d]", got, l2.Seq)
	}
	if got := seqs(high, low); !slices.Equal(got, []int64{h.Seq, l2.Seq}) {
		t.Errorf("List at both = %v, want [%d %d] (each instance's latest)", got, h.Seq, l2.Seq)
	}
	if n, err := s.Count(ctx, store.ListQuery{Classes: []int64{high, low}}); err != nil || n != 2 {
		t.Errorf("Count at both = %d, %v; want 2", n, err)
	}
}
