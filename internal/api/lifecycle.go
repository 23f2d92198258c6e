package api

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/roster-dev/roster/internal/accesslog"
	"github.com/roster-dev/roster/internal/roster"
)

// SessionCookie is the name of the console's session cookie.
const SessionCookie = "roster_session"

// MFACookie holds a sign-in's second-factor step between an SSO callback
// and the console's step page (the console's mfaCookie, same name).
const MFACookie = "roster_mfa"

func (s *Server) sameOrigin(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var cop http.CrossOriginProtection
		if err := cop.Check(r); err != nil {
			s.problem(w, r, http.StatusForbidden, "cross-origin request refused", nil)
			return
		}
		h(w, r)
	})
}

// withSession authenticates a request by its session cookie. Unsafe methods
// must come from the console's own origin (CSRF protection); bearer tokens
// need no such check, as browsers never send them on their own.
func (s *Server) withSession(w http.ResponseWriter, r *http.Request, token string, h handlerFunc) {
	var cop http.CrossOriginProtection
	if err := cop.Check(r); err != nil {
		s.problem(w, r, http.StatusForbidden, "cross-origin request refused", nil)
		return
	}
	a, _, err := s.svc.AuthenticateSession(r.Context(), token)
	if err != nil {
		if roster.ErrorCode(err) == roster.EUnauthorized {
			s.clearSessionCookie(w, r)
		}
		s.error(w, r, err)
		return
	}
	a.IP = s.clientIP(r)
	a.UserAgent = r.UserAgent()
	accesslog.NoteActor(r.Context(), a)
	h(w, r, a)
}

// secureCookies: the public URL is https, the connection is TLS, or a
// trusted proxy says the client came over https.
func (s *Server) secureCookies(r *http.Request) bool {
	return strings.HasPrefix(s.svc.PublicURL(), "https://") || s.proxies.Secure(r)
}

func (s *Server) setSessionCookie(w http.ResponseWriter, r *http.Request, token string, maxAge time.Duration) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: token, Path: "/", MaxAge: int(maxAge / time.Second),
		HttpOnly: true, Secure: s.secureCookies(r), SameSite: http.SameSiteLaxMode})
}

func (s *Server) clearSessionCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: s.secureCookies(r), SameSite: http.SameSiteLaxMode})
}

func sessionToken(r *http.Request) string {
	if c, err := r.Cookie(SessionCookie); err == nil {
		return c.Value
	}
	return ""
}

// SessionInfo answers a sign-in and GET /api/v1/sessions/current.
type SessionInfo struct {
	User               roster.User `json:"user"`
	Permissions        []string    `json:"permissions"`
	ExpiresAt          time.Time   `json:"expires_at"`
	IdleTimeoutSeconds int         `json:"idle_timeout_seconds"`
}

func (s *Server) signIn(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Tenant   string `json:"tenant"`
		Login    string `json:"login"`
		Password string `json:"password"`
	}
	if err := decode(w, r, &in); err != nil {
		s.error(w, r, err)
		return
	}
	res, err := s.svc.SignIn(r.Context(), roster.SignInInput{Tenant: in.Tenant, Login: in.Login, Password: in.Password,
		IP: s.clientIP(r), UserAgent: r.UserAgent(), Previous: sessionToken(r)})
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.signedInOrStep(w, r, res) // mfa.go
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (s *Server) signOut(w http.ResponseWriter, r *http.Request) {
	if err := s.svc.SignOut(r.Context(), sessionToken(r), s.clientIP(r), r.UserAgent()); err != nil {
		s.error(w, r, err)
		return
	}
	s.clearSessionCookie(w, r)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) currentSession(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	if a.Kind != roster.ActorUser {
		s.error(w, r, roster.Errorf(roster.EForbidden, "this needs a signed-in user, not an API token"))
		return
	}
	_, sess, err := s.svc.AuthenticateSession(r.Context(), sessionToken(r))
	if err != nil {
		s.error(w, r, err)
		return
	}
	u, perms, err := s.svc.SessionUser(r.Context(), sess)
	if err != nil {
		s.error(w, r, err)
		return
	}
	idle, _ := s.svc.SessionLifetimes()
	s.resource(w, r, http.StatusOK, SessionInfo{User: *u, Permissions: nonNil(perms), ExpiresAt: sess.ExpiresAt,
		IdleTimeoutSeconds: int(idle / time.Second)})
}

func (s *Server) changePassword(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	var in struct {
		CurrentPassword string `json:"current_password"`
		NewPassword     string `json:"new_password"`
	}
	if err := decode(w, r, &in); err != nil {
		s.error(w, r, err)
		return
	}
	if err := s.svc.ChangePassword(r.Context(), a, sessionToken(r), in.CurrentPassword, in.NewPassword); err != nil {
		s.error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) forgotPassword(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Tenant  string `json:"tenant"`
		Login   string `json:"login"`
		Channel string `json:"channel"`
	}
	if err := decode(w, r, &in); err != nil {
		s.error(w, r, err)
		return
	}
	err := s.svc.RequestPasswordCode(r.Context(), roster.CodeRequest{Tenant: in.Tenant, Login: in.Login, Channel: in.Channel,
		IP: s.clientIP(r), UserAgent: r.UserAgent()})
	if err != nil {
		s.error(w, r, err)
		return
	}
	// The one answer to every well-formed request: it says nothing about accounts.
	s.resource(w, r, http.StatusAccepted, map[string]string{"status": "accepted",
		"message": "If the account exists and has an address for this channel, a one-time code is on its way."})
}

func (s *Server) resetPassword(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Tenant   string `json:"tenant"`
		Login    string `json:"login"`
		Code     string `json:"code"`
		Password string `json:"password"`
	}
	if err := decode(w, r, &in); err != nil {
		s.error(w, r, err)
		return
	}
	err := s.svc.ResetPassword(r.Context(), roster.ResetInput{Tenant: in.Tenant, Login: in.Login, Code: in.Code,
		Password: in.Password, IP: s.clientIP(r), UserAgent: r.UserAgent()})
	if err != nil {
		s.error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) inviteUsers(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	var in struct {
		Invitations []roster.UserInput `json:"invitations"`
	}
	if err := decode(w, r, &in); err != nil {
		s.error(w, r, err)
		return
	}
	links, err := s.svc.InviteUsers(r.Context(), a, in.Invitations)
	if err != nil {
		s.error(w, r, err)
		return
	}
	type created struct {
		ID        int64     `json:"id"`
		UserID    int64     `json:"user_id"`
		Email     string    `json:"email"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	out := make([]created, len(links))
	for i, l := range links {
		out[i] = created{ID: l.Invitation.ID, UserID: l.Invitation.UserID, Email: l.Invitation.Email, ExpiresAt: l.Invitation.ExpiresAt}
	}
	// One invitation: its URL; a batch: the list they are in.
	loc := "/api/v1/invitations"
	if len(out) == 1 {
		loc += "/" + strconv.FormatInt(out[0].ID, 10)
	}
	w.Header().Set("Location", loc)
	s.resource(w, r, http.StatusCreated, map[string]any{"invitations": out})
}

func (s *Server) listInvitations(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	q := r.URL.Query()
	page, err := s.svc.ListInvitations(r.Context(), a, roster.InvitationQuery{Status: q.Get("status"), Page: q.Get("page"),
		PerPage: q.Get("per_page")})
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.writeList(w, r, page)
}

func (s *Server) getInvitation(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	s.withID("invitation", w, r, func(id int64) error {
		inv, err := s.svc.Invitation(r.Context(), a, id)
		if err == nil {
			s.resource(w, r, http.StatusOK, inv)
		}
		return err
	})
}

func (s *Server) resendInvitation(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	s.withID("invitation", w, r, func(id int64) error {
		inv, err := s.svc.ResendInvitation(r.Context(), a, id)
		if err == nil {
			s.resource(w, r, http.StatusOK, inv)
		}
		return err
	})
}

func (s *Server) invitationLink(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	s.withID("invitation", w, r, func(id int64) error {
		link, err := s.svc.InvitationLinkURL(r.Context(), a, id)
		if err == nil {
			w.Header().Set("Cache-Control", "no-store")
			s.resource(w, r, http.StatusOK, map[string]any{"url": link.URL, "expires_at": link.Invitation.ExpiresAt})
		}
		return err
	})
}

func (s *Server) cancelInvitation(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	s.withID("invitation", w, r, func(id int64) error {
		err := s.svc.CancelInvitation(r.Context(), a, id)
		if err == nil {
			w.WriteHeader(http.StatusNoContent)
		}
		return err
	})
}

func (s *Server) inspectInvitation(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Token string `json:"token"`
	}
	if err := decode(w, r, &in); err != nil {
		s.error(w, r, err)
		return
	}
	info, err := s.svc.InspectInvitation(r.Context(), in.Token)
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.resource(w, r, http.StatusOK, info)
}

func (s *Server) acceptInvitation(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Token    string `json:"token"`
		Password string `json:"password"`
	}
	if err := decode(w, r, &in); err != nil {
		s.error(w, r, err)
		return
	}
	u, err := s.svc.AcceptInvitation(r.Context(), in.Token, in.Password, s.clientIP(r), r.UserAgent())
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.resource(w, r, http.StatusOK, u)
}

func (s *Server) listOutbox(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	q := r.URL.Query()
	page, err := s.svc.ListOutbox(r.Context(), a, roster.OutboxQuery{Status: q.Get("status"), Channel: q.Get("channel"),
		Page: q.Get("page"), PerPage: q.Get("per_page")})
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.writeList(w, r, page)
}
