package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/tearline/tearline/agreement"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/delivery"
	"github.com/tearline/tearline/node/recalls"
	"github.com/tearline/tearline/store"
)

// sharingAPI serves agreements, releases, the approval queue, consents,
// the ledger and delivery retries: the routes of sharing with partners.
type sharingAPI struct{ s *Server }

// Agreement, release, consent and ledger routes (docs/API.md). Who may
// call which is decided in node (node/authority.go); here its errors
// become statuses and nothing else.
func (sh *sharingAPI) agreementRoutes() {
	sh.s.handle("GET /api/v1/agreements", sh.listAgreements, true)
	sh.s.handle("POST /api/v1/agreements", sh.importAgreement, true)
	sh.s.handle("GET /api/v1/agreements/{id}", sh.showAgreement, true)
	sh.s.handle("POST /api/v1/agreements/{id}/sign", sh.signAgreement, true)
	sh.s.handle("POST /api/v1/agreements/{id}/signatures", sh.addSignatures, true)
	sh.s.handle("POST /api/v1/agreements/{id}/transition", sh.transitionAgreement, true)
	sh.s.handle("POST /api/v1/releases", sh.requestRelease, true)
	sh.s.handle("GET /api/v1/releases", sh.releaseQueue, true)
	sh.s.handle("POST /api/v1/releases/explain", sh.explainRelease, true)
	sh.s.handle("POST /api/v1/releases/{id}/approve", sh.approveRelease, true)
	sh.s.handle("POST /api/v1/releases/{id}/refuse", sh.refuseRelease, true)
	sh.s.handle("POST /api/v1/deliveries/{seq}/retry", sh.retryDelivery, true)
	sh.s.handle("GET /api/v1/consents", sh.listConsents, true)
	sh.s.handle("POST /api/v1/consents", sh.recordConsent, true)
	sh.s.handle("GET /api/v1/ledger", sh.ledger, true)
}

// agreementFail maps the errors of this file's node calls: a bad document
// or a move the lifecycle forbids is the caller's mistake (400); an
// approval that the decision made again refuses is a conflict (409).
func (s *Server) agreementFail(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, node.ErrInvalid), errors.Is(err, agreement.ErrUnsigned), errors.Is(err, agreement.ErrTransition):
		writeError(w, http.StatusBadRequest, err.Error())
	case errors.Is(err, node.ErrNotReleased), errors.Is(err, node.ErrNotFailed):
		writeError(w, http.StatusConflict, err.Error())
	default:
		s.fail(w, r, err)
	}
}

func versionParam(r *http.Request) (int, error) {
	v := r.URL.Query().Get("version")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, errors.New("version: want a positive integer")
	}
	return n, nil
}

func (sh *sharingAPI) listAgreements(w http.ResponseWriter, r *http.Request) {
	as, err := sh.s.n.Agreements.Agreements(r.Context(), principal(r))
	if err != nil {
		sh.s.agreementFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"agreements": as})
}

func (sh *sharingAPI) importAgreement(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(w, r, agreement.MaxDocumentBytes)
	if err != nil {
		sh.s.fail(w, r, err)
		return
	}
	a, err := sh.s.n.Agreements.ImportAgreement(r.Context(), principal(r), body)
	if err != nil {
		sh.s.agreementFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, a)
}

func (sh *sharingAPI) showAgreement(w http.ResponseWriter, r *http.Request) {
	v, err := versionParam(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	a, hist, err := sh.s.n.Agreements.Agreement(r.Context(), principal(r), r.PathValue("id"), v)
	if err != nil {
		sh.s.agreementFail(w, r, err)
		return
	}
	if hist == nil {
		hist = []store.AgreementTransition{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"agreement": a, "history": hist})
}

func (sh *sharingAPI) signAgreement(w http.ResponseWriter, r *http.Request) {
	v, err := versionParam(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	a, err := sh.s.n.Agreements.SignAgreement(r.Context(), principal(r), r.PathValue("id"), v)
	if err != nil {
		sh.s.agreementFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, a)
}

func (sh *sharingAPI) addSignatures(w http.ResponseWriter, r *http.Request) {
	v, err := versionParam(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	body, err := readBody(w, r, agreement.MaxDocumentBytes)
	if err != nil {
		sh.s.fail(w, r, err)
		return
	}
	a, err := sh.s.n.Agreements.AddAgreementSignatures(r.Context(), principal(r), r.PathValue("id"), v, body)
	if err != nil {
		sh.s.agreementFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, a)
}

type transitionBody struct {
	Version int    `json:"version"`
	To      string `json:"to"`
	Note    string `json:"note"`
}

func (sh *sharingAPI) transitionAgreement(w http.ResponseWriter, r *http.Request) {
	var b transitionBody
	if !decodeBody(w, r, &b) {
		return
	}
	a, err := sh.s.n.Agreements.TransitionAgreement(r.Context(), principal(r), r.PathValue("id"), b.Version, agreement.State(b.To), b.Note)
	if err != nil {
		sh.s.agreementFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, a)
}

// decodeBody reads a small JSON request body into v, answering 400 itself.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	body, err := readBody(w, r, 1<<20)
	if err == nil {
		err = json.Unmarshal(body, v)
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, "body: "+err.Error())
		return false
	}
	return true
}

type releaseBody struct {
	Object  string `json:"object"`
	To      string `json:"to"`
	Purpose string `json:"purpose"`
}

func (b *releaseBody) check(w http.ResponseWriter) bool {
	if b.Object == "" || b.To == "" || b.Purpose == "" {
		writeError(w, http.StatusBadRequest, "object, to and purpose are required")
		return false
	}
	return true
}

func (sh *sharingAPI) requestRelease(w http.ResponseWriter, r *http.Request) {
	var b releaseBody
	if !decodeBody(w, r, &b) || !b.check(w) {
		return
	}
	res, err := sh.s.n.Releases.Release(r.Context(), principal(r), b.Object, b.To, b.Purpose)
	if err != nil {
		sh.s.agreementFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func (sh *sharingAPI) explainRelease(w http.ResponseWriter, r *http.Request) {
	var b releaseBody
	if !decodeBody(w, r, &b) || !b.check(w) {
		return
	}
	res, err := sh.s.n.Releases.Explain(r.Context(), principal(r), b.Object, b.To, b.Purpose)
	if err != nil {
		sh.s.agreementFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

type requestJSON struct {
	ID               string           `json:"id"`
	Object           string           `json:"object"`
	Modified         string           `json:"modified"`
	Party            string           `json:"party"`
	Agreement        string           `json:"agreement"`
	AgreementVersion int              `json:"agreement_version"`
	Purpose          string           `json:"purpose"`
	Requester        string           `json:"requester"`
	Decision         json.RawMessage  `json:"decision"`
	Required         int              `json:"required"`
	Approvals        []store.Approval `json:"approvals"`
	State            string           `json:"state"`
	Reason           string           `json:"reason,omitempty"`
	Created          time.Time        `json:"created"`
	Updated          time.Time        `json:"updated"`
}

func (sh *sharingAPI) releaseQueue(w http.ResponseWriter, r *http.Request) {
	state := r.URL.Query().Get("state")
	if state == "" {
		state = store.RequestPending
	} else if state == "all" {
		state = ""
	}
	qs, err := sh.s.n.Releases.ReleaseQueue(r.Context(), principal(r), state)
	if err != nil {
		sh.s.agreementFail(w, r, err)
		return
	}
	out := make([]requestJSON, 0, len(qs))
	for _, q := range qs {
		ap := q.Approvals
		if ap == nil {
			ap = []store.Approval{}
		}
		out = append(out, requestJSON{ID: q.ID, Object: q.ObjectID, Modified: q.Modified, Party: q.Party, Agreement: q.Agreement,
			AgreementVersion: q.AgreementVersion, Purpose: q.Purpose, Requester: q.Requester, Decision: q.Decision, Required: q.Required,
			Approvals: ap, State: q.State, Reason: q.Reason, Created: q.Created, Updated: q.Updated})
	}
	writeJSON(w, http.StatusOK, map[string]any{"requests": out})
}

func (sh *sharingAPI) approveRelease(w http.ResponseWriter, r *http.Request) {
	res, err := sh.s.n.Releases.ApproveRelease(r.Context(), principal(r), r.PathValue("id"))
	if err != nil {
		sh.s.agreementFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func (sh *sharingAPI) refuseRelease(w http.ResponseWriter, r *http.Request) {
	var b struct {
		Reason string `json:"reason"`
	}
	if !decodeBody(w, r, &b) {
		return
	}
	res, err := sh.s.n.Releases.RefuseRelease(r.Context(), principal(r), r.PathValue("id"), b.Reason)
	if err != nil {
		sh.s.agreementFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

type consentJSON struct {
	Object     string    `json:"object"`
	Originator string    `json:"originator"`
	To         string    `json:"to"`
	By         string    `json:"by,omitempty"`
	At         time.Time `json:"at,omitzero"`
}

func (sh *sharingAPI) listConsents(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("object")
	if id == "" {
		writeError(w, http.StatusBadRequest, "object is required")
		return
	}
	cs, err := sh.s.n.Releases.Consents(r.Context(), principal(r), id)
	if err != nil {
		sh.s.agreementFail(w, r, err)
		return
	}
	out := make([]consentJSON, 0, len(cs))
	for _, c := range cs {
		out = append(out, consentJSON{Object: c.ObjectID, Originator: c.Originator, To: c.To, By: c.By, At: c.At})
	}
	writeJSON(w, http.StatusOK, map[string]any{"consents": out})
}

func (sh *sharingAPI) recordConsent(w http.ResponseWriter, r *http.Request) {
	var b consentJSON
	if !decodeBody(w, r, &b) {
		return
	}
	c, err := sh.s.n.Releases.RecordConsent(r.Context(), principal(r), b.Object, b.Originator, b.To)
	if err != nil {
		sh.s.agreementFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, consentJSON{Object: c.ObjectID, Originator: c.Originator, To: c.To, By: c.By, At: c.At})
}

type ledgerJSON struct {
	Seq      int64  `json:"seq"`
	Object   string `json:"object"`
	Modified string `json:"modified"`
	// Instance is the instance of the version decided on; absent for
	// the default. The ledger is read by those who see every level's
	// metadata (docs/SECURITY.md), so it tells nothing hidden.
	Instance         int64     `json:"instance,omitempty"`
	Party            string    `json:"party"`
	Agreement        string    `json:"agreement"`
	AgreementVersion int       `json:"agreement_version"`
	Term             int       `json:"term"`
	Outcome          string    `json:"outcome"`
	Tearline         string    `json:"tearline,omitempty"`
	Labels           []string  `json:"labels"`
	Reasons          []string  `json:"reasons"`
	State            string    `json:"state,omitempty"`
	Request          string    `json:"request,omitempty"`
	By               string    `json:"by"`
	At               time.Time `json:"at"`
	// The latest recall of the object from this party, if any
	// (docs/FEDERATION.md, "Recall"): pending or acknowledged.
	Recall             string     `json:"recall,omitempty"`
	RecallState        string     `json:"recall_state,omitempty"`
	RecallAcknowledged *time.Time `json:"recall_acknowledged_at,omitempty"`
	// How the delivery to the party goes (docs/FEDERATION.md, "Delivery
	// states"): present for an entry that was queued for a peer.
	Delivery *delivery.Delivery `json:"delivery,omitempty"`
}

// ledger serves the dissemination ledger: ?object=ID, ?agreement=ID or
// ?party=NAME, each with &from=RFC3339&to=RFC3339. Metadata only.
func (sh *sharingAPI) ledger(w http.ResponseWriter, r *http.Request) {
	q := store.LedgerQuery{ObjectID: r.URL.Query().Get("object"), Agreement: r.URL.Query().Get("agreement"), Party: r.URL.Query().Get("party")}
	for _, p := range []struct {
		name string
		into *time.Time
	}{{"from", &q.From}, {"to", &q.To}} {
		if v := r.URL.Query().Get(p.name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				writeError(w, http.StatusBadRequest, p.name+": want an RFC 3339 time")
				return
			}
			*p.into = t
		}
	}
	es, err := sh.s.n.Releases.Ledger(r.Context(), principal(r), q)
	if err != nil {
		sh.s.agreementFail(w, r, err)
		return
	}
	recallsOf, err := sh.s.n.Recalls.LedgerRecalls(r.Context(), principal(r), es)
	if err != nil {
		sh.s.agreementFail(w, r, err)
		return
	}
	deliveries, err := sh.s.n.Deliveries.Deliveries(r.Context(), principal(r), es)
	if err != nil {
		sh.s.agreementFail(w, r, err)
		return
	}
	out := make([]ledgerJSON, 0, len(es))
	for _, e := range es {
		j := ledgerJSON{Seq: e.Seq, Object: e.ObjectID, Modified: e.Modified, Instance: e.Instance, Party: e.Party, Agreement: e.Agreement,
			AgreementVersion: e.AgreementVersion, Term: e.Term, Outcome: e.Outcome, Tearline: e.TearlineID, Labels: nonNil(e.Labels),
			Reasons: nonNil(e.Reasons), State: e.State, Request: e.Request, By: e.By, At: e.At}
		if rc, ok := recallsOf[recalls.LedgerRecallKey(e.ObjectID, e.Instance, e.Party)]; ok && e.Outcome != store.LedgerRefuse {
			j.Recall, j.RecallState, j.RecallAcknowledged = rc.Recall, rc.State, rc.AckedAt
		}
		if d, ok := deliveries[e.Seq]; ok {
			j.Delivery = &d
		}
		out = append(out, j)
	}
	writeJSON(w, http.StatusOK, map[string]any{"entries": out})
}

// retryDelivery makes a failed delivery due again: POST
// /api/v1/deliveries/{seq}/retry, seq the ledger entry'sh.s. A caller who may
// not read the object delivered gets 404, as for an entry that does not
// exist; a delivery that has not failed is 409.
func (sh *sharingAPI) retryDelivery(w http.ResponseWriter, r *http.Request) {
	seq, err := strconv.ParseInt(r.PathValue("seq"), 10, 64)
	if err != nil || seq < 1 {
		writeError(w, http.StatusNotFound, "not found")
		return
	}
	d, err := sh.s.n.Deliveries.RetryDelivery(r.Context(), principal(r), seq)
	if err != nil {
		sh.s.agreementFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}
