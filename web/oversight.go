package web

import (
	"net/http"
	"slices"
	"strings"
)

type userRow struct {
	Name, Role, Nationality, Clearances, Compartments, DefaultLabel string
	Disabled                                                        bool
}

// users lists the node's users for administrators (node decides who may).
// It shows no intelligence: system-low.
func (s *Server) users(w http.ResponseWriter, r *http.Request) {
	us, err := s.n.Users.Users(r.Context(), principal(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rows := make([]userRow, 0, len(us))
	for _, u := range us {
		clr := make([]string, 0, len(u.Clearances))
		for pol, lvl := range u.Clearances {
			clr = append(clr, pol+" "+lvl)
		}
		slices.Sort(clr)
		rows = append(rows, userRow{Name: u.Name, Role: u.Role, Nationality: u.Nationality, Clearances: strings.Join(clr, ", "),
			Compartments: strings.Join(u.Compartments, ", "), DefaultLabel: u.DefaultLabel, Disabled: u.Disabled})
	}
	s.render(w, http.StatusOK, "users", "", s.viewFor(r, "Users", s.newMarks().banner(), rows))
}
