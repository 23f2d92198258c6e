package api

import (
	"html/template"
	"net/http"
	"strconv"
	"time"

	"github.com/roster-dev/roster/internal/door"
	"github.com/roster-dev/roster/internal/roster"
)

// Enterprise sign-in: identity providers (for environment managers) and
// the browser's round trip through the IdP (public).

// ssoStateCookie carries the state from the start to the callback: a
// callback whose state is not the browser's own is refused (login CSRF).
const ssoStateCookie = "roster_sso_state"

// registerSSO adds the public sign-in routes.
func (s *Server) registerSSO(mux *http.ServeMux) {
	mux.Handle("GET /api/v1/sso/options", s.apiHeaders(http.HandlerFunc(s.ssoOptions)))
	mux.Handle("GET /api/v1/sso/route", s.apiHeaders(http.HandlerFunc(s.ssoRoute)))
	mux.HandleFunc("GET /sso/{id}/start", s.ssoStart)
	mux.HandleFunc("GET /sso/{id}/try", s.ssoTry)
	mux.HandleFunc("GET /sso/{id}/callback", s.ssoCallback)
	mux.HandleFunc("GET /sso/{id}/saml/metadata", s.samlMetadata)
	mux.HandleFunc("POST /sso/{id}/saml/acs", s.samlACS)
}

func (s *Server) listSSOProviders(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	ps, err := s.svc.ListSSOProviders(r.Context(), a)
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": ps, "total": len(ps), "page": 1, "per_page": len(ps)})
}

func (s *Server) createSSOProvider(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	var in roster.SSOProviderInput
	if err := decode(w, r, &in); err != nil {
		s.error(w, r, err)
		return
	}
	p, err := s.svc.CreateSSOProvider(r.Context(), a, in)
	if err != nil {
		s.error(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/sso/providers/"+strconv.FormatInt(p.ID, 10))
	writeJSON(w, http.StatusCreated, p)
}

func (s *Server) getSSOProvider(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	s.withID("identity provider", w, r, func(id int64) error {
		p, err := s.svc.SSOProvider(r.Context(), a, id)
		if err == nil {
			writeJSON(w, http.StatusOK, p)
		}
		return err
	})
}

func (s *Server) updateSSOProvider(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	s.withID("identity provider", w, r, func(id int64) error {
		var in roster.SSOProviderInput
		if err := decode(w, r, &in); err != nil {
			return err
		}
		p, err := s.svc.UpdateSSOProvider(r.Context(), a, id, in)
		if err == nil {
			writeJSON(w, http.StatusOK, p)
		}
		return err
	})
}

func (s *Server) deleteSSOProvider(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	s.withID("identity provider", w, r, func(id int64) error {
		err := s.svc.DeleteSSOProvider(r.Context(), a, id)
		if err == nil {
			w.WriteHeader(http.StatusNoContent)
		}
		return err
	})
}

// ssoOptions lists a tenant's sign-in buttons: {"items": [{id, name}]}.
func (s *Server) ssoOptions(w http.ResponseWriter, r *http.Request) {
	opts, err := s.svc.SSOSignInOptions(r.Context(), r.URL.Query().Get("tenant"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": opts})
}

func (s *Server) ssoCookiePath(id int64) string { return "/sso/" + strconv.FormatInt(id, 10) + "/" }

func (s *Server) ssoStart(w http.ResponseWriter, r *http.Request) {
	id, err := door.PathID(r, "identity provider")
	if err == nil {
		var st *roster.SSOStart
		if st, err = s.svc.StartSSO(r.Context(), id, s.clientIP(r)); err == nil {
			s.ssoRedirect(w, r, id, st)
			return
		}
	}
	s.ssoFailed(w, r, err)
}

// ssoTry starts a "try sign-in" for the admin signed in to the console.
func (s *Server) ssoTry(w http.ResponseWriter, r *http.Request) {
	id, err := door.PathID(r, "identity provider")
	if err == nil {
		var a *roster.Actor
		if a, _, err = s.svc.AuthenticateSession(r.Context(), sessionToken(r)); err == nil {
			a.IP, a.UserAgent = s.clientIP(r), r.UserAgent()
			var st *roster.SSOStart
			if st, err = s.svc.StartSSOTry(r.Context(), a, id); err == nil {
				s.ssoRedirect(w, r, id, st)
				return
			}
		}
	}
	s.ssoFailed(w, r, err)
}

// ssoRedirect keeps the state in the browser and sends it to the IdP. A
// SAML answer comes back by a POST from the IdP's site, which carries only
// a SameSite=None cookie (and that only over https).
func (s *Server) ssoRedirect(w http.ResponseWriter, r *http.Request, id int64, st *roster.SSOStart) {
	secure := s.secureCookies(r)
	same := http.SameSiteLaxMode
	if st.SAML && secure {
		same = http.SameSiteNoneMode
	}
	http.SetCookie(w, &http.Cookie{Name: ssoStateCookie, Value: st.State, Path: s.ssoCookiePath(id),
		MaxAge: int(time.Until(st.ExpiresAt) / time.Second), HttpOnly: true, Secure: secure, SameSite: same})
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, st.URL, http.StatusFound)
}

// ssoBrowserState takes the state the browser kept; it is used once,
// whatever comes of it.
func (s *Server) ssoBrowserState(w http.ResponseWriter, r *http.Request, id int64) string {
	browser := ""
	if c, err := r.Cookie(ssoStateCookie); err == nil {
		browser = c.Value
	}
	http.SetCookie(w, &http.Cookie{Name: ssoStateCookie, Value: "", Path: s.ssoCookiePath(id), MaxAge: -1, HttpOnly: true,
		Secure: s.secureCookies(r), SameSite: http.SameSiteLaxMode})
	return browser
}

func (s *Server) ssoCallback(w http.ResponseWriter, r *http.Request) {
	id, err := door.PathID(r, "identity provider")
	if err != nil {
		s.ssoFailed(w, r, err)
		return
	}
	browser := s.ssoBrowserState(w, r, id)
	q := r.URL.Query()
	res, err := s.svc.FinishSSO(r.Context(), roster.SSOCallbackInput{ProviderID: id, State: q.Get("state"), Browser: browser,
		Code: q.Get("code"), Error: q.Get("error"), IP: s.clientIP(r), UserAgent: r.UserAgent(), Previous: sessionToken(r)})
	s.ssoFinished(w, r, res, err)
}

// samlACS is the assertion consumer service: the IdP's form posts the
// SAMLResponse (and the RelayState) here.
func (s *Server) samlACS(w http.ResponseWriter, r *http.Request) {
	id, err := door.PathID(r, "identity provider")
	if err != nil {
		s.ssoFailed(w, r, err)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 2<<20)
	if err := r.ParseForm(); err != nil {
		s.ssoFailed(w, r, roster.Errorf(roster.EInvalid, "the answer of the identity provider could not be read"))
		return
	}
	browser := s.ssoBrowserState(w, r, id)
	res, err := s.svc.FinishSAML(r.Context(), roster.SAMLResponseInput{ProviderID: id, SAMLResponse: r.PostForm.Get("SAMLResponse"),
		RelayState: r.PostForm.Get("RelayState"), Browser: browser, IP: s.clientIP(r), UserAgent: r.UserAgent(), Previous: sessionToken(r)})
	s.ssoFinished(w, r, res, err)
}

// ssoProviderCookie remembers which IdP signed the browser in, for the
// IdP's logout when the person signs out (not a secret: the session is).
const ssoProviderCookie = "roster_sso_provider"

// ssoFinished starts the session of a sign-in, or shows a try sign-in's
// report, or why it failed.
func (s *Server) ssoFinished(w http.ResponseWriter, r *http.Request, res *roster.SignedIn, err error) {
	if err != nil {
		s.ssoFailed(w, r, err)
		return
	}
	setPageHeaders(w)
	if res.Try != nil {
		_ = ssoTryPage.Execute(w, res.Try)
		return
	}
	_, max := s.svc.SessionLifetimes()
	// Remembered for the IdP's logout, also when the second factor is
	// still to come.
	http.SetCookie(w, &http.Cookie{Name: ssoProviderCookie, Value: strconv.FormatInt(res.ProviderID, 10), Path: "/",
		MaxAge: int(max / time.Second), HttpOnly: true, Secure: s.secureCookies(r), SameSite: http.SameSiteLaxMode})
	if res.MFA != nil {
		// The second factor is still to come, on the console's step page.
		http.SetCookie(w, &http.Cookie{Name: MFACookie, Value: res.MFA.Token, Path: "/", MaxAge: int(roster.MFAChallengeTTL / time.Second),
			HttpOnly: true, Secure: s.secureCookies(r), SameSite: http.SameSiteLaxMode})
		http.Redirect(w, r, "/signin/second-factor", http.StatusSeeOther)
		return
	}
	s.setSessionCookie(w, r, res.Token, max)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// samlMetadata serves this service provider's metadata for the IdP.
func (s *Server) samlMetadata(w http.ResponseWriter, r *http.Request) {
	id, err := door.PathID(r, "identity provider")
	var md []byte
	if err == nil {
		md, err = s.svc.SAMLMetadata(r.Context(), id)
	}
	if err != nil {
		s.ssoFailed(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/samlmetadata+xml")
	w.Header().Set("Content-Disposition", `inline; filename="roster-sp-metadata.xml"`)
	_, _ = w.Write(md)
}

// ssoRoute finds the provider an email is routed to in an organisation:
// {"id", "name", "start_url"}; 404 when there is none.
func (s *Server) ssoRoute(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	opt, err := s.svc.SSORoute(r.Context(), q.Get("tenant"), q.Get("email"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": opt.ID, "name": opt.Name, "start_url": "/sso/" + strconv.FormatInt(opt.ID, 10) + "/start"})
}

func setPageHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'")
}

var ssoTryPage = template.Must(template.New("try").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Try sign-in: {{.Provider}} · Roster</title></head>
<body><main><h1>Try sign-in with {{.Provider}}</h1>
<p>Nobody was signed in and nothing was changed. This is what a real sign-in would do:</p>
<p role="status" id="outcome"><strong>{{if .WouldSignIn}}Would sign in{{else}}Would not sign in{{end}}:</strong> {{.Outcome}}</p>
<h2>Who {{.Provider}} says this is</h2>
<dl><dt>Subject</dt><dd>{{if .Subject}}{{.Subject}}{{else}}none (a one-time identifier, so nothing can be linked to it){{end}}</dd>
<dt>Email</dt><dd>{{if .Email}}{{.Email}} ({{if .EmailOK}}taken as verified{{else}}not verified{{end}}){{else}}none{{end}}</dd>
<dt>Name</dt><dd>{{if .Name}}{{.Name}}{{else}}none{{end}}</dd>
<dt>Second factor</dt><dd>{{if .MFAAsserted}}the identity provider says it used one{{else}}the identity provider does not say it used one{{end}}</dd></dl>
<h2>Everything {{.Provider}} sent</h2>
<table><thead><tr><th scope="col">Name</th><th scope="col">Value</th></tr></thead><tbody>
{{range .Attributes}}<tr><td>{{.Name}}</td><td>{{range $i, $v := .Values}}{{if $i}}, {{end}}{{$v}}{{end}}</td></tr>{{end}}
</tbody></table>
<p><a href="/settings/sso">Back to single sign-on settings</a></p></main></body></html>`))

var ssoFailedPage = template.Must(template.New("sso").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign-in failed · Roster</title></head>
<body><main><h1>Sign-in failed</h1><p role="alert">{{.}}</p><p><a href="/signin">Back to the sign-in page</a></p></main></body></html>`))

// ssoFailed shows a person why the sign-in did not work, in words; the
// core logged the detail. Internal errors are logged here and not shown.
func (s *Server) ssoFailed(w http.ResponseWriter, r *http.Request, err error) {
	status := door.StatusOf(roster.ErrorCode(err))
	msg := roster.ErrorMessage(err)
	if status == http.StatusInternalServerError {
		s.log.ErrorContext(r.Context(), "internal error", "method", r.Method, "path", r.URL.Path, "err", err)
		msg = "something went wrong on our side; try again later"
	}
	setPageHeaders(w)
	if status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", strconv.Itoa(int(roster.RetryAfter(err)/time.Second)))
	}
	w.WriteHeader(status)
	_ = ssoFailedPage.Execute(w, msg)
}

func (s *Server) getSSOPolicy(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	p, err := s.svc.GetSSOPolicy(r.Context(), a)
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

func (s *Server) setSSOPolicy(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	var in roster.SSOPolicyInput
	if err := decode(w, r, &in); err != nil {
		s.error(w, r, err)
		return
	}
	p, err := s.svc.SetSSOPolicy(r.Context(), a, in)
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}
