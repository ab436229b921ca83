package api

import (
	"net/http"
	"time"

	"github.com/tearline/tearline/audit/witness"
	"github.com/tearline/tearline/federation"
)

// witnessAPI serves the witness protocol to partners and split views to
// administrators.
type witnessAPI struct{ s *Server }

// Witness routes (docs/AUDIT.md, "Witnesses"): the C2SP tlog-witness
// protocol and ours beside it, for partners (mutual TLS, like the other
// partner routes), and the split-view routes for admins and auditors.
func (wi *witnessAPI) witnessRoutes() {
	if h, err := wi.s.n.Oversight.WitnessHandler(); err != nil {
		wi.s.log.Error("witness routes not served", "err", err)
	} else {
		wi.s.Handle(witness.Prefix+"/", federation.RequirePeer(h))
	}
	wi.s.Handle("GET "+witness.ConsistencyPath, federation.RequirePeer(witness.ConsistencyHandler(wi.s.n.Oversight.LogConsistencyProof)))
	wi.s.handle("GET /api/v1/audit/split-views", wi.splitViews, true)
	wi.s.handle("POST /api/v1/peers/{name}/ack-split", wi.ackSplit, true)
}

type splitViewBody struct {
	ID       int64     `json:"id"`
	Peer     string    `json:"peer"`
	Origin   string    `json:"origin"`
	Size     int64     `json:"size"`
	Reporter string    `json:"reporter"`
	Ours     string    `json:"ours"`   // the checkpoint this node holds (signed note)
	Theirs   string    `json:"theirs"` // the other one, signed by the same log key
	Detected time.Time `json:"detected"`
	AckedAt  time.Time `json:"acked_at,omitzero"`
	AckedBy  string    `json:"acked_by,omitempty"`
}

// splitViews lists split views; ?peer=NAME for one partner's log, ?open=true
// for those not acknowledged.
func (wi *witnessAPI) splitViews(w http.ResponseWriter, r *http.Request) {
	open := r.URL.Query().Get("open") == "true"
	svs, err := wi.s.n.Oversight.SplitViews(r.Context(), principal(r), r.URL.Query().Get("peer"), open)
	if err != nil {
		wi.s.fail(w, r, err)
		return
	}
	out := struct {
		SplitViews []splitViewBody `json:"split_views"`
	}{SplitViews: make([]splitViewBody, len(svs))}
	for i, v := range svs {
		out.SplitViews[i] = splitViewBody{ID: v.ID, Peer: v.Peer, Origin: v.Origin, Size: v.Size, Reporter: v.Reporter,
			Ours: string(v.Ours), Theirs: string(v.Theirs), Detected: v.Detected, AckedAt: v.AckedAt, AckedBy: v.AckedBy}
	}
	writeJSON(w, http.StatusOK, out)
}

// ackSplit acknowledges the open split views of a partner's log (admin).
func (wi *witnessAPI) ackSplit(w http.ResponseWriter, r *http.Request) {
	n, err := wi.s.n.Oversight.AckSplitView(r.Context(), principal(r), r.PathValue("name"))
	if err != nil {
		wi.s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"acknowledged": n})
}
