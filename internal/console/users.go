package console

import (
	"encoding/csv"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/roster-dev/roster/internal/roster"
)

// The Users list (seeds 000 and 004): tabs All users / Invited / Inactive,
// search as you type, filters saved per user, sortable columns, 10/25/50 per
// page and a CSV download of exactly what the list shows.

// userTabs are the tabs and the statuses each shows. "All users" leaves
// deactivated users out: they live under Inactive (seed 000).
var userTabs = []struct{ Key, Label, Statuses string }{
	{"all", msg("All users"), roster.StatusActive + "," + roster.StatusInvited},
	{"invited", msg("Invited"), roster.StatusInvited},
	{"inactive", msg("Inactive"), roster.StatusDeactivated},
}

// userFilterKeys are the query parameters a saved filter restores.
var userFilterKeys = roster.FilterLists["users"]

// userListQuery is the list's request as the console reads it.
type userListQuery struct {
	Tab, Q, Status, Role, Group, Scoring, Roaming, Sort, Order, Page, PerPage string
}

func readUserListQuery(q url.Values) userListQuery {
	uq := userListQuery{
		Tab: q.Get("tab"), Q: q.Get("q"), Status: q.Get("status"), Role: q.Get("role"), Group: q.Get("group"),
		Scoring: q.Get("scoring"), Roaming: q.Get("roaming"), Sort: q.Get("sort"), Order: q.Get("order"),
		Page: q.Get("page"), PerPage: q.Get("per_page"),
	}
	if !slices.ContainsFunc(userTabs[:], func(t struct{ Key, Label, Statuses string }) bool { return t.Key == uq.Tab }) {
		uq.Tab = "all"
	}
	return uq
}

// core turns the console's query into the core's: the tab decides the
// statuses; the status filter narrows "All users" further.
func (uq userListQuery) core() roster.UserQuery {
	statuses := ""
	for _, t := range userTabs {
		if t.Key == uq.Tab {
			statuses = t.Statuses
		}
	}
	if uq.Tab == "all" && (uq.Status == roster.StatusActive || uq.Status == roster.StatusInvited) {
		statuses = uq.Status
	}
	return roster.UserQuery{Status: statuses, Role: uq.Role, Group: uq.Group, Q: uq.Q, Sort: uq.Sort, Order: uq.Order,
		Page: uq.Page, PerPage: uq.PerPage, Scoring: uq.Scoring, Roaming: uq.Roaming}
}

type usersData struct {
	Query        userListQuery
	List         listView
	Tabs         []tabLink
	Users        *roster.Page[roster.User]
	Groups       groupNames
	GroupOptions []groupOption
	Roles        []roster.Role
	RoleNames    map[string]string
	SavedFilter  string // the actor's saved filter, "" when none
	SavedApplied bool   // the saved filter was applied to this view
	FiltersOn    int    // how many filters narrow the list
	CSV          string // the CSV address of this view
	Invitations  map[int64]*roster.Invitation
	Bulk         []bulkAction // the bulk actions the actor may start
}

type tabLink struct {
	Key, Label, Href string
	Current          bool
}

// groupOption is a group in a picker, indented by its level.
type groupOption struct {
	ID    int64
	Label string
	Level int
}

func (s *Server) usersPage(w http.ResponseWriter, r *http.Request, p *page) error {
	ctx, a := r.Context(), p.Actor
	q := r.URL.Query()
	d := usersData{}
	saved, err := s.svc.SavedFilter(ctx, a, "users")
	if err != nil {
		return err
	}
	d.SavedFilter = saved
	// A plain visit (the navigation link) restores the saved filter; a view
	// with any filter, or "f=1" from the filter form, is taken as it is.
	if saved != "" && q.Get("f") == "" && !slices.ContainsFunc(userFilterKeys, q.Has) {
		sv, _ := url.ParseQuery(saved)
		for k, v := range sv {
			q[k] = v
		}
		d.SavedApplied = true
	}
	d.Query = readUserListQuery(q)
	d.List = newListView("/users", q)
	d.List.Query.Del("f")
	for _, t := range userTabs {
		href := newListView("/users", q)
		href.Query.Del("q")
		href.Query.Del("page")
		href.Query.Del("status")
		d.Tabs = append(d.Tabs, tabLink{Key: t.Key, Label: p.T(t.Label), Current: t.Key == d.Query.Tab, Href: href.with("tab", tabParam(t.Key))})
	}
	d.Users, err = s.svc.ListUsers(ctx, a, d.Query.core())
	if err != nil {
		if _, ok := formFailed(p, err); ok && roster.ErrorCode(err) == roster.EInvalid {
			// A bad parameter in the address: show the list unfiltered with the message.
			d.Query = readUserListQuery(url.Values{"tab": {d.Query.Tab}})
			d.List = newListView("/users", url.Values{"tab": {tabParam(d.Query.Tab)}})
			if d.Users, err = s.svc.ListUsers(ctx, a, d.Query.core()); err != nil {
				return err
			}
		} else {
			return err
		}
	}
	if d.Groups, err = s.groupNames(r, a); err != nil {
		return err
	}
	d.GroupOptions = groupOptions(d.Groups)
	if d.Roles, err = s.svc.ListRoles(ctx, a); err != nil {
		return err
	}
	d.RoleNames = roleNames(d.Roles)
	for _, v := range []string{d.Query.Status, d.Query.Role, d.Query.Group, d.Query.Scoring, d.Query.Roaming} {
		if v != "" {
			d.FiltersOn++
		}
	}
	d.CSV = strings.Replace(d.List.with("page", "", "per_page", ""), "/users", "/users.csv", 1)
	if err := s.attachInvitations(r, p, &d); err != nil {
		return err
	}
	d.Bulk = bulkActionsFor(a)
	p.Title, p.Section, p.Data = p.T("Users"), "users", d
	return s.show(w, r, "users", p)
}

// tabParam leaves the default tab out of addresses.
func tabParam(key string) string {
	if key == "all" {
		return ""
	}
	return key
}

func roleNames(roles []roster.Role) map[string]string {
	m := make(map[string]string, len(roles))
	for _, r := range roles {
		m[r.Key] = r.Name
	}
	return m
}

// groupOptions orders the tree depth-first for pickers.
func groupOptions(groups groupNames) []groupOption {
	children := map[int64][]roster.Group{}
	var roots []roster.Group
	for _, g := range groups {
		if g.ParentID == nil {
			roots = append(roots, g)
		} else {
			children[*g.ParentID] = append(children[*g.ParentID], g)
		}
	}
	byName := func(a, b roster.Group) int { return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)) }
	var out []groupOption
	var walk func(gs []roster.Group)
	walk = func(gs []roster.Group) {
		slices.SortFunc(gs, byName)
		for _, g := range gs {
			out = append(out, groupOption{ID: g.ID, Label: strings.Repeat("\u00a0\u00a0\u00a0", g.Level-1) + g.Name, Level: g.Level})
			walk(children[g.ID])
		}
	}
	walk(roots)
	return out
}

// saveUsersFilter stores the filter form's values as the actor's default.
func (s *Server) saveUsersFilter(w http.ResponseWriter, r *http.Request, p *page) error {
	vals := url.Values{}
	for _, k := range userFilterKeys {
		if v := r.PostFormValue(k); v != "" {
			vals.Set(k, v)
		}
	}
	// Check the filter against the list before keeping it.
	if _, err := s.svc.ListUsers(r.Context(), p.Actor, readUserListQuery(vals).core()); err != nil {
		return err
	}
	saved, err := s.svc.SaveFilter(r.Context(), p.Actor, "users", vals.Encode())
	if err != nil {
		return err
	}
	to := "/users?f=1"
	if saved != "" {
		to += "&" + saved
	}
	if tab := tabParam(readUserListQuery(r.PostForm).Tab); tab != "" {
		to += "&tab=" + tab
	}
	return s.redirect(w, r, to, p.T("Filters saved: the Users list opens with them from now on."))
}

func (s *Server) resetUsersFilter(w http.ResponseWriter, r *http.Request, p *page) error {
	if err := s.svc.ResetFilter(r.Context(), p.Actor, "users"); err != nil {
		return err
	}
	return s.redirect(w, r, "/users?f=1", p.T("Filters reset to the default."))
}

// usersCSV streams the current view as CSV, one page of users at a time.
func (s *Server) usersCSV(w http.ResponseWriter, r *http.Request, p *page) error {
	ctx, a := r.Context(), p.Actor
	uq := readUserListQuery(r.URL.Query())
	groups, err := s.groupNames(r, a)
	if err != nil {
		return err
	}
	var cw *csv.Writer
	rows := 0
	start := func() {
		h := w.Header()
		h.Set("Content-Type", "text/csv; charset=utf-8")
		h.Set("Cache-Control", "no-store")
		h.Set("Content-Disposition", `attachment; filename="users-`+uq.Tab+`-`+time.Now().UTC().Format("2006-01-02")+`.csv"`)
		cw = csv.NewWriter(w)
		_ = cw.Write([]string{"id", "username", "name", "email", "mobile", "status", "roles", "group", "language",
			"agent_number", "scoring_enabled", "roaming", "last_login_at", "created_at"})
	}
	err = s.svc.ExportUsers(ctx, a, uq.core(), func(u *roster.User) error {
		if cw == nil {
			start()
		}
		agent := ""
		if u.AgentNumber != nil {
			agent = strconv.FormatInt(*u.AgentNumber, 10)
		}
		last := ""
		if u.LastLoginAt != nil {
			last = u.LastLoginAt.UTC().Format(time.RFC3339)
		}
		rec := []string{strconv.FormatInt(u.ID, 10), u.Username, u.Name, u.Email, u.Mobile, u.Status,
			strings.Join(u.Roles, " "), groups.Path(u.GroupID), u.Language, agent,
			strconv.FormatBool(u.ScoringEnabled), strconv.FormatBool(u.Roaming), last, u.CreatedAt.UTC().Format(time.RFC3339)}
		for i := range rec {
			rec[i] = csvSafe(rec[i])
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
		if rows++; rows%100 == 0 {
			cw.Flush()
			if f, ok := w.(http.Flusher); ok {
				f.Flush()
			}
		}
		return cw.Error()
	})
	if err != nil {
		if cw == nil {
			return err // nothing sent yet: an ordinary error page
		}
		// Half a file is worse than none: cut the connection so the
		// browser reports a failed download.
		s.log.ErrorContext(r.Context(), "console: csv export failed", "err", err)
		panic(http.ErrAbortHandler)
	}
	if cw == nil {
		start()
	}
	cw.Flush()
	return cw.Error()
}

// csvSafe keeps spreadsheet programs from running a cell as a formula.
// Phone numbers in E.164 (+ and digits) are data, not formulas.
func csvSafe(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) && !isE164(v) {
		return "'" + v
	}
	return v
}

func isE164(v string) bool {
	if len(v) < 2 || v[0] != '+' {
		return false
	}
	for _, c := range v[1:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// attachInvitations finds the invitation of each invited user on the page,
// for the Invited tab's columns (sent, expires) and actions.
func (s *Server) attachInvitations(r *http.Request, p *page, d *usersData) error {
	d.Invitations = map[int64]*roster.Invitation{}
	for _, u := range d.Users.Items {
		if u.Status != roster.StatusInvited {
			continue
		}
		inv, err := s.svc.InvitationOfUser(r.Context(), p.Actor, u.ID)
		switch roster.ErrorCode(err) {
		case "":
			d.Invitations[u.ID] = inv
		case roster.ENotFound, roster.EForbidden:
		default:
			return err
		}
	}
	return nil
}
