package searchindex_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"maps"
	"path/filepath"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/tearline/tearline/searchindex"
	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/store/sqlite"
)

type posting struct{ term, seq int64 }

// The backfill's postings are exactly the terms of every version stored
// before the index, however small the budget that slices the term space
// (a budget of 10 postings cuts it into many slices, and a term found in
// every version fills a slice alone), and a second run finds nothing to do.
func TestBackfillPostingsInSlices(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "t.db")
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	h, err := searchindex.NewHasher(make([]byte, searchindex.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	var class int64
	want := map[posting]bool{}
	err = st.Update(ctx, func(tx store.Tx) error {
		if class, err = tx.AccessClass(ctx, []string{"marking-definition--a"}); err != nil {
			return err
		}
		for i := range 40 {
			v := version(i, class)
			if _, err := tx.PutObject(ctx, &v); err != nil {
				return err
			}
			for _, term := range h.Terms(v.Raw) {
				want[posting{term, v.Seq}] = true
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// As migration 19 leaves a store whose versions predate it.
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`UPDATE search_backfill SET done_us = 0, upto = (SELECT MAX(seq) FROM objects)`); err != nil {
		t.Fatal(err)
	}
	ix := searchindex.Wrap(st, h, nil)
	if n, err := ix.Backfill(ctx, 7, 10); err != nil || n != 40 {
		t.Fatalf("Backfill = %d, %v; want 40", n, err)
	}
	if got := postings(t, db); !maps.Equal(got, want) {
		t.Fatalf("postings: %d, want %d (%d in common)", len(got), len(want), common(got, want))
	}
	if n, err := ix.Backfill(ctx, 7, 10); err != nil || n != 0 {
		t.Fatalf("Backfill again = %d, %v; want nothing to do", n, err)
	}
	// Finished: the backfill's postings are refused from now on (a
	// process that read a document before the finish must not bring back
	// the terms of a version purged since).
	late := []store.SearchPosting{{Term: 1, Seq: 1}}
	if err := st.Update(ctx, func(tx store.Tx) error { return tx.PutSearchPostings(ctx, late) }); err != nil {
		t.Fatal(err)
	}
	if got := postings(t, db); len(got) != len(want) {
		t.Fatalf("a posting stored after the finish: %d postings, want %d", len(got), len(want))
	}
}

// A crash after the documents, before the postings: the next run makes
// the postings.
func TestBackfillAfterDocumentsOnly(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "t.db")
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	h, _ := searchindex.NewHasher(make([]byte, searchindex.KeySize))
	var vs []store.ObjectVersion
	err = st.Update(ctx, func(tx store.Tx) error {
		class, err := tx.AccessClass(ctx, []string{"marking-definition--a"})
		if err != nil {
			return err
		}
		for i := range 5 {
			v := version(i, class)
			if _, err := tx.PutObject(ctx, &v); err != nil {
				return err
			}
			vs = append(vs, v)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	db, _ := sql.Open("sqlite", path)
	defer db.Close()
	if _, err := db.Exec(`UPDATE search_backfill SET done_us = 0, upto = (SELECT MAX(seq) FROM objects)`); err != nil {
		t.Fatal(err)
	}
	want := map[posting]bool{}
	var docs []store.SearchDoc
	for _, v := range vs {
		d := store.SearchDoc{Seq: v.Seq, Terms: h.Terms(v.Raw)}
		docs = append(docs, d)
		for _, term := range d.Terms {
			want[posting{term, v.Seq}] = true
		}
	}
	if err := st.Update(ctx, func(tx store.Tx) error { return tx.StageSearchDocs(ctx, docs) }); err != nil {
		t.Fatal(err)
	}
	if got := postings(t, db); len(got) != 0 {
		t.Fatalf("staged documents made %d postings", len(got))
	}
	if n, err := searchindex.Wrap(st, h, nil).Backfill(ctx, 100, 1000); err != nil || n != 0 {
		t.Fatalf("Backfill = %d, %v; want no version left to read", n, err)
	}
	if got := postings(t, db); !maps.Equal(got, want) {
		t.Fatalf("postings after the second run: %d, want %d", len(got), len(want))
	}
}

func version(i int, class int64) store.ObjectVersion {
	at := time.Date(2026, 1, 1, 0, 0, i, 0, time.UTC)
	id := fmt.Sprintf("indicator--00000000-0000-4000-8000-%012d", i)
	mod := at.Format("2006-01-02T15:04:05.000Z")
	raw := fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":%q,"created":%q,"modified":%q,"name":"common words number%d","description":"host%d.example.com sent to 198.51.%d.7"}`,
		id, mod, mod, i, i, i)
	sum := sha256.Sum256([]byte(raw))
	return store.ObjectVersion{ID: id, Type: "indicator", Modified: mod, ModifiedAt: at, Created: mod,
		Digest: hex.EncodeToString(sum[:]), Raw: []byte(raw), Bindings: []byte("[]"), Class: class, DateAdded: at}
}

func postings(t *testing.T, db *sql.DB) map[posting]bool {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), `SELECT term, seq FROM search_postings`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[posting]bool{}
	for rows.Next() {
		var p posting
		if err := rows.Scan(&p.term, &p.seq); err != nil {
			t.Fatal(err)
		}
		out[p] = true
	}
	return out
}

func common(a, b map[posting]bool) int {
	n := 0
	for p := range a {
		if b[p] {
			n++
		}
	}
	return n
}
