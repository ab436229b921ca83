package releaser

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/release"
	"github.com/tearline/tearline/web"
)

// releaserPages are the releaser's screens (docs/UI.md, "Releaser"): the
// release queue with the policy's decision per request and the two-person
// rule, requesting a release, the preview for a partner (preview.go) and
// the agreements (agreements.go). node/release, node/recalls and
// node/delivery decide who may see and do what; a handler here only maps
// their errors to pages, as fail does.
type releaserPages struct{ *web.Server }

// Routes adds the screens to s (a web.Screens).
func Routes(s *web.Server) { releaserPages{s}.routes() }

func (rp releaserPages) routes() {
	rp.Handle("GET "+web.Prefix+"releases", rp.SignedIn(rp.queue))
	rp.Handle("POST "+web.Prefix+"releases", rp.SignedIn(rp.request))
	rp.Handle("POST "+web.Prefix+"releases/{id}/approve", rp.SignedIn(rp.decide(true)))
	rp.Handle("POST "+web.Prefix+"releases/{id}/refuse", rp.SignedIn(rp.decide(false)))
	rp.Handle("GET "+web.Prefix+"objects/{id}/preview", rp.SignedIn(rp.preview))
	rp.Handle("POST "+web.Prefix+"objects/{id}/consents", rp.SignedIn(rp.consent))
	rp.Handle("POST "+web.Prefix+"objects/{id}/recall", rp.SignedIn(rp.recall))
	rp.Handle("GET "+web.Prefix+"deliveries", rp.SignedIn(rp.deliveries))
	rp.Handle("POST "+web.Prefix+"deliveries/retry", rp.SignedIn(rp.retry))
	ap := agreementPages{rp.Server}
	rp.Handle("GET "+web.Prefix+"agreements", rp.SignedIn(ap.list))
	rp.Handle("GET "+web.Prefix+"agreements/{id}", rp.SignedIn(ap.show))
}

type releaseRow struct {
	ID, ObjectID, Modified, Party, Agreement, Purpose, Requester, State, Reason string
	Outcome                                                                     string   // the policy's decision when the request was made
	Words                                                                       []string // its reasons, in words
	Cut                                                                         []string // what a tearline would remove
	Approvals                                                                   []string // who approved, when, in order
	Required                                                                    int
	Mine                                                                        bool // the signed-in user requested it
	PreviewURL                                                                  string
	Mark                                                                        web.ObjectMark
}

type releasesData struct {
	States  []string
	State   string
	Rows    []releaseRow
	Result  string
	Parties []string
}

var releaseStates = []string{"pending", "", "approved", "refused", "released"}

// decisionSnapshot is the decision node/release kept with a request.
type decisionSnapshot struct {
	Outcome   string   `json:"outcome"`
	Reasons   []string `json:"reasons"`
	Approvals int      `json:"approvals"`
	Cut       []string `json:"cut"`
}

// queue shows the release queue as node.Releases.ReleaseQueue gives it to
// this user (requests for objects they may read, so an analyst sees their
// own; auditors and admins all), each row marked with the label of the
// version requested, the policy's decision in words, and the two-person
// rule: who approved so far and how many are needed.
func (rp releaserPages) queue(w http.ResponseWriter, r *http.Request) {
	rp.showQueue(w, r, http.StatusOK, "")
}

func (rp releaserPages) showQueue(w http.ResponseWriter, r *http.Request, code int, result string) {
	ctx, p := r.Context(), web.Principal(r)
	state := r.URL.Query().Get("state")
	if !r.URL.Query().Has("state") {
		state = "pending"
	}
	if !slices.Contains(releaseStates, state) {
		rp.ErrorPage(w, r, p, http.StatusBadRequest, "state: want pending, approved, refused or released.")
		return
	}
	qs, err := rp.Node().Releases.ReleaseQueue(ctx, p, state)
	if err != nil {
		rp.Fail(w, r, err)
		return
	}
	d := releasesData{States: releaseStates, State: state, Result: result, Parties: rp.parties(r)}
	m := rp.NewMarks()
	for _, q := range qs {
		v, err := node.VersionOf(ctx, rp.Node().Store(), q.ObjectID, node.VersionKey{Instance: q.Instance, Modified: q.Modified})
		if err != nil {
			rp.Fail(w, r, err)
			return
		}
		mk, err := m.Object(ctx, rp.Node().Node, node.Object{ObjectVersion: v})
		if err != nil {
			rp.Fail(w, r, err)
			return
		}
		var snap decisionSnapshot
		_ = json.Unmarshal(q.Decision, &snap) // an unreadable snapshot shows as no decision
		row := releaseRow{ID: q.ID, ObjectID: q.ObjectID, Modified: q.Modified, Party: q.Party,
			Agreement: fmt.Sprintf("%s v%d", q.Agreement, q.AgreementVersion), Purpose: q.Purpose, Requester: q.Requester,
			State: q.State, Reason: q.Reason, Outcome: snap.Outcome, Words: release.Words(snap.Reasons), Cut: snap.Cut,
			Required: q.Required, Mine: q.Requester == p.Actor(), Mark: mk,
			PreviewURL: web.Prefix + "objects/" + url.PathEscape(q.ObjectID) + "/preview?" + url.Values{"to": {q.Party}, "purpose": {q.Purpose}}.Encode()}
		for _, a := range q.Approvals {
			row.Approvals = append(row.Approvals, a.By+" at "+a.At.UTC().Format(time.RFC3339))
		}
		d.Rows = append(d.Rows, row)
	}
	rp.Render(w, code, "releases", "", rp.ViewFor(r, "Release requests", m.Banner(), d))
}

// parties are the partners named by the agreements this user may read
// (node decides), for the forms' choices; this node is not one.
func (rp releaserPages) parties(r *http.Request) []string {
	as, err := rp.Node().Agreements.Agreements(r.Context(), web.Principal(r))
	if err != nil {
		return nil
	}
	var out []string
	for _, a := range as {
		for _, p := range a.Parties {
			if p != rp.Node().Config().Name && !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	slices.Sort(out)
	return out
}

// request asks node.Releases.Release for a release of an object to a
// partner: released, cut to a tearline, held for approval or refused, as
// policy decides; an object the user may not read is not found.
func (rp releaserPages) request(w http.ResponseWriter, r *http.Request) {
	id, to, purpose := strings.TrimSpace(r.FormValue("object")), r.FormValue("to"), r.FormValue("purpose")
	if id == "" || to == "" || purpose == "" {
		rp.ErrorPage(w, r, web.Principal(r), http.StatusBadRequest, "A release needs an object, a partner and a purpose.")
		return
	}
	res, err := rp.Node().Releases.Release(r.Context(), web.Principal(r), id, to, purpose)
	if err != nil {
		rp.releaseFail(w, r, err)
		return
	}
	rp.showQueue(w, r, http.StatusOK, resultWords(res))
}

// resultWords says what a release or an approval did, with ids and words,
// never content.
func resultWords(res release.ReleaseResult) string {
	s := fmt.Sprintf("Release of %s to %s: outcome %s", res.Object, res.Party, res.Outcome)
	if res.Request != "" {
		s += ", request " + res.Request
	}
	if res.Approvals > 0 {
		s += fmt.Sprintf(", %d approval(s) needed", res.Approvals)
	}
	if res.Delivery != "" {
		s += ", delivery " + res.Delivery
	}
	if len(res.Words) > 0 {
		s += ": " + strings.Join(res.Words, "; ")
	}
	return s + "."
}

// decide approves or refuses a request through node.Releases, which checks
// the role, the two-person rule and the agreement again.
func (rp releaserPages) decide(approve bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, p, id := r.Context(), web.Principal(r), r.PathValue("id")
		var err error
		var what string
		if approve {
			res, e := rp.Node().Releases.ApproveRelease(ctx, p, id)
			err = e
			what = fmt.Sprintf("Approval recorded: outcome %s, %d approval(s).", res.Outcome, res.Approvals)
		} else {
			_, err = rp.Node().Releases.RefuseRelease(ctx, p, id, r.FormValue("reason"))
			what = "Refused."
		}
		if err != nil {
			rp.releaseFail(w, r, err)
			return
		}
		rp.showQueue(w, r, http.StatusOK, what)
	}
}

// releaseFail maps the release services' own errors (a decision that
// refuses on approval, a delivery that has not failed) as the API does
// (409), and everything else as fail does.
func (rp releaserPages) releaseFail(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, node.ErrNotReleased):
		rp.ErrorPage(w, r, web.Principal(r), http.StatusConflict, "Not released: the decision made again refuses it now.")
	case errors.Is(err, node.ErrNotFailed):
		rp.ErrorPage(w, r, web.Principal(r), http.StatusConflict, "That delivery has not failed: there is nothing to retry.")
	case errors.Is(err, node.ErrInvalid):
		rp.ErrorPage(w, r, web.Principal(r), http.StatusBadRequest, "Not accepted: "+invalidWhy(err))
	default:
		rp.Fail(w, r, err)
	}
}

// invalidWhy is the part of an ErrInvalid message after the sentinel's
// text: what was wrong with the request, which names only what the user
// sent or may read (node checks the read before it validates).
func invalidWhy(err error) string {
	msg := err.Error()
	if _, after, ok := strings.Cut(msg, node.ErrInvalid.Error()+": "); ok {
		return after
	}
	return "the request was not valid."
}
