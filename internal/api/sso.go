package api

import (
	"html/template"
	"net/http"
	"strconv"
	"time"

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
	mux.HandleFunc("GET /sso/{id}/start", s.ssoStart)
	mux.HandleFunc("GET /sso/{id}/callback", s.ssoCallback)
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
	id, err := pathID(r, "identity provider")
	if err == nil {
		var st *roster.SSOStart
		if st, err = s.svc.StartSSO(r.Context(), id); err == nil {
			http.SetCookie(w, &http.Cookie{Name: ssoStateCookie, Value: st.State, Path: s.ssoCookiePath(id),
				MaxAge: int(time.Until(st.ExpiresAt) / time.Second), HttpOnly: true, Secure: s.secureCookies(r),
				SameSite: http.SameSiteLaxMode})
			w.Header().Set("Cache-Control", "no-store")
			http.Redirect(w, r, st.URL, http.StatusFound)
			return
		}
	}
	s.ssoFailed(w, r, err)
}

func (s *Server) ssoCallback(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "identity provider")
	if err != nil {
		s.ssoFailed(w, r, err)
		return
	}
	browser := ""
	if c, err := r.Cookie(ssoStateCookie); err == nil {
		browser = c.Value
	}
	// The state is used once, whatever comes of it.
	http.SetCookie(w, &http.Cookie{Name: ssoStateCookie, Value: "", Path: s.ssoCookiePath(id), MaxAge: -1, HttpOnly: true,
		Secure: s.secureCookies(r), SameSite: http.SameSiteLaxMode})
	q := r.URL.Query()
	res, err := s.svc.FinishSSO(r.Context(), roster.SSOCallbackInput{ProviderID: id, State: q.Get("state"), Browser: browser,
		Code: q.Get("code"), Error: q.Get("error"), IP: s.clientIP(r), UserAgent: r.UserAgent(), Previous: sessionToken(r)})
	if err != nil {
		s.ssoFailed(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	if res.MFA != nil {
		// The second factor is still to come, on the console's step page.
		http.SetCookie(w, &http.Cookie{Name: MFACookie, Value: res.MFA.Token, Path: "/", MaxAge: int(roster.MFAChallengeTTL / time.Second),
			HttpOnly: true, Secure: s.secureCookies(r), SameSite: http.SameSiteLaxMode})
		http.Redirect(w, r, "/signin/second-factor", http.StatusSeeOther)
		return
	}
	_, max := s.svc.SessionLifetimes()
	s.setSessionCookie(w, r, res.Token, max)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

var ssoFailedPage = template.Must(template.New("sso").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign-in failed · Roster</title></head>
<body><main><h1>Sign-in failed</h1><p role="alert">{{.}}</p><p><a href="/signin">Back to the sign-in page</a></p></main></body></html>`))

// ssoFailed shows a person why the sign-in did not work, in words; the
// core logged the detail. Internal errors are logged here and not shown.
func (s *Server) ssoFailed(w http.ResponseWriter, r *http.Request, err error) {
	status := statusOf(roster.ErrorCode(err))
	msg := roster.ErrorMessage(err)
	if status == http.StatusInternalServerError {
		s.log.Error("internal error", "method", r.Method, "path", r.URL.Path, "err", err)
		msg = "something went wrong on our side; try again later"
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'")
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
