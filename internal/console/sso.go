package console

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/roster-dev/roster/internal/door"
	"github.com/roster-dev/roster/internal/roster"
)

// Single sign-on settings: the organisation's identity providers, each with
// the redirect URI to copy into the IdP. The core decides who may (tenant-wide
// environment.manage) and what a JIT role may be (the grant rule).

type ssoData struct {
	Providers []roster.SSOProvider
	Edit      *roster.SSOProvider // nil: the form adds one
	Form      map[string]string
	Roles     []roster.Role
	Groups    []roster.Group
}

func (s *Server) ssoData(r *http.Request, p *page, edit *roster.SSOProvider) (*ssoData, error) {
	ps, err := s.svc.ListSSOProviders(r.Context(), p.Actor)
	if err != nil {
		return nil, err
	}
	roles, err := s.svc.ListRoles(r.Context(), p.Actor)
	if err != nil {
		return nil, err
	}
	groups, err := s.svc.ListGroups(r.Context(), p.Actor)
	if err != nil {
		return nil, err
	}
	d := &ssoData{Providers: ps, Edit: edit, Roles: roles, Groups: groups, Form: map[string]string{"match_claim": roster.SSOMatchEmail}}
	if edit != nil {
		d.Form = map[string]string{"name": edit.Name, "issuer": edit.Issuer, "client_id": edit.ClientID, "match_claim": edit.MatchClaim,
			"default_role": edit.DefaultRole, "trust_email": onIf(edit.TrustEmail), "mfa_from_idp": onIf(edit.MFAFromIdP), "jit": onIf(edit.JIT), "enabled": onIf(edit.Enabled),
			"email_domains": strings.Join(edit.EmailDomains, ", ")}
		if edit.DefaultGroupID != nil {
			d.Form["default_group_id"] = strconv.FormatInt(*edit.DefaultGroupID, 10)
		}
	}
	return d, nil
}

func onIf(b bool) string {
	if b {
		return "on"
	}
	return ""
}

func (s *Server) showSSO(w http.ResponseWriter, r *http.Request, p *page, status int, d *ssoData) {
	p.Title, p.Section, p.Data = p.T("Single sign-on"), "sso", d
	if d.Edit != nil {
		p.Title = p.T("Identity provider {{.Name}}", "Name", d.Edit.Name)
	}
	s.render(w, r, status, "sso", p)
}

func (s *Server) ssoPage(w http.ResponseWriter, r *http.Request, p *page) error {
	d, err := s.ssoData(r, p, nil)
	if err != nil {
		return err
	}
	s.showSSO(w, r, p, http.StatusOK, d)
	return nil
}

func (s *Server) loadSSOProvider(r *http.Request, p *page) (*roster.SSOProvider, error) {
	id, err := door.PathID(r, "identity provider")
	if err != nil {
		return nil, err
	}
	return s.svc.SSOProvider(r.Context(), p.Actor, id)
}

func (s *Server) ssoEditPage(w http.ResponseWriter, r *http.Request, p *page) error {
	sp, err := s.loadSSOProvider(r, p)
	if err != nil {
		return err
	}
	d, err := s.ssoData(r, p, sp)
	if err != nil {
		return err
	}
	if sp.Kind == roster.SSOKindSAML {
		d.Form = samlForm(sp)
		s.showSAML(w, r, p, http.StatusOK, d)
		return nil
	}
	s.showSSO(w, r, p, http.StatusOK, d)
	return nil
}

// saveSSOProvider adds a provider (POST /settings/sso) or changes one; an
// empty secret field keeps the stored secret.
func (s *Server) saveSSOProvider(w http.ResponseWriter, r *http.Request, p *page) error {
	var edit *roster.SSOProvider
	if r.PathValue("id") != "" {
		var err error
		if edit, err = s.loadSSOProvider(r, p); err != nil {
			return err
		}
		if edit.Kind == roster.SSOKindSAML {
			return s.saveSAML(w, r, p, edit)
		}
	}
	form := map[string]string{}
	for _, k := range []string{"name", "issuer", "client_id", "client_secret", "match_claim", "trust_email", "mfa_from_idp", "jit", "default_role", "default_group_id", "enabled", "email_domains"} {
		form[k] = strings.TrimSpace(r.PostFormValue(k))
	}
	in := roster.SSOProviderInput{Name: roster.Some(form["name"]), Issuer: roster.Some(form["issuer"]), ClientID: roster.Some(form["client_id"]),
		MatchClaim: roster.Some(form["match_claim"]), TrustEmail: roster.Some(form["trust_email"] != ""), MFAFromIdP: roster.Some(form["mfa_from_idp"] != ""), JIT: roster.Some(form["jit"] != ""),
		DefaultRole: roster.Some(form["default_role"]), EmailDomains: roster.Some(domainList(form["email_domains"]))}
	if form["client_secret"] != "" {
		in.ClientSecret = roster.Some(form["client_secret"])
	}
	var v roster.Validation
	switch gid, err := strconv.ParseInt(form["default_group_id"], 10, 64); {
	case form["default_group_id"] == "":
		in.DefaultGroupID = roster.Opt[int64]{Set: true, Null: true}
	case err != nil:
		v.Add("default_group_id", "choose a group")
	default:
		in.DefaultGroupID = roster.Some(gid)
	}
	err := v.Err()
	var saved *roster.SSOProvider
	if err == nil {
		if edit == nil {
			in.Kind = roster.Some(roster.SSOKindOIDC)
			saved, err = s.svc.CreateSSOProvider(r.Context(), p.Actor, in)
		} else {
			in.Enabled = roster.Some(form["enabled"] != "")
			saved, err = s.svc.UpdateSSOProvider(r.Context(), p.Actor, edit.ID, in)
		}
	}
	if err != nil {
		status := door.StatusOf(roster.ErrorCode(err))
		if status == http.StatusInternalServerError {
			return err
		}
		d, derr := s.ssoData(r, p, edit)
		if derr != nil {
			return derr
		}
		form["client_secret"] = "" // never shown again
		d.Form = form
		p.Errors, p.Error = errorsOf(p.L, err), errorMessage(p.L, err)
		s.showSSO(w, r, p, status, d)
		return nil
	}
	return s.redirect(w, r, "/settings/sso/"+strconv.FormatInt(saved.ID, 10),
		saved.Name+" saved. Register the redirect URI "+saved.RedirectURI+" at the identity provider.")
}

func (s *Server) deleteSSOPage(w http.ResponseWriter, r *http.Request, p *page) error {
	sp, err := s.loadSSOProvider(r, p)
	if err != nil {
		return err
	}
	p.Title, p.Section, p.Data = p.T("Remove {{.Name}}?", "Name", sp.Name), "sso", sp
	s.render(w, r, http.StatusOK, "sso_delete", p)
	return nil
}

func (s *Server) deleteSSOProvider(w http.ResponseWriter, r *http.Request, p *page) error {
	sp, err := s.loadSSOProvider(r, p)
	if err != nil {
		return err
	}
	if err := s.svc.DeleteSSOProvider(r.Context(), p.Actor, sp.ID); err != nil {
		return s.refused(w, r, p, err, "sso_delete", p.T("Remove {{.Name}}?", "Name", sp.Name), "sso", sp)
	}
	return s.redirect(w, r, "/settings/sso", sp.Name+" removed: its button is gone from the sign-in page.")
}
