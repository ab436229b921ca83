package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/store/internal/bindpack"
	"github.com/tearline/tearline/store/internal/scan"
	"github.com/tearline/tearline/store/sqlite/internal/idindex"
	"github.com/tearline/tearline/store/sqlite/internal/records"
	"github.com/tearline/tearline/store/sqlite/internal/searchdb"
)

// querier is what *sql.DB and *sql.Tx share.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// reader reads through q; ids finds the rows of an object's versions
// (internal/idindex).
//
// The record tables are read by types of their own, embedded here, so that
// no one type carries every read: sharingReader (agreements.go, recalls.go),
// queueReader (outbox.go, followups.go), and the accounts' and witness
// records' readers (internal/records).
type reader struct {
	q   querier
	ids versionFinder
	sharingReader
	queueReader
	records.AccountReader
	records.WitnessReader
	auditIndexReader // auditindex.go
	searchdb.Reader  // internal/searchdb: the search index
}

// newReader returns the reader over q, finding versions with ids.
func newReader(q querier, ids versionFinder) reader {
	return reader{q: q, ids: ids, sharingReader: sharingReader{q}, queueReader: queueReader{q},
		AccountReader: records.NewAccountReader(q), WitnessReader: records.NewWitnessReader(q),
		auditIndexReader: auditIndexReader{q}, Reader: searchdb.Reader{Q: q, Env: searchEnv}}
}

// searchEnv is what the search index's reads share with listings.
var searchEnv = &searchdb.Env{ListWhere: listWhere, ObjectsSelect: `SELECT ` + objectCols + ` FROM ` + objectsKeyed, Collect: collectObjects}

// versionFinder returns where the versions of ids are stored. Rows may be
// stale: reads fetch by seq and id.
type versionFinder interface {
	versionRows(ctx context.Context, ids []string) ([]idindex.Row, error)
}

// sharedIDs finds versions for reads outside a transaction: the tail,
// caught up first, and object_ids.
type sharedIDs struct {
	x *idindex.Index
	q querier
}

func (s sharedIDs) versionRows(ctx context.Context, ids []string) ([]idindex.Row, error) {
	if err := s.x.CatchUp(ctx, s.q); err != nil {
		return nil, err
	}
	return idindex.Indexed(ctx, s.q, ids, s.x.Lookup(ids, nil))
}

// pointVersions reads the versions of one id outside a transaction in one
// statement, where versions takes three (catching the tail up, object_ids,
// the rows): a read by id is the request readers make most, and each
// statement is a read transaction of its own. Rows the tail may not hold
// yet (stored by another process since the tail last caught up) are found
// by their seq, above what the tail has seen and so few; the tail catches
// up at most every catchUpEvery to keep them few.
func (s sharedIDs) pointVersions(ctx context.Context, id string) ([]store.ObjectVersion, error) {
	if s.x.CatchUpDue() {
		if err := s.x.CatchUp(ctx, s.q); err != nil {
			return nil, err
		}
	}
	tail, seen := s.x.LookupOne(id)
	args := []any{id, seen}
	for _, e := range tail {
		args = append(args, e.Seq)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rows, err := s.q.QueryContext(pointRead(ctx), pointVersionsSQL(len(tail)), args...)
	if err != nil {
		return nil, err
	}
	return collectObjects(rows, 0)
}

// pointRead is ctx for a point read (a few rows by key, done in well under
// a millisecond), without its cancellation: for a cancellable context
// database/sql and the driver each start a goroutine per query to watch it
// (and the driver installs a progress handler), which cost a read by id
// more CPU than the cancellation could ever save it. Values are kept.
func pointRead(ctx context.Context) context.Context { return context.WithoutCancel(ctx) }

// pointVersionsSQL is pointVersions' statement for an id with tail entries
// in the tail: ?1 the id, ?2 the seq the tail has seen, then their seqs.
func pointVersionsSQL(tail int) string {
	var b strings.Builder
	b.WriteString(`SELECT ` + objectCols + ` FROM ` + objectsKeyed + ` WHERE o.id = ?1 AND o.seq IN (` +
		`SELECT seq FROM object_ids WHERE id = ?1 UNION ALL SELECT seq FROM objects WHERE seq > ?2 AND id = ?1`)
	for i := range tail {
		fmt.Fprintf(&b, ` UNION ALL SELECT ?%d`, i+3)
	}
	b.WriteString(`) ORDER BY o.modified_us, o.instance`)
	return b.String()
}

// objectCols are read from objectsKeyed: each version with its data key
// and its access MAC.
const objectCols = `o.seq, o.id, o.type, o.modified, o.modified_us, o.created, o.revoked, o.digest, o.raw, o.bindings, o.class, o.date_added_us, o.originator, o.instance, k.wrapped, m.mac`

// keyJoin joins each version row o with its data key k and its access MAC
// m (accessmacs.go).
const keyJoin = ` LEFT JOIN data_keys k ON k.seq = o.seq LEFT JOIN access_macs m ON m.seq = o.seq`

const objectsKeyed = `objects o` + keyJoin

func scanObject(sc scan.Scanner) (store.ObjectVersion, error) {
	return scanVersion(sc, true)
}

// scanPending reads a row of pendingCols (accessmacs.go).
func scanPending(sc scan.Scanner) (store.ObjectVersion, error) {
	return scanVersion(sc, false)
}

// scanVersion reads a row of objectCols, or of pendingCols without content.
func scanVersion(sc scan.Scanner, content bool) (store.ObjectVersion, error) {
	var v store.ObjectVersion
	var modUS, addedUS int64
	var revoked int
	// The stored bindings are read where the driver holds them: Unpack
	// copies.
	var bindings sql.RawBytes
	var err error
	if content {
		err = sc.Scan(&v.Seq, &v.ID, &v.Type, &v.Modified, &modUS, &v.Created, &revoked, &v.Digest, &v.Raw, &bindings, &v.Class, &addedUS, &v.Originator, &v.Instance, &v.Key, &v.MAC)
	} else {
		err = sc.Scan(&v.Seq, &v.ID, &v.Type, &v.Modified, &modUS, &v.Created, &revoked, &v.Digest, &bindings, &v.Class, &addedUS, &v.Originator, &v.Instance)
	}
	v.ModifiedAt = time.UnixMicro(modUS).UTC()
	v.DateAdded = time.UnixMicro(addedUS).UTC()
	v.Revoked = revoked != 0
	if err == nil {
		if v.Bindings, err = bindpack.Unpack(bindings); err != nil {
			err = fmt.Errorf("object %s version %s: %w", v.ID, v.Modified, err)
		}
	}
	return v, err
}

func (r reader) Versions(ctx context.Context, id string) ([]store.ObjectVersion, error) {
	var vs []store.ObjectVersion
	var err error
	if s, ok := r.ids.(sharedIDs); ok {
		vs, err = s.pointVersions(ctx, id)
	} else {
		vs, err = r.versions(ctx, []string{id})
	}
	if err != nil {
		return nil, fmt.Errorf("versions of %s: %w", id, err)
	}
	return vs, nil
}

// versions reads the versions of ids (at most manyIDs), by id and version.
func (r reader) versions(ctx context.Context, ids []string) ([]store.ObjectVersion, error) {
	at, err := r.ids.versionRows(ctx, ids)
	if err != nil {
		return nil, err
	}
	list, ok := idindex.SeqList(at)
	if !ok {
		return nil, nil
	}
	in, args := placeholders(ids)
	rows, err := r.q.QueryContext(ctx, `SELECT `+objectCols+` FROM `+objectsKeyed+` WHERE o.seq IN (`+list+`) AND o.id IN (`+in+`) ORDER BY o.id, o.modified_us, o.instance`, args...)
	if err != nil {
		return nil, err
	}
	return collectObjects(rows, 0)
}

// manyIDs bounds the ids bound in one statement of a many-id read, well
// under SQLite's limit on host parameters.
const manyIDs = 500

// distinctChunks returns ids without repeats, in chunks of at most manyIDs.
func distinctChunks(ids []string) [][]string {
	seen := make(map[string]bool, len(ids))
	var out [][]string
	var cur []string
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		cur = append(cur, id)
		if len(cur) == manyIDs {
			out, cur = append(out, cur), nil
		}
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

func placeholders(ids []string) (string, []any) {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return strings.TrimSuffix(strings.Repeat("?,", len(ids)), ","), args
}

func (r reader) VersionsOf(ctx context.Context, ids []string) ([]store.ObjectVersion, error) {
	var out []store.ObjectVersion
	for _, chunk := range distinctChunks(ids) {
		vs, err := r.versions(ctx, chunk)
		if err != nil {
			return nil, fmt.Errorf("versions of %d objects: %w", len(chunk), err)
		}
		out = append(out, vs...)
	}
	return out, nil
}

func (r reader) ProvenanceOf(ctx context.Context, ids []string) (map[string]store.Provenance, error) {
	out := map[string]store.Provenance{}
	for _, chunk := range distinctChunks(ids) {
		in, args := placeholders(chunk)
		rows, err := r.q.QueryContext(ctx, `SELECT object_id, originator, received_from, hops, received_us, derived_from FROM provenance WHERE object_id IN (`+in+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("provenance of %d objects: %w", len(chunk), err)
		}
		ps, err := scan.Collect(rows, scan.WrapErrors("provenance", scan.Provenance))
		rows.Close()
		if err != nil {
			return nil, err
		}
		for _, p := range ps {
			out[p.ObjectID] = p
		}
	}
	return out, nil
}

// collectObjects reads about n versions' rows (n may be 0: unknown).
func collectObjects(rows *sql.Rows, n int) ([]store.ObjectVersion, error) {
	defer rows.Close()
	return scan.CollectN(rows, n, scanObject)
}

// listWhere builds the filter shared by List and Count. Classes and the
// type list become literals (integers are formatted by us; types are bound),
// which lets SQLite use its indexes.
func listWhere(q store.ListQuery) (string, []any) {
	var b strings.Builder
	var args []any
	classes := make([]string, len(q.Classes))
	for i, c := range q.Classes {
		classes[i] = strconv.FormatInt(c, 10)
	}
	in := strings.Join(classes, ",")
	b.WriteString(`o.class IN (` + in + `)`)
	if len(q.Types) > 0 {
		b.WriteString(` AND o.type IN (` + strings.Repeat("?,", len(q.Types)-1) + `?)`)
		for _, t := range q.Types {
			args = append(args, t)
		}
	}
	if !q.IncludeRevoked {
		b.WriteString(` AND o.revoked = 0`)
	}
	// The latest version of its instance the caller may see: no visible
	// version of the instance is newer. Only versions marked newer need the
	// look: the rest are the latest. Such an instance has several
	// versions, so all of them are in object_ids (internal/idindex).
	// The row's own entry (s) names its instance: o.instance sits after the
	// large columns, and reading it would reach a large row's overflow pages.
	b.WriteString(` AND (o.newer = 0 OR NOT EXISTS (SELECT 1 FROM object_ids s, object_ids n WHERE s.id = o.id AND s.modified_us = o.modified_us AND s.seq = o.seq` +
		` AND n.id = s.id AND n.instance = s.instance AND n.modified_us > s.modified_us AND n.class IN (` + in + `)))`)
	return b.String(), args
}

// listFrom names the index a listing walks. Both listing indexes hold the
// columns the filter tests, so a row is read only once it passes; left to
// itself the planner may walk the table in seq order instead, reading every
// row it rejects.
func listFrom(q store.ListQuery) string {
	if len(q.Types) > 0 {
		return `objects o INDEXED BY objects_type_list` + keyJoin
	}
	return `objects o INDEXED BY objects_list` + keyJoin
}

func (r reader) List(ctx context.Context, q store.ListQuery) ([]store.ObjectVersion, error) {
	if len(q.Classes) == 0 {
		return nil, nil
	}
	where, args := listWhere(q)
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	args = append(args, q.After, limit)
	rows, err := r.q.QueryContext(ctx, `SELECT `+objectCols+` FROM `+listFrom(q)+` WHERE `+where+` AND o.seq > ? ORDER BY o.seq LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("list objects: %w", err)
	}
	return collectObjects(rows, limit)
}

func (r reader) Count(ctx context.Context, q store.ListQuery) (int64, error) {
	if len(q.Classes) == 0 {
		return 0, nil
	}
	where, args := listWhere(q)
	var n int64
	q1 := `SELECT COUNT(*) FROM objects o WHERE ` + where
	if q.CountAtMost > 0 {
		q1 = `SELECT COUNT(*) FROM (SELECT 1 FROM objects o WHERE ` + where + ` LIMIT ` + strconv.FormatInt(q.CountAtMost, 10) + `)`
	}
	if err := r.q.QueryRowContext(ctx, q1, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count objects: %w", err)
	}
	return n, nil
}

func (r reader) Label(ctx context.Context, id string) ([]byte, error) {
	var raw []byte
	err := r.q.QueryRowContext(ctx, `SELECT raw FROM labels WHERE id = ?`, id).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("label %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("label %s: %w", id, err)
	}
	return raw, nil
}

func (r reader) AccessClasses(ctx context.Context, after int64) ([]store.AccessClass, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT id, key FROM access_classes WHERE id > ? ORDER BY id`, after)
	if err != nil {
		return nil, fmt.Errorf("access classes: %w", err)
	}
	defer rows.Close()
	return scan.Collect(rows, scan.AccessClass)
}

func (r reader) AuditSize(ctx context.Context) (int64, error) {
	var n int64
	err := r.q.QueryRowContext(ctx, auditSizeSQL).Scan(&n)
	return n, err
}

func (r reader) AuditEntries(ctx context.Context, start, end int64) ([]store.AuditEntry, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT idx, data FROM audit WHERE idx >= ? AND idx < ? ORDER BY idx`, start, end)
	if err != nil {
		return nil, fmt.Errorf("audit entries [%d,%d): %w", start, end, err)
	}
	defer rows.Close()
	return scan.Collect(rows, scan.AuditEntry)
}
