package console

import (
	"net/http"
	"strconv"

	"github.com/roster-dev/roster/internal/roster"
)

// The signed-in user's own account (seeds 003 and 004): name and language
// change at once; a new email or mobile waits for the code sent to it; the
// sessions list with "sign out everywhere else"; the password.

type accountData struct {
	User      *roster.User
	Pending   []roster.ContactChange
	Sessions  []roster.MySession
	Languages []string
	Form      map[string]string
}

func (s *Server) accountData(r *http.Request, p *page) (*accountData, error) {
	me, err := s.svc.Me(r.Context(), p.Actor)
	if err != nil {
		return nil, err
	}
	sessions, err := s.svc.MySessions(r.Context(), p.Actor, cookieValue(r, sessionCookie))
	if err != nil {
		return nil, err
	}
	u := me.User
	return &accountData{User: u, Pending: me.Pending, Sessions: sessions, Languages: p.Tenant.Settings.Languages,
		Form: map[string]string{"name": u.Name, "email": u.Email, "mobile": u.Mobile, "language": u.Language}}, nil
}

func (s *Server) accountPage(w http.ResponseWriter, r *http.Request, p *page) error {
	d, err := s.accountData(r, p)
	if err != nil {
		return err
	}
	p.Title, p.Section, p.Data = p.T("Your account"), "account", d
	return s.show(w, r, "account", p)
}

// accountFailed shows the account page again with the core's complaint and
// what was typed.
func (s *Server) accountFailed(w http.ResponseWriter, r *http.Request, p *page, err error, typed map[string]string) error {
	status, ok := formFailed(p, err)
	if !ok {
		return err
	}
	d, derr := s.accountData(r, p)
	if derr != nil {
		return derr
	}
	for k, v := range typed {
		d.Form[k] = v
	}
	p.Title, p.Section, p.Data = p.T("Your account"), "account", d
	s.render(w, r, status, "account", p)
	return nil
}

func (s *Server) updateAccount(w http.ResponseWriter, r *http.Request, p *page) error {
	typed := map[string]string{"name": r.PostFormValue("name"), "email": r.PostFormValue("email"),
		"mobile": r.PostFormValue("mobile"), "language": r.PostFormValue("language")}
	me, err := s.svc.UpdateMe(r.Context(), p.Actor, roster.MeInput{Name: roster.Some(typed["name"]), Email: roster.Some(typed["email"]),
		Mobile: roster.Some(typed["mobile"]), Language: roster.Some(typed["language"])})
	if err != nil {
		return s.accountFailed(w, r, p, err, typed)
	}
	msg := p.T("Your details are saved.")
	for _, c := range me.Pending {
		if c.Field == "email" {
			msg += " We sent a code to " + c.Value + ": enter it below to use that address."
		} else {
			msg += " We sent a code to " + c.Value + " by SMS: enter it below to use that number."
		}
	}
	return s.redirect(w, r, "/account", msg)
}

func (s *Server) confirmAccount(w http.ResponseWriter, r *http.Request, p *page) error {
	if _, err := s.svc.ConfirmMe(r.Context(), p.Actor, r.PostFormValue("code")); err != nil {
		return s.accountFailed(w, r, p, err, nil)
	}
	return s.redirect(w, r, "/account", p.T("Your new address is confirmed and in use."))
}

func (s *Server) signOutOthers(w http.ResponseWriter, r *http.Request, p *page) error {
	n, err := s.svc.SignOutOthers(r.Context(), p.Actor, cookieValue(r, sessionCookie))
	if err != nil {
		return err
	}
	msg := p.T("You are signed out everywhere else.")
	if n == 1 {
		msg = p.T("One other session was signed out.")
	} else if n > 1 {
		msg = strconv.Itoa(n) + " other sessions were signed out."
	}
	return s.redirect(w, r, "/account", msg)
}
