package console

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/roster-dev/roster/internal/roster"
)

// The organisation's settings: its name, branding name, languages, and the
// bounds the core honours (invitation expiry, password length, group
// depth). The core decides who may change them (tenant-wide
// environment.manage) and checks every value; this page only maps its
// field names (settings.languages ...) onto the form's.

// languageNames are the languages' own names, as a person picks them.
var languageNames = map[string]string{
	"en": "English", "de": "Deutsch", "nb": "Norsk bokmål", "nl": "Nederlands", "sv": "Svenska", "da": "Dansk",
	"fi": "Suomi", "fr": "Français", "es": "Español", "it": "Italiano", "pt": "Português", "pl": "Polski",
}

// languageName is a language's readable name, or its code when unknown.
func languageName(code string) string {
	if n, ok := languageNames[code]; ok {
		return n
	}
	return code
}

type languageOption struct {
	Code, Name string
	Offered    bool
}

type settingsData struct {
	Form      map[string]string
	Languages []languageOption
	Bounds    map[string]int
	// MFAPolicies and MFARoles are the two-step sign-in choices (mfa.go).
	MFAPolicies []mfaPolicyOption
	MFARoles    []mfaRoleOption
}

// settingsForm is the form as typed, or as stored.
type settingsForm struct {
	fields    map[string]string
	languages []string
	mfaRoles  []string
	hasMFA    bool // the form carried the two-step sign-in section
}

func formFromTenant(t *roster.Tenant) settingsForm {
	st := t.Settings
	return settingsForm{languages: slices.Clone(st.Languages), mfaRoles: slices.Clone(st.MFARoles), fields: map[string]string{
		"mfa_policy": st.MFAPolicy,
		"name":       t.Name, "branding_name": st.BrandingName, "default_language": st.DefaultLanguage,
		"invitation_expiry_days": strconv.Itoa(st.InvitationExpiryDays),
		"password_min_length":    strconv.Itoa(st.MinPasswordLength),
		"group_depth":            strconv.Itoa(st.GroupDepth),
	}}
}

func readSettingsForm(r *http.Request) settingsForm {
	_, hasMFA := r.PostForm["mfa_policy"]
	f := settingsForm{languages: r.PostForm["languages"], mfaRoles: r.PostForm["mfa_roles"], hasMFA: hasMFA, fields: map[string]string{}}
	for _, k := range []string{"name", "branding_name", "default_language", "invitation_expiry_days", "password_min_length", "group_depth", "mfa_policy"} {
		f.fields[k] = r.PostFormValue(k)
	}
	return f
}

// input turns the form into the core's input. A number that is not one goes
// on as an impossible one, so the core names it with its bounds.
func (f settingsForm) input() roster.TenantInput {
	num := func(k string) roster.Opt[int] {
		n, err := strconv.Atoi(strings.TrimSpace(f.fields[k]))
		if err != nil {
			n = -1
		}
		return roster.Some(n)
	}
	langs := f.languages
	if langs == nil {
		langs = []string{} // none ticked: the core says to offer one
	}
	return roster.TenantInput{Name: roster.Some(f.fields["name"]), Settings: roster.TenantSettingsInput{
		BrandingName:         roster.Some(f.fields["branding_name"]),
		Languages:            roster.Some(langs),
		DefaultLanguage:      roster.Some(f.fields["default_language"]),
		InvitationExpiryDays: num("invitation_expiry_days"),
		MinPasswordLength:    num("password_min_length"),
		GroupDepth:           num("group_depth"),
		MFAPolicy:            f.mfaPolicy(),
		MFARoles:             f.mfaRolesInput(),
	}}
}

func (s *Server) showSettings(w http.ResponseWriter, r *http.Request, p *page, status int, f settingsForm) {
	d := &settingsData{Form: f.fields, Bounds: map[string]int{
		"expiry_min": roster.MinInvitationExpiryDays, "expiry_max": roster.MaxInvitationExpiryDays,
		"password_min": roster.MinPasswordMinLength, "password_max": roster.MaxPasswordMinLength,
		"depth_min": roster.MinGroupDepth, "depth_max": roster.MaxGroupDepth,
	}}
	for _, code := range roster.SupportedLanguages {
		d.Languages = append(d.Languages, languageOption{Code: code, Name: languageName(code), Offered: slices.Contains(f.languages, code)})
	}
	d.MFAPolicies, d.MFARoles = s.mfaOptions(r, p, f)
	p.Title, p.Section, p.Data = p.T("Organisation settings"), "settings", d
	s.render(w, r, status, "settings", p)
}

func (s *Server) settingsPage(w http.ResponseWriter, r *http.Request, p *page) error {
	t, err := s.svc.Tenant(r.Context(), p.Actor)
	if err != nil {
		return err
	}
	s.showSettings(w, r, p, http.StatusOK, formFromTenant(t))
	return nil
}

func (s *Server) saveSettings(w http.ResponseWriter, r *http.Request, p *page) error {
	f := readSettingsForm(r)
	if _, err := s.svc.UpdateTenant(r.Context(), p.Actor, f.input()); err != nil {
		status, ok := formFailed(p, err)
		if !ok {
			return err
		}
		// The core names the settings by their API path; the form by its field.
		for k, msg := range p.Errors {
			if field, ok := strings.CutPrefix(k, "settings."); ok {
				p.Errors[field] = msg
			}
		}
		s.showSettings(w, r, p, status, f)
		return nil
	}
	return s.redirect(w, r, "/settings", p.T("The organisation's settings are saved."))
}
