package admin

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/users"
	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/web"
)

// adminPages are the administrator's screens (docs/UI.md, "Administrator"):
// users and their tokens and passwords, peers and keys, agreements'
// lifecycle, split views and the node's health. They decide nothing: every
// read and change goes to the same node/users, node/agreements and
// node/oversight methods the API and CLI call, which check the role
// (node.Authorize) and audit. They show no intelligence: system-low.
type adminPages struct{ *web.Server }

// Routes adds the screens to s (a web.Screens).
func Routes(s *web.Server) { adminPages{s}.routes() }

func (a adminPages) routes() {
	a.Handle("GET "+web.Prefix+"admin/users", a.SignedIn(a.users))
	a.Handle("POST "+web.Prefix+"admin/users", a.SignedIn(a.addUser))
	a.Handle("GET "+web.Prefix+"admin/users/{name}", a.SignedIn(a.user))
	a.Handle("POST "+web.Prefix+"admin/users/{name}", a.SignedIn(a.updateUser))
	a.Handle("POST "+web.Prefix+"admin/users/{name}/password", a.SignedIn(a.setPassword))
	a.Handle("POST "+web.Prefix+"admin/users/{name}/tokens", a.SignedIn(a.issueToken))
	a.Handle("POST "+web.Prefix+"admin/users/{name}/tokens/{id}/revoke", a.SignedIn(a.revokeToken))
	a.moreRoutes()
}

type userRow struct {
	Name, Role, Nationality, Org, Clearances, Compartments, DefaultLabel, Created string
	Disabled                                                                      bool
	ClearanceList                                                                 []string // "POLICY:LEVEL"
	CompartmentList                                                               []string
}

func userRowOf(u store.User) userRow {
	clr := make([]string, 0, len(u.Clearances))
	for pol, lvl := range u.Clearances {
		clr = append(clr, pol+":"+lvl)
	}
	slices.Sort(clr)
	return userRow{Name: u.Name, Role: u.Role, Nationality: u.Nationality, Org: u.Org, Clearances: strings.Join(clr, ", "),
		Compartments: strings.Join(u.Compartments, ", "), DefaultLabel: u.DefaultLabel, Disabled: u.Disabled,
		Created: u.Created.UTC().Format(time.RFC3339), ClearanceList: clr, CompartmentList: u.Compartments}
}

// outcome is what a form did: a message, an error from node, or a token
// shown this once.
type outcome struct {
	Done, Error, Token string
}

type usersData struct {
	Users   []userRow
	Roles   []string
	Levels  []web.LevelOption
	Form    userForm
	Outcome outcome
}

type userForm struct {
	Name, Role, Nationality, Org, Clearances, Compartments, DefaultLabel string
}

func (a adminPages) low() web.Marking { return a.NewMarks().Banner() }

// adminFail shows a refusal from node: a role that may not is 403 and an
// unknown name 404 (as web.fail does); a request node found invalid is
// shown on the form it came from, in node's words, with code 400.
func (a adminPages) adminFail(w http.ResponseWriter, r *http.Request, err error, show func(code int, msg string)) {
	switch {
	case errors.Is(err, node.ErrForbidden), errors.Is(err, node.ErrNotFound):
		a.Fail(w, r, err)
	case errors.Is(err, store.ErrNotFound):
		a.Fail(w, r, node.ErrNotFound)
	case errors.Is(err, node.ErrInvalid) && show != nil:
		show(http.StatusBadRequest, "Not done: "+err.Error())
	default:
		a.Fail(w, r, err)
	}
}

func (a adminPages) users(w http.ResponseWriter, r *http.Request) {
	a.showUsers(w, r, http.StatusOK, userForm{Role: node.RoleAnalyst}, outcome{})
}

func (a adminPages) showUsers(w http.ResponseWriter, r *http.Request, code int, f userForm, o outcome) {
	us, err := a.Node().Users.Users(r.Context(), web.Principal(r))
	if err != nil {
		a.Fail(w, r, err)
		return
	}
	d := usersData{Roles: node.Roles, Levels: a.LevelOptions(), Form: f, Outcome: o}
	for _, u := range us {
		d.Users = append(d.Users, userRowOf(u))
	}
	a.Render(w, code, "admin_users", "", a.ViewFor(r, "Users", a.low(), d))
}

// splitList reads a comma- or space-separated list.
func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' })
}

// parseClearances reads POLICY:LEVEL pairs, as the CLI's --clearance does.
func parseClearances(s string) (map[string]string, error) {
	out := map[string]string{}
	for _, c := range splitList(s) {
		p, l, ok := strings.Cut(c, ":")
		if !ok || p == "" || l == "" {
			return nil, fmt.Errorf("%w: clearance %q: want POLICY:LEVEL, e.g. NATO:SECRET", node.ErrInvalid, c)
		}
		out[p] = l
	}
	return out, nil
}

// addUser adds a user (users.AddUser) with a first API token, shown once,
// and, when one is given, a password for the web interface.
func (a adminPages) addUser(w http.ResponseWriter, r *http.Request) {
	ctx, p := r.Context(), web.Principal(r)
	f := userForm{Name: strings.TrimSpace(r.PostFormValue("name")), Role: r.PostFormValue("role"),
		Nationality: strings.TrimSpace(r.PostFormValue("nationality")), Org: strings.TrimSpace(r.PostFormValue("org")),
		Clearances: r.PostFormValue("clearances"), Compartments: r.PostFormValue("compartments"),
		DefaultLabel: strings.TrimSpace(r.PostFormValue("default_label"))}
	show := func(code int, msg string) { a.showUsers(w, r, code, f, outcome{Error: msg}) }
	clr, err := parseClearances(f.Clearances)
	if err != nil {
		show(http.StatusBadRequest, "Not done: "+err.Error())
		return
	}
	pw := r.PostFormValue("password")
	u, tok, err := a.Node().Users.AddUser(ctx, p, users.UserSpec{Name: f.Name, Role: f.Role, Nationality: f.Nationality, Org: f.Org,
		Clearances: clr, Compartments: splitList(f.Compartments), DefaultLabel: f.DefaultLabel})
	if err != nil {
		a.adminFail(w, r, err, show)
		return
	}
	o := outcome{Done: "Added " + u.Name + ".", Token: tok}
	if pw != "" {
		if err := a.Node().Users.SetPassword(ctx, p, u.Name, pw); err != nil {
			if !errors.Is(err, node.ErrInvalid) {
				a.Fail(w, r, err)
				return
			}
			o.Error = "The user was added, but the password was not set: " + err.Error()
		} else {
			o.Done += " Password set."
		}
	}
	a.showUsers(w, r, http.StatusOK, userForm{Role: node.RoleAnalyst}, o)
}

type tokenRow struct {
	ID, Created, Expires, Revoked string
	Live                          bool
}

type userData struct {
	User    userRow
	Roles   []string
	Levels  []web.LevelOption
	Tokens  []tokenRow
	Outcome outcome
}

func (a adminPages) user(w http.ResponseWriter, r *http.Request) {
	a.showUser(w, r, r.PathValue("name"), http.StatusOK, outcome{})
}

// showUser shows one user with forms for every change node allows.
func (a adminPages) showUser(w http.ResponseWriter, r *http.Request, name string, code int, o outcome) {
	ctx, p := r.Context(), web.Principal(r)
	us, err := a.Node().Users.Users(ctx, p)
	if err != nil {
		a.Fail(w, r, err)
		return
	}
	i := slices.IndexFunc(us, func(u store.User) bool { return u.Name == name })
	if i < 0 {
		a.Fail(w, r, node.ErrNotFound)
		return
	}
	toks, err := a.Node().Users.Tokens(ctx, p, name)
	if err != nil {
		a.Fail(w, r, err)
		return
	}
	d := userData{User: userRowOf(us[i]), Roles: node.Roles, Levels: a.LevelOptions(), Outcome: o}
	now := a.Node().Now()
	for _, t := range toks {
		tr := tokenRow{ID: t.ID, Created: stamp(t.Created), Expires: stamp(t.Expires), Revoked: stamp(t.RevokedAt),
			Live: t.RevokedAt.IsZero() && (t.Expires.IsZero() || now.Before(t.Expires))}
		d.Tokens = append(d.Tokens, tr)
	}
	a.Render(w, code, "admin_user", "", a.ViewFor(r, "User "+name, a.low(), d))
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// updateUser makes one change (the form's "what") through users.UpdateUser:
// role, a clearance or compartment added or removed (as the CLI's
// --add-clearance and friends, applied inside node's transaction), the
// default label, disable or enable. It applies at the user's next request;
// disabling ends their open sessions.
func (a adminPages) updateUser(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	show := func(code int, msg string) { a.showUser(w, r, name, code, outcome{Error: msg}) }
	var c users.UserChange
	v := strings.TrimSpace(r.PostFormValue("value"))
	var done string
	switch what := r.PostFormValue("what"); what {
	case "role":
		c.Role, done = &v, "Role set to "+v+"."
	case "add-clearance":
		pol, lvl, ok := strings.Cut(v, ":")
		if !ok || pol == "" || lvl == "" {
			show(http.StatusBadRequest, "Not done: want a clearance as POLICY:LEVEL.")
			return
		}
		c.AddClearances, done = map[string]string{pol: lvl}, "Clearance "+v+" set."
	case "remove-clearance":
		pol, _, _ := strings.Cut(v, ":")
		c.RemoveClearances, done = []string{pol}, "Clearance under "+pol+" removed."
	case "add-compartment":
		c.AddCompartments, done = []string{v}, "Compartment "+v+" added."
	case "remove-compartment":
		c.RemoveCompartments, done = []string{v}, "Compartment "+v+" removed."
	case "default-label":
		c.DefaultLabel, done = &v, "Default label set."
	case "disable", "enable":
		off := what == "disable"
		c.Disabled, done = &off, "User "+what+"d."
	default:
		show(http.StatusBadRequest, "Not done: the form named no change.")
		return
	}
	if _, err := a.Node().Users.UpdateUser(r.Context(), web.Principal(r), name, c); err != nil {
		a.adminFail(w, r, err, show)
		return
	}
	a.showUser(w, r, name, http.StatusOK, outcome{Done: done})
}

// setPassword sets the user's web password; node ends their sessions.
func (a adminPages) setPassword(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	show := func(code int, msg string) { a.showUser(w, r, name, code, outcome{Error: msg}) }
	if err := a.Node().Users.SetPassword(r.Context(), web.Principal(r), name, r.PostFormValue("password")); err != nil {
		a.adminFail(w, r, err, show)
		return
	}
	a.showUser(w, r, name, http.StatusOK, outcome{Done: "Password set; the user's open sessions ended."})
}

// issueToken makes an API token; its secret is shown this once.
func (a adminPages) issueToken(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	show := func(code int, msg string) { a.showUser(w, r, name, code, outcome{Error: msg}) }
	var ttl time.Duration
	if s := strings.TrimSpace(r.PostFormValue("ttl")); s != "" {
		v, err := time.ParseDuration(s)
		if err != nil {
			show(http.StatusBadRequest, "Not done: lifetime: want a duration such as 720h.")
			return
		}
		ttl = v
	}
	tok, err := a.Node().Users.IssueToken(r.Context(), web.Principal(r), name, ttl)
	if err != nil {
		a.adminFail(w, r, err, show)
		return
	}
	a.showUser(w, r, name, http.StatusOK, outcome{Done: "Token issued. Copy it now: it is not shown again.", Token: tok})
}

// revokeToken revokes one of the user's tokens. The id must be one of
// theirs: users.RevokeToken also takes a user name, and a token id must
// never be read as one.
func (a adminPages) revokeToken(w http.ResponseWriter, r *http.Request) {
	ctx, p, name, id := r.Context(), web.Principal(r), r.PathValue("name"), r.PathValue("id")
	toks, err := a.Node().Users.Tokens(ctx, p, name)
	if err != nil {
		a.adminFail(w, r, err, nil)
		return
	}
	if !slices.ContainsFunc(toks, func(t store.Token) bool { return t.ID == id }) {
		a.Fail(w, r, node.ErrNotFound)
		return
	}
	if _, err := a.Node().Users.RevokeToken(ctx, p, id); err != nil {
		a.adminFail(w, r, err, func(code int, msg string) { a.showUser(w, r, name, code, outcome{Error: msg}) })
		return
	}
	a.showUser(w, r, name, http.StatusOK, outcome{Done: "Token " + id + " revoked."})
}
