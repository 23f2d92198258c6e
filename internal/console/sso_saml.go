package console

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/roster-dev/roster/internal/door"
	"github.com/roster-dev/roster/internal/roster"
)

// SAML 2.0 identity providers in the console: added by the IdP's metadata
// (its address or the XML pasted), with what the IdP must be told of
// Roster (entity ID, reply URL, metadata address, certificate) to copy.

func (s *Server) showSAML(w http.ResponseWriter, r *http.Request, p *page, status int, d *ssoData) {
	p.Title, p.Section, p.Data = "Add a SAML 2.0 identity provider", "sso", d
	if d.Edit != nil {
		p.Title = "Identity provider " + d.Edit.Name
	}
	s.render(w, r, status, "sso_saml", p)
}

func (s *Server) samlAddPage(w http.ResponseWriter, r *http.Request, p *page) error {
	d, err := s.ssoData(r, p, nil)
	if err != nil {
		return err
	}
	d.Form["trust_email"] = "on"
	s.showSAML(w, r, p, http.StatusOK, d)
	return nil
}

// domainList reads "acme.com, acme.de" (commas, spaces or lines).
func domainList(v string) []string {
	return strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == ';' })
}

// saveSAMLProvider adds a SAML provider or changes one (edit set); empty
// metadata fields keep the metadata stored.
func (s *Server) saveSAMLProvider(w http.ResponseWriter, r *http.Request, p *page) error {
	return s.saveSAML(w, r, p, nil)
}

func (s *Server) saveSAML(w http.ResponseWriter, r *http.Request, p *page, edit *roster.SSOProvider) error {
	form := map[string]string{}
	for _, k := range []string{"name", "metadata_url", "metadata_xml", "match_claim", "trust_email", "jit", "default_role",
		"default_group_id", "enabled", "idp_initiated", "email_domains"} {
		form[k] = strings.TrimSpace(r.PostFormValue(k))
	}
	in := roster.SSOProviderInput{Name: roster.Some(form["name"]),
		TrustEmail: roster.Some(form["trust_email"] != ""), JIT: roster.Some(form["jit"] != ""), DefaultRole: roster.Some(form["default_role"]),
		IdPInitiated: roster.Some(form["idp_initiated"] != ""), EmailDomains: roster.Some(domainList(form["email_domains"]))}
	if form["match_claim"] != "" {
		in.MatchClaim = roster.Some(form["match_claim"])
	}
	if form["metadata_url"] != "" && (edit == nil || form["metadata_url"] != edit.MetadataURL || form["metadata_xml"] == "") {
		in.MetadataURL = roster.Some(form["metadata_url"])
	}
	if form["metadata_xml"] != "" {
		in.MetadataXML = roster.Some(form["metadata_xml"])
		in.MetadataURL = roster.Opt[string]{}
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
			in.Kind = roster.Some(roster.SSOKindSAML)
			if !in.MetadataURL.Set && !in.MetadataXML.Set {
				v.Add("metadata_url", "enter the address of the identity provider's metadata, or paste it below")
				err = v.Err()
			} else {
				saved, err = s.svc.CreateSSOProvider(r.Context(), p.Actor, in)
			}
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
		d.Form = form
		p.Errors, p.Error = errorsOf(p.L, err), errorMessage(p.L, err)
		s.showSAML(w, r, p, status, d)
		return nil
	}
	return s.redirect(w, r, "/settings/sso/"+strconv.FormatInt(saved.ID, 10),
		saved.Name+" saved. Give the identity provider Roster's metadata address "+saved.SPMetadataURL+", then try the sign-in.")
}

// samlForm is the form of a stored SAML provider.
func samlForm(p *roster.SSOProvider) map[string]string {
	f := map[string]string{"name": p.Name, "metadata_url": p.MetadataURL, "match_claim": p.MatchClaim, "default_role": p.DefaultRole,
		"trust_email": onIf(p.TrustEmail), "jit": onIf(p.JIT), "enabled": onIf(p.Enabled), "idp_initiated": onIf(p.IdPInitiated),
		"email_domains": strings.Join(p.EmailDomains, ", ")}
	if p.DefaultGroupID != nil {
		f["default_group_id"] = strconv.FormatInt(*p.DefaultGroupID, 10)
	}
	return f
}
