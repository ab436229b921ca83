package releaser

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/delivery"
	"github.com/tearline/tearline/node/release"
	"github.com/tearline/tearline/stix"
	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/web"
)

// The release page of one object (/ui/objects/{id}/preview): the preview
// for a partner (node.Releases.Explain, the API's release explain: a dry
// run, audited, no ledger row), the original and its tearline side by
// side, the ORCON consents, the recalls with each partner's
// acknowledgement and, for those who may read delivery states (node
// decides: releasers and admins on what they may read, auditors), each
// delivery with a retry (deliveries.go). The object is read first through
// node.Get: one the user may not read is not found, exactly as one that
// does not exist.

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
	Deliveries       deliveryTable
	RequestURL, Self string
}

// maxDeliveriesShown caps the deliveries the page shows (the newest).
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
	v := rp.ViewFor(r, "Release of "+obj.Name, m.Banner(), nil)
	d.Deliveries.CSRF = v.CSRF
	v.Data = d
	rp.Render(w, code, "preview", "", v)
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
	es, _, err := rp.Node().Deliveries.States(ctx, p, delivery.Query{ObjectID: o.ID, Limit: maxDeliveriesShown})
	if errors.Is(err, node.ErrForbidden) {
		return nil
	}
	if err != nil {
		return err
	}
	d.DeliveriesShown = true
	d.Deliveries.Rows, err = rp.deliveryRows(r, m, es)
	return err
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
