package console

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/roster-dev/roster/internal/roster"
)

//go:embed templates
var templateFiles embed.FS

//go:embed static
var staticFS embed.FS

// page is what every template gets: who is looking, the form token, the
// pending message, field errors of a re-rendered form, and the page's data.
type page struct {
	Title   string
	Section string // the navigation entry to mark as current
	Actor   *roster.Actor
	Tenant  *roster.Tenant
	Session *sessionInfo
	CSRF    string
	Flash   *flashMsg
	Errors  fieldErrors // per-field messages of a form shown again
	Error   string      // a message about the whole form
	Data    any
}

type flashMsg struct{ Kind, Msg string }

// ReadOnly reports whether every form must be shown disabled ("view as").
func (p *page) ReadOnly() bool { return p.Actor != nil && p.Actor.ReadOnly }

// navItem is one entry of the main navigation.
type navItem struct {
	Key, Label, Href string
}

// Nav lists the pages the actor can use. This only hides links; every page
// still asks the core, which refuses what the actor may not do.
func (p *page) Nav() []navItem {
	a := p.Actor
	if a == nil {
		return nil
	}
	can := func(perms ...string) bool { return slices.ContainsFunc(perms, a.Can) }
	var items []navItem
	add := func(ok bool, key, label, href string) {
		if ok {
			items = append(items, navItem{key, label, href})
		}
	}
	add(can(roster.PermUsersView), "dashboard", "Dashboard", "/")
	add(can(roster.PermUsersView), "users", "Users", "/users")
	add(can(roster.PermUsersInvite), "invite", "Invite users", "/invite")
	add(can(roster.PermUsersView, roster.PermGroupsManage), "groups", "Groups", "/groups")
	add(can(roster.PermUsersView, roster.PermRolesManage), "roles", "Roles", "/roles")
	add(can(roster.PermRolesManage), "tokens", "API tokens", "/tokens")
	add(a.Can(roster.PermRolesManage) && a.Can(roster.PermUsersManage), "provisioning", "Provisioning", "/provisioning")
	add(can(roster.PermWebhooksManage), "webhooks", "Webhooks", "/webhooks")
	add(can(roster.PermEnvironmentManage), "settings", "Settings", "/settings")
	add(can(roster.PermEnvironmentManage), "sso", "Single sign-on", "/settings/sso")
	add(can(roster.PermUsersView, roster.PermUsersManage), "agents", "Agents", "/agents")
	add(can(roster.PermGroupsManage), "properties", "Properties & skills", "/properties")
	add(can(roster.PermTeamView), "team", "My Team", "/my-team")
	add(can(roster.PermSelfView), "me", "My page", "/me")
	add(can(roster.PermAuditView), "audit", "Audit log", "/audit")
	add(can(roster.PermAuditView), "outbox", "Outbox", "/outbox")
	return items
}

// fieldErrors maps a form field's name to its message.
type fieldErrors map[string]string

func errorsOf(err error) fieldErrors {
	fields := roster.ErrorFields(err)
	if len(fields) == 0 {
		return nil
	}
	fe := fieldErrors{}
	for _, f := range fields {
		if fe[f.Field] == "" {
			fe[f.Field] = f.Message
		} else {
			fe[f.Field] += "; " + f.Message
		}
	}
	return fe
}

// formFailed shows a form again with the core's complaint: field errors
// next to their fields and the message on top. Other errors propagate.
func formFailed(p *page, err error) (int, bool) {
	code := roster.ErrorCode(err)
	if code != roster.EInvalid && code != roster.EConflict {
		return 0, false
	}
	p.Errors = errorsOf(err)
	p.Error = roster.ErrorMessage(err)
	if len(p.Errors) > 0 && code == roster.EInvalid {
		p.Error = "Please correct the fields marked below."
	}
	return statusOf(code), true
}

// views holds one template set per page, each with the shared layout.
type views struct {
	pages map[string]*template.Template
}

func loadViews(st *staticFiles) *views {
	funcs := template.FuncMap{
		"static":          st.url,
		"field":           newField,
		"datetime":        formatDateTime,
		"date":            formatDate,
		"ago":             ago,
		"join":            strings.Join,
		"has":             has,
		"hasID":           slices.Contains[[]int64],
		"plural":          plural,
		"add":             func(a, b int) int { return a + b },
		"atoi":            func(s string) int { n, _ := strconv.Atoi(s); return n },
		"dict":            dict,
		"idsafe":          idSafe,
		"brand":           brand,
		"attempts":        attemptsLabel,
		"enabledProfiles": enabledProfiles,
		"language":        languageName,
		"statusWord":      statusWord,
	}
	base := template.Must(template.New("base").Funcs(funcs).ParseFS(templateFiles, "templates/*.html"))
	v := &views{pages: map[string]*template.Template{}}
	entries, err := fs.Glob(templateFiles, "templates/pages/*.html")
	if err != nil {
		panic(err)
	}
	for _, e := range entries {
		name := strings.TrimSuffix(path.Base(e), ".html")
		t := template.Must(template.Must(base.Clone()).ParseFS(templateFiles, e))
		v.pages[name] = t
	}
	return v
}

// render writes the page template name inside the layout.
// refused shows page name again with the core's refusal of a change in it,
// with the status its code maps to; an internal error is returned instead,
// for the error page.
func (s *Server) refused(w http.ResponseWriter, r *http.Request, p *page, err error, name, title, section string, data any) error {
	status := statusOf(roster.ErrorCode(err))
	if status >= http.StatusInternalServerError {
		return err
	}
	p.Error = roster.ErrorMessage(err)
	p.Title, p.Section, p.Data = title, section, data
	s.render(w, r, status, name, p)
	return nil
}

func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, p *page) {
	t := s.views.pages[name]
	if t == nil {
		panic("console: no template " + name)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		s.log.Error("console: render", "template", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	// Pages hold personal data: never cache them.
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// show renders a page with 200.
func (s *Server) show(w http.ResponseWriter, r *http.Request, name string, p *page) error {
	s.render(w, r, http.StatusOK, name, p)
	return nil
}

// brand is the name shown in the title and header: the tenant's branding
// name, its name, or Roster.
func brand(p *page) string {
	if p.Tenant != nil {
		if p.Tenant.Settings.BrandingName != "" {
			return p.Tenant.Settings.BrandingName
		}
		return p.Tenant.Name
	}
	return "Roster"
}

// formField is what the field partials render: one labelled input with its
// hint and error, wired for screen readers (aria-describedby, aria-invalid).
type formField struct {
	Name, Label, Value, Hint, Error, Type, Auto string
	Required                                    bool
}

// newField builds a field: name, label, value and the form's errors, then
// options "required", "type=email", "hint=...".
func newField(name, label string, value any, errs fieldErrors, opts ...string) formField {
	f := formField{Name: name, Label: label, Value: fmt.Sprint(orEmpty(value)), Error: errs[name], Type: "text"}
	for _, o := range opts {
		switch {
		case o == "required":
			f.Required = true
		case strings.HasPrefix(o, "type="):
			f.Type = strings.TrimPrefix(o, "type=")
		case strings.HasPrefix(o, "auto="):
			f.Auto = strings.TrimPrefix(o, "auto=")
		case strings.HasPrefix(o, "hint="):
			f.Hint = strings.TrimPrefix(o, "hint=")
		}
	}
	return f
}

// ID is the input's id, derived from its name.
func (f formField) ID() string { return "f-" + idSafe(f.Name) }

func idSafe(name string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '-'
	}, name)
}

func orEmpty(v any) any {
	switch x := v.(type) {
	case nil:
		return ""
	case *int64:
		if x == nil {
			return ""
		}
		return *x
	}
	return v
}

func formatDateTime(t any) string {
	switch x := t.(type) {
	case time.Time:
		if x.IsZero() {
			return ""
		}
		return x.UTC().Format("2006-01-02 15:04 UTC")
	case *time.Time:
		if x == nil {
			return ""
		}
		return formatDateTime(*x)
	}
	return ""
}

func formatDate(t any) string {
	switch x := t.(type) {
	case time.Time:
		if x.IsZero() {
			return ""
		}
		return x.UTC().Format("2006-01-02")
	case *time.Time:
		if x == nil {
			return ""
		}
		return formatDate(*x)
	}
	return ""
}

// ago says how long ago t was, roughly; "never" for nil.
func ago(t any) string {
	var tt time.Time
	switch x := t.(type) {
	case time.Time:
		tt = x
	case *time.Time:
		if x == nil {
			return "never"
		}
		tt = *x
	}
	if tt.IsZero() {
		return "never"
	}
	d := time.Since(tt)
	switch {
	case d < 0:
		return "just now"
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return plural(int(d/time.Minute), "minute") + " ago"
	case d < 24*time.Hour:
		return plural(int(d/time.Hour), "hour") + " ago"
	case d < 60*24*time.Hour:
		return plural(int(d/(24*time.Hour)), "day") + " ago"
	}
	return tt.UTC().Format("2006-01-02")
}

// statusWords are the words a person reads for a status the core keeps as
// a key (a user's, an invitation's, a coaching plan's, a message's).
var statusWords = map[string]string{
	"active": "Active", "invited": "Invited", "deactivated": "Deactivated", "open": "Open",
	"in_progress": "In progress", "done": "Done", "cancelled": "Cancelled", "pending": "Pending",
	"sent": "Sent", "failed": "Failed", "dead": "Undeliverable", "expired": "Expired", "accepted": "Accepted",
}

// statusWord names a status, or capitalises one it does not know.
func statusWord(status string) string {
	if w, ok := statusWords[status]; ok {
		return w
	}
	if status == "" {
		return ""
	}
	return strings.ToUpper(status[:1]) + strings.ReplaceAll(status[1:], "_", " ")
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

func has(list []string, v string) bool { return slices.Contains(list, v) }

// dict builds a map for passing several values to a partial.
func dict(kv ...any) map[string]any {
	m := make(map[string]any, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		m[fmt.Sprint(kv[i])] = kv[i+1]
	}
	return m
}

// staticFiles serves the embedded assets with a content hash in their URLs,
// so they can be cached for a long time and still change with each release.
type staticFiles struct {
	files   map[string][]byte
	version map[string]string
}

func loadStatic() *staticFiles {
	st := &staticFiles{files: map[string][]byte{}, version: map[string]string{}}
	err := fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(p, "static/")
		sum := sha256.Sum256(b)
		st.files[name] = b
		st.version[name] = hex.EncodeToString(sum[:6])
		return nil
	})
	if err != nil {
		panic(err)
	}
	return st
}

// url is the versioned address of an asset.
func (st *staticFiles) url(name string) string {
	v, ok := st.version[name]
	if !ok {
		panic("console: no static file " + name)
	}
	return "/static/" + name + "?v=" + v
}

func (st *staticFiles) serve(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/static/")
	b, ok := st.files[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	ctype := mime.TypeByExtension(path.Ext(name))
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ctype)
	if r.URL.Query().Get("v") == st.version[name] {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "no-cache")
	}
	w.Header().Set("ETag", `"`+st.version[name]+`"`)
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(b))
}
