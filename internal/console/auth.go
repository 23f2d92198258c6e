package console

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/roster-dev/roster/internal/accesslog"
	"github.com/roster-dev/roster/internal/door"
	"github.com/roster-dev/roster/internal/roster"
)

// sessionInfo is what the console knows of the signed-in session.
type sessionInfo struct {
	token string
	// ViewAs is set while an admin views the product as another user.
	ViewAs     bool
	ViewAsName string // who is viewed
	RealName   string // who is looking
}

// newPage resolves the session cookie into an actor and prepares the state
// every page needs.
func (s *Server) newPage(w http.ResponseWriter, r *http.Request) (*page, error) {
	p := &page{}
	if r.Method == http.MethodGet {
		if kind, msg := s.takeFlash(w, r); msg != "" {
			p.Flash = &flashMsg{Kind: kind, Msg: msg}
		}
	}
	if token := cookieValue(r, sessionCookie); token != "" {
		a, info, err := s.authenticate(w, r, token)
		switch roster.ErrorCode(err) {
		case "":
			p.Actor, p.Session, p.CSRF = a, info, csrfToken(token)
			accesslog.NoteActor(r.Context(), a)
		case roster.EUnauthorized:
			s.clearSession(w, r) // expired, revoked, or the user was deactivated
		default:
			return p, err
		}
	}
	if p.Actor == nil {
		p.CSRF = s.anonymousCSRF(w, r)
		p.L = s.localizerFor(r, "")
	} else {
		p.L = s.localizerFor(r, p.Actor.Language)
		t, err := s.svc.Tenant(r.Context(), p.Actor)
		if err != nil {
			return p, err
		}
		p.Tenant = t
	}
	if r.Method == http.MethodPost {
		if err := parseForm(r); err != nil { // limited by its route
			return p, err
		}
	}
	return p, nil
}

// authenticate turns the session cookie into the actor of the request.
// While the user views the product as someone else ("view as"), the actor
// is that person, read-only, and the page says so.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request, token string) (*roster.Actor, *sessionInfo, error) {
	ctx := r.Context()
	a, _, err := s.svc.AuthenticateSession(ctx, token)
	if err != nil {
		return nil, nil, err
	}
	a.IP, a.UserAgent = s.clientIP(r), r.UserAgent()
	info := &sessionInfo{token: token}
	secret := cookieValue(r, viewAsCookie)
	if secret == "" {
		return a, info, nil
	}
	viewed, err := s.svc.AuthenticateImpersonation(ctx, secret)
	var im *roster.Impersonation
	if err == nil {
		im, err = s.svc.CurrentImpersonation(ctx, viewed)
	}
	// The view-as must be this session's user's own.
	if err == nil && (im.ImpersonatorKind != roster.ActorUser || im.ImpersonatorID != a.ID) {
		err = roster.Errorf(roster.EUnauthorized, "this view-as belongs to someone else")
	}
	switch roster.ErrorCode(err) {
	case "":
	case roster.EUnauthorized, roster.ENotFound:
		s.setCookie(w, r, viewAsCookie, "", -1)
		if r.Method == http.MethodGet {
			s.flash(w, r, "info", s.localizerFor(r, a.Language).T("The view-as has ended; you see the console as yourself again."))
		}
		return a, info, nil
	default:
		return nil, nil, err
	}
	viewed.IP, viewed.UserAgent = a.IP, a.UserAgent
	viewed.Language = a.Language // the console speaks the language of who is looking
	info.ViewAs, info.ViewAsName, info.RealName = true, viewed.Name, a.Name
	if u, err := s.svc.CurrentUser(ctx, viewed); err == nil {
		info.ViewAsName = u.Name + " (" + u.Username + ")"
	}
	if u, err := s.svc.CurrentUser(ctx, a); err == nil {
		info.RealName = u.Name + " (" + u.Username + ")"
	}
	return viewed, info, nil
}

// clearSession removes the session cookie.
func (s *Server) clearSession(w http.ResponseWriter, r *http.Request) {
	s.setCookie(w, r, sessionCookie, "", -1)
}

// clientIP is the address of the client: the TCP peer, or behind a trusted
// proxy the address it forwarded (internal/clientip).
func (s *Server) clientIP(r *http.Request) string { return s.opts.Proxies.ClientIP(r) }

// authForm is what the sign-in, forgot and reset forms hold (never the
// password: a refused form comes back without it).
type authForm struct {
	Tenant, Login, Channel, Next string
	// SSO are the organisation's "Sign in with ..." buttons (sign-in page).
	SSO []roster.SSOSignInOption
}

// withSSO adds the organisation's identity providers to the sign-in form;
// without an organisation there are none (console.js asks once it is typed).
func (s *Server) withSSO(r *http.Request, f authForm) authForm {
	if f.Tenant == "" {
		return f
	}
	opts, err := s.svc.SSOSignInOptions(r.Context(), f.Tenant)
	if err != nil {
		s.log.WarnContext(r.Context(), "sign-in options", "err", err)
	}
	f.SSO = opts
	return f
}

func (s *Server) signInPage(w http.ResponseWriter, r *http.Request, p *page) error {
	q := r.URL.Query()
	if p.Actor != nil {
		http.Redirect(w, r, localPath(q.Get("next"), "/"), http.StatusSeeOther)
		return nil
	}
	tenant := q.Get("tenant")
	if tenant == "" {
		tenant = cookieValue(r, orgCookie)
	}
	p.Title = p.T("Sign in")
	p.Data = s.withSSO(r, authForm{Tenant: tenant, Login: q.Get("login"), Next: localPath(q.Get("next"), "")})
	return s.show(w, r, "signin", p)
}

func (s *Server) signIn(w http.ResponseWriter, r *http.Request, p *page) error {
	f := authForm{Tenant: r.PostFormValue("tenant"), Login: r.PostFormValue("login"), Next: localPath(r.PostFormValue("next"), "")}
	in, err := s.svc.SignIn(r.Context(), roster.SignInInput{
		Tenant: f.Tenant, Login: f.Login, Password: r.PostFormValue("password"),
		IP: s.clientIP(r), UserAgent: r.UserAgent(), Previous: cookieValue(r, sessionCookie),
	})
	if err != nil {
		return s.authFormFailed(w, r, p, "signin", p.T("Sign in"), s.withSSO(r, f), err)
	}
	// Remember the organisation for the next sign-in on this browser.
	s.setCookie(w, r, orgCookie, strings.ToLower(strings.TrimSpace(f.Tenant)), 365*24*3600)
	return s.signedInOrStep(w, r, in, f.Next, "") // mfa.go
}

// authFormFailed shows a public form again with the core's answer: wrong
// credentials, a locked account, too many attempts, or field errors.
func (s *Server) authFormFailed(w http.ResponseWriter, r *http.Request, p *page, tmpl, title string, f any, err error) error {
	code := roster.ErrorCode(err)
	status := door.StatusOf(code)
	if status >= http.StatusInternalServerError {
		return err
	}
	setRetryAfter(w, err)
	p.Errors = errorsOf(p.L, err)
	p.Error = errorMessage(p.L, err)
	if code == roster.EInvalid && len(p.Errors) > 0 {
		p.Error = "Please correct the fields marked below."
	}
	setRetryAfter(w, err) // too many attempts
	p.Title, p.Data = title, f
	s.render(w, r, status, tmpl, p)
	return nil
}

func (s *Server) signOut(w http.ResponseWriter, r *http.Request, p *page) error {
	if err := s.svc.SignOut(r.Context(), cookieValue(r, sessionCookie), s.clientIP(r), r.UserAgent()); err != nil {
		return err
	}
	s.clearSession(w, r)
	s.setCookie(w, r, viewAsCookie, "", -1)
	s.flash(w, r, "success", p.T("You are signed out."))
	if provider, err := strconv.ParseInt(cookieValue(r, ssoProviderCookie), 10, 64); err == nil && provider > 0 {
		s.setCookie(w, r, ssoProviderCookie, "", -1)
		// The form's CSP (form-action 'self') forbids a redirect to the
		// IdP, so a page of ours sends the browser on.
		http.Redirect(w, r, "/signed-out/"+strconv.FormatInt(provider, 10), http.StatusSeeOther)
		return nil
	}
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
	return nil
}

// signedOutPage sends a browser that single sign-on signed in on to the
// IdP's logout (RP-initiated logout), or to the sign-in page.
func (s *Server) signedOutPage(w http.ResponseWriter, r *http.Request, p *page) error {
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	to, name := s.svc.SSOLogout(r.Context(), id)
	if to == "" {
		http.Redirect(w, r, "/signin", http.StatusSeeOther)
		return nil
	}
	p.Title, p.Data = "Signed out", map[string]string{"URL": to, "Name": name}
	return s.show(w, r, "signed_out", p)
}

// ssoProviderCookie names the identity provider that signed the browser
// in (set by the API's SSO callback), for its logout.
const ssoProviderCookie = "roster_sso_provider"

// ssoRoute sends a person to their organisation's identity provider by
// the domain of their email; without one, back to the sign-in form.
func (s *Server) ssoRoute(w http.ResponseWriter, r *http.Request, p *page) error {
	q := r.URL.Query()
	f := authForm{Tenant: strings.TrimSpace(q.Get("tenant")), Login: strings.TrimSpace(q.Get("email"))}
	var opt *roster.SSOSignInOption
	err := func() error {
		if f.Tenant == "" {
			return roster.Errorf(roster.EInvalid, "enter your organisation first")
		}
		var err error
		opt, err = s.svc.SSORoute(r.Context(), f.Tenant, f.Login)
		return err
	}()
	if err != nil {
		p.Error = errorMessage(p.L, err)
		p.Title, p.Data = p.T("Sign in"), s.withSSO(r, f)
		s.render(w, r, http.StatusOK, "signin", p)
		return nil
	}
	s.setCookie(w, r, orgCookie, strings.ToLower(f.Tenant), 365*24*3600)
	// A page, not a redirect: the form's CSP (form-action 'self') forbids
	// the redirects on to the IdP. console.js skips it (ssoRoute).
	f.SSO = []roster.SSOSignInOption{*opt}
	p.Title, p.Data = "Sign in", f
	s.render(w, r, http.StatusOK, "signin", p)
	return nil
}

// forgotPage asks for the account and the channel of a one-time code
// (seed 003: "Forgot password / need new password").
func (s *Server) forgotPage(w http.ResponseWriter, r *http.Request, p *page) error {
	q := r.URL.Query()
	p.Title, p.Data = p.T("Forgot password / need a new password"), authForm{Tenant: q.Get("tenant"), Login: q.Get("login"), Channel: "email"}
	return s.show(w, r, "forgot", p)
}

func (s *Server) forgot(w http.ResponseWriter, r *http.Request, p *page) error {
	f := authForm{Tenant: r.PostFormValue("tenant"), Login: r.PostFormValue("login"), Channel: r.PostFormValue("channel")}
	err := s.svc.RequestPasswordCode(r.Context(), roster.CodeRequest{Tenant: f.Tenant, Login: f.Login, Channel: f.Channel,
		IP: s.clientIP(r), UserAgent: r.UserAgent()})
	if err != nil {
		return s.authFormFailed(w, r, p, "forgot", p.T("Forgot password / need a new password"), f, err)
	}
	// The same answer whether or not the account exists.
	s.flash(w, r, "info", p.T("If the account exists and has an address for that channel, a one-time code is on its way. Enter it below with your new password."))
	http.Redirect(w, r, "/reset?"+url.Values{"tenant": {f.Tenant}, "login": {f.Login}}.Encode(), http.StatusSeeOther)
	return nil
}

func (s *Server) resetPage(w http.ResponseWriter, r *http.Request, p *page) error {
	q := r.URL.Query()
	p.Title, p.Data = p.T("Set a new password"), authForm{Tenant: q.Get("tenant"), Login: q.Get("login")}
	return s.show(w, r, "reset", p)
}

func (s *Server) reset(w http.ResponseWriter, r *http.Request, p *page) error {
	f := authForm{Tenant: r.PostFormValue("tenant"), Login: r.PostFormValue("login")}
	err := s.svc.ResetPassword(r.Context(), roster.ResetInput{Tenant: f.Tenant, Login: f.Login, Code: r.PostFormValue("code"),
		Password: r.PostFormValue("password"), IP: s.clientIP(r), UserAgent: r.UserAgent()})
	if err != nil {
		return s.authFormFailed(w, r, p, "reset", p.T("Set a new password"), f, err)
	}
	s.flash(w, r, "success", p.T("Your password is set. Sign in with it now."))
	http.Redirect(w, r, "/signin?"+url.Values{"tenant": {f.Tenant}, "login": {f.Login}}.Encode(), http.StatusSeeOther)
	return nil
}

type acceptData struct {
	Token  string
	Info   *roster.InvitationInfo
	Reason string // why the link does not work
}

// acceptPage shows whom an invitation link invites and asks for a password,
// or says plainly why the link does not work.
func (s *Server) acceptPage(w http.ResponseWriter, r *http.Request, p *page) error {
	token := r.PathValue("token")
	info, err := s.svc.InspectInvitation(r.Context(), token)
	d := acceptData{Token: token, Info: info}
	if info != nil {
		p.L = s.localizerFor(r, info.Language) // the invitation's language
	}
	status := http.StatusOK
	if err != nil {
		if status = door.StatusOf(roster.ErrorCode(err)); status >= http.StatusInternalServerError {
			return err
		}
		d.Reason = errorMessage(p.L, err)
	}
	p.Title, p.Data = p.T("Accept your invitation"), d
	s.render(w, r, status, "accept", p)
	return nil
}

func (s *Server) accept(w http.ResponseWriter, r *http.Request, p *page) error {
	ctx := r.Context()
	token, password := r.PathValue("token"), r.PostFormValue("password")
	if password != r.PostFormValue("password2") {
		err := &roster.Error{Code: roster.EInvalid, Message: "the input is not valid",
			Fields: []roster.FieldError{{Field: "password2", Message: "does not match the password", Key: "does not match the password"}}}
		return s.acceptFailed(w, r, p, token, err)
	}
	u, err := s.svc.AcceptInvitation(ctx, token, password, s.clientIP(r), r.UserAgent())
	if err != nil {
		return s.acceptFailed(w, r, p, token, err)
	}
	t, err := s.svc.TenantBySlug(ctx, r.PostFormValue("tenant"))
	if err == nil && t.ID == u.TenantID {
		// Sign the new user in with the password they just chose.
		in, err := s.svc.SignIn(ctx, roster.SignInInput{Tenant: t.Slug, Login: u.Username, Password: password,
			IP: s.clientIP(r), UserAgent: r.UserAgent(), Previous: cookieValue(r, sessionCookie)})
		if err == nil {
			return s.signedInOrStep(w, r, in, "", p.T("Welcome, {{.Name}}! Your account is active.", "Name", u.Name))
		}
	}
	s.flash(w, r, "success", p.T("Your account is active. Sign in with your username {{.Username}} and your new password.", "Username", u.Username))
	http.Redirect(w, r, "/signin?"+url.Values{"login": {u.Username}}.Encode(), http.StatusSeeOther)
	return nil
}

func (s *Server) acceptFailed(w http.ResponseWriter, r *http.Request, p *page, token string, err error) error {
	d := acceptData{Token: token}
	info, ierr := s.svc.InspectInvitation(r.Context(), token)
	if info != nil {
		p.L = s.localizerFor(r, info.Language)
	}
	if ierr != nil {
		d.Reason = errorMessage(p.L, ierr)
	}
	d.Info = info
	return s.authFormFailed(w, r, p, "accept", p.T("Accept your invitation"), d, err)
}

func (s *Server) changePassword(w http.ResponseWriter, r *http.Request, p *page) error {
	err := s.svc.ChangePassword(r.Context(), p.Actor, cookieValue(r, sessionCookie), r.PostFormValue("current_password"), r.PostFormValue("new_password"))
	if err != nil {
		status, ok := formFailed(p, err)
		if !ok {
			return err
		}
		d, derr := s.accountData(r, p)
		if derr != nil {
			return derr
		}
		p.Title, p.Section, p.Data = p.T("Your account"), "account", d
		s.render(w, r, status, "account", p)
		return nil
	}
	return s.redirect(w, r, "/account", p.T("Your password is changed. Your other sessions have been signed out."))
}
