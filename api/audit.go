package api

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"

	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/node/oversight"
)

// auditAPI serves the audit log to auditors: checkpoints, entries, proofs.
type auditAPI struct{ s *Server }

// Audit log routes, for the auditor and admin roles (docs/AUDIT.md).
func (au *auditAPI) auditRoutes() {
	au.s.handle("GET /api/v1/audit/checkpoint", au.auditCheckpoint, true)
	au.s.handle("GET /api/v1/audit/entries", au.auditEntries, true)
	au.s.handle("GET /api/v1/audit/proof/inclusion", au.auditInclusion, true)
	au.s.handle("GET /api/v1/audit/proof/consistency", au.auditConsistency, true)
}

// auditCheckpoint returns the latest signed checkpoint as note text.
func (au *auditAPI) auditCheckpoint(w http.ResponseWriter, r *http.Request) {
	c, err := au.s.n.Oversight.AuditCheckpoint(r.Context(), principal(r))
	if err != nil {
		au.auditFail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write(c.Note)
}

type auditEntry struct {
	Index int64  `json:"index"`
	Leaf  []byte `json:"leaf"` // base64 of the exact leaf bytes
}

type auditEntriesBody struct {
	Entries []auditEntry `json:"entries"`
	// Before, in a filtered answer that may have more, is the before= of
	// the next (older) page.
	Before int64 `json:"before,omitempty"`
}

// auditEntries returns leaves [start, end), at most node.MaxAuditEntries;
// without start, the entries matching the filter parameters (actor,
// action, object, partner, since, until), newest first, a page of limit
// (at most oversight.MaxFindAudit) below before.
func (au *auditAPI) auditEntries(w http.ResponseWriter, r *http.Request) {
	if !r.URL.Query().Has("start") {
		au.findAudit(w, r)
		return
	}
	start, err1 := intParam(r, "start")
	end, err2 := intParam(r, "end")
	if err := errors.Join(err1, err2); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	es, err := au.s.n.Oversight.AuditEntries(r.Context(), principal(r), start, end)
	if err != nil {
		au.auditFail(w, r, err)
		return
	}
	out := auditEntriesBody{Entries: make([]auditEntry, len(es))}
	for i, e := range es {
		out.Entries[i] = auditEntry{Index: e.Index, Leaf: e.Data}
	}
	writeJSON(w, http.StatusOK, out)
}

func (au *auditAPI) findAudit(w http.ResponseWriter, r *http.Request) {
	f, err := oversight.ParseAuditFilter(r.URL.Query())
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	es, err := au.s.n.Oversight.FindAudit(r.Context(), principal(r), f)
	if err != nil {
		au.auditFail(w, r, err)
		return
	}
	out := auditEntriesBody{Entries: make([]auditEntry, len(es))}
	for i, e := range es {
		out.Entries[i] = auditEntry{Index: e.Index, Leaf: e.Data}
	}
	page := f.Limit
	if page <= 0 || page > oversight.MaxFindAudit {
		page = oversight.MaxFindAudit
	}
	if len(es) == page {
		out.Before = es[len(es)-1].Index // a full page: there may be older ones
	}
	writeJSON(w, http.StatusOK, out)
}

// proofBody carries hashes as base64, the way C2SP formats do.
type proofBody struct {
	Index  *int64   `json:"index,omitempty"`
	Size   int64    `json:"size,omitempty"`
	From   int64    `json:"from,omitempty"`
	To     int64    `json:"to,omitempty"`
	Hashes []string `json:"hashes"`
}

func (au *auditAPI) auditInclusion(w http.ResponseWriter, r *http.Request) {
	index, err1 := intParam(r, "index")
	size, err2 := intParam(r, "size")
	if err := errors.Join(err1, err2); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	p, err := au.s.n.Oversight.AuditInclusionProof(r.Context(), principal(r), index, size)
	if err != nil {
		au.auditFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, proofBody{Index: &index, Size: size, Hashes: b64(p)})
}

func (au *auditAPI) auditConsistency(w http.ResponseWriter, r *http.Request) {
	from, err1 := intParam(r, "from")
	to, err2 := intParam(r, "to")
	if err := errors.Join(err1, err2); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	p, err := au.s.n.Oversight.AuditConsistencyProof(r.Context(), principal(r), from, to)
	if err != nil {
		au.auditFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, proofBody{From: from, To: to, Hashes: b64(p)})
}

func (au *auditAPI) auditFail(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, audit.ErrRange) {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	au.s.fail(w, r, err)
}

func intParam(r *http.Request, name string) (int64, error) {
	v, err := strconv.ParseInt(r.URL.Query().Get(name), 10, 64)
	if err != nil {
		return 0, errors.New("query parameter " + name + ": want an integer")
	}
	return v, nil
}

func b64(hs [][]byte) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = base64.StdEncoding.EncodeToString(h)
	}
	return out
}
