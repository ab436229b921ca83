package store

import (
	"context"
	"time"
)

// The search index (docs/SEARCH.md) is a blind index: the node hashes
// every term of an object version under its index key (package
// searchindex) and the store keeps only those keyed hashes, as 64-bit
// numbers, in postings to the version's row. The store never sees a term,
// and a search asks for hashes. Visibility is pushed down as in List: only
// versions in the query's classes, the latest of its instance the caller
// may see, are hits or counted.

// SearchDoc is the indexed terms of the version stored at Seq.
type SearchDoc struct {
	Seq   int64
	Terms []int64 // keyed hashes of the terms, each once
}

// SearchQuery asks for object versions by their terms' hashes.
type SearchQuery struct {
	// Groups: a hit has, for every group, at least one of its hashes
	// (AND of ORs). No group asks for nothing.
	Groups [][]int64
	// Classes is the pushed-down read rule, as in ListQuery: only versions
	// in these classes exist for the caller. None: nothing is found.
	Classes    []int64
	Types      []string  // any of these types; none: every type
	Originator string    // "": any
	Since      time.Time // modified at or after; zero: no bound
	Until      time.Time // modified before; zero: no bound
	// Before is the keyset cursor: hits with seq < Before, newest first; 0
	// starts at the newest.
	Before int64
	Limit  int
}

// SearchPosting is one posting: the version stored at Seq has the term
// whose keyed hash is Term.
type SearchPosting struct {
	Term int64
	Seq  int64
}

// SearchHit is one version a search found (its content is read through
// the usual reads, which open and check it).
type SearchHit struct {
	Seq      int64
	ID       string
	Instance int64
	Class    int64
}

// SavedSearch is a search a user keeps under a name.
type SavedSearch struct {
	UserID  string
	Name    string
	Query   string // the search box's text
	Filters string // the filters, as a URL query string
	Created time.Time
}

// SearchReader searches the index. Reader embeds it.
type SearchReader interface {
	// Search returns up to q.Limit hits, newest (highest seq) first.
	Search(ctx context.Context, q SearchQuery) ([]SearchHit, error)
	// CountSearch counts what Search would return with no limit and no
	// cursor, stopping at limit (a count of limit means "limit or more").
	CountSearch(ctx context.Context, q SearchQuery, limit int) (int64, error)
	// PendingSearchDocs returns up to limit versions stored before the
	// index existed (seq at most what its migration recorded) that have no
	// search document yet, with seq > after, in seq order, as Versions
	// returns them (content still sealed); nothing once FinishSearchDocs
	// has committed.
	PendingSearchDocs(ctx context.Context, after int64, limit int) ([]ObjectVersion, error)
	// BackfilledSearchDocs returns up to limit documents of the versions
	// stored before the index existed (seq at most what its migration
	// recorded), with seq > after, in seq order: what the backfill's
	// second pass makes postings of. Nothing once FinishSearchDocs has
	// committed.
	BackfilledSearchDocs(ctx context.Context, after int64, limit int) ([]SearchDoc, error)
	// SavedSearches returns the saved searches of a user, by name.
	SavedSearches(ctx context.Context, userID string) ([]SavedSearch, error)
}

// SearchWriter maintains the index. Tx embeds it.
type SearchWriter interface {
	// PutSearchDocs stores the documents of versions (their postings); a
	// version that has one already keeps it.
	PutSearchDocs(ctx context.Context, docs []SearchDoc) error
	// StageSearchDocs stores the documents of versions without their
	// postings (the backfill's first pass; PutSearchPostings makes them
	// later, in term order); a version that has one already keeps it.
	StageSearchDocs(ctx context.Context, docs []SearchDoc) error
	// PutSearchPostings stores the backfill's postings, each once;
	// callers give them in (term, seq) order, which the backends' indexes
	// take at the cost of appends. Nothing once FinishSearchDocs has
	// committed: every process finishes the backfill when it opens, before
	// it can purge, so postings read from documents before the finish may
	// be of versions purged since, and must not come back.
	PutSearchPostings(ctx context.Context, ps []SearchPosting) error
	// PruneSearchDocs deletes the documents and postings of the versions
	// of id that are no longer stored (after a purge).
	PruneSearchDocs(ctx context.Context, id string) error
	// FinishSearchDocs records that the backfill is done: from its commit
	// on, PendingSearchDocs returns nothing.
	FinishSearchDocs(ctx context.Context) error
	// SaveSearch stores s, replacing the user's search of that name.
	SaveSearch(ctx context.Context, s SavedSearch) error
	// DeleteSavedSearch deletes the user's search of that name; ErrNotFound
	// when there is none.
	DeleteSavedSearch(ctx context.Context, userID, name string) error
}
