package api

import (
	"net/http"
	"time"

	"github.com/roster-dev/roster/internal/roster"
)

// Multi-factor authentication over the API (docs/mfa.md): the second step
// of a sign-in, and an admin's view and reset of a user's factors.

// signedInOrStep answers a sign-in whose password step passed: the session
// (201), or the second-factor step it waits for (202, no cookie).
func (s *Server) signedInOrStep(w http.ResponseWriter, r *http.Request, res *roster.SignedIn) {
	if res.MFA != nil {
		writeJSON(w, http.StatusAccepted, res.MFA)
		return
	}
	idle, max := s.svc.SessionLifetimes()
	s.setSessionCookie(w, r, res.Token, max)
	u, perms, err := s.svc.SessionUser(r.Context(), res.Session)
	if err != nil {
		s.error(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/sessions/current")
	s.resource(w, r, http.StatusCreated, SessionInfo{User: *u, Permissions: nonNil(perms),
		ExpiresAt: res.Session.ExpiresAt, IdleTimeoutSeconds: int(idle / time.Second)})
}

func (s *Server) secondFactor(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Challenge string `json:"challenge"`
		Code      string `json:"code"`
	}
	if err := decode(w, r, &in); err != nil {
		s.error(w, r, err)
		return
	}
	res, err := s.svc.CompleteSecondFactor(r.Context(), roster.SecondFactorInput{Token: in.Challenge, Code: in.Code,
		IP: s.clientIP(r), UserAgent: r.UserAgent()})
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.signedInOrStep(w, r, res)
}

func (s *Server) getUserMFA(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	s.withID("user", w, r, func(id int64) error {
		st, err := s.svc.UserMFA(r.Context(), a, id)
		if err == nil {
			writeJSON(w, http.StatusOK, st)
		}
		return err
	})
}

func (s *Server) resetUserMFA(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	s.withID("user", w, r, func(id int64) error {
		err := s.svc.ResetMFA(r.Context(), a, id)
		if err == nil {
			w.WriteHeader(http.StatusNoContent)
		}
		return err
	})
}
