package console

import (
	"net/http"
	"strings"
	"time"

	"github.com/roster-dev/roster/internal/door"
	"github.com/roster-dev/roster/internal/roster"
)

// API tokens: the list (never a secret), a new token whose secret is shown
// once, and revoking one after a confirmation. The core decides who may do
// what (the grant rule: a token carries only what its maker holds).

type tokensData struct {
	Tokens []tokenRow
	Roles  []roster.Role
	Form   map[string]string
}

// tokenRow is a token as the list shows it.
type tokenRow struct {
	roster.APIToken
	RoleName string
	State    string // active, expired, revoked
}

func (s *Server) tokensData(r *http.Request, p *page) (*tokensData, error) {
	toks, err := s.svc.ListTokens(r.Context(), p.Actor)
	if err != nil {
		return nil, err
	}
	roles, err := s.svc.ListRoles(r.Context(), p.Actor)
	if err != nil {
		return nil, err
	}
	names := map[string]string{}
	for _, ro := range roles {
		names[ro.Key] = ro.Name
	}
	d := &tokensData{Roles: roles, Form: map[string]string{}}
	now := s.svc.Now()
	for _, t := range toks {
		row := tokenRow{APIToken: t, RoleName: names[t.Role], State: "active"}
		switch {
		case t.RevokedAt != nil:
			row.State = "revoked"
		case t.ExpiresAt != nil && !now.Before(*t.ExpiresAt):
			row.State = "expired"
		}
		d.Tokens = append(d.Tokens, row)
	}
	// Newest first: the one just made is at the top.
	for i, j := 0, len(d.Tokens)-1; i < j; i, j = i+1, j-1 {
		d.Tokens[i], d.Tokens[j] = d.Tokens[j], d.Tokens[i]
	}
	return d, nil
}

func (s *Server) tokensPage(w http.ResponseWriter, r *http.Request, p *page) error {
	d, err := s.tokensData(r, p)
	if err != nil {
		return err
	}
	p.Title, p.Section, p.Data = p.T("API tokens"), "tokens", d
	s.render(w, r, http.StatusOK, "tokens", p)
	return nil
}

// tokenCreated is the page that shows a new token's secret, once.
type tokenCreated struct {
	Token  *roster.APIToken
	Secret string
}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request, p *page) error {
	form := map[string]string{"name": r.PostFormValue("name"), "role": r.PostFormValue("role"), "expires": r.PostFormValue("expires")}
	in := roster.TokenInput{Name: form["name"], Role: form["role"]}
	var v roster.Validation
	if e := strings.TrimSpace(form["expires"]); e != "" {
		day, err := time.Parse("2006-01-02", e)
		if err != nil {
			v.Add("expires", "must be a date, like 2027-06-30")
		} else {
			end := day.Add(24 * time.Hour) // the token works through the whole day
			in.ExpiresAt = &end
		}
	}
	err := v.Err()
	var tok *roster.APIToken
	var secret string
	if err == nil {
		tok, secret, err = s.svc.CreateToken(r.Context(), p.Actor, in)
	}
	if err != nil {
		status := door.StatusOf(roster.ErrorCode(err))
		if status == http.StatusInternalServerError {
			return err
		}
		p.Errors, p.Error = errorsOf(p.L, err), errorMessage(p.L, err)
		if f := p.Errors["expires_at"]; f != "" {
			p.Errors["expires"] = f
		}
		d, derr := s.tokensData(r, p)
		if derr != nil {
			return derr
		}
		d.Form = form
		p.Title, p.Section, p.Data = p.T("API tokens"), "tokens", d
		s.render(w, r, status, "tokens", p)
		return nil
	}
	p.Title, p.Section, p.Data = p.T("Token {{.Name}} created", "Name", tok.Name), "tokens", &tokenCreated{Token: tok, Secret: secret}
	w.Header().Set("Cache-Control", "no-store") // the secret is on this page
	s.render(w, r, http.StatusCreated, "token_created", p)
	return nil
}

func (s *Server) loadToken(r *http.Request, p *page) (*roster.APIToken, error) {
	id, err := door.PathID(r, "token")
	if err != nil {
		return nil, err
	}
	return s.svc.Token(r.Context(), p.Actor, id)
}

func (s *Server) revokeTokenPage(w http.ResponseWriter, r *http.Request, p *page) error {
	tok, err := s.loadToken(r, p)
	if err != nil {
		return err
	}
	p.Title, p.Section, p.Data = p.T("Revoke the token {{.Name}}?", "Name", tok.Name), "tokens", tok
	s.render(w, r, http.StatusOK, "token_revoke", p)
	return nil
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request, p *page) error {
	tok, err := s.loadToken(r, p)
	if err != nil {
		return err
	}
	if err := s.svc.RevokeToken(r.Context(), p.Actor, tok.ID); err != nil {
		return s.refused(w, r, p, err, "token_revoke", p.T("Revoke the token {{.Name}}?", "Name", tok.Name), "tokens", tok)
	}
	return s.redirect(w, r, "/tokens", p.T("Token {{.Name}} revoked: it no longer works.", "Name", tok.Name))
}
