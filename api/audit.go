package api

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"

	"github.com/tearline/tearline/audit"
)

// Audit log routes, for the auditor and admin roles (docs/AUDIT.md).
func (s *Server) auditRoutes() {
	s.handle("GET /api/v1/audit/checkpoint", s.auditCheckpoint, true)
	s.handle("GET /api/v1/audit/entries", s.auditEntries, true)
	s.handle("GET /api/v1/audit/proof/inclusion", s.auditInclusion, true)
	s.handle("GET /api/v1/audit/proof/consistency", s.auditConsistency, true)
}

// auditCheckpoint returns the latest signed checkpoint as note text.
func (s *Server) auditCheckpoint(w http.ResponseWriter, r *http.Request) {
	c, err := s.n.Oversight.AuditCheckpoint(r.Context(), principal(r))
	if err != nil {
		s.auditFail(w, r, err)
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
}

// auditEntries returns leaves [start, end), at most node.MaxAuditEntries.
func (s *Server) auditEntries(w http.ResponseWriter, r *http.Request) {
	start, err1 := intParam(r, "start")
	end, err2 := intParam(r, "end")
	if err := errors.Join(err1, err2); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	es, err := s.n.Oversight.AuditEntries(r.Context(), principal(r), start, end)
	if err != nil {
		s.auditFail(w, r, err)
		return
	}
	out := auditEntriesBody{Entries: make([]auditEntry, len(es))}
	for i, e := range es {
		out.Entries[i] = auditEntry{Index: e.Index, Leaf: e.Data}
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

func (s *Server) auditInclusion(w http.ResponseWriter, r *http.Request) {
	index, err1 := intParam(r, "index")
	size, err2 := intParam(r, "size")
	if err := errors.Join(err1, err2); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	p, err := s.n.Oversight.AuditInclusionProof(r.Context(), principal(r), index, size)
	if err != nil {
		s.auditFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, proofBody{Index: &index, Size: size, Hashes: b64(p)})
}

func (s *Server) auditConsistency(w http.ResponseWriter, r *http.Request) {
	from, err1 := intParam(r, "from")
	to, err2 := intParam(r, "to")
	if err := errors.Join(err1, err2); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	p, err := s.n.Oversight.AuditConsistencyProof(r.Context(), principal(r), from, to)
	if err != nil {
		s.auditFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, proofBody{From: from, To: to, Hashes: b64(p)})
}

func (s *Server) auditFail(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, audit.ErrRange) {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	s.fail(w, r, err)
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
