package web

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/tearline/tearline/node"
)

type releaseRow struct {
	ID, ObjectID, Modified, Party, Agreement, Purpose, Requester, State, Reason, Approvals string
	Mark                                                                                   objectMark
}

type releasesData struct {
	States []string
	State  string
	Rows   []releaseRow
	Result string
}

var releaseStates = []string{"pending", "", "approved", "refused", "released"}

// releases shows the release queue as node.Releases.ReleaseQueue gives it
// to this user (requests for objects they may read; auditors and admins
// all), each row marked with the label of the version requested.
func (s *Server) releases(w http.ResponseWriter, r *http.Request) {
	s.showReleases(w, r, http.StatusOK, "")
}

func (s *Server) showReleases(w http.ResponseWriter, r *http.Request, code int, result string) {
	ctx, p := r.Context(), principal(r)
	state := r.URL.Query().Get("state")
	if !r.URL.Query().Has("state") {
		state = "pending"
	}
	if !slices.Contains(releaseStates, state) {
		s.errorPage(w, r, p, http.StatusBadRequest, "state: want pending, approved, refused or released.")
		return
	}
	qs, err := s.n.Releases.ReleaseQueue(ctx, p, state)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := releasesData{States: releaseStates, State: state, Result: result}
	m := s.newMarks()
	for _, q := range qs {
		v, err := node.VersionOf(ctx, s.n.Store(), q.ObjectID, node.VersionKey{Instance: q.Instance, Modified: q.Modified})
		if err != nil {
			s.fail(w, r, err)
			return
		}
		mk, err := m.object(ctx, s.n.Node, node.Object{ObjectVersion: v})
		if err != nil {
			s.fail(w, r, err)
			return
		}
		var by []string
		for _, a := range q.Approvals {
			by = append(by, a.By)
		}
		d.Rows = append(d.Rows, releaseRow{ID: q.ID, ObjectID: q.ObjectID, Modified: q.Modified, Party: q.Party,
			Agreement: fmt.Sprintf("%s v%d", q.Agreement, q.AgreementVersion), Purpose: q.Purpose, Requester: q.Requester,
			State: q.State, Reason: q.Reason, Approvals: fmt.Sprintf("%d of %d %s", len(q.Approvals), q.Required, strings.Join(by, ", ")), Mark: mk})
	}
	s.render(w, code, "releases", "", s.viewFor(r, "Release requests", m.banner(), d))
}

// decideRelease approves or refuses a request through node.Releases,
// which checks the role, the two-person rule and the agreement again.
func (s *Server) decideRelease(approve bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, p, id := r.Context(), principal(r), r.PathValue("id")
		var err error
		var what string
		if approve {
			res, e := s.n.Releases.ApproveRelease(ctx, p, id)
			err = e
			what = fmt.Sprintf("Approval recorded: outcome %s, %d approval(s).", res.Outcome, res.Approvals)
		} else {
			_, err = s.n.Releases.RefuseRelease(ctx, p, id, r.FormValue("reason"))
			what = "Refused."
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.showReleases(w, r, http.StatusOK, what)
	}
}
