package auditor

import (
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/oversight"
	"github.com/tearline/tearline/node/release"
	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/web"
)

// auditPages are the auditor's screens (docs/UI.md, "Auditor"): the audit
// log with filters, an entry with its inclusion proof checked, the signed
// checkpoints with their witnesses' cosignatures and a consistency check
// between two of them, and ledger reports. node/oversight and
// node/release decide who may read them (auditors and admins) and do the
// checking; these pages show what they found. Audit and ledger metadata
// spans every level, so every one of these pages is marked system-high.
type auditPages struct{ *web.Server }

// Routes adds the screens to s (a web.Screens).
func Routes(s *web.Server) { auditPages{s}.routes() }

func (a auditPages) routes() {
	a.Handle("GET "+web.Prefix+"audit", a.SignedIn(a.log))
	a.Handle("GET "+web.Prefix+"audit/entries/{index}", a.SignedIn(a.entry))
	a.Handle("GET "+web.Prefix+"audit/checkpoints", a.SignedIn(a.checkpoints))
	a.Handle("GET "+web.Prefix+"ledger", a.SignedIn(a.ledger))
}

// auditPageSize is the entries an audit page shows.
const auditPageSize = 100

type auditRow struct {
	Index                                          int64
	Time, Actor, Action, Object, Subject, Decision string
	Reasons, Detail                                string
}

func auditRowOf(e store.AuditEntry) auditRow {
	ev, err := audit.Parse(e.Data)
	if err != nil {
		return auditRow{Index: e.Index, Detail: "(entry does not parse: " + err.Error() + ")"}
	}
	return auditRow{Index: e.Index, Time: ev.Time.UTC().Format(time.RFC3339), Actor: ev.Actor,
		Action: ev.Action, Object: ev.Object, Subject: ev.Subject, Decision: ev.Decision,
		Reasons: strings.Join(ev.Reasons, ", "), Detail: ev.Detail}
}

type auditFilterForm struct {
	Actor, Action, Object, Partner, Since, Until string
}

type auditData struct {
	Size, Checkpoint int64
	Filtered         bool
	Filter           auditFilterForm
	First, Last      int64
	Entries          []auditRow
	OlderURL         string
}

func (a auditPages) systemHigh() web.Marking {
	m := a.NewMarks()
	m.SystemHigh()
	return m.Banner()
}

// log shows the audit log, newest first, a page at a time: the whole log
// (before=N: the entries below index N), or with filters (actor, action,
// object, partner, since, until) the entries matching them all, through
// the audit index.
func (a auditPages) log(w http.ResponseWriter, r *http.Request) {
	ctx, p := r.Context(), web.Principal(r)
	cp, err := a.Node().Oversight.AuditCheckpoint(ctx, p)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		a.Fail(w, r, err)
		return
	}
	q := r.URL.Query()
	d := auditData{Size: cp.Size, Checkpoint: cp.Size, Filter: auditFilterForm{Actor: q.Get("actor"), Action: q.Get("action"),
		Object: q.Get("object"), Partner: q.Get("partner"), Since: q.Get("since"), Until: q.Get("until")}}
	d.Filtered = d.Filter != (auditFilterForm{})
	if d.Filtered {
		fq := url.Values{}
		for k, v := range map[string]string{"actor": d.Filter.Actor, "action": d.Filter.Action, "object": d.Filter.Object,
			"partner": d.Filter.Partner, "since": formTime(d.Filter.Since), "until": formTime(d.Filter.Until), "before": q.Get("before")} {
			if v != "" {
				fq.Set(k, v)
			}
		}
		f, err := oversight.ParseAuditFilter(fq)
		if err != nil {
			a.ErrorPage(w, r, p, http.StatusBadRequest, "The filter was not valid: "+err.Error())
			return
		}
		f.Limit = auditPageSize
		es, err := a.Node().Oversight.FindAudit(ctx, p, f)
		if err != nil {
			a.Fail(w, r, err)
			return
		}
		for _, e := range es {
			d.Entries = append(d.Entries, auditRowOf(e))
		}
		if len(es) == auditPageSize {
			fq.Set("before", strconv.FormatInt(es[len(es)-1].Index, 10))
			d.OlderURL = web.Prefix + "audit?" + fq.Encode()
		}
	} else {
		end := cp.Size // AuditCheckpoint signs the whole log first
		if b := q.Get("before"); b != "" {
			v, err := strconv.ParseInt(b, 10, 64)
			if err != nil || v < 0 {
				a.ErrorPage(w, r, p, http.StatusBadRequest, "before: want an entry number.")
				return
			}
			end = min(v, end)
		}
		start := max(0, end-auditPageSize)
		es, err := a.Node().Oversight.AuditEntries(ctx, p, start, end)
		if err != nil {
			a.Fail(w, r, err)
			return
		}
		d.First, d.Last = start, end-1
		for i := len(es) - 1; i >= 0; i-- {
			d.Entries = append(d.Entries, auditRowOf(es[i]))
		}
		if start > 0 {
			d.OlderURL = web.Prefix + "audit?before=" + strconv.FormatInt(start, 10)
		}
	}
	a.Render(w, http.StatusOK, "audit", "", a.ViewFor(r, "Audit log", a.systemHigh(), d))
}

// formTime takes a time as a datetime-local input sends it (no zone,
// read as UTC) or in RFC 3339.
func formTime(s string) string {
	if s == "" {
		return ""
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC().Format(time.RFC3339)
		}
	}
	return s
}

type checkpointView struct {
	Size         int64
	Root         string
	Created      string
	SignatureOK  bool
	SignatureErr string
	Cosignatures []cosignView
	Note         string
}

type cosignView struct {
	Witness, Created string
	Verified, Known  bool
}

func checkpointViewOf(c oversight.CheckedCheckpoint) checkpointView {
	v := checkpointView{Size: c.Size, Root: base64.StdEncoding.EncodeToString(c.Root), Created: c.Created.UTC().Format(time.RFC3339),
		SignatureOK: c.SignatureErr == nil, Note: string(c.Note)}
	if c.SignatureErr != nil {
		v.SignatureErr = c.SignatureErr.Error()
	}
	for _, s := range c.Cosignatures {
		v.Cosignatures = append(v.Cosignatures, cosignView{Witness: s.Witness, Created: s.Created.UTC().Format(time.RFC3339), Verified: s.Verified, Known: s.Known})
	}
	return v
}

type entryData struct {
	Row        auditRow
	Leaf       string
	LeafHash   string
	Labels     string
	Modified   string
	Checkpoint checkpointView
	Proof      []string
	Verified   bool
	ProofErr   string
}

// entry shows one audit entry whole and proves it is in the latest signed
// checkpoint: the inclusion proof is computed and checked against the
// checkpoint's signed root, as an offline verifier would.
func (a auditPages) entry(w http.ResponseWriter, r *http.Request) {
	p := web.Principal(r)
	index, err := strconv.ParseInt(r.PathValue("index"), 10, 64)
	if err != nil || index < 0 {
		a.ErrorPage(w, r, p, http.StatusBadRequest, "Want an entry number.")
		return
	}
	e, err := a.Node().Oversight.CheckEntry(r.Context(), p, index)
	if err != nil {
		a.Fail(w, r, err)
		return
	}
	d := entryData{Row: auditRowOf(e.AuditEntry), Leaf: string(e.Data), LeafHash: base64.StdEncoding.EncodeToString(e.LeafHash),
		Labels: strings.Join(e.Event.Labels, ", "), Modified: e.Event.Modified,
		Checkpoint: checkpointViewOf(e.Checkpoint), Verified: e.ProofErr == nil}
	for _, h := range e.Proof {
		d.Proof = append(d.Proof, base64.StdEncoding.EncodeToString(h))
	}
	if e.ProofErr != nil {
		d.ProofErr = e.ProofErr.Error()
	}
	a.Render(w, http.StatusOK, "audit_entry", "", a.ViewFor(r, "Audit entry "+strconv.FormatInt(index, 10), a.systemHigh(), d))
}

type checkpointsData struct {
	Checkpoints []checkpointView
	NextURL     string
	From, To    string
	Consistency *consistencyView
}

type consistencyView struct {
	From, To int64
	Proof    []string
	Verified bool
	Err      string
}

// checkpointsPageSize is the checkpoints one page shows.
const checkpointsPageSize = 50

// checkpoints lists the signed checkpoints, oldest first from after=N,
// each with its signature and cosignatures checked; with from and to it
// also proves that the later of two checkpoints extends the earlier.
func (a auditPages) checkpoints(w http.ResponseWriter, r *http.Request) {
	ctx, p := r.Context(), web.Principal(r)
	q := r.URL.Query()
	after := int64(0)
	if s := q.Get("after"); s != "" {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil || v < 0 {
			a.ErrorPage(w, r, p, http.StatusBadRequest, "after: want a checkpoint size.")
			return
		}
		after = v
	}
	if _, err := a.Node().Oversight.AuditCheckpoint(ctx, p); err != nil && !errors.Is(err, store.ErrNotFound) {
		a.Fail(w, r, err) // also signs the log's latest state first
		return
	}
	cps, err := a.Node().Oversight.Checkpoints(ctx, p, after, checkpointsPageSize)
	if err != nil {
		a.Fail(w, r, err)
		return
	}
	d := checkpointsData{From: q.Get("from"), To: q.Get("to")}
	for _, c := range cps {
		d.Checkpoints = append(d.Checkpoints, checkpointViewOf(c))
	}
	if len(cps) == checkpointsPageSize {
		d.NextURL = web.Prefix + "audit/checkpoints?after=" + strconv.FormatInt(cps[len(cps)-1].Size, 10)
	}
	if d.From != "" || d.To != "" {
		from, err1 := strconv.ParseInt(d.From, 10, 64)
		to, err2 := strconv.ParseInt(d.To, 10, 64)
		if err := errors.Join(err1, err2); err != nil {
			a.ErrorPage(w, r, p, http.StatusBadRequest, "from and to: want two checkpoint sizes.")
			return
		}
		c, err := a.Node().Oversight.CheckConsistency(ctx, p, from, to)
		if errors.Is(err, node.ErrInvalid) {
			a.ErrorPage(w, r, p, http.StatusBadRequest, "Name the sizes of two signed checkpoints, the smaller first.")
			return
		}
		if err != nil {
			a.Fail(w, r, err)
			return
		}
		cv := &consistencyView{From: from, To: to, Verified: c.ProofErr == nil}
		for _, h := range c.Proof {
			cv.Proof = append(cv.Proof, base64.StdEncoding.EncodeToString(h))
		}
		if c.ProofErr != nil {
			cv.Err = c.ProofErr.Error()
		}
		d.Consistency = cv
	}
	a.Render(w, http.StatusOK, "checkpoints", "", a.ViewFor(r, "Checkpoints", a.systemHigh(), d))
}

type ledgerRow struct {
	Seq                                             int64
	At, Object, Modified, Party, Agreement, Outcome string
	Tearline, Labels, Reasons, State, Request, By   string
}

type ledgerData struct {
	Object, Party, Agreement, From, To string
	Asked                              bool
	Rows                               []ledgerRow
	Capped                             bool
	CSVURL, JSONURL                    string
}

// ledger is the dissemination ledger as reports: what went (or was
// refused) per object, partner or agreement within a period, on screen
// and as CSV or JSON (format=csv|json) for the oversight body's own tools.
func (a auditPages) ledger(w http.ResponseWriter, r *http.Request) {
	ctx, p := r.Context(), web.Principal(r)
	q := r.URL.Query()
	d := ledgerData{Object: q.Get("object"), Party: q.Get("party"), Agreement: q.Get("agreement"), From: q.Get("from"), To: q.Get("to")}
	d.Asked = d.Object != "" || d.Party != "" || d.Agreement != ""
	if !d.Asked {
		// The empty form still asks node, which decides who may read the
		// ledger (auditors and admins) before it finds nothing asked.
		if _, err := a.Node().Releases.Ledger(ctx, p, store.LedgerQuery{}); !errors.Is(err, node.ErrInvalid) {
			a.Fail(w, r, err)
			return
		}
	} else {
		lq := store.LedgerQuery{ObjectID: d.Object, Party: d.Party, Agreement: d.Agreement}
		for _, t := range []struct {
			v    string
			into *time.Time
		}{{d.From, &lq.From}, {d.To, &lq.To}} {
			if t.v == "" {
				continue
			}
			v, err := time.Parse(time.RFC3339, formTime(t.v))
			if err != nil {
				a.ErrorPage(w, r, p, http.StatusBadRequest, "from and to: want dates or RFC 3339 times.")
				return
			}
			*t.into = v
		}
		es, err := a.Node().Releases.Ledger(ctx, p, lq)
		if err != nil {
			a.Fail(w, r, err)
			return
		}
		d.Capped = len(es) >= release.MaxLedgerRows
		for _, e := range es {
			d.Rows = append(d.Rows, ledgerRow{Seq: e.Seq, At: e.At.UTC().Format(time.RFC3339), Object: e.ObjectID, Modified: e.Modified,
				Party: e.Party, Agreement: e.Agreement + " v" + strconv.Itoa(e.AgreementVersion), Outcome: e.Outcome, Tearline: e.TearlineID,
				Labels: strings.Join(e.Labels, ", "), Reasons: strings.Join(e.Reasons, ", "), State: e.State, Request: e.Request, By: e.By})
		}
		switch q.Get("format") {
		case "csv":
			writeLedgerCSV(w, d.Rows)
			return
		case "json":
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Disposition", `attachment; filename="ledger.json"`)
			_ = json.NewEncoder(w).Encode(map[string]any{"entries": d.Rows, "capped": d.Capped})
			return
		}
		base := url.Values{}
		for k, v := range map[string]string{"object": d.Object, "party": d.Party, "agreement": d.Agreement, "from": d.From, "to": d.To} {
			if v != "" {
				base.Set(k, v)
			}
		}
		base.Set("format", "csv")
		d.CSVURL = web.Prefix + "ledger?" + base.Encode()
		base.Set("format", "json")
		d.JSONURL = web.Prefix + "ledger?" + base.Encode()
	}
	a.Render(w, http.StatusOK, "ledger", "", a.ViewFor(r, "Ledger", a.systemHigh(), d))
}

func writeLedgerCSV(w http.ResponseWriter, rows []ledgerRow) {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="ledger.csv"`)
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"seq", "at", "object", "modified", "party", "agreement", "outcome", "tearline", "labels", "reasons", "state", "request", "by"})
	for _, r := range rows {
		rec := []string{strconv.FormatInt(r.Seq, 10), r.At, r.Object, r.Modified, r.Party, r.Agreement, r.Outcome, r.Tearline,
			r.Labels, r.Reasons, r.State, r.Request, r.By}
		for i, v := range rec {
			rec[i] = csvCell(v)
		}
		_ = cw.Write(rec)
	}
	cw.Flush()
}

// csvCell keeps a spreadsheet from reading a cell as a formula (CSV
// injection): a value that starts with = + - @ or a control character is
// prefixed with a quote, as OWASP advises.
func csvCell(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}
