package postgres

import (
	"context"
	"fmt"
	"github.com/tearline/tearline/store/postgres/internal/searchdb"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tearline/tearline/store/postgres/internal/records"
)

// migrations are applied in order, each once, forward only, and recorded in
// schema_migrations. Never edit a released migration: append a new one.
//
// The tables mirror package sqlite's: times are microseconds since the Unix
// epoch in bigint, bodies and hashes are bytea, and text that is ordered by
// (user names) uses the "C" collation, so order is by bytes as in SQLite
// whatever the database's locale.
var migrations = []string{
	1: `
CREATE TABLE labels (
	id  text  PRIMARY KEY,
	raw bytea NOT NULL
);

CREATE TABLE access_classes (
	id  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	key text   NOT NULL UNIQUE
);

CREATE TABLE objects (
	seq           bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	id            text    NOT NULL,
	type          text    NOT NULL,
	modified      text    NOT NULL,
	modified_us   bigint  NOT NULL,
	created       text    NOT NULL,
	revoked       boolean NOT NULL,
	digest        text    NOT NULL,
	raw           bytea   NOT NULL,
	bindings      bytea   NOT NULL,
	class         bigint  NOT NULL REFERENCES access_classes (id),
	date_added_us bigint  NOT NULL,
	originator    text    NOT NULL,
	UNIQUE (id, modified_us)
);
CREATE INDEX objects_type_seq ON objects (type, seq);

CREATE TABLE users (
	id            text    PRIMARY KEY,
	name          text    COLLATE "C" NOT NULL UNIQUE,
	role          text    NOT NULL,
	nationality   text    NOT NULL,
	org           text    NOT NULL,
	clearances    text    NOT NULL,
	compartments  text    NOT NULL,
	default_label text    NOT NULL,
	created_us    bigint  NOT NULL,
	disabled      boolean NOT NULL
);

CREATE TABLE tokens (
	id         text   PRIMARY KEY,
	user_id    text   NOT NULL REFERENCES users (id),
	hash       bytea  NOT NULL,
	created_us bigint NOT NULL,
	expires_us bigint NOT NULL,
	revoked_us bigint NOT NULL
);
CREATE INDEX tokens_user ON tokens (user_id);

-- The audit log: leaves of a Merkle tree, indexed densely from 0. The
-- writer lock sequences appends (see the package comment).
CREATE TABLE audit (
	idx  bigint PRIMARY KEY CHECK (idx >= 0),
	data bytea  NOT NULL
);

-- The audit Merkle tree's stored hashes, numbered as golang.org/x/mod/sumdb/tlog
-- numbers them (StoredHashIndex), written in the same transaction as the
-- leaves they cover.
CREATE TABLE audit_hashes (
	id   bigint PRIMARY KEY CHECK (id >= 0),
	hash bytea  NOT NULL
);

-- Signed checkpoints (C2SP tlog-checkpoint notes), at most one per size.
CREATE TABLE audit_checkpoints (
	size       bigint PRIMARY KEY,
	note       bytea  NOT NULL,
	created_us bigint NOT NULL
);
`,
	2: `
-- Encryption at rest (package seal): the wrapped data key of each sealed
-- object version, apart from the ciphertext so that a purge destroys a few
-- bytes and a key rotation rewrites only this table. Scrub vacuums it after
-- a purge.
CREATE TABLE data_keys (
	id          text   COLLATE "C" NOT NULL,
	modified_us bigint NOT NULL,
	wrapped     bytea  NOT NULL,
	PRIMARY KEY (id, modified_us)
);

-- The shred journal: one row per purged object, kept forever, no content.
CREATE TABLE tombstones (
	id        text   COLLATE "C" PRIMARY KEY,
	versions  text   NOT NULL, -- JSON array of the modified values destroyed
	purged_us bigint NOT NULL,
	reason    text   NOT NULL
);

-- Retention: when an object must be purged (the earliest any ingest asked
-- for). The retention sweeper purges what is due.
CREATE TABLE retention (
	id       text   PRIMARY KEY,
	until_us bigint NOT NULL
);
CREATE INDEX retention_until ON retention (until_us);
`,
	3:                agreementsSchema, // agreements.go
	4:                outboxSchema,     // outbox.go
	5:                recallsSchema,    // recalls.go
	listingMigration: listingSchema,
	treeMigration:    `ALTER TABLE audit ADD COLUMN tree bytea;`, // then moveAuditTree
	8: `
-- The audit log is read by leaf index only, through its primary key: the
-- planner needs no statistics on what a leaf holds. ANALYZE samples 300
-- rows per unit of the largest statistics target, and autovacuum analyzes
-- the log each time it grows by a tenth (every page read appends 1,001
-- leaves): at the default target of 100 each of those read ≈ 25,000 pages
-- at random for statistics nothing used. Measured at 2M objects: 1–2.4 s
-- and up to 0.8 s of CPU each, several times a minute of reading.
ALTER TABLE audit
	ALTER COLUMN idx SET STATISTICS 10,
	ALTER COLUMN data SET STATISTICS 0,
	ALTER COLUMN tree SET STATISTICS 0;
`,
	9:                records.WitnessSchema,
	serversMigration: serversSchema,        // servers.go
	11:               deliveryStatesSchema, // outbox.go
	12:               followupsSchema,      // followups.go
	13:               nodeKeysSchema,       // nodekeys.go
	14:               instancesSchema,
	15:               records.WebSessionsSchema, // internal/records
	16:               accessMACsSchema,          // accessmacs.go
	17:               instanceWireSchema,
	18:               auditIndexSchema, // auditindex.go
	19:               searchdb.Schema,  // internal/searchdb
	20:               tombstonesByInstanceSchema,
	21:               retentionByVersionSchema,
}

// treeMigration moves the audit tree's hashes into the leaves' rows
// (moveAuditTree, audit.go).
const treeMigration = 7

// listingMigration is the version of listingSchema.
const listingMigration = 6

// listingSchema makes a listing's cost independent of the table's size (the
// SQLite store's migration 7 says why, point by point): newer marks every
// version that has a later one, so "the latest visible version" needs a
// look at the object's other versions only for those (found through the
// small partial indexes on newer); the listing indexes hold what the filter
// tests, so the rows a caller may not see are rejected by index-only scans
// (see List); data keys are keyed by the object row's seq,
// so a page's keys sit together and an ingest appends them instead of
// writing into random pages of an (id, modified) b-tree. No foreign key
// from data_keys to objects: its check would lock each new object row, and
// PurgeObject deletes keys before their rows anyway.
const listingSchema = `
ALTER TABLE objects ADD COLUMN newer boolean NOT NULL DEFAULT false;
-- Rows up to a page stay whole in the heap: a listing then reads one heap
-- page per row, not the row, the TOAST index and the TOAST heap. raw is
-- ciphertext, which compression cannot shrink, so it is never tried.
ALTER TABLE objects SET (toast_tuple_target = 8160);
ALTER TABLE objects ALTER COLUMN raw SET STORAGE EXTERNAL;
UPDATE objects o SET newer = true FROM (
	SELECT seq, lead(modified_us) OVER (PARTITION BY id ORDER BY modified_us) AS next_us FROM objects
) l WHERE l.seq = o.seq AND l.next_us IS NOT NULL;
DROP INDEX objects_type_seq;
CREATE INDEX objects_type_list ON objects (type, seq) INCLUDE (class, revoked, newer);
CREATE INDEX objects_list ON objects (seq) INCLUDE (class, revoked, newer);
CREATE INDEX objects_type_newer ON objects (type, seq) WHERE newer;
CREATE INDEX objects_newer ON objects (seq) WHERE newer;

CREATE TABLE object_keys (
	seq     bigint PRIMARY KEY,
	wrapped bytea  NOT NULL
);
INSERT INTO object_keys (seq, wrapped)
	SELECT o.seq, k.wrapped FROM data_keys k JOIN objects o ON o.id = k.id AND o.modified_us = k.modified_us;
DROP TABLE data_keys;
ALTER TABLE object_keys RENAME TO data_keys;
ALTER INDEX object_keys_pkey RENAME TO data_keys_pkey;
`

// instancesSchema makes an object's key (id, instance, modified): a version
// joins its instance only (polyinstantiation, docs/SECURITY.md). Every row
// stored before is of the default instance 0: the column's constant default
// rewrites no row; the unique index on the key is built once (at 2M
// objects: docs/STORAGE.md) and replaces the one on (id, modified_us).
// Tombstones learn the classes of what they destroyed and how many
// instances; an older tombstone knows no classes, and is taken as known to
// every submitter.
const instancesSchema = `
ALTER TABLE objects ADD COLUMN instance bigint NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX objects_key ON objects (id, instance, modified_us);
ALTER TABLE objects DROP CONSTRAINT objects_id_modified_us_key;
ALTER TABLE tombstones ADD COLUMN classes text NOT NULL DEFAULT '';
ALTER TABLE tombstones ADD COLUMN instances bigint NOT NULL DEFAULT 1;
`

// instanceWireSchema names instances where versions are named outside the
// objects table (docs/FEDERATION.md, "Instances on the wire"): the ledger
// and release requests learn the instance of the version they name (a
// constant default rewrites no row; timed at 2M ledger rows in
// docs/STORAGE.md), and instance_origins records which of its
// originator's instances each instance received from a partner holds.
const instanceWireSchema = `
ALTER TABLE ledger ADD COLUMN instance bigint NOT NULL DEFAULT 0;
ALTER TABLE release_requests ADD COLUMN instance bigint NOT NULL DEFAULT 0;
CREATE TABLE instance_origins (
	object_id       text   NOT NULL,
	instance        bigint NOT NULL,
	originator      text   NOT NULL,
	origin_instance bigint NOT NULL,
	PRIMARY KEY (object_id, instance)
);
`

// tombstonesByInstanceSchema keeps a tombstone per instance of an object,
// not per id, so a purge can destroy some versions of one instance (the
// SQLite store's migration 20 says how; timed at 2M tombstones:
// docs/STORAGE.md). A tombstone before it becomes one whole row per
// instance it counted.
const tombstonesByInstanceSchema = `
ALTER TABLE tombstones DROP CONSTRAINT tombstones_pkey;
ALTER TABLE tombstones
	ADD COLUMN instance bigint NOT NULL DEFAULT 0,
	ADD COLUMN versions_us text NOT NULL DEFAULT '',
	ADD COLUMN whole boolean NOT NULL DEFAULT true;
INSERT INTO tombstones (id, instance, versions, versions_us, purged_us, reason, classes, whole)
	SELECT t.id, k, t.versions, '', t.purged_us, t.reason, t.classes, true
	FROM tombstones t, generate_series(1, t.instances - 1) AS k;
ALTER TABLE tombstones DROP COLUMN instances;
ALTER TABLE tombstones ADD PRIMARY KEY (id, instance);
`

// retentionByVersionSchema keeps a retention time per version (id,
// instance, modified_us), not per id (the SQLite store's migration 21 says
// why; timed at 2M rows: docs/STORAGE.md). A time recorded for an id
// before applies to every version it has.
const retentionByVersionSchema = `
CREATE TABLE retention_versions (
	id          text   NOT NULL,
	instance    bigint NOT NULL,
	modified_us bigint NOT NULL,
	until_us    bigint NOT NULL,
	PRIMARY KEY (id, instance, modified_us)
);
INSERT INTO retention_versions (id, instance, modified_us, until_us)
	SELECT o.id, o.instance, o.modified_us, r.until_us FROM retention r JOIN objects o ON o.id = r.id;
DROP TABLE retention;
ALTER TABLE retention_versions RENAME TO retention;
ALTER INDEX retention_versions_pkey RENAME TO retention_pkey;
CREATE INDEX retention_until ON retention (until_us);
`

// migrate brings the schema up to date in one transaction that first takes
// an advisory lock, so replicas starting at once apply each migration once:
// the others wait, then find it recorded. A database whose schema is newer
// than this binary knows is refused and left as it is.
func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	return migrateTo(ctx, pool, len(migrations)-1)
}

// migrateTo applies the migrations up to and including version last (tests
// build databases as older binaries left them).
func migrateTo(ctx context.Context, pool *pgxpool.Pool, last int) error {
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrateLockKey); err != nil {
			return fmt.Errorf("take migration lock: %w", err)
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    integer PRIMARY KEY,
			applied_us bigint  NOT NULL)`); err != nil {
			return err
		}
		var have int
		if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&have); err != nil {
			return err
		}
		if have > len(migrations)-1 {
			return fmt.Errorf("database schema version %d is newer than this binary knows (%d)", have, len(migrations)-1)
		}
		if err := checkNoOlderServers(ctx, tx, have, last); err != nil {
			return err
		}
		for v := have + 1; v <= last; v++ {
			if _, err := tx.Exec(ctx, migrations[v]); err != nil {
				return fmt.Errorf("migration %d: %w", v, err)
			}
			if v == treeMigration {
				if err := moveAuditTree(ctx, tx); err != nil {
					return fmt.Errorf("migration %d: %w", v, err)
				}
			}
			if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, applied_us) VALUES ($1, $2)`, v, time.Now().UnixMicro()); err != nil {
				return fmt.Errorf("migration %d: %w", v, err)
			}
		}
		// The listing migration adds objects.newer: without statistics for
		// it the planner takes it for common and scans the table for the
		// rows that have it, until autovacuum analyzes. Analyze now, but
		// only a table with rows: an empty table analyzed stays "empty" to
		// the planner, which then plans sequential scans for every lookup
		// by id until the next autoanalyze, a minute or more of ingest
		// into a new database at a fraction of its speed.
		if have < listingMigration && last >= listingMigration {
			var rows bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM objects)`).Scan(&rows); err != nil {
				return fmt.Errorf("migration %d: %w", listingMigration, err)
			}
			if rows {
				if _, err := tx.Exec(ctx, `ANALYZE objects`); err != nil {
					return fmt.Errorf("migration %d: analyze: %w", listingMigration, err)
				}
			}
		}
		return nil
	})
}
