// Package searchsql is what both backends' search indexes (searchdb in
// store/sqlite/internal and store/postgres/internal) share: the layout of
// a document's terms column and the SQL of a search, written once with the
// few words in which the backends differ (Dialect).
package searchsql

import (
	"encoding/binary"
	"strconv"
	"strings"

	"github.com/tearline/tearline/store"
)

// PackTerms is the terms column: each hash, 8 bytes big-endian.
func PackTerms(ts []int64) []byte {
	b := make([]byte, 8*len(ts))
	for i, t := range ts {
		binary.BigEndian.PutUint64(b[8*i:], uint64(t))
	}
	return b
}

// UnpackTerms reads a terms column.
func UnpackTerms(b []byte) []int64 {
	ts := make([]int64, len(b)/8)
	for i := range ts {
		ts[i] = int64(binary.BigEndian.Uint64(b[8*i:]))
	}
	return ts
}

// IntList is ns as an SQL list literal (integers formatted by us, never
// the reader's text).
func IntList(ns []int64) string {
	parts := make([]string, len(ns))
	for i, n := range ns {
		parts[i] = strconv.FormatInt(n, 10)
	}
	return strings.Join(parts, ",")
}

// Askable reports whether q can find anything: it has classes, and
// groups none of which is empty.
func Askable(q store.SearchQuery) bool {
	if len(q.Classes) == 0 || len(q.Groups) == 0 {
		return false
	}
	for _, g := range q.Groups {
		if len(g) == 0 {
			return false
		}
	}
	return true
}

// Dialect is how a backend writes a search's values.
type Dialect struct {
	// Param returns the placeholder of the n-th argument (from 1).
	Param func(n int) string
	// InlineInts writes term hashes and seqs into the statement (SQLite:
	// `term = 123`, `term IN (1,2)`) rather than passing them
	// (PostgreSQL: `term = $1`, `term = ANY($2)`).
	InlineInts bool
}

// SQLite is the dialect of the SQLite backend.
var SQLite = Dialect{Param: func(int) string { return "?" }, InlineInts: true}

// Postgres is the dialect of the PostgreSQL backend.
var Postgres = Dialect{Param: func(n int) string { return "$" + strconv.Itoa(n) }}

// builder writes one statement and collects its arguments.
type builder struct {
	d    Dialect
	b    strings.Builder
	args []any
}

func (w *builder) arg(v any) string {
	w.args = append(w.args, v)
	return w.d.Param(len(w.args))
}

// is is `col = n`.
func (w *builder) is(col string, n int64) string {
	if w.d.InlineInts {
		return col + ` = ` + strconv.FormatInt(n, 10)
	}
	return col + ` = ` + w.arg(n)
}

// in is `col` among ns.
func (w *builder) in(col string, ns []int64) string {
	if w.d.InlineInts {
		return col + ` IN (` + IntList(ns) + `)`
	}
	return col + ` = ANY(` + w.arg(ns) + `)`
}

// below is `col < n`.
func (w *builder) below(col string, n int64) string {
	if w.d.InlineInts {
		return col + ` < ` + strconv.FormatInt(n, 10)
	}
	return col + ` < ` + w.arg(n)
}

// From builds a search's FROM and WHERE and their arguments, after where
// and args (the listing's visibility rule over objects o for q's types
// and classes: not revoked, the latest visible version): the first group
// drives (one term's postings newest first, when it is one term), the
// other groups are tested per candidate, and the rule applies to every
// candidate. q must be Askable.
func From(d Dialect, q store.SearchQuery, where string, args []any) (string, []any) {
	w := &builder{d: d, args: args}
	drive := q.Groups[0]
	if len(drive) == 1 {
		w.b.WriteString(`search_postings p JOIN objects o ON o.seq = p.seq WHERE ` + w.is("p.term", drive[0]))
		if q.Before > 0 {
			w.b.WriteString(` AND ` + w.below("p.seq", q.Before))
		}
	} else {
		w.b.WriteString(`objects o WHERE o.seq IN (SELECT seq FROM search_postings WHERE ` + w.in("term", drive))
		if q.Before > 0 {
			w.b.WriteString(` AND ` + w.below("seq", q.Before))
		}
		w.b.WriteString(`)`)
	}
	for _, g := range q.Groups[1:] {
		w.b.WriteString(` AND EXISTS (SELECT 1 FROM search_postings x WHERE ` + w.in("x.term", g) + ` AND x.seq = o.seq)`)
	}
	w.b.WriteString(` AND ` + where)
	if q.Originator != "" {
		w.b.WriteString(` AND o.originator = ` + w.arg(q.Originator))
	}
	if !q.Since.IsZero() {
		w.b.WriteString(` AND o.modified_us >= ` + w.arg(q.Since.UnixMicro()))
	}
	if !q.Until.IsZero() {
		w.b.WriteString(` AND o.modified_us < ` + w.arg(q.Until.UnixMicro()))
	}
	return w.b.String(), w.args
}

// Select is a page of a search's hits, newest first: seq, id, class.
// When one term drives (From), the page is ordered by the postings' seq,
// the same number as the row's: the planner then walks the term's
// postings newest first and stops at the page, where ordering by o.seq
// made SQLite sort every posting of the term first (10 s for a common
// word at 2M objects).
func Select(q store.SearchQuery, from string, limit int) string {
	if limit <= 0 {
		limit = 100
	}
	order := `o.seq`
	if len(q.Groups) > 0 && len(q.Groups[0]) == 1 {
		order = `p.seq`
	}
	return `SELECT o.seq, o.id, o.class FROM ` + from + ` ORDER BY ` + order + ` DESC LIMIT ` + strconv.Itoa(limit)
}

// Count counts a search's hits up to limit (q.Before is ignored: the
// caller clears it).
func Count(from string, limit int) string {
	return `SELECT COUNT(*) FROM (SELECT 1 FROM ` + from + ` LIMIT ` + strconv.Itoa(limit) + `) c`
}
