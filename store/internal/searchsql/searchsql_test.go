package searchsql

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/tearline/tearline/store"
)

// TestFrom: the statements each backend wrote before they shared this
// builder, word for word, with their arguments after the listing's.
func TestFrom(t *testing.T) {
	since, until := time.UnixMicro(100), time.UnixMicro(200)
	one := store.SearchQuery{Groups: [][]int64{{7}}, Before: 50}
	many := store.SearchQuery{Groups: [][]int64{{7, 8}, {9}, {10, 11}}, Before: 50, Originator: "gbr", Since: since, Until: until}
	for _, tc := range []struct {
		d     Dialect
		q     store.SearchQuery
		where string
		sql   string
		args  []any
	}{
		{SQLite, one, "o.class IN (1)",
			`search_postings p JOIN objects o ON o.seq = p.seq WHERE p.term = 7 AND p.seq < 50 AND o.class IN (1)`, []any{"w"}},
		{SQLite, many, "o.class IN (1)",
			`objects o WHERE o.seq IN (SELECT seq FROM search_postings WHERE term IN (7,8) AND seq < 50) AND EXISTS (SELECT 1 FROM search_postings x WHERE x.term IN (9) AND x.seq = o.seq) AND EXISTS (SELECT 1 FROM search_postings x WHERE x.term IN (10,11) AND x.seq = o.seq) AND o.class IN (1) AND o.originator = ? AND o.modified_us >= ? AND o.modified_us < ?`,
			[]any{"w", "gbr", int64(100), int64(200)}},
		{Postgres, one, "o.class = ANY($1)",
			`search_postings p JOIN objects o ON o.seq = p.seq WHERE p.term = $2 AND p.seq < $3 AND o.class = ANY($1)`, []any{"w", int64(7), int64(50)}},
		{Postgres, many, "o.class = ANY($1)",
			`objects o WHERE o.seq IN (SELECT seq FROM search_postings WHERE term = ANY($2) AND seq < $3) AND EXISTS (SELECT 1 FROM search_postings x WHERE x.term = ANY($4) AND x.seq = o.seq) AND EXISTS (SELECT 1 FROM search_postings x WHERE x.term = ANY($5) AND x.seq = o.seq) AND o.class = ANY($1) AND o.originator = $6 AND o.modified_us >= $7 AND o.modified_us < $8`,
			[]any{"w", []int64{7, 8}, int64(50), []int64{9}, []int64{10, 11}, "gbr", int64(100), int64(200)}},
	} {
		sql, args := From(tc.d, tc.q, tc.where, []any{"w"})
		if sql != tc.sql {
			t.Errorf("From:\n got %s\nwant %s", sql, tc.sql)
		}
		if fmt.Sprint(args) != fmt.Sprint(tc.args) {
			t.Errorf("From %s: args %v, want %v", tc.sql, args, tc.args)
		}
	}
}

func TestTermsRoundTrip(t *testing.T) {
	ts := []int64{0, -1, 1 << 62, -(1 << 63), 42}
	if got := UnpackTerms(PackTerms(ts)); !slices.Equal(got, ts) {
		t.Errorf("UnpackTerms(PackTerms(%v)) = %v", ts, got)
	}
}

func TestAskable(t *testing.T) {
	for _, tc := range []struct {
		q    store.SearchQuery
		want bool
	}{
		{store.SearchQuery{Classes: []int64{1}, Groups: [][]int64{{1}}}, true},
		{store.SearchQuery{Groups: [][]int64{{1}}}, false},
		{store.SearchQuery{Classes: []int64{1}}, false},
		{store.SearchQuery{Classes: []int64{1}, Groups: [][]int64{{1}, {}}}, false},
	} {
		if got := Askable(tc.q); got != tc.want {
			t.Errorf("Askable(%+v) = %v", tc.q, got)
		}
	}
}
