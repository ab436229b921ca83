package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/store/internal/bindpack"
	"github.com/tearline/tearline/store/internal/scan"
	"github.com/tearline/tearline/store/postgres/internal/records"
	"github.com/tearline/tearline/store/postgres/internal/searchdb"
)

// querier is what *pgxpool.Pool and pgx.Tx share.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// reader reads through q. The record tables are read by types of their
// own, embedded here, so that no one type carries every read:
// sharingReader (agreements.go, recalls.go), queueReader (outbox.go,
// followups.go), and the accounts' and witness records' readers
// (internal/records).
type reader struct {
	q querier
	sharingReader
	queueReader
	records.AccountReader
	records.WitnessReader
	auditIndexReader // auditindex.go
	searchdb.Reader  // internal/searchdb: the search index
}

// newReader returns the reader over q.
func newReader(q querier) reader {
	return reader{q: q, sharingReader: sharingReader{q}, queueReader: queueReader{q},
		AccountReader: records.NewAccountReader(q), WitnessReader: records.NewWitnessReader(q),
		auditIndexReader: auditIndexReader{q}, Reader: searchdb.Reader{Q: q, Env: searchEnv}}
}

// searchEnv is what the search index's reads share with listings.
var searchEnv = &searchdb.Env{ListWhere: listWhere, ObjectsSelect: `SELECT ` + objectCols + ` FROM ` + objectsKeyed, Collect: collectObjects}

// objectCols are read from objectsKeyed: each version with its data key
// and its access MAC.
const objectCols = `o.seq, o.id, o.type, o.modified, o.modified_us, o.created, o.revoked, o.digest, o.raw, o.bindings, o.class, o.date_added_us, o.originator, o.instance, k.wrapped, m.mac`

// keyJoin joins each version row o with its data key k and its access MAC
// m (accessmacs.go).
const keyJoin = ` LEFT JOIN data_keys k ON k.seq = o.seq LEFT JOIN access_macs m ON m.seq = o.seq`

const objectsKeyed = `objects o` + keyJoin

func scanObject(sc scan.Scanner) (store.ObjectVersion, error) { return scanVersion(sc, true) }

// collectPending reads about n rows of pendingCols (accessmacs.go).
func collectPending(rows pgx.Rows, n int) ([]store.ObjectVersion, error) {
	defer rows.Close()
	return scan.CollectN(rows, n, func(sc scan.Scanner) (store.ObjectVersion, error) { return scanVersion(sc, false) })
}

// scanVersion reads a row of objectCols, or of pendingCols without content.
func scanVersion(sc scan.Scanner, content bool) (store.ObjectVersion, error) {
	var v store.ObjectVersion
	var modUS, addedUS int64
	// The stored bindings are read where pgx received them: Unpack copies.
	var bindings pgtype.DriverBytes
	var err error
	if content {
		err = sc.Scan(&v.Seq, &v.ID, &v.Type, &v.Modified, &modUS, &v.Created, &v.Revoked, &v.Digest, &v.Raw, &bindings, &v.Class, &addedUS, &v.Originator, &v.Instance, &v.Key, &v.MAC)
	} else {
		err = sc.Scan(&v.Seq, &v.ID, &v.Type, &v.Modified, &modUS, &v.Created, &v.Revoked, &v.Digest, &bindings, &v.Class, &addedUS, &v.Originator, &v.Instance)
	}
	v.ModifiedAt = time.UnixMicro(modUS).UTC()
	v.DateAdded = time.UnixMicro(addedUS).UTC()
	if err == nil {
		if v.Bindings, err = bindpack.Unpack(bindings); err != nil {
			err = fmt.Errorf("object %s version %s: %w", v.ID, v.Modified, err)
		}
	}
	return v, err
}

func (r reader) Versions(ctx context.Context, id string) ([]store.ObjectVersion, error) {
	rows, err := r.q.Query(ctx, `SELECT `+objectCols+` FROM `+objectsKeyed+` WHERE o.id = $1 ORDER BY o.modified_us, o.instance`, id)
	if err != nil {
		return nil, fmt.Errorf("versions of %s: %w", id, err)
	}
	vs, err := collectObjects(rows, 0)
	if err != nil {
		return nil, fmt.Errorf("versions of %s: %w", id, err)
	}
	return vs, nil
}

// distinct returns ids without repeats.
func distinct(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

func (r reader) VersionsOf(ctx context.Context, ids []string) ([]store.ObjectVersion, error) {
	ids = distinct(ids)
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := r.q.Query(ctx, `SELECT `+objectCols+` FROM `+objectsKeyed+` WHERE o.id = ANY($1) ORDER BY o.id, o.modified_us, o.instance`, ids)
	if err != nil {
		return nil, fmt.Errorf("versions of %d objects: %w", len(ids), err)
	}
	vs, err := collectObjects(rows, 0)
	if err != nil {
		return nil, fmt.Errorf("versions of %d objects: %w", len(ids), err)
	}
	return vs, nil
}

func (r reader) ProvenanceOf(ctx context.Context, ids []string) (map[string]store.Provenance, error) {
	out := map[string]store.Provenance{}
	ids = distinct(ids)
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := r.q.Query(ctx, `SELECT object_id, originator, received_from, hops, received_us, derived_from FROM provenance WHERE object_id = ANY($1)`, ids)
	if err != nil {
		return nil, fmt.Errorf("provenance of %d objects: %w", len(ids), err)
	}
	defer rows.Close()
	ps, err := scan.Collect(rows, scan.WrapErrors("provenance", scan.Provenance))
	if err != nil {
		return nil, err
	}
	for _, p := range ps {
		out[p.ObjectID] = p
	}
	return out, nil
}

// collectObjects reads about n versions' rows (n may be 0: unknown).
func collectObjects(rows pgx.Rows, n int) ([]store.ObjectVersion, error) {
	defer rows.Close()
	return scan.CollectN(rows, n, scanObject)
}

// listWhere builds the filter shared by List and Count; its arguments start
// at $1. The class set is bound once, as an array, and used twice.
func listWhere(q store.ListQuery) (string, []any) {
	var b strings.Builder
	args := []any{q.Classes}
	b.WriteString(`o.class = ANY($1)`)
	if len(q.Types) > 0 {
		args = append(args, q.Types)
		b.WriteString(` AND o.type = ANY($2)`)
	}
	if !q.IncludeRevoked {
		b.WriteString(` AND NOT o.revoked`)
	}
	// The latest version the caller may see: no visible version is newer.
	// Only versions marked newer need the look: the rest are the latest.
	b.WriteString(` AND (NOT o.newer OR NOT EXISTS (SELECT 1 FROM objects n WHERE n.id = o.id AND n.instance = o.instance AND n.modified_us > o.modified_us AND n.class = ANY($1)))`)
	return b.String(), args
}

// List picks a page's rows in two steps. First the seqs: for each type
// asked for (or once, for any type), the latest versions (not newer) come
// from an index-only scan of objects_type_list (objects_list) whose
// INCLUDE columns answer the filter, so a row the caller may not see is
// rejected without a heap read; the versions marked newer, few, come from
// the partial index and are kept when no newer version is visible. Each
// branch is in seq order with its own LIMIT, and a merge takes the first
// page of them all. Then only the rows of the page are read, with their
// keys. (A single query with type = ANY(...) and the filter can use neither
// the index order nor the INCLUDE columns: PostgreSQL then reads and
// rejects each candidate row in the heap.)
func (r reader) List(ctx context.Context, q store.ListQuery) ([]store.ObjectVersion, error) {
	if len(q.Classes) == 0 {
		return nil, nil
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	args := []any{q.Classes, q.After, limit}
	live := ` AND class = ANY($1) AND NOT revoked`
	if q.IncludeRevoked {
		live = ` AND class = ANY($1)`
	}
	types := []string{""}
	if len(q.Types) > 0 {
		types = slices.Compact(slices.Sorted(slices.Values(q.Types)))
	}
	var b strings.Builder
	for i, t := range types {
		typ := ""
		if t != "" {
			args = append(args, t)
			typ = ` AND type = $` + strconv.Itoa(len(args))
		}
		if i > 0 {
			b.WriteString(` UNION ALL `)
		}
		b.WriteString(`(SELECT seq FROM objects WHERE seq > $2` + typ + live + ` AND NOT newer ORDER BY seq LIMIT $3)`)
		b.WriteString(` UNION ALL (SELECT seq FROM objects o WHERE seq > $2` + typ + live + ` AND newer AND NOT EXISTS (SELECT 1 FROM objects n WHERE n.id = o.id AND n.instance = o.instance AND n.modified_us > o.modified_us AND n.class = ANY($1)) ORDER BY seq LIMIT $3)`)
	}
	// An unnamed statement, planned for these values each time: a cached
	// generic plan knows neither the classes nor the limit, and the one
	// PostgreSQL settles on after five runs reads ~20 times more. It returns
	// only seqs: planning it with the row fetch joined on cost 1-3 ms a page,
	// while the fetch alone (listRows) has one good plan, prepared once.
	args = append([]any{pgx.QueryExecModeExec}, args...)
	rows, err := r.q.Query(ctx, `SELECT seq FROM (`+b.String()+`) c ORDER BY seq LIMIT $3`, args...)
	if err != nil {
		return nil, fmt.Errorf("list objects: %w", err)
	}
	seqs, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("list objects: %w", err)
	}
	if len(seqs) == 0 {
		return nil, nil
	}
	// A version purged between the two statements (each reads its own
	// snapshot outside a transaction) is simply not on the page: versions
	// are never changed, only added or purged.
	rows, err = r.q.Query(ctx, listRows, seqs)
	if err != nil {
		return nil, fmt.Errorf("list objects: %w", err)
	}
	vs, err := collectObjects(rows, len(seqs))
	if err != nil {
		return nil, fmt.Errorf("list objects: %w", err)
	}
	return vs, nil
}

// listRows reads a page's rows, with their keys, by seq.
const listRows = `SELECT ` + objectCols + ` FROM ` + objectsKeyed + ` WHERE o.seq = ANY($1::bigint[]) ORDER BY o.seq`

func (r reader) Count(ctx context.Context, q store.ListQuery) (int64, error) {
	if len(q.Classes) == 0 {
		return 0, nil
	}
	where, args := listWhere(q)
	var n int64
	q1 := `SELECT COUNT(*) FROM objects o WHERE ` + where
	if q.CountAtMost > 0 {
		q1 = `SELECT COUNT(*) FROM (SELECT 1 FROM objects o WHERE ` + where + ` LIMIT ` + strconv.FormatInt(q.CountAtMost, 10) + `) c`
	}
	if err := r.q.QueryRow(ctx, q1, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count objects: %w", err)
	}
	return n, nil
}

func (r reader) Label(ctx context.Context, id string) ([]byte, error) {
	var raw []byte
	err := r.q.QueryRow(ctx, `SELECT raw FROM labels WHERE id = $1`, id).Scan(&raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("label %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("label %s: %w", id, err)
	}
	return raw, nil
}

func (r reader) AccessClasses(ctx context.Context, after int64) ([]store.AccessClass, error) {
	rows, err := r.q.Query(ctx, `SELECT id, key FROM access_classes WHERE id > $1 ORDER BY id`, after)
	if err != nil {
		return nil, fmt.Errorf("access classes: %w", err)
	}
	defer rows.Close()
	out, err := scan.Collect(rows, scan.AccessClass)
	if err != nil {
		return nil, fmt.Errorf("access classes: %w", err)
	}
	return out, nil
}
