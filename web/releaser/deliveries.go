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
	"github.com/tearline/tearline/node/delivery"
	"github.com/tearline/tearline/node/release"
	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/web"
)

// The deliveries per partner (/ui/deliveries): what went to one partner in
// a period and how each delivery goes, with a retry for a failed one, as
// node/delivery's States gives it to this user: releasers and admins see
// the objects they may read (nothing else shows, in rows or counts),
// auditors and admins every level. The rows name a delivery by object,
// version and partner, never by the ledger's sequence number, which would
// count the releases hidden from the user.

// deliveryView is one delivery row (here and on an object's release page).
type deliveryView struct {
	Object                                            web.Row
	Instance                                          int64
	Modified, Party, Agreement, Outcome, At, By       string
	State, Reason, Attempts, LastError, Delivered, Ok string
	Failed                                            bool
	Seq                                               int64 // to ledger readers only (node.MayCount)
}

// deliveryTable is what the "delivery-table" template shows: the rows,
// the form's CSRF token and, on the partner's page, where a retry comes
// back to (From "deliveries", with the filter's State and Days).
type deliveryTable struct {
	Rows        []deliveryView
	CSRF        string
	ObjectCol   bool
	From, State string
	Days        int
}

type deliveriesData struct {
	Parties    []string
	Party      string
	Failed     bool
	Days       int
	DayOpts    []int
	Deliveries deliveryTable
	More       bool
	Result     string
}

var dayOptions = []int{1, 7, 30, 92}

func (rp releaserPages) deliveries(w http.ResponseWriter, r *http.Request) {
	rp.showDeliveries(w, r, http.StatusOK, "")
}

func (rp releaserPages) showDeliveries(w http.ResponseWriter, r *http.Request, code int, result string) {
	ctx, p := r.Context(), web.Principal(r)
	q := r.URL.Query()
	d := deliveriesData{Parties: rp.parties(r), Party: q.Get("party"), Failed: q.Get("state") == "failed", Days: 7, DayOpts: dayOptions, Result: result}
	if n, err := strconv.Atoi(q.Get("days")); err == nil && slices.Contains(dayOptions, n) {
		d.Days = n
	}
	if d.Party == "" && len(d.Parties) > 0 {
		d.Party = d.Parties[0]
	}
	d.Deliveries = deliveryTable{ObjectCol: true, From: "deliveries", State: q.Get("state"), Days: d.Days}
	if !d.Failed {
		d.Deliveries.State = ""
	}
	m := rp.NewMarks()
	if d.Party != "" {
		to := rp.Node().Now()
		es, more, err := rp.Node().Deliveries.States(ctx, p, delivery.Query{Party: d.Party, Failed: d.Failed,
			From: to.Add(-time.Duration(d.Days) * 24 * time.Hour), To: to.Add(time.Second)})
		if err != nil {
			rp.releaseFail(w, r, err)
			return
		}
		if d.Deliveries.Rows, err = rp.deliveryRows(r, m, es); err != nil {
			rp.Fail(w, r, err)
			return
		}
		d.More = more
	} else if err := node.Authorize(p, node.ActDeliveryRead); err != nil {
		rp.Fail(w, r, err)
		return
	}
	v := rp.ViewFor(r, "Deliveries", m.Banner(), nil)
	d.Deliveries.CSRF = v.CSRF
	v.Data = d
	rp.Render(w, code, "deliveries", "", v)
}

// deliveryRows lays out States' entries, each marked with the label of
// the version sent. An entry whose version is no longer stored (purged
// since it went) is left out.
func (rp releaserPages) deliveryRows(r *http.Request, m *web.Marks, es []delivery.Entry) ([]deliveryView, error) {
	ctx := r.Context()
	out := make([]deliveryView, 0, len(es))
	for _, e := range es {
		v, err := node.VersionOf(ctx, rp.Node().Store(), e.ObjectID, node.VersionKey{Instance: e.Instance, Modified: e.Modified})
		if errors.Is(err, node.ErrNotFound) || errors.Is(err, store.ErrNotFound) {
			continue // purged since it went: nothing of it to show
		}
		if err != nil {
			return nil, err
		}
		// The id and the label only: no content is read here (the row
		// links to the object's page, where reading it is audited).
		mk, err := m.Object(ctx, rp.Node().Node, node.Object{ObjectVersion: v})
		if err != nil {
			return nil, err
		}
		row := web.Row{ID: v.ID, Name: v.ID, Type: v.Type, Modified: v.Modified, Mark: mk}
		dv := deliveryView{Object: row, Instance: e.Instance, Modified: e.Modified, Party: e.Party, Seq: e.Seq,
			Agreement: fmt.Sprintf("%s v%d", e.Agreement, e.AgreementVersion), Outcome: e.Outcome,
			At: e.At.UTC().Format(time.RFC3339), By: e.By, Reason: strings.Join(release.Words(e.Reasons), "; ")}
		if dl := e.Delivery; dl != nil {
			dv.State, dv.Attempts, dv.LastError, dv.Failed = dl.State, strconv.Itoa(dl.Attempts), dl.LastError, dl.State == store.DeliveryFailed
			if dl.Reason != "" {
				dv.State += " (" + dl.Reason + ")"
			}
			if dl.DeliveredAt != nil {
				dv.Delivered = dl.DeliveredAt.UTC().Format(time.RFC3339)
			}
		}
		out = append(out, dv)
	}
	return out, nil
}

// retry makes the newest failed delivery of an object's version to a
// partner due again (node.Deliveries.Retry: a version the user may not
// read is answered as a delivery that does not exist), then shows the page
// the form came from: the deliveries per partner, or the object's release
// page.
func (rp releaserPages) retry(w http.ResponseWriter, r *http.Request) {
	inst, err := strconv.ParseInt(r.FormValue("instance"), 10, 64)
	if err != nil || inst < 0 {
		rp.NotFound(w, r)
		return
	}
	k := delivery.Key{ObjectID: r.FormValue("object"), Instance: inst, Modified: r.FormValue("modified"), Party: r.FormValue("party")}
	dl, err := rp.Node().Deliveries.Retry(r.Context(), web.Principal(r), k)
	if err != nil {
		rp.releaseFail(w, r, err)
		return
	}
	msg := "Delivery to " + k.Party + " queued again: " + dl.State + "."
	if r.FormValue("from") == "deliveries" {
		r.URL.RawQuery = url.Values{"party": {k.Party}, "state": {r.FormValue("state")}, "days": {r.FormValue("days")}}.Encode()
		rp.showDeliveries(w, r, http.StatusOK, msg)
		return
	}
	r.SetPathValue("id", k.ObjectID)
	rp.showPreview(w, r, http.StatusOK, msg)
}
