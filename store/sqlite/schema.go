package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"
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
	10: witnessSchema,                             // witness.go
	11: deliveryStatesSchema,                      // outbox.go
	12: followupsSchema,                           // followups.go
	13: nodeKeysSchema,                            // nodekeys.go
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
// object_ids (ids.go). The table is rebuilt because a UNIQUE constraint's
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

func migrate(ctx context.Context, db *sql.DB) error { return migrateTo(ctx, db, len(migrations)-1) }

// migrateTo applies the migrations up to and including version last (tests
// build databases as older binaries left them).
func migrateTo(ctx context.Context, db *sql.DB, last int) error {
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
