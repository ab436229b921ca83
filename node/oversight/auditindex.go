package oversight

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/store"
)

// indexChunk is how many entries one indexing transaction covers.
const indexChunk = 2000

// MaxFindAudit is the most entries one FindAudit returns.
const MaxFindAudit = 500

// FindAudit returns the audit entries matching f, newest first, at most
// MaxFindAudit. It indexes the log's tail first, so every entry appended
// before the call can be found. Auditors and admins only, as the log.
func (ov *Service) FindAudit(ctx context.Context, p *node.Principal, f store.AuditFilter) ([]store.AuditEntry, error) {
	if err := canAudit(p); err != nil {
		return nil, err
	}
	if _, err := ov.IndexAudit(ctx); err != nil {
		return nil, err
	}
	if f.Limit <= 0 || f.Limit > MaxFindAudit {
		f.Limit = MaxFindAudit
	}
	es, err := ov.n.Store().FindAudit(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("find audit entries: %w", err)
	}
	return es, nil
}

// DefaultAuditIndexInterval is how often serve indexes the log's tail
// (RunAuditIndex): an auditor's search first indexes what was appended
// since, about 10,000 entries a second, so a busy node's backlog must stay
// a second's worth, not the minute between checkpoints (BENCHMARKS.md,
// "Web interface at 2M objects").
const DefaultAuditIndexInterval = time.Second

// RunAuditIndex keeps the audit index close behind the log, indexing the
// tail every interval until ctx ends. serve runs it beside the API.
func (ov *Service) RunAuditIndex(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = DefaultAuditIndexInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := ov.IndexAudit(ctx); err != nil && ctx.Err() == nil {
			ov.n.Logger().Error("audit index", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// IndexAudit indexes the entries appended since the index was last
// brought up to date and returns how many it indexed. The index is derived
// from the log, after its entries are durable, so an append costs nothing
// more; replicas indexing at once write the same rows, and the store keeps
// the first.
func (ov *Service) IndexAudit(ctx context.Context) (int64, error) {
	ov.indexMu.Lock()
	defer ov.indexMu.Unlock()
	st := ov.n.Store()
	next, err := st.AuditIndexed(ctx)
	if err != nil {
		return 0, fmt.Errorf("index audit log: %w", err)
	}
	size, err := st.AuditSize(ctx)
	if err != nil {
		return 0, fmt.Errorf("index audit log: %w", err)
	}
	done := int64(0)
	for next < size {
		es, err := st.AuditEntries(ctx, next, min(size, next+indexChunk))
		if err != nil {
			return done, fmt.Errorf("index audit log at %d: %w", next, err)
		}
		if len(es) == 0 {
			break
		}
		rows := make([]store.AuditIndexRow, len(es))
		for i, e := range es {
			rows[i] = IndexRow(e)
		}
		if err := st.Update(ctx, func(tx store.Tx) error { return tx.IndexAudit(ctx, rows) }); err != nil {
			return done, fmt.Errorf("index audit log at %d: %w", next, err)
		}
		next += int64(len(es))
		done += int64(len(es))
	}
	return done, nil
}

// IndexRow is the index row of one entry. An entry that does not parse
// (none should) is indexed with its index alone, so the index stays dense
// and the entry is still found by an unfiltered search.
func IndexRow(e store.AuditEntry) store.AuditIndexRow {
	r := store.AuditIndexRow{Index: e.Index}
	ev, err := audit.Parse(e.Data)
	if err != nil {
		return r
	}
	r.Time, r.Actor, r.Action, r.Object = ev.Time, ev.Actor, ev.Action, ev.Object
	if r.Object == "" {
		r.Object = ev.Subject
	}
	switch {
	case strings.HasPrefix(ev.Subject, "party:"):
		r.Partner = strings.TrimPrefix(ev.Subject, "party:")
	case strings.HasPrefix(ev.Actor, "peer:"):
		r.Partner = strings.TrimPrefix(ev.Actor, "peer:")
	}
	return r
}

// ParseAuditFilter reads a filter from query parameters, as the API and
// the web interface take them: actor, action, object, partner (exact
// values), since and until (RFC 3339), before (an entry index) and limit.
func ParseAuditFilter(q url.Values) (store.AuditFilter, error) {
	f := store.AuditFilter{Actor: q.Get("actor"), Action: q.Get("action"), Object: q.Get("object"), Partner: q.Get("partner")}
	for _, v := range []string{f.Actor, f.Action, f.Object, f.Partner} {
		if len(v) > 512 {
			return f, errors.New("audit filter: a value is longer than 512 bytes")
		}
	}
	var errs []error
	for name, dst := range map[string]*time.Time{"since": &f.Since, "until": &f.Until} {
		if s := q.Get(name); s != "" {
			t, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				errs = append(errs, fmt.Errorf("audit filter: %s: want an RFC 3339 time such as 2026-12-01T00:00:00Z", name))
			}
			*dst = t
		}
	}
	for name, dst := range map[string]*int64{"before": &f.Before} {
		if s := q.Get(name); s != "" {
			v, err := strconv.ParseInt(s, 10, 64)
			if err != nil || v < 0 {
				errs = append(errs, fmt.Errorf("audit filter: %s: want an entry index", name))
			}
			*dst = v
		}
	}
	if s := q.Get("limit"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 {
			errs = append(errs, fmt.Errorf("audit filter: limit: want a positive integer (at most %d)", MaxFindAudit))
		}
		f.Limit = v
	}
	return f, errors.Join(errs...)
}
