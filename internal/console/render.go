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

	"github.com/roster-dev/roster/internal/door"
	"github.com/roster-dev/roster/internal/i18n"
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
	// L says the page's words in its reader's language (language.go).
	L *i18n.Localizer
}

// T translates a message for the page's reader (i18n.Localizer.T).
func (p *page) T(id string, args ...any) string { return p.L.T(id, args...) }

// N translates a message with plural forms (i18n.Localizer.N).
func (p *page) N(id string, n int, args ...any) string { return p.L.N(id, n, args...) }

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
			items = append(items, navItem{key, p.T(label), href})
		}
	}
	add(can(roster.PermUsersView), "dashboard", msg("Dashboard"), "/")
	add(can(roster.PermUsersView), "users", msg("Users"), "/users")
	add(can(roster.PermUsersInvite), "invite", msg("Invite users"), "/invite")
	add(can(roster.PermUsersView, roster.PermGroupsManage), "groups", msg("Groups"), "/groups")
	add(can(roster.PermUsersView, roster.PermRolesManage), "roles", msg("Roles"), "/roles")
	add(can(roster.PermRolesManage), "tokens", msg("API tokens"), "/tokens")
	add(a.Can(roster.PermRolesManage) && a.Can(roster.PermUsersManage), "provisioning", msg("Provisioning"), "/provisioning")
	add(can(roster.PermWebhooksManage), "webhooks", msg("Webhooks"), "/webhooks")
	add(can(roster.PermEnvironmentManage), "settings", msg("Settings"), "/settings")
	add(can(roster.PermEnvironmentManage), "sso", msg("Single sign-on"), "/settings/sso")
	add(can(roster.PermUsersView, roster.PermUsersManage), "agents", msg("Agents"), "/agents")
	add(can(roster.PermGroupsManage), "properties", msg("Properties & skills"), "/properties")
	add(can(roster.PermTeamView), "team", msg("My Team"), "/my-team")
	add(can(roster.PermSelfView), "me", msg("My page"), "/me")
	add(can(roster.PermAuditView), "audit", msg("Audit log"), "/audit")
	add(can(roster.PermAuditView), "outbox", msg("Outbox"), "/outbox")
	return items
}

// fieldErrors maps a form field's name to its message.
type fieldErrors map[string]string

func errorsOf(l *i18n.Localizer, err error) fieldErrors {
	fields := roster.ErrorFields(err)
	if len(fields) == 0 {
		return nil
	}
	fe := fieldErrors{}
	for _, f := range fields {
		msg := fieldMessage(l, f)
		if fe[f.Field] == "" {
			fe[f.Field] = msg
		} else {
			fe[f.Field] += "; " + msg
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
	p.Errors = errorsOf(p.L, err)
	p.Error = errorMessage(p.L, err)
	if len(p.Errors) > 0 && code == roster.EInvalid {
		p.Error = p.T("Please correct the fields marked below.")
	}
	return door.StatusOf(code), true
}

// views holds, for each shipped language, one template set per page, each
// with the shared layout. A set is parsed per language so its translate
// functions are bound to that language's localizer (html/template cannot
// change functions once a template has run).
type views struct {
	pages map[string]map[string]*template.Template // language -> page -> template
}

func loadViews(st *staticFiles, cat *i18n.Catalogue) *views {
	v := &views{pages: map[string]map[string]*template.Template{}}
	for _, lang := range cat.Languages() {
		v.pages[lang] = loadPages(st, cat.For(lang))
	}
	return v
}

func loadPages(st *staticFiles, l *i18n.Localizer) map[string]*template.Template {
	funcs := template.FuncMap{
		"static": st.url,
		"field": func(name, label string, value any, errs fieldErrors, opts ...string) formField {
			return newField(l, name, label, value, errs, opts...)
		},
		"datetime":        func(t any) string { return formatDateTime(l, t) },
		"date":            func(t any) string { return formatDate(l, t) },
		"isotime":         isoTime,
		"ago":             func(t any) string { return ago(l, t) },
		"t":               l.T,
		"tn":              func(id string, n any, args ...any) string { return l.N(id, toInt(n), args...) },
		"thtml":           l.HTML,
		"num":             l.Number,
		"status":          func(s string) string { return statusLabel(l, s) },
		"langname":        languageName, // settings.go: each language in its own words
		"join":            strings.Join,
		"has":             has,
		"hasID":           slices.Contains[[]int64],
		"add":             func(a, b int) int { return a + b },
		"atoi":            func(s string) int { n, _ := strconv.Atoi(s); return n },
		"dict":            dict,
		"idsafe":          idSafe,
		"brand":           brand,
		"enabledProfiles": enabledProfiles,
	}
	base := template.Must(template.New("base").Funcs(funcs).ParseFS(templateFiles, "templates/*.html"))
	pages := map[string]*template.Template{}
	entries, err := fs.Glob(templateFiles, "templates/pages/*.html")
	if err != nil {
		panic(err)
	}
	for _, e := range entries {
		name := strings.TrimSuffix(path.Base(e), ".html")
		pages[name] = template.Must(template.Must(base.Clone()).ParseFS(templateFiles, e))
	}
	return pages
}

// render writes the page template name inside the layout.
// refused shows page name again with the core's refusal of a change in it,
// with the status its code maps to; an internal error is returned instead,
// for the error page.
func (s *Server) refused(w http.ResponseWriter, r *http.Request, p *page, err error, name, title, section string, data any) error {
	status := door.StatusOf(roster.ErrorCode(err))
	if status >= http.StatusInternalServerError {
		return err
	}
	p.Error = errorMessage(p.L, err)
	p.Title, p.Section, p.Data = title, section, data
	s.render(w, r, status, name, p)
	return nil
}

func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, p *page) {
	if p.L == nil {
		p.L = s.localizerFor(r, "")
	}
	t := s.views.pages[p.L.Lang()][name]
	if t == nil {
		panic("console: no template " + name)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		s.log.ErrorContext(r.Context(), "console: render", "template", name, "err", err)
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
// The label and hint are message IDs, said in l's language.
func newField(l *i18n.Localizer, name, label string, value any, errs fieldErrors, opts ...string) formField {
	f := formField{Name: name, Label: l.T(label), Value: fmt.Sprint(orEmpty(value)), Error: errs[name], Type: "text"}
	for _, o := range opts {
		switch {
		case o == "required":
			f.Required = true
		case strings.HasPrefix(o, "type="):
			f.Type = strings.TrimPrefix(o, "type=")
		case strings.HasPrefix(o, "auto="):
			f.Auto = strings.TrimPrefix(o, "auto=")
		case strings.HasPrefix(o, "hint="):
			f.Hint = l.T(strings.TrimPrefix(o, "hint="))
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

func formatDateTime(l *i18n.Localizer, t any) string {
	switch x := t.(type) {
	case time.Time:
		if x.IsZero() {
			return ""
		}
		return l.DateTime(x)
	case *time.Time:
		if x == nil {
			return ""
		}
		return formatDateTime(l, *x)
	}
	return ""
}

// isoTime is t for machines (a time element's datetime attribute).
func isoTime(t any) string {
	switch x := t.(type) {
	case time.Time:
		if !x.IsZero() {
			return x.UTC().Format(time.RFC3339)
		}
	case *time.Time:
		if x != nil {
			return isoTime(*x)
		}
	}
	return ""
}

func formatDate(l *i18n.Localizer, t any) string {
	switch x := t.(type) {
	case time.Time:
		if x.IsZero() {
			return ""
		}
		return l.Date(x)
	case *time.Time:
		if x == nil {
			return ""
		}
		return formatDate(l, *x)
	}
	return ""
}

// ago says how long ago t was, roughly; "never" for nil.
func ago(l *i18n.Localizer, t any) string {
	var tt time.Time
	switch x := t.(type) {
	case time.Time:
		tt = x
	case *time.Time:
		if x != nil {
			tt = *x
		}
	}
	if tt.IsZero() {
		return l.T("never")
	}
	return l.Ago(tt, time.Now())
}

// toInt takes a template's count of any integer type.
func toInt(n any) int {
	switch x := n.(type) {
	case int:
		return x
	case int64:
		return int(x)
	case int32:
		return int(x)
	case uint:
		return int(x)
	case *int:
		if x != nil {
			return *x
		}
	}
	return 0
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
