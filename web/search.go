package web

import (
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/search"
	"github.com/tearline/tearline/searchterm"
	"github.com/tearline/tearline/store"
)

// searchPages are the search page and the saved searches' forms
// (docs/SEARCH.md, docs/UI.md): one box for free text, an exact value or a
// pasted list of values, filters as form fields, the hits grouped by
// matched value. Everything goes through node/search, which pushes the
// read rule down: what the user may not read is in no result and no
// count. A handler group of its own, so Server stays small.
type searchPages struct{ *Server }

// routes registers the search pages on s.
func (sp searchPages) routes() {
	sp.Handle("GET "+Prefix+"search", sp.SignedIn(sp.search))
	sp.Handle("POST "+Prefix+"search/saved", sp.SignedIn(sp.save))
	sp.Handle("POST "+Prefix+"search/saved/delete", sp.SignedIn(sp.deleteSaved))
}

// searchFilterFields are the form fields of the filters, in the order a
// saved search keeps them.
var searchFilterFields = []string{"type", "class", "rel", "disc", "topic", "orig", "since", "until"}

type searchGroupView struct {
	Value     string // the matched value; "" for free text
	CountText string // "3 objects", "1,000+ objects"
	Rows      []Row
	NextURL   string
}

type searchData struct {
	Q        string
	Form     map[string]string // the filters as asked
	Types    []string
	Levels   []LevelOption
	Asked    bool
	List     bool
	Error    string
	Groups   []searchGroupView
	Saved    []store.SavedSearch
	SavedURL map[string]template.URL // each saved search's URL (built here from url.Values)
	Filters  string                  // the current filters as a URL query (for saving)
}

// filtersOf reads the filter fields of form; a malformed one is
// node.ErrInvalid.
func (sp searchPages) filtersOf(form url.Values) (search.Filters, error) {
	f := search.Filters{Releasable: strings.ToUpper(strings.TrimSpace(form.Get("rel"))),
		Discipline: strings.ToUpper(strings.TrimSpace(form.Get("disc"))), Topic: strings.ToUpper(strings.TrimSpace(form.Get("topic"))),
		Originator: strings.TrimSpace(form.Get("orig"))}
	if t := form.Get("type"); t != "" {
		f.Types = []string{t}
	}
	if c := form.Get("class"); c != "" {
		pol, lvl, ok := strings.Cut(c, ":")
		if _, known := sp.n.Registry().Rank(pol, lvl); !ok || !known {
			return f, node.ErrInvalid
		}
		f.Classification = c
	}
	for _, b := range []struct {
		field string
		to    *time.Time
	}{{"since", &f.Since}, {"until", &f.Until}} {
		v := strings.TrimSpace(form.Get(b.field))
		if v == "" {
			continue
		}
		t, err := time.Parse("2006-01-02", v)
		if err != nil {
			if t, err = time.Parse(time.RFC3339, v); err != nil {
				return f, node.ErrInvalid
			}
		}
		*b.to = t.UTC()
	}
	return f, nil
}

// filterQuery is the filter fields of form that are set, as a URL query.
func filterQuery(form url.Values) url.Values {
	out := url.Values{}
	for _, k := range searchFilterFields {
		if v := strings.TrimSpace(form.Get(k)); v != "" {
			out.Set(k, v)
		}
	}
	return out
}

// countText says how many hits a group has, capped.
func countText(g search.Group) string {
	n := strconv.FormatInt(g.Count, 10)
	if g.Count >= 1000 {
		n = strconv.FormatInt(g.Count/1000, 10) + "," + strconv.FormatInt(g.Count%1000+1000, 10)[1:]
	}
	if g.Capped {
		n += "+"
	}
	if g.Count == 1 && !g.Capped {
		return n + " object"
	}
	return n + " objects"
}

// search answers /ui/search: the form, and with q the hits. The page's
// banners are the dominant label of every hit shown (marks).
func (sp searchPages) search(w http.ResponseWriter, r *http.Request) {
	ctx, p := r.Context(), Principal(r)
	form := r.URL.Query()
	d := searchData{Q: form.Get("q"), Form: map[string]string{}, Types: stixTypes, Levels: sp.LevelOptions(), SavedURL: map[string]template.URL{}}
	for _, k := range searchFilterFields {
		d.Form[k] = form.Get(k)
	}
	fq := filterQuery(form)
	d.Filters = fq.Encode()
	saved, err := sp.n.Search.Saved(ctx, p)
	if err != nil {
		sp.Fail(w, r, err)
		return
	}
	d.Saved = saved
	for _, s := range saved {
		v, _ := url.ParseQuery(s.Filters)
		v.Set("q", s.Query)
		d.SavedURL[s.Name] = template.URL(Prefix + "search?" + v.Encode())
	}
	m := sp.NewMarks()
	code := http.StatusOK
	if strings.TrimSpace(d.Q) != "" {
		d.Asked = true
		flt, err := sp.filtersOf(form)
		if err != nil {
			d.Error = "A filter is not valid (dates are YYYY-MM-DD)."
			code = http.StatusBadRequest
		} else if res, err := sp.n.Search.Search(ctx, p, search.Options{Query: d.Q, Filters: flt, Next: form.Get("next")}); err != nil {
			switch {
			case errors.Is(err, node.ErrBadCursor):
				d.Error = "That page of the results is no longer valid. Search again."
			case errors.Is(err, searchterm.ErrQuery) || errors.Is(err, node.ErrInvalid):
				d.Error = "The search cannot be asked: " + strings.TrimPrefix(err.Error(), "search: invalid: ")
			default:
				sp.Fail(w, r, err)
				return
			}
			code = http.StatusBadRequest
		} else {
			d.List = res.Query.List && len(res.Query.Values) > 1
			for _, g := range res.Groups {
				gv := searchGroupView{Value: g.Value, CountText: countText(g)}
				for _, o := range g.Objects {
					rw, err := sp.Row(r, m, o)
					if err != nil {
						sp.Fail(w, r, err)
						return
					}
					gv.Rows = append(gv.Rows, rw)
				}
				if g.More && g.Next != "" {
					next := filterQuery(form)
					next.Set("q", d.Q)
					next.Set("next", g.Next)
					gv.NextURL = Prefix + "search?" + next.Encode()
				} else if g.More && g.Value != "" { // a value of a list: its own search pages on
					next := filterQuery(form)
					next.Set("q", g.Value)
					gv.NextURL = Prefix + "search?" + next.Encode()
				}
				d.Groups = append(d.Groups, gv)
			}
		}
	}
	sp.Render(w, code, "search", "", sp.ViewFor(r, "Search", m.Banner(), d))
}

// save keeps the search in the form as the user's, under a name.
func (sp searchPages) save(w http.ResponseWriter, r *http.Request) {
	ctx, p := r.Context(), Principal(r)
	name, q := strings.TrimSpace(r.FormValue("name")), r.FormValue("q")
	filters := filterQuery(r.Form).Encode()
	if err := sp.n.Search.Save(ctx, p, name, q, filters); err != nil {
		sp.Fail(w, r, err)
		return
	}
	v, _ := url.ParseQuery(filters)
	v.Set("q", q)
	http.Redirect(w, r, Prefix+"search?"+v.Encode(), http.StatusSeeOther)
}

// deleteSaved deletes one of the user's saved searches.
func (sp searchPages) deleteSaved(w http.ResponseWriter, r *http.Request) {
	if err := sp.n.Search.Delete(r.Context(), Principal(r), r.FormValue("name")); err != nil {
		sp.Fail(w, r, err)
		return
	}
	http.Redirect(w, r, Prefix+"search", http.StatusSeeOther)
}
