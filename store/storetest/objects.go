package storetest

import (
	"errors"
	"slices"
	"testing"

	"github.com/tearline/tearline/store"
)

func testPutObject(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := class(t, s)
	id := objectID("indicator", 1)
	v1 := version(id, "indicator", 0, c, false, "v1")
	v2 := version(id, "indicator", 10, c, false, "v2")
	other := version(objectID("indicator", 2), "indicator", 0, c, false, "other")

	var last int64
	for _, v := range []*store.ObjectVersion{&v1, &v2, &other} {
		mustPut(t, s, v)
		if v.Seq <= last {
			t.Errorf("PutObject(%s @ %s): Seq = %d, want > %d", v.ID, v.Modified, v.Seq, last)
		}
		last = v.Seq
	}

	conflict := version(id, "indicator", 0, c, false, "v1 edited")
	tests := []struct {
		name    string
		v       store.ObjectVersion
		wantIns bool
		wantErr error
	}{
		{"resend", version(id, "indicator", 0, c, false, "v1"), false, nil},
		{"resend latest", version(id, "indicator", 10, c, false, "v2"), false, nil},
		{"same version other digest", conflict, false, store.ErrConflict},
		{"same version other digest, same raw", func() store.ObjectVersion {
			v := version(id, "indicator", 10, c, false, "v2")
			v.Digest = conflict.Digest
			return v
		}(), false, store.ErrConflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := tt.v
			ins, err := put(t, s, &v)
			if ins != tt.wantIns || !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("PutObject = %v, %v; want %v, %v", ins, err, tt.wantIns, tt.wantErr)
			}
		})
	}

	// Neither the resends nor the conflicts added or changed a version.
	got, err := s.Versions(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("Versions(%s): %d versions, want 2", id, len(got))
	}
	for i, want := range []store.ObjectVersion{v1, v2} {
		if d := sameVersion(got[i], want); d != "" {
			t.Errorf("Versions(%s)[%d]: %s", id, i, d)
		}
	}

	// A later insert still gets a larger Seq.
	v3 := version(id, "indicator", 20, c, false, "v3")
	mustPut(t, s, &v3)
	if v3.Seq <= last {
		t.Errorf("Seq after failed puts = %d, want > %d", v3.Seq, last)
	}
}

func testPutObjectFields(t *testing.T, s store.Store) {
	ctx := t.Context()
	c1 := class(t, s, "marking-definition--a")
	c2 := class(t, s, "marking-definition--b")
	id := objectID("report", 1)

	// Raw and Bindings must come back byte for byte: spacing, key order,
	// escapes and non-ASCII included.
	a := version(id, "report", 0, c1, false, "a")
	a.Raw = []byte(`{"type":"report","id":"` + id + `","name":"caf\u00e9 \"quoted\" \\ é ✓","z":1,"a":[ ]}`)
	a.Bindings = []byte("[{\"b\":\"\\u0000\"},\n {\"é\":2}]")
	a.Originator = "node-b"
	a.DateAdded = base.Add(123456 * 1000) // whole microseconds
	b := version(id, "report", 5, c2, true, "b")
	b.Created = ""
	b.Originator = ""
	mustPut(t, s, &a)
	mustPut(t, s, &b)

	got, err := s.Versions(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("Versions: %d versions, want 2", len(got))
	}
	for i, want := range []store.ObjectVersion{a, b} {
		if d := sameVersion(got[i], want); d != "" {
			t.Errorf("Versions[%d]: %s", i, d)
		}
	}

	if got, err := s.Versions(ctx, objectID("report", 2)); err != nil || len(got) != 0 {
		t.Errorf("Versions(unknown) = %d versions, %v; want none", len(got), err)
	}
}

func testPutObjectRevoked(t *testing.T, s store.Store) {
	c := class(t, s)
	id := objectID("malware", 1)
	mustPut(t, s, ptr(version(id, "malware", 100, c, false, "v100")))
	mustPut(t, s, ptr(version(id, "malware", 300, c, true, "revoked at 300")))

	tests := []struct {
		name    string
		v       store.ObjectVersion
		wantIns bool
		wantErr error
	}{
		{"later version", version(id, "malware", 400, c, false, "v400"), false, store.ErrRevoked},
		{"later revoked version", version(id, "malware", 500, c, true, "v500"), false, store.ErrRevoked},
		{"resend of revoking version", version(id, "malware", 300, c, true, "revoked at 300"), false, nil},
		{"revoking version other digest", version(id, "malware", 300, c, true, "other"), false, store.ErrConflict},
		{"older version between", version(id, "malware", 200, c, false, "v200"), true, nil},
		{"older version before all", version(id, "malware", 50, c, false, "v50"), true, nil},
		{"resend of older version", version(id, "malware", 50, c, false, "v50"), false, nil},
		{"other object", version(objectID("malware", 2), "malware", 400, c, false, "x"), true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := tt.v
			ins, err := put(t, s, &v)
			if ins != tt.wantIns || !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("PutObject = %v, %v; want %v, %v", ins, err, tt.wantIns, tt.wantErr)
			}
		})
	}

	got, err := s.Versions(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	var mods []string
	for _, v := range got {
		mods = append(mods, v.Modified)
	}
	want := []string{at(50).Format(stixTime), at(100).Format(stixTime), at(200).Format(stixTime), at(300).Format(stixTime)}
	if !slices.Equal(mods, want) {
		t.Errorf("Versions = %q, want %q", mods, want)
	}
}

const stixTime = "2006-01-02T15:04:05.000Z"

func ptr[T any](v T) *T { return &v }

func testVersions(t *testing.T, s store.Store) {
	c := class(t, s)
	id := objectID("campaign", 1)
	// Inserted out of order, in separate and shared transactions.
	order := []int{70, 10, 90, 30, 50, 20}
	for _, ms := range order[:2] {
		mustPut(t, s, ptr(version(id, "campaign", ms, c, false, "n")))
	}
	update(t, s, func(tx store.Tx) error {
		for _, ms := range order[2:] {
			if _, err := tx.PutObject(t.Context(), ptr(version(id, "campaign", ms, c, false, "n"))); err != nil {
				return err
			}
		}
		return nil
	})
	got, err := s.Versions(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	want := slices.Sorted(slices.Values(order))
	if len(got) != len(want) {
		t.Fatalf("Versions: %d versions, want %d", len(got), len(want))
	}
	for i, ms := range want {
		if d := sameVersion(got[i], version(id, "campaign", ms, c, false, "n")); d != "" {
			t.Errorf("Versions[%d]: %s", i, d)
		}
	}
}

func testLabels(t *testing.T, s store.Store) {
	ctx := t.Context()
	const id = "marking-definition--00000000-0000-4000-8000-000000000001"
	raw := []byte(`{"type":"marking-definition","id":"` + id + `","name":"SECRET//REL TO A, B"}`)
	update(t, s, func(tx store.Tx) error {
		if err := tx.PutLabel(ctx, id, raw); err != nil {
			return err
		}
		// Visible in the transaction that wrote it.
		got, err := tx.Label(ctx, id)
		if err != nil {
			return err
		}
		if string(got) != string(raw) {
			t.Errorf("tx.Label = %q, want %q", got, raw)
		}
		return tx.PutLabel(ctx, id, raw) // idempotent in one transaction
	})
	update(t, s, func(tx store.Tx) error { return tx.PutLabel(ctx, id, raw) }) // and across
	got, err := s.Label(ctx, id)
	if err != nil {
		t.Fatalf("Label: %v", err)
	}
	if string(got) != string(raw) {
		t.Errorf("Label = %q, want %q", got, raw)
	}
	if _, err := s.Label(ctx, "marking-definition--unknown"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Label(unknown) error = %v, want ErrNotFound", err)
	}
}

func testAccessClass(t *testing.T, s store.Store) {
	ctx := t.Context()
	sets := [][]string{
		{},
		{"marking-definition--a"},
		{"marking-definition--a", "marking-definition--b"},
		{"marking-definition--b"},
		{"marking-definition--ab"},
	}
	ids := make([]int64, len(sets))
	update(t, s, func(tx store.Tx) error {
		for i, set := range sets {
			var err error
			if ids[i], err = tx.AccessClass(ctx, set); err != nil {
				return err
			}
			// Asking again in the same transaction gives the same class.
			again, err := tx.AccessClass(ctx, slices.Clone(set))
			if err != nil {
				return err
			}
			if again != ids[i] {
				t.Errorf("AccessClass(%q) = %d then %d in one transaction", set, ids[i], again)
			}
		}
		return nil
	})
	for i := range ids {
		for j := range i {
			if ids[i] == ids[j] {
				t.Errorf("AccessClass(%q) = AccessClass(%q) = %d", sets[i], sets[j], ids[i])
			}
		}
	}
	// And in a later transaction.
	for i, set := range sets {
		if got := class(t, s, set...); got != ids[i] {
			t.Errorf("AccessClass(%q) = %d later, %d first", set, got, ids[i])
		}
	}

	all, err := s.AccessClasses(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	checkClasses(t, all, ids, sets)

	// Incremental: only classes after the last one seen.
	last := all[len(all)-1].ID
	if got, err := s.AccessClasses(ctx, last); err != nil || len(got) != 0 {
		t.Errorf("AccessClasses(%d) = %v, %v; want none", last, got, err)
	}
	more := [][]string{{"marking-definition--c"}, {"marking-definition--a", "marking-definition--c"}}
	moreIDs := make([]int64, len(more))
	for i, set := range more {
		moreIDs[i] = class(t, s, set...)
	}
	got, err := s.AccessClasses(ctx, last)
	if err != nil {
		t.Fatal(err)
	}
	checkClasses(t, got, moreIDs, more)

	// A cursor in the middle returns the rest.
	mid := all[1].ID
	got, err = s.AccessClasses(ctx, mid)
	if err != nil {
		t.Fatal(err)
	}
	if want := len(all) - 2 + len(more); len(got) != want {
		t.Errorf("AccessClasses(%d): %d classes, want %d", mid, len(got), want)
	}
}

// checkClasses checks that got lists, in id order, exactly the classes ids
// with label sets sets.
func checkClasses(t *testing.T, got []store.AccessClass, ids []int64, sets [][]string) {
	t.Helper()
	if len(got) != len(ids) {
		t.Fatalf("AccessClasses: %d classes %v, want %d", len(got), got, len(ids))
	}
	for i := 1; i < len(got); i++ {
		if got[i].ID <= got[i-1].ID {
			t.Errorf("AccessClasses not in id order: %d after %d", got[i].ID, got[i-1].ID)
		}
	}
	want := make(map[int64][]string)
	for i, id := range ids {
		want[id] = sets[i]
	}
	for _, c := range got {
		set, ok := want[c.ID]
		if !ok {
			t.Errorf("AccessClasses: unexpected class %d %q", c.ID, c.LabelIDs)
			continue
		}
		if !slices.Equal(c.LabelIDs, set) && (len(c.LabelIDs) != 0 || len(set) != 0) {
			t.Errorf("AccessClasses: class %d = %q, want %q", c.ID, c.LabelIDs, set)
		}
	}
}
