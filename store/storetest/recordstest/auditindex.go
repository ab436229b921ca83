package recordstest

import (
	"fmt"
	"testing"

	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/store/storetest/internal/suite"
)

var auditIndexTests = []suite.Test{
	{Name: "AuditIndex", Fn: testAuditIndex},
}

// testAuditIndex: FindAudit returns the entries (their bytes, from the
// log) whose index rows match every given filter, newest first, a page
// at a time; a row indexed twice (two replicas) stays one row.
func testAuditIndex(t *testing.T, s store.Store) {
	ctx := t.Context()
	if n, err := s.AuditIndexed(ctx); err != nil || n != 0 {
		t.Fatalf("AuditIndexed of an empty index = %d, %v", n, err)
	}
	const total = 40
	var entries [][]byte
	var rows []store.AuditIndexRow
	for i := range total {
		entries = append(entries, fmt.Appendf(nil, `{"entry":%d}`, i))
		r := store.AuditIndexRow{Index: int64(i), Time: suite.At(i), Actor: fmt.Sprintf("user:u%d", i%3),
			Action: []string{"object.read", "release.request"}[i%2]}
		if i%5 == 0 {
			r.Object = suite.ObjectID("indicator", i%10)
		}
		if i%4 == 0 {
			r.Partner = "usa"
		}
		rows = append(rows, r)
	}
	suite.Update(t, s, func(tx store.Tx) error {
		if _, err := tx.AppendAudit(ctx, entries...); err != nil {
			return err
		}
		return tx.IndexAudit(ctx, rows[:30])
	})
	// The rest, with an overlap another replica might have written.
	suite.Update(t, s, func(tx store.Tx) error { return tx.IndexAudit(ctx, rows[25:]) })
	if n, err := s.AuditIndexed(ctx); err != nil || n != total {
		t.Fatalf("AuditIndexed = %d, %v; want %d", n, err, total)
	}
	want := func(f store.AuditFilter) []int64 {
		var out []int64
		for i := total - 1; i >= 0; i-- {
			r := rows[i]
			if (f.Actor == "" || r.Actor == f.Actor) && (f.Action == "" || r.Action == f.Action) &&
				(f.Object == "" || r.Object == f.Object) && (f.Partner == "" || r.Partner == f.Partner) &&
				(f.Since.IsZero() || !r.Time.Before(f.Since)) && (f.Until.IsZero() || r.Time.Before(f.Until)) &&
				(f.Before == 0 || r.Index < f.Before) && (f.Limit == 0 || len(out) < f.Limit) {
				out = append(out, r.Index)
			}
		}
		return out
	}
	for _, f := range []store.AuditFilter{
		{Limit: 10},
		{Actor: "user:u1", Limit: 100},
		{Actor: "user:u1", Action: "release.request", Limit: 100},
		{Object: suite.ObjectID("indicator", 5), Limit: 100},
		{Partner: "usa", Limit: 3},
		{Partner: "usa", Before: 20, Limit: 100},
		{Since: suite.At(10), Until: suite.At(20), Limit: 100},
		{Actor: "user:u2", Since: suite.At(7), Limit: 100},
		{Actor: "user:nobody", Limit: 100},
	} {
		got, err := s.FindAudit(ctx, f)
		if err != nil {
			t.Fatalf("FindAudit(%+v): %v", f, err)
		}
		w := want(f)
		if len(got) != len(w) {
			t.Fatalf("FindAudit(%+v) = %d entries, want %v", f, len(got), w)
		}
		for i, e := range got {
			if e.Index != w[i] || string(e.Data) != fmt.Sprintf(`{"entry":%d}`, w[i]) {
				t.Fatalf("FindAudit(%+v)[%d] = %d %s, want %d", f, i, e.Index, e.Data, w[i])
			}
		}
	}
}
