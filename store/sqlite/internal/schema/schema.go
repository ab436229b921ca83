// Package schema is the SQLite backend's database schema: every table and
// index, as the numbered, forward-only migrations that make them (the
// first is the base schema), and the code that applies them at open. Each
// migration runs in its own transaction with its record in
// schema_migrations; one whose Go step fails leaves nothing behind.
package schema

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/tearline/tearline/store/internal/treehash"
	"golang.org/x/mod/sumdb/tlog"
)

// migrations are applied in order, each once, forward only. Never edit a
// released migration: append a new one.
var migrations = []string{
	1: `
CREATE TABLE labels (
	id  TEXT PRIMARY KEY,
	raw BLOB NOT NULL
) WITHOUT ROWID;

CREATE TABLE access_classes (
	id  INTEGER PRIMARY KEY,
	key TEXT NOT NULL UNIQUE
);

-- The small columns come first and the large raw and bindings last: a
-- listing reads class, revoked and the version of many rows it may not
-- return, and a column after a large blob is reached only through the
-- blob's overflow pages.
CREATE TABLE objects (
	seq           INTEGER PRIMARY KEY,
	id            TEXT    NOT NULL,
	type          TEXT    NOT NULL,
	modified      TEXT    NOT NULL,
	modified_us   INTEGER NOT NULL,
	created       TEXT    NOT NULL,
	revoked       INTEGER NOT NULL,
	digest        TEXT    NOT NULL,
	class         INTEGER NOT NULL REFERENCES access_classes(id),
	date_added_us INTEGER NOT NULL,
	originator    TEXT    NOT NULL,
	raw           BLOB    NOT NULL,
	bindings      BLOB    NOT NULL,
	UNIQUE (id, modified_us)
);
CREATE INDEX objects_type_seq ON objects (type, seq);

CREATE TABLE users (
	id            TEXT PRIMARY KEY,
	name          TEXT NOT NULL UNIQUE,
	role          TEXT NOT NULL,
	nationality   TEXT NOT NULL,
	org           TEXT NOT NULL,
	clearances    TEXT NOT NULL,
	compartments  TEXT NOT NULL,
	default_label TEXT NOT NULL,
	created_us    INTEGER NOT NULL,
	disabled      INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE tokens (
	id         TEXT PRIMARY KEY,
	user_id    TEXT NOT NULL REFERENCES users(id),
	hash       BLOB NOT NULL,
	created_us INTEGER NOT NULL,
	expires_us INTEGER NOT NULL,
	revoked_us INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX tokens_user ON tokens (user_id);

-- The audit log: leaves of a Merkle tree, indexed densely from 0.
CREATE TABLE audit (
	idx  INTEGER PRIMARY KEY,
	data BLOB NOT NULL
);
`,
	2: `
-- The audit Merkle tree's stored hashes, numbered as golang.org/x/mod/sumdb/tlog
-- numbers them (StoredHashIndex), written in the same transaction as the
-- leaves they cover. Existing leaves are hashed when the store is opened.
CREATE TABLE audit_hashes (
	id   INTEGER PRIMARY KEY,
	hash BLOB NOT NULL
);

-- Signed checkpoints (C2SP tlog-checkpoint notes), at most one per size.
CREATE TABLE audit_checkpoints (
	size       INTEGER PRIMARY KEY,
	note       BLOB    NOT NULL,
	created_us INTEGER NOT NULL
);
`,
	3: `
-- Encryption at rest (package seal): the wrapped data key of each sealed
-- object version, apart from the ciphertext so that a purge destroys a few
-- bytes and a key rotation rewrites only this table. secure_delete (set on
-- every connection) zeroes a deleted key's bytes in the file.
CREATE TABLE data_keys (
	id          TEXT    NOT NULL,
	modified_us INTEGER NOT NULL,
	wrapped     BLOB    NOT NULL,
	PRIMARY KEY (id, modified_us)
) WITHOUT ROWID;

-- The shred journal: one row per purged object, kept forever, no content.
CREATE TABLE tombstones (
	id        TEXT    PRIMARY KEY,
	versions  TEXT    NOT NULL, -- JSON array of the modified values destroyed
	purged_us INTEGER NOT NULL,
	reason    TEXT    NOT NULL
) WITHOUT ROWID;

-- Retention: when an object must be purged (the earliest any ingest asked
-- for). The retention sweeper purges what is due.
CREATE TABLE retention (
	id       TEXT    PRIMARY KEY,
	until_us INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX retention_until ON retention (until_us);
`,
	4:  agreementsSchema, // agreements.go
	5:  outboxSchema,     // outbox.go
	6:  recallsSchema,    // recalls.go
	7:  listingSchema,
	8:  idsMigration,
	9:  `ALTER TABLE audit ADD COLUMN tree BLOB;`, // then moveAuditTree
	10: witnessSchema,                             // ../records/witness.go
	11: deliveryStatesSchema,                      // outbox.go
	12: followupsSchema,                           // followups.go
	13: nodeKeysSchema,                            // nodekeys.go
	14: instancesSchema,
	15: webSessionsSchema, // ../records/websessions.go
	16: accessMACsSchema,
	17: instanceWireSchema,
	18: auditIndexSchema,
	19: searchSchema, // search.go
	20: tombstonesByInstanceSchema,
	21: retentionByVersionSchema,
}

// steps are the migrations' parts written in Go, run after their SQL in the
// same transaction.
var steps = map[int]func(context.Context, *sql.Tx) error{9: moveAuditTree}

// rebuilds are the migrations that rebuild a table. They run as SQLite
// prescribes (lang_altertable.html, "other kinds of table schema changes"):
// foreign keys off, a new table filled and renamed, and a foreign key
// check before the commit.
var rebuilds = map[int]bool{8: true}

// idsMigration moves the lookup by id out of the objects table into
// object_ids (../idindex). The table is rebuilt because a UNIQUE constraint's
// index cannot be dropped; the rebuild also makes seqs AUTOINCREMENT (the
// id index relies on a seq never being reused) and moves newer before the
// large columns. On a large node it rewrites the table once: it takes about
// as long as a VACUUM and needs as much free disk as the table.
const idsMigration = `
CREATE TABLE objects_rebuilt (
	seq           INTEGER PRIMARY KEY AUTOINCREMENT,
	id            TEXT    NOT NULL,
	type          TEXT    NOT NULL,
	modified      TEXT    NOT NULL,
	modified_us   INTEGER NOT NULL,
	created       TEXT    NOT NULL,
	revoked       INTEGER NOT NULL,
	digest        TEXT    NOT NULL,
	class         INTEGER NOT NULL REFERENCES access_classes(id),
	date_added_us INTEGER NOT NULL,
	originator    TEXT    NOT NULL,
	newer         INTEGER NOT NULL DEFAULT 0,
	raw           BLOB    NOT NULL,
	bindings      BLOB    NOT NULL
);
INSERT INTO objects_rebuilt (seq, id, type, modified, modified_us, created, revoked, digest, class, date_added_us, originator, newer, raw, bindings)
	SELECT seq, id, type, modified, modified_us, created, revoked, digest, class, date_added_us, originator, newer, raw, bindings FROM objects ORDER BY seq;
DROP TABLE objects;
ALTER TABLE objects_rebuilt RENAME TO objects;
CREATE INDEX objects_type_list ON objects (type, seq, class, revoked, newer);
CREATE INDEX objects_list ON objects (seq, class, revoked, newer);
` + idsSchema + `
INSERT INTO object_ids (id, modified_us, seq, class) SELECT id, modified_us, seq, class FROM objects ORDER BY id, modified_us;
INSERT INTO object_ids_merged (merged) SELECT COALESCE(MAX(seq), 0) FROM objects;
`

// listingSchema makes a listing's cost independent of the table's size:
// a listing at a random cursor of a large node touched, per candidate row,
// the row itself, the (id, modified_us) index (is there a newer version?)
// and the data key's (id, modified_us) b-tree, each a cold page at random.
//
//   - newer is 1 on every version that has a later version of the same
//     object: the "latest visible version" test then needs the index only
//     for the few objects with several versions.
//   - The listing indexes carry class, revoked and newer, so a candidate the
//     caller may not see is rejected from the index without reading its row.
//   - Data keys are keyed by the object row's seq: the keys of a page sit
//     together instead of one random b-tree page each, and an ingest
//     appends them instead of writing into random pages of a large b-tree.
const listingSchema = `
ALTER TABLE objects ADD COLUMN newer INTEGER NOT NULL DEFAULT 0;
UPDATE objects SET newer = 1 WHERE seq IN (
	SELECT seq FROM (
		SELECT seq, LEAD(modified_us) OVER (PARTITION BY id ORDER BY modified_us) AS next_us FROM objects
	) WHERE next_us IS NOT NULL);
DROP INDEX objects_type_seq;
CREATE INDEX objects_type_list ON objects (type, seq, class, revoked, newer);
CREATE INDEX objects_list ON objects (seq, class, revoked, newer);

CREATE TABLE object_keys (
	seq     INTEGER PRIMARY KEY REFERENCES objects (seq),
	wrapped BLOB    NOT NULL
);
INSERT INTO object_keys (seq, wrapped)
	SELECT o.seq, k.wrapped FROM data_keys k JOIN objects o ON o.id = k.id AND o.modified_us = k.modified_us;
DROP TABLE data_keys;
ALTER TABLE object_keys RENAME TO data_keys;
`

// Migrate applies every migration db does not have yet.
func Migrate(ctx context.Context, db *sql.DB) error { return MigrateTo(ctx, db, Latest()) }

// Latest is the schema version this binary makes.
func Latest() int { return len(migrations) - 1 }

// MigrateTo applies the migrations up to and including version last (tests
// build databases as older binaries left them).
func MigrateTo(ctx context.Context, db *sql.DB, last int) error {
	// One connection throughout: a rebuild's foreign_keys setting is a
	// property of the connection.
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		applied_us INTEGER NOT NULL)`); err != nil {
		return err
	}
	var have int
	if err := conn.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&have); err != nil {
		return err
	}
	if have > len(migrations)-1 {
		return fmt.Errorf("database schema version %d is newer than this binary knows (%d)", have, len(migrations)-1)
	}
	for v := have + 1; v <= last; v++ {
		if err := migrateOne(ctx, conn, v); err != nil {
			return fmt.Errorf("migration %d: %w", v, err)
		}
	}
	return nil
}

func migrateOne(ctx context.Context, conn *sql.Conn, v int) error {
	if rebuilds[v] {
		// Outside the transaction: SQLite ignores the pragma inside one.
		if _, err := conn.ExecContext(ctx, `PRAGMA foreign_keys = OFF`); err != nil {
			return err
		}
		defer conn.ExecContext(ctx, `PRAGMA foreign_keys = ON`)
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
		return err
	}
	if step := steps[v]; step != nil {
		if err := step(ctx, tx); err != nil {
			return err
		}
	}
	if rebuilds[v] {
		rows, err := tx.QueryContext(ctx, `PRAGMA foreign_key_check`)
		if err != nil {
			return err
		}
		broken := rows.Next()
		rows.Close()
		if broken {
			return fmt.Errorf("foreign key check failed after the rebuild")
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_us) VALUES (?, ?)`, v, time.Now().UnixMicro()); err != nil {
		return err
	}
	return tx.Commit()
}

// agreementsSchema is migration 4.
const agreementsSchema = `
-- Sharing agreements: each version with its current status and the
-- document (RFC 8785 JSON, signatures collected so far).
CREATE TABLE agreements (
	id         TEXT    NOT NULL,
	version    INTEGER NOT NULL,
	state      TEXT    NOT NULL,
	since_us   INTEGER NOT NULL,
	document   BLOB    NOT NULL,
	updated_us INTEGER NOT NULL,
	PRIMARY KEY (id, version)
) WITHOUT ROWID;

CREATE TABLE agreement_history (
	seq        INTEGER PRIMARY KEY,
	id         TEXT    NOT NULL,
	version    INTEGER NOT NULL,
	from_state TEXT    NOT NULL,
	to_state   TEXT    NOT NULL,
	at_us      INTEGER NOT NULL,
	actor      TEXT    NOT NULL,
	note       TEXT    NOT NULL
);
CREATE INDEX agreement_history_id ON agreement_history (id, seq);

-- How each object from elsewhere came here (hops: JSON array).
CREATE TABLE provenance (
	object_id     TEXT    PRIMARY KEY,
	originator    TEXT    NOT NULL,
	received_from TEXT    NOT NULL,
	hops          TEXT    NOT NULL,
	received_us   INTEGER NOT NULL,
	derived_from  TEXT    NOT NULL
) WITHOUT ROWID;

CREATE TABLE consents (
	seq        INTEGER PRIMARY KEY,
	object_id  TEXT    NOT NULL,
	originator TEXT    NOT NULL,
	to_party   TEXT    NOT NULL,
	actor      TEXT    NOT NULL,
	at_us      INTEGER NOT NULL
);
CREATE INDEX consents_object ON consents (object_id, seq);

CREATE TABLE release_requests (
	id                TEXT    PRIMARY KEY,
	object_id         TEXT    NOT NULL,
	modified          TEXT    NOT NULL,
	party             TEXT    NOT NULL,
	agreement         TEXT    NOT NULL,
	agreement_version INTEGER NOT NULL,
	purpose           TEXT    NOT NULL,
	requester         TEXT    NOT NULL,
	decision          BLOB    NOT NULL,
	required          INTEGER NOT NULL,
	approvals         TEXT    NOT NULL,
	state             TEXT    NOT NULL,
	reason            TEXT    NOT NULL,
	created_us        INTEGER NOT NULL,
	updated_us        INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX release_requests_state ON release_requests (state, created_us);

-- The dissemination ledger: metadata only (ids, labels, parties, decisions).
CREATE TABLE ledger (
	seq               INTEGER PRIMARY KEY,
	object_id         TEXT    NOT NULL,
	modified          TEXT    NOT NULL,
	party             TEXT    NOT NULL,
	agreement         TEXT    NOT NULL,
	agreement_version INTEGER NOT NULL,
	term              INTEGER NOT NULL,
	outcome           TEXT    NOT NULL,
	tearline_id       TEXT    NOT NULL,
	labels            TEXT    NOT NULL,
	reasons           TEXT    NOT NULL,
	state             TEXT    NOT NULL,
	request           TEXT    NOT NULL,
	actor             TEXT    NOT NULL,
	at_us             INTEGER NOT NULL
);
CREATE INDEX ledger_object ON ledger (object_id, seq);
CREATE INDEX ledger_agreement ON ledger (agreement, at_us);
`

const outboxSchema = `
-- Messages to partner nodes, written with the action that causes them and
-- kept after delivery (delivered_us > 0) as a record of what went.
-- lease_us: a claimer is sending the row until then.
CREATE TABLE outbox (
	id              INTEGER PRIMARY KEY,
	peer            TEXT    NOT NULL,
	kind            TEXT    NOT NULL,
	payload         BLOB    NOT NULL,
	created_us      INTEGER NOT NULL,
	attempts        INTEGER NOT NULL DEFAULT 0,
	next_attempt_us INTEGER NOT NULL DEFAULT 0,
	lease_us        INTEGER NOT NULL DEFAULT 0,
	delivered_us    INTEGER NOT NULL DEFAULT 0,
	last_error      TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX outbox_pending ON outbox (peer, id) WHERE delivered_us = 0;

-- Named positions, such as a pull's added_after per peer.
CREATE TABLE cursors (
	name       TEXT    PRIMARY KEY,
	value      TEXT    NOT NULL,
	updated_us INTEGER NOT NULL
) WITHOUT ROWID;
`

// deliveryStatesSchema (migration 11) gives each message a delivery state
// of its own (docs/FEDERATION.md, "Delivery states"): the ledger entry it
// delivers, when it was queued (the maximum age runs from there), when it
// failed for good and the reason code. A message refused for good used to
// be marked delivered with the refusal as its last error: it is failed now.
// Failed rows keep delivered_us = 0, so outbox_pending still finds them;
// a claim passes over them.
const deliveryStatesSchema = `
ALTER TABLE outbox ADD COLUMN ledger    INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN queued_us INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN failed_us INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN reason    TEXT    NOT NULL DEFAULT '';
UPDATE outbox SET queued_us = created_us;
UPDATE outbox SET failed_us = delivered_us, delivered_us = 0, reason = 'refused'
	WHERE delivered_us > 0 AND last_error LIKE 'refused by %';
UPDATE outbox SET ledger = COALESCE(json_extract(CAST(payload AS TEXT), '$.ledger'), 0)
	WHERE kind = 'objects' AND json_valid(CAST(payload AS TEXT));
CREATE INDEX outbox_ledger ON outbox (ledger) WHERE ledger > 0;
`

// recallsSchema is migration 6.
const recallsSchema = `
-- Recalls: one row per (recall, party), with the signed notice and, once
-- it came (or for an inbound recall, once it was sent), the signed
-- acknowledgement. Ids and parties only: no content.
CREATE TABLE recalls (
	id         TEXT    NOT NULL,
	party      TEXT    NOT NULL,
	object_id  TEXT    NOT NULL,
	originator TEXT    NOT NULL,
	inbound    INTEGER NOT NULL,
	objects    TEXT    NOT NULL,
	reason     TEXT    NOT NULL,
	notice     BLOB    NOT NULL,
	state      TEXT    NOT NULL,
	issued_us  INTEGER NOT NULL,
	actor      TEXT    NOT NULL,
	acked_us   INTEGER NOT NULL,
	ack        BLOB    NOT NULL,
	PRIMARY KEY (id, party)
) WITHOUT ROWID;
CREATE INDEX recalls_object ON recalls (object_id);
`

// followupsSchema (migration 12): follow-up work written in the transaction
// of the ingest or receipt that causes it, deleted by the transaction that
// carries it out (store/followups.go).
const followupsSchema = `
CREATE TABLE followups (
	id         INTEGER PRIMARY KEY,
	kind       TEXT    NOT NULL,
	actor      TEXT    NOT NULL,
	source     TEXT    NOT NULL DEFAULT '',
	payload    BLOB    NOT NULL,
	created_us INTEGER NOT NULL,
	attempts   INTEGER NOT NULL DEFAULT 0,
	last_error TEXT    NOT NULL DEFAULT ''
);
`

// nodeKeysSchema (migration 13) keeps node secrets, wrapped under the KEK
// (store.NodeKey). It only creates an empty table: trivial at any size.
// instancesSchema (migration 14) makes an object's key (id, instance,
// modified): a version joins its instance only (polyinstantiation,
// docs/SECURITY.md). Every row stored before is of the default instance 0,
// so the objects table gains a column with a constant default (no row is
// rewritten); object_ids, whose primary key is the key, is copied once into
// a table keyed by it (timed at 2M objects: docs/STORAGE.md). Tombstones
// learn the classes of what they destroyed and how many instances; an older
// tombstone knows no classes, and is taken as known to every submitter.
const instancesSchema = `
ALTER TABLE objects ADD COLUMN instance INTEGER NOT NULL DEFAULT 0;
CREATE TABLE object_ids_keyed (
	id          TEXT    NOT NULL,
	instance    INTEGER NOT NULL,
	modified_us INTEGER NOT NULL,
	seq         INTEGER NOT NULL,
	class       INTEGER NOT NULL,
	PRIMARY KEY (id, instance, modified_us)
) WITHOUT ROWID;
INSERT INTO object_ids_keyed (id, instance, modified_us, seq, class)
	SELECT id, 0, modified_us, seq, class FROM object_ids ORDER BY id, modified_us;
DROP TABLE object_ids;
ALTER TABLE object_ids_keyed RENAME TO object_ids;
ALTER TABLE tombstones ADD COLUMN classes TEXT NOT NULL DEFAULT '';
ALTER TABLE tombstones ADD COLUMN instances INTEGER NOT NULL DEFAULT 1;
`

// tombstonesByInstanceSchema (migration 20) keeps a tombstone per
// instance of an object, not per id, so a purge can destroy some versions
// of one instance (store.Purge): versions_us says which versions (their
// modified_us), whole that the instance was purged to its last version.
// A tombstone before it purged every instance below its instances count
// whole: it becomes one whole row per instance, its classes and versions
// copied to each (which versions were whose is not known; whole refuses
// every version anyway). The table is small (a row per purged object) and
// copied once (timed at 2M tombstones: docs/STORAGE.md).
const tombstonesByInstanceSchema = `
CREATE TABLE tombstones_by_instance (
	id          TEXT    NOT NULL,
	instance    INTEGER NOT NULL,
	versions    TEXT    NOT NULL, -- JSON array of the modified values destroyed
	versions_us TEXT    NOT NULL, -- their modified_us, comma separated ('' before this migration)
	purged_us   INTEGER NOT NULL,
	reason      TEXT    NOT NULL,
	classes     TEXT    NOT NULL,
	whole       INTEGER NOT NULL,
	PRIMARY KEY (id, instance)
) WITHOUT ROWID;
WITH RECURSIVE k(n) AS (
	SELECT 0 UNION ALL SELECT n + 1 FROM k WHERE n + 1 < (SELECT COALESCE(MAX(instances), 1) FROM tombstones)
)
INSERT INTO tombstones_by_instance (id, instance, versions, versions_us, purged_us, reason, classes, whole)
	SELECT t.id, k.n, t.versions, '', t.purged_us, t.reason, t.classes, 1 FROM tombstones t JOIN k ON k.n < t.instances
	ORDER BY t.id, k.n;
DROP TABLE tombstones;
ALTER TABLE tombstones_by_instance RENAME TO tombstones;
`

// retentionByVersionSchema (migration 21) keeps a retention time per
// version (id, instance, modified_us), not per id: what a partner's
// agreement lets this node keep, and how long, is decided per version
// received, and retention purges those versions (node/retention). A time
// recorded for an id before applies to every version it has: rows merged
// into object_ids and the tail above the watermark (objects by seq)
// together (timed at 2M rows: docs/STORAGE.md).
const retentionByVersionSchema = `
CREATE TABLE retention_versions (
	id          TEXT    NOT NULL,
	instance    INTEGER NOT NULL,
	modified_us INTEGER NOT NULL,
	until_us    INTEGER NOT NULL,
	PRIMARY KEY (id, instance, modified_us)
) WITHOUT ROWID;
INSERT OR IGNORE INTO retention_versions (id, instance, modified_us, until_us)
	SELECT r.id, i.instance, i.modified_us, r.until_us FROM retention r JOIN object_ids i ON i.id = r.id ORDER BY 1, 2, 3;
INSERT OR IGNORE INTO retention_versions (id, instance, modified_us, until_us)
	SELECT o.id, o.instance, o.modified_us, r.until_us FROM objects o CROSS JOIN retention r
	WHERE o.seq > (SELECT merged FROM object_ids_merged) AND r.id = o.id;
DROP TABLE retention;
ALTER TABLE retention_versions RENAME TO retention;
CREATE INDEX retention_until ON retention (until_us);
`

const nodeKeysSchema = `
CREATE TABLE node_keys (
	name       TEXT    PRIMARY KEY,
	wrapped    BLOB    NOT NULL,
	created_us INTEGER NOT NULL
) WITHOUT ROWID;
`

// webSessionsSchema (migration 15) keeps the web interface's passwords and
// sessions (store.Password, store.Session; store/sqlite/internal/records). It only creates empty tables:
// trivial at any size.
const webSessionsSchema = `
CREATE TABLE web_passwords (
	user_id         TEXT    PRIMARY KEY REFERENCES users(id),
	hash            TEXT    NOT NULL,
	changed_us      INTEGER NOT NULL,
	failures        INTEGER NOT NULL,
	locked_until_us INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE web_sessions (
	id           TEXT    PRIMARY KEY,
	user_id      TEXT    NOT NULL REFERENCES users(id),
	created_us   INTEGER NOT NULL,
	last_seen_us INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX web_sessions_user ON web_sessions (user_id);
`

// accessMACsSchema (migration 16) keeps each version's access MAC
// (store.AccessMAC) in a table of its own keyed by seq, as data keys are:
// adding a column to objects and filling it would rewrite every row (its
// raw and bindings with it), and a column after the large ones is read
// only through their overflow pages. access_mac_backfill records which
// rows predate the MACs (seq at most upto) and whether the node has
// computed theirs (done_us); the migration itself reads no row of objects
// but one index entry (MAX(seq)), so it is instant at any size, and the
// node's backfill does the work (docs/STORAGE.md).
const accessMACsSchema = `
CREATE TABLE access_macs (
	seq INTEGER PRIMARY KEY,
	mac BLOB    NOT NULL
);
CREATE TABLE access_mac_backfill (
	one     INTEGER PRIMARY KEY CHECK (one = 1),
	upto    INTEGER NOT NULL,
	done_us INTEGER NOT NULL
);
INSERT INTO access_mac_backfill (one, upto, done_us) SELECT 1, COALESCE(MAX(seq), 0), 0 FROM objects;
`

// auditIndexSchema (migration 18) is the audit log's index
// (store.AuditIndexRow): empty when made, filled from the log by the node
// (node/oversight), so the migration itself costs little at any size (the
// ledger's party index is built from the ledger, which is small).
// Each filter column is indexed with idx, so a filtered page newest first
// is one backward range read.
const auditIndexSchema = `
CREATE TABLE audit_index (
	idx     INTEGER PRIMARY KEY,
	at_us   INTEGER NOT NULL,
	actor   TEXT    NOT NULL,
	action  TEXT    NOT NULL,
	object  TEXT    NOT NULL,
	partner TEXT    NOT NULL
);
CREATE INDEX audit_index_actor   ON audit_index (actor, idx);
CREATE INDEX audit_index_action  ON audit_index (action, idx);
CREATE INDEX audit_index_object  ON audit_index (object, idx) WHERE object <> '';
CREATE INDEX audit_index_partner ON audit_index (partner, idx) WHERE partner <> '';
CREATE INDEX audit_index_at      ON audit_index (at_us);
-- Ledger reports per partner (store.LedgerQuery.Party).
CREATE INDEX ledger_party ON ledger (party, at_us);
`

const idsSchema = `
CREATE TABLE object_ids (
	id          TEXT    NOT NULL,
	modified_us INTEGER NOT NULL,
	seq         INTEGER NOT NULL,
	class       INTEGER NOT NULL,
	PRIMARY KEY (id, modified_us)
) WITHOUT ROWID;
CREATE TABLE object_ids_merged (merged INTEGER NOT NULL);
`

// Witnessing (migration 10, witnessSchema): what this node cosigned for
// partner logs, and what its own log's witnesses returned.
const witnessSchema = `
-- As a witness: the latest checkpoint cosigned per partner log (C2SP
-- tlog-witness keeps exactly this), the rollbacks logs declared, and the
-- split views found.
CREATE TABLE witnessed_logs (
	origin     TEXT    PRIMARY KEY,
	size       INTEGER NOT NULL,
	root       BLOB    NOT NULL,
	note       BLOB    NOT NULL,
	updated_us INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE witness_rollbacks (
	origin    TEXT    NOT NULL,
	old_size  INTEGER NOT NULL,
	old_root  BLOB    NOT NULL,
	new_size  INTEGER NOT NULL,
	new_root  BLOB    NOT NULL,
	statement BLOB    NOT NULL,
	at_us     INTEGER NOT NULL,
	PRIMARY KEY (origin, old_size, new_size, new_root)
) WITHOUT ROWID;
CREATE TABLE split_views (
	id          INTEGER PRIMARY KEY,
	origin      TEXT    NOT NULL,
	peer        TEXT    NOT NULL,
	size        INTEGER NOT NULL,
	ours        BLOB    NOT NULL,
	theirs      BLOB    NOT NULL,
	ours_root   BLOB    NOT NULL,
	their_root  BLOB    NOT NULL,
	reporter    TEXT    NOT NULL,
	detected_us INTEGER NOT NULL,
	acked_us    INTEGER NOT NULL DEFAULT 0,
	acked_by    TEXT    NOT NULL DEFAULT '',
	UNIQUE (origin, size, ours_root, their_root)
);
-- As a log: the witnesses' cosignatures of its checkpoints, and the
-- rollback statements restores signed.
CREATE TABLE audit_cosignatures (
	witness    TEXT    NOT NULL,
	size       INTEGER NOT NULL,
	line       BLOB    NOT NULL,
	created_us INTEGER NOT NULL,
	PRIMARY KEY (witness, size)
) WITHOUT ROWID;
CREATE INDEX audit_cosignatures_size ON audit_cosignatures (size);
CREATE TABLE audit_rollbacks (
	seq        INTEGER PRIMARY KEY,
	old_size   INTEGER NOT NULL,
	new_size   INTEGER NOT NULL,
	statement  BLOB    NOT NULL,
	created_us INTEGER NOT NULL
);
`

// moveAuditTree is migration 9: the tree hashes move from audit_hashes, a
// row per hash, into the tree column of the leaf that added them
// (store/internal/treehash), and audit_hashes goes. A page of audited reads
// wrote three rows per leaf; it now writes one. A tree out of step with its
// leaves is not moved: the migration fails and the database is left as it
// was, so that the previous release's `tearline audit verify` can say where.
func moveAuditTree(ctx context.Context, tx *sql.Tx) error {
	var n, count, next int64
	if err := tx.QueryRowContext(ctx, treehash.OldTreeSizes).Scan(&n, &count, &next); err != nil {
		return err
	}
	if err := treehash.CheckOldTree(n, count, next); err != nil {
		return err
	}
	st, err := tx.PrepareContext(ctx, `UPDATE audit SET tree = ? WHERE idx = ?`)
	if err != nil {
		return err
	}
	defer st.Close()
	// A chunk of leaves at a time: a large log's hashes do not fit in memory
	// at once.
	const chunk = 65536
	for a := int64(0); a < n && count > 0; a += chunk {
		b := min(a+chunk, n)
		trees, err := hashesByLeaf(ctx, tx, a, b)
		if err != nil {
			return err
		}
		for i, tree := range trees {
			if _, err := st.ExecContext(ctx, tree, a+int64(i)); err != nil {
				return fmt.Errorf("audit tree of leaf %d: %w", a+int64(i), err)
			}
		}
	}
	_, err = tx.ExecContext(ctx, `DROP TABLE audit_hashes`)
	return err
}

// hashesByLeaf reads the audit_hashes rows of leaves [a, b) and groups them
// into tree values, one per leaf.
func hashesByLeaf(ctx context.Context, tx *sql.Tx, a, b int64) ([][]byte, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, hash FROM audit_hashes WHERE id >= ? AND id < ? ORDER BY id`,
		tlog.StoredHashIndex(0, a), tlog.StoredHashIndex(0, b))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return treehash.ReadOldTrees(rows, a, b)
}

// instanceWireSchema (migration 17) names instances where versions are
// named outside the objects table (docs/FEDERATION.md, "Instances on the
// wire"): the ledger and release requests learn the instance of the
// version they name (a constant default: no row is rewritten, timed at 2M
// ledger rows in docs/STORAGE.md), and instance_origins records which of
// its originator's instances each instance received from a partner holds.
const instanceWireSchema = `
ALTER TABLE ledger ADD COLUMN instance INTEGER NOT NULL DEFAULT 0;
ALTER TABLE release_requests ADD COLUMN instance INTEGER NOT NULL DEFAULT 0;
CREATE TABLE instance_origins (
	object_id       TEXT    NOT NULL,
	instance        INTEGER NOT NULL,
	originator      TEXT    NOT NULL,
	origin_instance INTEGER NOT NULL,
	PRIMARY KEY (object_id, instance)
) WITHOUT ROWID;
`
