package releaser

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/release"
	"github.com/tearline/tearline/stix"
	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/web"
)

// The release page of one object (/ui/objects/{id}/preview): the preview
// for a partner (node.Releases.Explain, the API's release explain: a dry
// run, audited, no ledger row), the original and its tearline side by
// side, the ORCON consents, the recalls with each partner's
// acknowledgement and, for those who read the ledger, each delivery with a
// retry. The object is read first through node.Get: one the user may not
// read is not found, exactly as one that does not exist.

type sideRow struct {
	Key, Original, Tearline string
	Cut                     bool // the tearline removes all or part of it
	Gone                    bool // the tearline has none of it
}

type candidateView struct {
	Agreement, State, Outcome string
	Words                     []string
}

type consentView struct{ Originator, To, By, At string }

type recallView struct {
	Recall, Party, Reason, Issued, By, State, Acked string
	Inbound                                         bool
	Purged, NotHeld                                 []string
}

type deliveryView struct {
	Seq                                           int64
	Modified, Party, Agreement, Outcome, At, By   string
	State, Reason, Attempts, LastError, Delivered string
	Failed                                        bool
	Mark                                          web.ObjectMark
}

type previewData struct {
	Object           web.Row
	Parties          []string
	To, Purpose      string
	Result           string
	Explained        bool
	Outcome          string
	Agreement        string
	Words            []string
	Cut, Sent        []string
	Approvals        int
	Retention        string
	Candidates       []candidateView
	Side             []sideRow
	SideError        string
	ConsentsShown    bool
	Consents         []consentView
	RecallsShown     bool
	Recalls          []recallView
	DeliveriesShown  bool
	Deliveries       []deliveryView
	RequestURL, Self string
}

// maxDeliveriesShown caps the ledger entries the page reads.
const maxDeliveriesShown = 200

func (rp releaserPages) preview(w http.ResponseWriter, r *http.Request) {
	rp.showPreview(w, r, http.StatusOK, "")
}

func (rp releaserPages) showPreview(w http.ResponseWriter, r *http.Request, code int, result string) {
	ctx, p := r.Context(), web.Principal(r)
	o, err := rp.Node().Get(ctx, p, r.PathValue("id"))
	if err != nil {
		rp.Fail(w, r, err)
		return
	}
	m := rp.NewMarks()
	obj, err := rp.Row(r, m, o)
	if err != nil {
		rp.Fail(w, r, err)
		return
	}
	q := r.URL.Query()
	d := previewData{Object: obj, Parties: rp.parties(r), To: q.Get("to"), Purpose: q.Get("purpose"), Result: result,
		Self: web.Prefix + "objects/" + url.PathEscape(o.ID) + "/preview"}
	if d.Purpose == "" {
		d.Purpose = "analysis"
	}
	rs, err := rp.ReadRefs(ctx, p, o.Raw)
	if err != nil {
		rp.Fail(w, r, err)
		return
	}
	original := rs.Redact(o.Raw)
	if d.To != "" {
		res, err := rp.Node().Releases.Explain(ctx, p, o.ID, d.To, d.Purpose)
		if err != nil {
			rp.releaseFail(w, r, err)
			return
		}
		rp.explained(&d, res, original, &rs)
	}
	if err := rp.sections(r, m, o, &d); err != nil {
		rp.Fail(w, r, err)
		return
	}
	rp.Render(w, code, "preview", "", rp.ViewFor(r, "Release of "+obj.Name, m.Banner(), d))
}

// explained lays out Explain's answer: the decision, every agreement's in
// words, the labels as they would be sent, and the original beside the
// tearline cut from it (stix.Redact with the decision's selectors, shown
// and not stored), the removed parts highlighted.
func (rp releaserPages) explained(d *previewData, res release.ReleaseResult, original []byte, rs *web.Refs) {
	d.Explained, d.Outcome, d.Words, d.Cut, d.Sent, d.Approvals, d.Retention = true, res.Outcome, res.Words, res.Cut, res.Sent, res.Approvals, res.Retention
	if res.Agreement != "" {
		d.Agreement = fmt.Sprintf("%s v%d", res.Agreement, res.Version)
	}
	for _, c := range res.Candidates {
		d.Candidates = append(d.Candidates, candidateView{Agreement: fmt.Sprintf("%s v%d", c.Agreement, c.Version), State: c.State,
			Outcome: c.Outcome, Words: release.Words(c.Reasons)})
	}
	if res.Outcome == "refuse" {
		return
	}
	cutRaw, err := stix.Redact(original, res.Cut)
	if err != nil {
		d.SideError = "The tearline could not be cut for display: " + err.Error()
		return
	}
	tear := map[string]string{}
	for _, pr := range web.Props(rs.Redact(cutRaw)) {
		tear[pr.Key] = pr.Value
	}
	for _, pr := range web.Props(original) {
		tv, kept := tear[pr.Key]
		cut := slices.ContainsFunc(res.Cut, func(sel string) bool {
			return sel == pr.Key || strings.HasPrefix(sel, pr.Key+".")
		})
		d.Side = append(d.Side, sideRow{Key: pr.Key, Original: pr.Value, Tearline: tv, Cut: cut, Gone: !kept})
	}
}

// sections adds what the user's role may see of the object's consents,
// recalls and deliveries: node answers ErrForbidden to a role that may
// not, and the section is left out.
func (rp releaserPages) sections(r *http.Request, m *web.Marks, o node.Object, d *previewData) error {
	ctx, p := r.Context(), web.Principal(r)
	cs, err := rp.Node().Releases.Consents(ctx, p, o.ID)
	switch {
	case errors.Is(err, node.ErrForbidden):
	case err != nil:
		return err
	default:
		d.ConsentsShown = true
		for _, c := range cs {
			d.Consents = append(d.Consents, consentView{Originator: c.Originator, To: c.To, By: c.By, At: c.At.UTC().Format(time.RFC3339)})
		}
	}
	rcs, err := rp.Node().Recalls.RecallStatus(ctx, p, store.RecallQuery{ObjectID: o.ID})
	switch {
	case errors.Is(err, node.ErrForbidden):
	case err != nil:
		return err
	default:
		d.RecallsShown = true
		for _, rc := range rcs {
			v := recallView{Recall: rc.Recall, Party: rc.Party, Reason: rc.Reason, Issued: rc.Issued.UTC().Format(time.RFC3339),
				By: rc.By, State: rc.State, Inbound: rc.Inbound, Purged: rc.Purged, NotHeld: rc.NotHeld}
			if rc.AckedAt != nil {
				v.Acked = rc.AckedAt.UTC().Format(time.RFC3339)
			}
			d.Recalls = append(d.Recalls, v)
		}
	}
	es, err := rp.Node().Releases.Ledger(ctx, p, store.LedgerQuery{ObjectID: o.ID})
	if errors.Is(err, node.ErrForbidden) {
		return nil
	}
	if err != nil {
		return err
	}
	d.DeliveriesShown = true
	if len(es) > maxDeliveriesShown {
		es = es[len(es)-maxDeliveriesShown:]
	}
	dls, err := rp.Node().Deliveries.Deliveries(ctx, p, es)
	if err != nil {
		return err
	}
	for _, e := range slices.Backward(es) {
		v, err := node.VersionOf(ctx, rp.Node().Store(), e.ObjectID, node.VersionKey{Instance: e.Instance, Modified: e.Modified})
		if err != nil {
			return err
		}
		mk, err := m.Object(ctx, rp.Node().Node, node.Object{ObjectVersion: v})
		if err != nil {
			return err
		}
		dv := deliveryView{Seq: e.Seq, Modified: e.Modified, Party: e.Party, Agreement: fmt.Sprintf("%s v%d", e.Agreement, e.AgreementVersion),
			Outcome: e.Outcome, At: e.At.UTC().Format(time.RFC3339), By: e.By, Reason: strings.Join(release.Words(e.Reasons), "; "), Mark: mk}
		if dl, ok := dls[e.Seq]; ok {
			dv.State, dv.Attempts, dv.LastError, dv.Failed = dl.State, strconv.Itoa(dl.Attempts), dl.LastError, dl.State == store.DeliveryFailed
			if dl.Reason != "" {
				dv.State += " (" + dl.Reason + ")"
			}
			if dl.DeliveredAt != nil {
				dv.Delivered = dl.DeliveredAt.UTC().Format(time.RFC3339)
			}
		}
		d.Deliveries = append(d.Deliveries, dv)
	}
	return nil
}

// consent records the originator's consent to release the object to a
// partner (ORCON), through node.Releases.RecordConsent.
func (rp releaserPages) consent(w http.ResponseWriter, r *http.Request) {
	c, err := rp.Node().Releases.RecordConsent(r.Context(), web.Principal(r), r.PathValue("id"), strings.TrimSpace(r.FormValue("originator")), r.FormValue("to"))
	if err != nil {
		rp.releaseFail(w, r, err)
		return
	}
	rp.showPreview(w, r, http.StatusOK, fmt.Sprintf("Consent recorded: %s consents to release to %s.", c.Originator, c.To))
}

// recall recalls the object from every partner it went to, with a reason,
// through node.Recalls.Recall.
func (rp releaserPages) recall(w http.ResponseWriter, r *http.Request) {
	rs, err := rp.Node().Recalls.Recall(r.Context(), web.Principal(r), r.PathValue("id"), r.FormValue("reason"))
	if err != nil {
		rp.releaseFail(w, r, err)
		return
	}
	var to []string
	for _, s := range rs {
		to = append(to, s.Party)
	}
	msg := "Recalled; notices queued to " + strings.Join(to, ", ") + "."
	if len(to) == 0 {
		msg = "Recalled; it had gone to no partner."
	}
	rp.showPreview(w, r, http.StatusOK, msg)
}

// retry makes a failed delivery due again through
// node.Deliveries.RetryDelivery, then shows the object's page again.
func (rp releaserPages) retry(w http.ResponseWriter, r *http.Request) {
	seq, err := strconv.ParseInt(r.PathValue("seq"), 10, 64)
	if err != nil || seq < 1 {
		rp.NotFound(w, r)
		return
	}
	dl, err := rp.Node().Deliveries.RetryDelivery(r.Context(), web.Principal(r), seq)
	if err != nil {
		rp.releaseFail(w, r, err)
		return
	}
	r.SetPathValue("id", r.FormValue("object"))
	rp.showPreview(w, r, http.StatusOK, "Delivery queued again: "+dl.State+".")
}
