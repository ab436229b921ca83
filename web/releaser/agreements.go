package releaser

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tearline/tearline/agreement"
	"github.com/tearline/tearline/node/agreements"
	"github.com/tearline/tearline/web"
)

// agreementPages show the sharing agreements as node/agreements gives them
// (every role reads them): parties, terms per direction in words,
// signatures checked against each party's key, lifecycle state and
// history, expiry. They show no intelligence: system-low.
type agreementPages struct{ *web.Server }

type partyView struct {
	Name, Country, Organisation, Key string
	Signed                           bool // a signature by this party verifies with its key
}

type termsView struct {
	From, To string
	Words    []string
}

type transitionView struct{ From, To, At, By, Note string }

type agreementView struct {
	agreements.AgreementInfo
	Parties  []partyView
	Terms    []termsView
	History  []transitionView
	Versions []int
}

func (ap agreementPages) list(w http.ResponseWriter, r *http.Request) {
	as, err := ap.Node().Agreements.Agreements(r.Context(), web.Principal(r))
	if err != nil {
		ap.Fail(w, r, err)
		return
	}
	ap.Render(w, http.StatusOK, "agreements", "", ap.ViewFor(r, "Agreements", ap.NewMarks().Banner(), as))
}

func (ap agreementPages) show(w http.ResponseWriter, r *http.Request) {
	ctx, p := r.Context(), web.Principal(r)
	version := 0
	if v := r.URL.Query().Get("version"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			ap.ErrorPage(w, r, p, http.StatusBadRequest, "version: want a positive number.")
			return
		}
		version = n
	}
	a, hist, err := ap.Node().Agreements.Agreement(ctx, p, r.PathValue("id"), version)
	if err != nil {
		ap.Fail(w, r, err)
		return
	}
	d := agreementView{AgreementInfo: a}
	if all, err := ap.Node().Agreements.Agreements(ctx, p); err == nil {
		for _, o := range all {
			if o.ID == a.ID {
				d.Versions = append(d.Versions, o.Version)
			}
		}
	}
	if doc := a.Document; doc != nil {
		for _, pt := range doc.Parties {
			d.Parties = append(d.Parties, partyView{Name: pt.Name, Country: pt.Country, Organisation: pt.Organisation,
				Key: pt.PublicKey, Signed: slices.Contains(a.Signed, pt.Name)})
		}
		for _, t := range doc.Terms {
			d.Terms = append(d.Terms, termsView{From: strings.Join(t.From, ", "), To: strings.Join(t.To, ", "), Words: termWords(t)})
		}
	}
	for _, h := range hist {
		if h.Version == a.Version {
			d.History = append(d.History, transitionView{From: h.From, To: h.To, At: h.At.UTC().Format(time.RFC3339), By: h.By, Note: h.Note})
		}
	}
	ap.Render(w, http.StatusOK, "agreement", "", ap.ViewFor(r, "Agreement "+a.ID, ap.NewMarks().Banner(), d))
}

// termWords says one terms entry in words, a sentence a line.
func termWords(t agreement.Terms) []string {
	level := func(l agreement.Level) string {
		s := l.Policy + " " + l.Level
		if l.Owner != "" {
			s += " (" + l.Owner + ")"
		}
		return s
	}
	list := func(xs []string) string {
		if len(xs) == 0 {
			return "none"
		}
		return strings.Join(xs, ", ")
	}
	out := []string{
		"Up to " + level(t.MaxClassification) + ", TLP up to " + cmp.Or(t.MaxTLP, "AMBER") + ".",
		"Topics: " + list(t.Topics) + "; disciplines: " + list(t.Disciplines) + "; compartments that may pass: " + list(t.Compartments) + ".",
		"For the purposes " + list(t.Purposes) + "; kept at most " + strconv.Itoa(t.RetentionDays) + " days.",
	}
	if t.RequireReleasableTo {
		out = append(out, "Only what is marked releasable to the receiving party.")
	}
	if t.Condition != "" {
		out = append(out, "Only objects for which this holds: "+t.Condition)
	}
	switch t.Onward {
	case agreement.OnwardNone:
		out = append(out, "No onward release.")
	case agreement.OnwardParties:
		out = append(out, "Onward release only to parties of this agreement.")
	case agreement.OnwardWithConsent:
		out = append(out, "Onward release to anyone with the originator's recorded consent.")
	}
	rel := map[agreement.Mode]string{agreement.ModeAutomatic: "Released without a person's approval",
		agreement.ModeOne: "One releaser approves each release", agreement.ModeTwo: "Two different releasers approve each release (two-person rule)"}[t.Release.Mode]
	if rel == "" {
		rel = "Release mode " + string(t.Release.Mode)
	}
	if t.Release.Above != nil {
		rel += fmt.Sprintf(" above %s", level(*t.Release.Above))
	}
	return append(out, rel+".")
}
