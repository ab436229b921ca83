package web

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/publish"
	"github.com/tearline/tearline/stixbuild"
)

// publishPages are the analyst's publish screens (docs/UI.md, "Publish"):
// a bundle, one indicator, a short report, each under a label picked from
// those node/publish says the user may apply. Which labels those are, how
// an indicator is built and which refs may be named are node/publish's
// and stixbuild's; here are only forms and results.
type publishPages struct{ *Server }

func (pp publishPages) routes() {
	s := pp.Server
	s.Handle("GET "+Prefix+"publish", s.SignedIn(pp.form))
	s.Handle("GET "+Prefix+"publish/banner", s.SignedIn(pp.banner))
	s.Handle("POST "+Prefix+"publish", s.SignedIn(pp.bundle))
	s.Handle("POST "+Prefix+"publish/indicator", s.SignedIn(pp.indicator))
	s.Handle("POST "+Prefix+"publish/report", s.SignedIn(pp.report))
}

// The forms of the page, by the name their picker and preview carry.
const (
	formBundle    = "bundle"
	formIndicator = "indicator"
	formReport    = "report"
)

type publishResult struct {
	Form    string // the form whose result this is
	Landed  []Row
	Refused []string
	Error   string
}

type labelOption struct {
	Banner   string
	Selected bool
}

// labelPreview is the banner a label makes, or why it cannot be used.
type labelPreview struct {
	Banner, Portion, Class string
	Error                  string
}

type picker struct {
	Form    string
	Options []labelOption
	Preview labelPreview
}

type vocabOption struct {
	Word    string
	Checked bool
}

type indicatorForm struct {
	Value, Name, Description, ValidFrom string
	Types                               []vocabOption
}

type reportForm struct {
	Name, Description, Published, Refs string
	Types                              []vocabOption
}

type publishData struct {
	MayPublish bool
	Pickers    map[string]picker
	Bundle     string
	Indicator  indicatorForm
	Report     reportForm
	Result     *publishResult
}

// newData is the page with every form empty, each picker on chosen (the
// user's default label when ""), and its preview.
func (pp publishPages) newData(r *http.Request, chosen string) (*publishData, error) {
	p := Principal(r)
	offered, err := pp.n.Publish.Labels(r.Context(), p)
	if err != nil {
		return nil, err
	}
	d := &publishData{MayPublish: len(offered) > 0, Pickers: map[string]picker{}}
	if chosen == "" {
		chosen = p.User.DefaultLabel
	}
	reg := pp.n.Registry()
	preview := pp.preview(r, chosen)
	var opts []labelOption
	found := false
	for _, l := range offered {
		b := reg.Banner(l)
		sel := preview.Error == "" && b == preview.Banner
		found = found || sel
		opts = append(opts, labelOption{Banner: b, Selected: sel})
	}
	if !found && preview.Error == "" && preview.Banner != "" {
		// A label one may apply that the picker does not list (one with
		// disciplines, say): offered as chosen.
		opts = append([]labelOption{{Banner: preview.Banner, Selected: true}}, opts...)
	}
	if preview.Banner == "" && preview.Error == "" && len(offered) > 0 {
		// No default label: the first offered is what the select shows.
		preview = pp.preview(r, reg.Banner(offered[0]))
	}
	for _, f := range []string{formBundle, formIndicator, formReport} {
		d.Pickers[f] = picker{Form: f, Options: opts, Preview: preview}
	}
	d.Indicator.Types = vocabOptions(stixbuild.IndicatorTypes, nil)
	d.Report.Types = vocabOptions(stixbuild.ReportTypes, nil)
	return d, nil
}

func vocabOptions(words, checked []string) []vocabOption {
	out := make([]vocabOption, len(words))
	for i, w := range words {
		out[i] = vocabOption{Word: w, Checked: slices.Contains(checked, w)}
	}
	return out
}

// preview is the banner of the label banner names, through node/publish's
// rule: a label the user may not apply is not shown, only why.
func (pp publishPages) preview(r *http.Request, banner string) labelPreview {
	if strings.TrimSpace(banner) == "" && Principal(r).User.DefaultLabel == "" {
		return labelPreview{}
	}
	l, err := pp.n.Publish.Label(Principal(r), banner)
	if err != nil {
		return labelPreview{Error: labelError(err)}
	}
	reg := pp.n.Registry()
	return labelPreview{Banner: reg.Banner(l), Portion: reg.Portion(l), Class: levelClass(l.Policy, l.Classification)}
}

// labelError says why a label cannot be used, naming no label: the value
// may be anything a request carried.
func labelError(err error) string {
	switch {
	case errors.Is(err, publish.ErrLabel):
		_, why, _ := strings.Cut(err.Error(), publish.ErrLabel.Error()+": ")
		return "You may not publish under that label: " + why + "."
	case errors.Is(err, node.ErrForbidden):
		return "Your role does not publish."
	case errors.Is(err, node.ErrInvalid):
		return "That is not a label of this node's policies. Pick one from the list."
	}
	return "The label could not be checked."
}

func (pp publishPages) form(w http.ResponseWriter, r *http.Request) {
	d, err := pp.newData(r, "")
	if err != nil {
		pp.Fail(w, r, err)
		return
	}
	pp.Render(w, http.StatusOK, "publish", "", pp.ViewFor(r, "Publish", pp.NewMarks().Banner(), d))
}

// banner previews a label's banner: for htmx (the picker's change) the
// preview alone, else the whole page with it. It shows no object, so it
// raises no banner; a label the user may not apply is not rendered.
func (pp publishPages) banner(w http.ResponseWriter, r *http.Request) {
	chosen := r.URL.Query().Get("label")
	if r.Header.Get("HX-Request") == "true" {
		pp.Render(w, http.StatusOK, "publish", "label-preview-fragment", View{Data: pp.preview(r, chosen)})
		return
	}
	d, err := pp.newData(r, chosen)
	if err != nil {
		pp.Fail(w, r, err)
		return
	}
	pp.Render(w, http.StatusOK, "publish", "", pp.ViewFor(r, "Publish", pp.NewMarks().Banner(), d))
}

// answer renders a publish's outcome. What the user typed is shown again
// (after a preview or a refusal) only under a label they may apply, and the
// page is then marked at least that label; landed objects raise it further.
func (pp publishPages) answer(w http.ResponseWriter, r *http.Request, form string, d *publishData, res *node.IngestResult, err error, previewOnly bool) {
	ctx, p := r.Context(), Principal(r)
	m := pp.NewMarks()
	pk := d.Pickers[form]
	code := http.StatusOK
	d.Result = &publishResult{Form: form}
	if errors.Is(err, publish.ErrLabel) || pk.Preview.Error != "" {
		// Not a label the user may apply: nothing typed is shown again.
		why := pk.Preview.Error
		if why == "" {
			why = labelError(err)
		}
		d.Bundle, d.Indicator, d.Report = "", indicatorForm{Types: vocabOptions(stixbuild.IndicatorTypes, nil)}, reportForm{Types: vocabOptions(stixbuild.ReportTypes, nil)}
		switch {
		case previewOnly:
			d.Result = nil
		case errors.Is(err, node.ErrInvalid) && !errors.Is(err, publish.ErrLabel):
			d.Result.Error, code = "Nothing was published. "+why, http.StatusBadRequest
		default:
			d.Result.Error, code = "Nothing was published. "+why, http.StatusForbidden
		}
		pp.Render(w, code, "publish", "", pp.ViewFor(r, "Publish", m.Banner(), d))
		return
	}
	switch {
	case previewOnly:
		d.Result = nil
	case errors.Is(err, node.ErrInvalid):
		d.Result.Error = "Nothing was published: " + strings.TrimPrefix(err.Error(), "publish: ")
		code = http.StatusBadRequest
	case err != nil && errors.Is(err, node.ErrForbidden):
		pp.Fail(w, r, err)
		return
	case err != nil:
		pp.log.Error("web: publish", "form", form, "err", err)
		d.Result.Error = "Nothing was published: the node could not store it."
		code = http.StatusInternalServerError
	}
	if res != nil {
		for _, ref := range res.Refused {
			d.Result.Refused = append(d.Result.Refused, ref.String())
		}
		for i, l := range res.Landed {
			if i == maxShownLanded {
				break
			}
			o, err := pp.n.Get(ctx, p, l.ID)
			if err != nil {
				continue // landed but not readable by its publisher: not shown
			}
			rw, err := pp.Row(r, m, o)
			if err != nil {
				pp.Fail(w, r, err)
				return
			}
			d.Result.Landed = append(d.Result.Landed, rw)
		}
		if len(res.Refused) > 0 {
			code = http.StatusUnprocessableEntity
		}
	}
	if res != nil && len(res.Refused) == 0 && len(res.Landed) > 0 {
		// All landed: the forms start afresh.
		d.Bundle, d.Indicator, d.Report = "", indicatorForm{Types: vocabOptions(stixbuild.IndicatorTypes, nil)}, reportForm{Types: vocabOptions(stixbuild.ReportTypes, nil)}
	} else {
		m.Floor(pk.Preview.Banner)
	}
	pp.Render(w, code, "publish", "", pp.ViewFor(r, "Publish", m.Banner(), d))
}

// maxShownLanded caps the rows a publish result shows (each is a read).
const maxShownLanded = 100

// bundle publishes an uploaded or pasted bundle through node/publish
// (node.Ingest, as the API), objects without a label of ours under the
// picked one.
func (pp publishPages) bundle(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, pp.n.Config().MaxBodyBytes)
	data := []byte(r.FormValue("bundle"))
	if f, _, err := r.FormFile("file"); err == nil {
		b, err := io.ReadAll(f)
		f.Close()
		if err != nil {
			pp.Fail(w, r, fmt.Errorf("%w: upload: %w", node.ErrInvalid, err))
			return
		}
		if len(bytes.TrimSpace(b)) > 0 {
			data = b
		}
	}
	d, err := pp.newData(r, r.FormValue("label"))
	if err != nil {
		pp.Fail(w, r, err)
		return
	}
	d.Bundle = r.FormValue("bundle")
	if r.FormValue("preview") != "" {
		pp.answer(w, r, formBundle, d, nil, nil, true)
		return
	}
	if len(bytes.TrimSpace(data)) == 0 {
		pp.answer(w, r, formBundle, d, nil, fmt.Errorf("%w: nothing to publish: choose a file or paste a bundle", node.ErrInvalid), false)
		return
	}
	res, err := pp.n.Publish.Bundle(r.Context(), Principal(r), data, r.FormValue("label"))
	if err != nil && !errors.Is(err, publish.ErrLabel) && !errors.Is(err, node.ErrForbidden) && !errors.Is(err, r.Context().Err()) {
		// Ingest refuses a whole input only for what it is (not JSON,
		// too large): the user's to fix.
		err = fmt.Errorf("%w: %w", node.ErrInvalid, err)
	}
	pp.answer(w, r, formBundle, d, res, err, false)
}

// indicator publishes one indicator built from a value or a pattern.
func (pp publishPages) indicator(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	d, err := pp.newData(r, r.FormValue("label"))
	if err != nil {
		pp.Fail(w, r, err)
		return
	}
	f := indicatorForm{Value: r.FormValue("value"), Name: r.FormValue("name"), Description: r.FormValue("description"),
		ValidFrom: r.FormValue("valid_from"), Types: vocabOptions(stixbuild.IndicatorTypes, r.Form["indicator_types"])}
	d.Indicator = f
	if r.FormValue("preview") != "" {
		pp.answer(w, r, formIndicator, d, nil, nil, true)
		return
	}
	from, err := stixbuild.ParseTime(f.ValidFrom)
	if err != nil {
		pp.answer(w, r, formIndicator, d, nil, fmt.Errorf("%w: valid from: %w", node.ErrInvalid, err), false)
		return
	}
	in := stixbuild.IndicatorInput{Value: f.Value, Name: f.Name, Description: f.Description, Types: r.Form["indicator_types"], ValidFrom: from}
	res, err := pp.n.Publish.Indicator(r.Context(), Principal(r), in, r.FormValue("label"))
	pp.answer(w, r, formIndicator, d, res, err, false)
}

// report publishes a short report over pasted ids the user may read.
func (pp publishPages) report(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 256<<10)
	d, err := pp.newData(r, r.FormValue("label"))
	if err != nil {
		pp.Fail(w, r, err)
		return
	}
	f := reportForm{Name: r.FormValue("name"), Description: r.FormValue("description"), Published: r.FormValue("published"),
		Refs: r.FormValue("refs"), Types: vocabOptions(stixbuild.ReportTypes, r.Form["report_types"])}
	d.Report = f
	if r.FormValue("preview") != "" {
		pp.answer(w, r, formReport, d, nil, nil, true)
		return
	}
	pub, err := stixbuild.ParseTime(f.Published)
	if err != nil {
		pp.answer(w, r, formReport, d, nil, fmt.Errorf("%w: published: %w", node.ErrInvalid, err), false)
		return
	}
	in := stixbuild.ReportInput{Name: f.Name, Description: f.Description, Types: r.Form["report_types"], Published: pub, Refs: stixbuild.SplitRefs(f.Refs)}
	res, err := pp.n.Publish.Report(r.Context(), Principal(r), in, r.FormValue("label"))
	if err == nil && len(res.Landed) == 0 {
		// The refs refused are not shown again: the answer for an id one
		// may not read must not differ from, or say more than, the one for
		// an id that does not exist.
		refs, _ := stixbuild.Refs(in.Refs)
		for _, rf := range res.Refused {
			if rf.Index >= 0 && rf.Index < len(refs) {
				refs[rf.Index] = ""
			}
		}
		d.Report.Refs = strings.Join(slices.DeleteFunc(refs, func(s string) bool { return s == "" }), "\n")
	}
	pp.answer(w, r, formReport, d, res, err, false)
}
