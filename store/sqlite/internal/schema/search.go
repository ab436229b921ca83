package schema

// searchSchema (migration 19) holds the blind search index
// (store/search.go, docs/SEARCH.md): only keyed hashes of terms, as
// 64-bit integers, never a term.
//
//   - search_postings: a row per (term hash, version seq), the term first
//     so that a search walks one term's versions newest first and stops
//     at a page.
//   - search_docs: per indexed version, its object id and its term hashes
//     (8 bytes each): what a purge deletes from postings, and which
//     versions the backfill still has to index.
//   - search_backfill: which versions predate the index (seq at most
//     upto; one index entry read, so the migration is instant at any size)
//     and whether the node's backfill has indexed them (done_us).
//   - saved_searches: a user's saved searches by name.
//
// The migration creates empty tables; the node's backfill indexes the
// versions stored before it (docs/STORAGE.md).
const searchSchema = `
CREATE TABLE search_postings (
	term INTEGER NOT NULL,
	seq  INTEGER NOT NULL,
	PRIMARY KEY (term, seq)
) WITHOUT ROWID;
CREATE TABLE search_docs (
	seq   INTEGER PRIMARY KEY,
	id    TEXT    NOT NULL,
	terms BLOB    NOT NULL
);
CREATE INDEX search_docs_id ON search_docs (id);
CREATE TABLE search_backfill (
	one     INTEGER PRIMARY KEY CHECK (one = 1),
	upto    INTEGER NOT NULL,
	done_us INTEGER NOT NULL
);
INSERT INTO search_backfill (one, upto, done_us) SELECT 1, COALESCE(MAX(seq), 0), 0 FROM objects;
CREATE TABLE saved_searches (
	user_id    TEXT    NOT NULL,
	name       TEXT    NOT NULL,
	query      TEXT    NOT NULL,
	filters    TEXT    NOT NULL,
	created_us INTEGER NOT NULL,
	PRIMARY KEY (user_id, name)
) WITHOUT ROWID;
`
