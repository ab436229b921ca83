package web

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/store"
)

// auditPageSize is the entries an audit page shows.
const auditPageSize = 100

type auditRow struct {
	Index                                          int64
	Time, Actor, Action, Object, Subject, Decision string
	Reasons, Detail                                string
}

type auditData struct {
	Size, Checkpoint, First, Last int64
	Entries                       []auditRow
	OlderURL                      string
}

// auditLog shows the audit log, newest first, a page at a time (before=N:
// the entries below index N). Node decides who may read it (auditors and
// admins). Its metadata spans every level, so the page is marked
// system-high, whoever reads it.
func (s *Server) auditLog(w http.ResponseWriter, r *http.Request) {
	ctx, p := r.Context(), principal(r)
	cp, err := s.n.Oversight.AuditCheckpoint(ctx, p)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.fail(w, r, err)
		return
	}
	size := cp.Size // AuditCheckpoint signs the whole log first
	end := size
	if b := r.URL.Query().Get("before"); b != "" {
		v, err := strconv.ParseInt(b, 10, 64)
		if err != nil || v < 0 {
			s.errorPage(w, r, p, http.StatusBadRequest, "before: want an entry number.")
			return
		}
		end = min(v, size)
	}
	start := max(0, end-auditPageSize)
	entries, err := s.n.Oversight.AuditEntries(ctx, p, start, end)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := auditData{Size: size, Checkpoint: cp.Size, First: start, Last: end - 1}
	for _, e := range slices.Backward(entries) {
		ev, err := audit.Parse(e.Data)
		if err != nil {
			continue
		}
		d.Entries = append(d.Entries, auditRow{Index: e.Index, Time: ev.Time.UTC().Format(time.RFC3339), Actor: ev.Actor,
			Action: ev.Action, Object: ev.Object, Subject: ev.Subject, Decision: ev.Decision,
			Reasons: strings.Join(ev.Reasons, ", "), Detail: ev.Detail})
	}
	if start > 0 {
		d.OlderURL = Prefix + "audit?before=" + strconv.FormatInt(start, 10)
	}
	m := s.newMarks()
	m.high, m.any = true, true
	s.render(w, http.StatusOK, "audit", "", s.viewFor(r, "Audit log", m.banner(), d))
}

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
