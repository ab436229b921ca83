package api

import (
	"net/http"

	"github.com/tearline/tearline/store"
)

// recallAPI serves recalls.
type recallAPI struct{ s *Server }

// Recall routes (docs/API.md, docs/FEDERATION.md "Recall"): admins and
// releasers recall an object this node originated; admins, releasers and
// auditors read, per partner, who has acknowledged. Ids, parties, times and
// signed documents only: no content.
func (rc *recallAPI) recallRoutes() {
	rc.s.handle("POST /api/v1/recalls", rc.recall, true)
	rc.s.handle("GET /api/v1/recalls", rc.recalls, true)
	rc.s.handle("GET /api/v1/recalls/{id}", rc.recalls, true)
}

type recallBody struct {
	Object string `json:"object"`
	Reason string `json:"reason"`
}

func (rc *recallAPI) recall(w http.ResponseWriter, r *http.Request) {
	var b recallBody
	if !decodeBody(w, r, &b) {
		return
	}
	if b.Object == "" || b.Reason == "" {
		writeError(w, http.StatusBadRequest, "object and reason are required")
		return
	}
	rs, err := rc.s.n.Recalls.Recall(r.Context(), principal(r), b.Object, b.Reason)
	if err != nil {
		rc.s.agreementFail(w, r, err)
		return
	}
	id := ""
	if len(rs) > 0 {
		id = rs[0].Recall
	}
	writeJSON(w, http.StatusCreated, map[string]any{"recall": id, "parties": rs})
}

// recalls serves GET /api/v1/recalls?object=ID and /api/v1/recalls/{id}.
func (rc *recallAPI) recalls(w http.ResponseWriter, r *http.Request) {
	q := store.RecallQuery{ID: r.PathValue("id"), ObjectID: r.URL.Query().Get("object")}
	if q.ID == "" && q.ObjectID == "" {
		writeError(w, http.StatusBadRequest, "name a recall (/api/v1/recalls/{id}) or an object (?object=ID)")
		return
	}
	rs, err := rc.s.n.Recalls.RecallStatus(r.Context(), principal(r), q)
	if err != nil {
		rc.s.agreementFail(w, r, err)
		return
	}
	if q.ID != "" && len(rs) == 0 {
		writeError(w, http.StatusNotFound, "not found")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"recalls": rs})
}
