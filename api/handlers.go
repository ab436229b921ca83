package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/users"
)

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "node": s.n.Config().Name})
}

type whoamiBody struct {
	Name         string            `json:"name"`
	Role         string            `json:"role"`
	Nationality  string            `json:"nationality"`
	Org          string            `json:"org,omitempty"`
	Clearances   map[string]string `json:"clearances"`
	Compartments []string          `json:"compartments"`
	DefaultLabel string            `json:"default_label,omitempty"`
	Node         string            `json:"node"`
}

func (s *Server) whoami(w http.ResponseWriter, r *http.Request) {
	u := principal(r).User
	writeJSON(w, http.StatusOK, whoamiBody{Name: u.Name, Role: u.Role, Nationality: u.Nationality, Org: u.Org,
		Clearances: u.Clearances, Compartments: nonNil(u.Compartments), DefaultLabel: u.DefaultLabel, Node: s.n.Config().Name})
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// publish ingests a bundle or a single object. The response lists what
// landed and what was refused; 200 when all landed, 422 when any was refused.
func (s *Server) publish(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(w, r, s.n.Config().MaxBodyBytes)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	res, err := s.n.Ingest(r.Context(), principal(r), body, node.IngestOptions{Label: r.URL.Query().Get("label")})
	if err != nil {
		if errors.Is(err, node.ErrForbidden) {
			s.fail(w, r, err)
			return
		}
		if errors.Is(err, r.Context().Err()) && r.Context().Err() != nil {
			s.fail(w, r, err)
			return
		}
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	for _, l := range res.Landed {
		s.objects.WithLabelValues(l.Status).Inc()
	}
	s.objects.WithLabelValues("refused").Add(float64(len(res.Refused)))
	code := http.StatusOK
	if len(res.Refused) > 0 {
		code = http.StatusUnprocessableEntity
	}
	writeJSON(w, code, res)
}

func (s *Server) get(w http.ResponseWriter, r *http.Request) {
	o, err := s.n.Get(r.Context(), principal(r), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	// With its length given, an object over net/http's 2 KiB buffer is
	// sent as it is, in one TLS record with the header, not chunked and
	// flushed twice.
	w.Header().Set("Content-Length", strconv.Itoa(len(o.Raw)))
	// Only a reader of several instances of the id learns there are
	// several (docs/SECURITY.md); everyone else gets an ordinary object.
	if o.Instances > 1 {
		w.Header().Set(InstancesHeader, strconv.Itoa(o.Instances))
	}
	w.Write(o.Raw)
}

// InstancesHeader, on a read by id, says how many instances of the id the
// caller may read when that is more than one; the one returned is that of
// the caller's highest level.
const InstancesHeader = "Tearline-Instances"

func (s *Server) versions(w http.ResponseWriter, r *http.Request) {
	vs, err := s.n.Versions(r.Context(), principal(r), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var b bytes.Buffer
	b.WriteString(`{"versions":[`)
	for i, v := range vs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(v.Raw)
	}
	b.WriteByte(']')
	// A reader of several instances gets each version's instance beside
	// it; a reader of one gets today's answer, with no sign of the others.
	if vs[0].Instances > 1 {
		b.WriteString(`,"instances":[`)
		for i, v := range vs {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.FormatInt(v.Instance, 10))
		}
		b.WriteByte(']')
	}
	b.WriteString("}\n")
	w.Header().Set("Content-Type", "application/json")
	w.Write(b.Bytes())
}

// bindings returns the binding objects of the latest version the caller may
// read, as a JSON array.
func (s *Server) bindings(w http.ResponseWriter, r *http.Request) {
	o, err := s.n.Get(r.Context(), principal(r), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(o.Bindings)
}

// listOptions reads a listing's filters; route names the listing, so that
// its cursors are not accepted by another.
func listOptions(r *http.Request, route string) (node.ListOptions, error) {
	q := r.URL.Query()
	o := node.ListOptions{Route: route, Next: q.Get("next"), IncludeRevoked: q.Get("include_revoked") == "true"}
	if t := q.Get("type"); t != "" {
		for _, typ := range strings.Split(t, ",") {
			if typ = strings.TrimSpace(typ); typ != "" {
				o.Types = append(o.Types, typ)
			}
		}
	}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > node.MaxPage {
			return o, errors.New("limit: want an integer from 1 to 1000")
		}
		o.Limit = n
	}
	return o, nil
}

func (s *Server) list(w http.ResponseWriter, r *http.Request) {
	o, err := listOptions(r, "objects")
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	page, err := s.n.List(r.Context(), principal(r), o)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var b bytes.Buffer
	b.WriteString(`{"objects":[`)
	for i, v := range page.Objects {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(v.Raw)
	}
	b.WriteString(`],"more":`)
	b.WriteString(strconv.FormatBool(page.More))
	if page.More {
		b.WriteString(`,"next":`)
		nb, _ := json.Marshal(page.Next)
		b.Write(nb)
	}
	b.WriteString("}\n")
	w.Header().Set("Content-Type", "application/json")
	w.Write(b.Bytes())
}

// export returns a page as a STIX 2.1 bundle holding the objects, their
// bindings and the labels those bindings name: what `tearline verify`
// checks offline and what a partner ingests with the bindings intact.
func (s *Server) export(w http.ResponseWriter, r *http.Request) {
	o, err := listOptions(r, "export")
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	p := principal(r)
	page, err := s.n.List(r.Context(), p, o)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var labels []string
	var b bytes.Buffer
	b.WriteString(`{"type":"bundle","id":"bundle--` + newUUID() + `","objects":[`)
	first := true
	add := func(raw []byte) {
		if !first {
			b.WriteByte(',')
		}
		first = false
		b.Write(raw)
	}
	for _, v := range page.Objects {
		add(v.Raw)
		bs, err := v.BindingObjects()
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for _, bb := range bs {
			add(bb)
		}
		for _, id := range v.Labels {
			if !slices.Contains(labels, id) {
				labels = append(labels, id)
			}
		}
	}
	for _, id := range labels {
		raw, err := s.n.Label(r.Context(), p, id)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		add(raw)
	}
	b.WriteString("]}\n")
	if page.More {
		w.Header().Set("X-Tearline-Next", page.Next)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(b.Bytes())
}

func (s *Server) count(w http.ResponseWriter, r *http.Request) {
	o, err := listOptions(r, "count")
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	at := int64(CountCap)
	if v := r.URL.Query().Get("at_most"); v != "" {
		if at, err = strconv.ParseInt(v, 10, 64); err != nil || at < 1 || at > MaxCountCap {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("at_most: want an integer from 1 to %d", MaxCountCap))
			return
		}
	}
	o.CountAtMost = at + 1 // one more tells a count of exactly at from more
	n, err := s.n.Count(r.Context(), principal(r), o)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, countBody{Count: min(n, at), Capped: n > at})
}

// GET /api/v1/count counts up to CountCap objects unless at_most asks for
// more, up to MaxCountCap: each object counted is read and its access MAC
// checked (about 16 µs a row), so an uncapped count of a large node would
// cost seconds of CPU a call (docs/API.md).
const (
	CountCap    = 1000
	MaxCountCap = 100_000
)

// countBody is GET /api/v1/count's answer: capped (only when true) says
// there are more than count.
type countBody struct {
	Count  int64 `json:"count"`
	Capped bool  `json:"capped,omitempty"`
}

func (s *Server) label(w http.ResponseWriter, r *http.Request) {
	raw, err := s.n.Label(r.Context(), principal(r), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(raw)
}

// UserBody is a user as the API shows it (never its tokens' secrets).
type UserBody struct {
	Name         string            `json:"name"`
	Role         string            `json:"role"`
	Nationality  string            `json:"nationality"`
	Org          string            `json:"org,omitempty"`
	Clearances   map[string]string `json:"clearances"`
	Compartments []string          `json:"compartments"`
	DefaultLabel string            `json:"default_label,omitempty"`
	Disabled     bool              `json:"disabled,omitempty"`
	Created      time.Time         `json:"created"`
	// Token is set only in the response that creates the user.
	Token string `json:"token,omitempty"`
}

func (s *Server) users(w http.ResponseWriter, r *http.Request) {
	us, err := s.n.Users.Users(r.Context(), principal(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := make([]UserBody, 0, len(us))
	for _, u := range us {
		out = append(out, UserBody{Name: u.Name, Role: u.Role, Nationality: u.Nationality, Org: u.Org, Clearances: u.Clearances,
			Compartments: nonNil(u.Compartments), DefaultLabel: u.DefaultLabel, Disabled: u.Disabled, Created: u.Created})
	}
	writeJSON(w, http.StatusOK, map[string]any{"users": out})
}

type addUserBody struct {
	Name         string            `json:"name"`
	Role         string            `json:"role"`
	Nationality  string            `json:"nationality"`
	Org          string            `json:"org"`
	Clearances   map[string]string `json:"clearances"`
	Compartments []string          `json:"compartments"`
	DefaultLabel string            `json:"default_label"`
	TokenTTL     string            `json:"token_ttl"` // Go duration, e.g. "720h"
}

func decodeStrict(w http.ResponseWriter, r *http.Request, v any) error {
	body, err := readBody(w, r, 1<<20)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

func (s *Server) addUser(w http.ResponseWriter, r *http.Request) {
	var in addUserBody
	if err := decodeStrict(w, r, &in); err != nil {
		writeError(w, http.StatusBadRequest, "user: "+err.Error())
		return
	}
	var ttl time.Duration
	if in.TokenTTL != "" {
		d, err := time.ParseDuration(in.TokenTTL)
		if err != nil || d == 0 {
			writeError(w, http.StatusBadRequest, "token_ttl "+strconv.Quote(in.TokenTTL)+": want a positive duration such as 720h")
			return
		}
		ttl = d
	}
	u, tok, err := s.n.Users.AddUser(r.Context(), principal(r), users.UserSpec{Name: in.Name, Role: in.Role, Nationality: in.Nationality,
		Org: in.Org, Clearances: in.Clearances, Compartments: in.Compartments, DefaultLabel: in.DefaultLabel, TokenTTL: ttl})
	if err != nil {
		if errors.Is(err, node.ErrInvalid) {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, UserBody{Name: u.Name, Role: u.Role, Nationality: u.Nationality, Org: u.Org, Clearances: u.Clearances,
		Compartments: nonNil(u.Compartments), DefaultLabel: u.DefaultLabel, Created: u.Created, Token: tok})
}

type updateUserBody struct {
	Role         *string           `json:"role"`
	Clearances   map[string]string `json:"clearances"`
	Compartments []string          `json:"compartments"`
	DefaultLabel *string           `json:"default_label"`
	Disabled     *bool             `json:"disabled"`
}

func (s *Server) updateUser(w http.ResponseWriter, r *http.Request) {
	var in updateUserBody
	if err := decodeStrict(w, r, &in); err != nil {
		writeError(w, http.StatusBadRequest, "user: "+err.Error())
		return
	}
	u, err := s.n.Users.UpdateUser(r.Context(), principal(r), r.PathValue("name"), users.UserChange{Role: in.Role, Clearances: in.Clearances,
		Compartments: in.Compartments, DefaultLabel: in.DefaultLabel, Disabled: in.Disabled})
	if err != nil {
		if errors.Is(err, node.ErrInvalid) {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, UserBody{Name: u.Name, Role: u.Role, Nationality: u.Nationality, Org: u.Org, Clearances: u.Clearances,
		Compartments: nonNil(u.Compartments), DefaultLabel: u.DefaultLabel, Disabled: u.Disabled, Created: u.Created})
}

type tokenBody struct {
	ID      string     `json:"id"`
	Created time.Time  `json:"created"`
	Expires *time.Time `json:"expires,omitempty"`
	Revoked *time.Time `json:"revoked,omitempty"`
}

func (s *Server) tokens(w http.ResponseWriter, r *http.Request) {
	ts, err := s.n.Users.Tokens(r.Context(), principal(r), r.PathValue("name"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := make([]tokenBody, 0, len(ts))
	for _, t := range ts {
		tb := tokenBody{ID: t.ID, Created: t.Created}
		if !t.Expires.IsZero() {
			tb.Expires = &t.Expires
		}
		if !t.RevokedAt.IsZero() {
			tb.Revoked = &t.RevokedAt
		}
		out = append(out, tb)
	}
	writeJSON(w, http.StatusOK, map[string]any{"tokens": out})
}

func (s *Server) issueToken(w http.ResponseWriter, r *http.Request) {
	var ttl time.Duration
	if v := r.URL.Query().Get("ttl"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d == 0 {
			writeError(w, http.StatusBadRequest, "ttl "+strconv.Quote(v)+": want a positive duration such as 720h")
			return
		}
		ttl = d
	}
	tok, err := s.n.Users.IssueToken(r.Context(), principal(r), r.PathValue("name"), ttl)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]string{"token": tok})
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) {
	if _, err := s.n.Users.RevokeToken(r.Context(), principal(r), r.PathValue("id")); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
