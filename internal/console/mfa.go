package console

import (
	"net/http"
	"slices"
	"time"

	"github.com/roster-dev/roster/internal/roster"
)

// Two-step sign-in (docs/mfa.md). After the password, a user with a second
// factor (or one the policy makes enrol) gets no session but a challenge
// in its own cookie: the step's pages below are all it reaches. The
// account page's "Two-step sign-in" section sets up and removes factors.

// mfaCookie holds the challenge token between the password and the second
// factor; it opens nothing but the step's pages.
const mfaCookie = "roster_mfa"

// signedInOrStep finishes a successful first factor: a session cookie, or
// the challenge's cookie and its page.
func (s *Server) signedInOrStep(w http.ResponseWriter, r *http.Request, in *roster.SignedIn, next, msg string) error {
	if in.MFA != nil {
		s.setCookie(w, r, mfaCookie, in.MFA.Token, int(roster.MFAChallengeTTL/time.Second))
		to := "/signin/second-factor"
		if next != "" {
			to += "?next=" + urlQueryEscape(next)
		}
		http.Redirect(w, r, to, http.StatusSeeOther)
		return nil
	}
	s.startSession(w, r, in)
	return s.redirect(w, r, localPath(next, "/"), msg)
}

// startSession sets the session cookie of a finished sign-in.
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, in *roster.SignedIn) {
	_, maxAge := s.svc.SessionLifetimes()
	s.setCookie(w, r, sessionCookie, in.Token, int(maxAge.Seconds()))
	s.setCookie(w, r, mfaCookie, "", -1)
	// The anonymous CSRF secret has done its job.
	s.setCookie(w, r, preCookie, "", -1)
}

type secondFactorData struct {
	Stage     string
	Next      string
	Enrolment *roster.TOTPEnrolment
	// Codes are the recovery codes to show once (after enrolment).
	Codes []string
}

func (s *Server) secondFactorPage(w http.ResponseWriter, r *http.Request, p *page) error {
	next := localPath(r.URL.Query().Get("next"), "")
	info, err := s.svc.SecondFactorStep(r.Context(), cookieValue(r, mfaCookie))
	if err != nil {
		return s.stepEnded(w, r, err)
	}
	return s.showStep(w, r, p, http.StatusOK, info, next)
}

func (s *Server) showStep(w http.ResponseWriter, r *http.Request, p *page, status int, info *roster.MFAStepInfo, next string) error {
	p.Title = "Two-step sign-in"
	if info.Stage == roster.MFAStageEnrol {
		p.Title = "Set up two-step sign-in"
	}
	p.Data = secondFactorData{Stage: info.Stage, Next: next, Enrolment: info.Enrolment}
	s.render(w, r, status, "second_factor", p)
	return nil
}

// stepEnded sends the person back to the sign-in page with the core's
// answer (one message for every way a step fails).
func (s *Server) stepEnded(w http.ResponseWriter, r *http.Request, err error) error {
	switch roster.ErrorCode(err) {
	case roster.EUnauthorized, roster.ELimited:
	default:
		return err
	}
	s.setCookie(w, r, mfaCookie, "", -1)
	setRetryAfter(w, err)
	s.flash(w, r, "error", errorMessage(s.localizerFor(r, ""), err))
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
	return nil
}

func (s *Server) secondFactor(w http.ResponseWriter, r *http.Request, p *page) error {
	ctx := r.Context()
	token := cookieValue(r, mfaCookie)
	next := localPath(r.PostFormValue("next"), "")
	in := roster.SecondFactorInput{Token: token, Code: r.PostFormValue("code"), IP: s.clientIP(r), UserAgent: r.UserAgent()}
	if r.PostFormValue("stage") == roster.MFAStageEnrol {
		signed, codes, err := s.svc.CompleteEnrolment(ctx, in)
		if err != nil {
			if roster.ErrorCode(err) != roster.EInvalid {
				return s.stepEnded(w, r, err)
			}
			info, ierr := s.svc.SecondFactorStep(ctx, token)
			if ierr != nil {
				return s.stepEnded(w, r, ierr)
			}
			status, _ := formFailed(p, err)
			return s.showStep(w, r, p, status, info, next)
		}
		s.startSession(w, r, signed)
		// The page after this one is the first with the new session.
		p.Title, p.Data = "Your recovery codes", secondFactorData{Stage: "codes", Next: localPath(next, "/"), Codes: codes}
		p.CSRF = csrfToken(signed.Token)
		s.render(w, r, http.StatusOK, "second_factor", p)
		return nil
	}
	signed, err := s.svc.CompleteSecondFactor(ctx, in)
	if err != nil {
		if roster.ErrorCode(err) == roster.EInvalid {
			info, ierr := s.svc.SecondFactorStep(ctx, token)
			if ierr != nil {
				return s.stepEnded(w, r, ierr)
			}
			status, _ := formFailed(p, err)
			return s.showStep(w, r, p, status, info, next)
		}
		return s.stepEnded(w, r, err)
	}
	s.startSession(w, r, signed)
	return s.redirect(w, r, localPath(next, "/"), "")
}

func (s *Server) cancelSecondFactor(w http.ResponseWriter, r *http.Request, p *page) error {
	if err := s.svc.CancelSecondFactor(r.Context(), cookieValue(r, mfaCookie)); err != nil {
		return err
	}
	s.setCookie(w, r, mfaCookie, "", -1)
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
	return nil
}

func (s *Server) enrolmentQR(w http.ResponseWriter, r *http.Request, p *page) error {
	img, err := s.svc.EnrolmentQR(r.Context(), cookieValue(r, mfaCookie))
	if err != nil {
		if roster.ErrorCode(err) == roster.EUnauthorized {
			return roster.Errorf(roster.ENotFound, "nothing to set up")
		}
		return err
	}
	writePNG(w, img)
	return nil
}

func writePNG(w http.ResponseWriter, img []byte) {
	h := w.Header()
	h.Set("Content-Type", "image/png")
	h.Set("Cache-Control", "no-store") // it shows a secret
	_, _ = w.Write(img)
}

type accountMFAData struct {
	Status  *roster.MFAStatus
	Pending *roster.TOTPEnrolment
	Codes   []string // new recovery codes, shown once
}

func (s *Server) showAccountMFA(w http.ResponseWriter, r *http.Request, p *page, status int, codes []string) error {
	st, err := s.svc.MyMFA(r.Context(), p.Actor)
	if err != nil {
		return err
	}
	d := &accountMFAData{Status: st, Codes: codes}
	if st.TOTPPending {
		if d.Pending, _, err = s.svc.PendingTOTPEnrolment(r.Context(), p.Actor); err != nil && roster.ErrorCode(err) != roster.ENotFound {
			return err
		}
	}
	p.Title, p.Section, p.Data = "Two-step sign-in", "account", d
	s.render(w, r, status, "account_mfa", p)
	return nil
}

func (s *Server) accountMFAPage(w http.ResponseWriter, r *http.Request, p *page) error {
	return s.showAccountMFA(w, r, p, http.StatusOK, nil)
}

// accountMFAFailed shows the page again with the core's complaint.
func (s *Server) accountMFAFailed(w http.ResponseWriter, r *http.Request, p *page, err error) error {
	status, ok := formFailed(p, err)
	if !ok {
		return err
	}
	return s.showAccountMFA(w, r, p, status, nil)
}

func (s *Server) startTOTP(w http.ResponseWriter, r *http.Request, p *page) error {
	if _, err := s.svc.StartTOTPEnrolment(r.Context(), p.Actor); err != nil {
		return s.accountMFAFailed(w, r, p, err)
	}
	http.Redirect(w, r, "/account/mfa#totp", http.StatusSeeOther)
	return nil
}

func (s *Server) pendingTOTPQR(w http.ResponseWriter, r *http.Request, p *page) error {
	_, img, err := s.svc.PendingTOTPEnrolment(r.Context(), p.Actor)
	if err != nil {
		return err
	}
	writePNG(w, img)
	return nil
}

func (s *Server) confirmTOTP(w http.ResponseWriter, r *http.Request, p *page) error {
	codes, err := s.svc.ConfirmTOTPEnrolment(r.Context(), p.Actor, r.PostFormValue("code"))
	if err != nil {
		return s.accountMFAFailed(w, r, p, err)
	}
	p.Flash = &flashMsg{Kind: "success", Msg: "Your authenticator app is set up. Keep the recovery codes below somewhere safe."}
	return s.showAccountMFA(w, r, p, http.StatusOK, codes)
}

func (s *Server) removeTOTP(w http.ResponseWriter, r *http.Request, p *page) error {
	if err := s.svc.RemoveTOTP(r.Context(), p.Actor); err != nil {
		return s.accountMFAFailed(w, r, p, err)
	}
	return s.redirect(w, r, "/account/mfa", "Your authenticator app is removed.")
}

func (s *Server) newRecoveryCodes(w http.ResponseWriter, r *http.Request, p *page) error {
	codes, err := s.svc.RegenerateRecoveryCodes(r.Context(), p.Actor)
	if err != nil {
		return s.accountMFAFailed(w, r, p, err)
	}
	p.Flash = &flashMsg{Kind: "success", Msg: "New recovery codes are made; the old ones no longer work."}
	return s.showAccountMFA(w, r, p, http.StatusOK, codes)
}

type mfaPolicyOption struct {
	Value, Label string
	Selected     bool
}

type mfaRoleOption struct {
	Key, Name string
	Checked   bool
}

// mfaPolicyLabels say the policies in words.
var mfaPolicyLabels = map[string]string{
	roster.MFAOff:      "Off: nobody is asked for a second step",
	roster.MFAOptional: "Optional: asked of those who set one up",
	roster.MFAAdmins:   "Required for administrators (people who manage users, roles, groups or settings)",
	roster.MFAAll:      "Required for everyone",
}

// mfaOptions are the settings page's two-step sign-in choices, as typed.
func (s *Server) mfaOptions(r *http.Request, p *page, f settingsForm) ([]mfaPolicyOption, []mfaRoleOption) {
	var policies []mfaPolicyOption
	for _, v := range roster.MFAPolicies {
		policies = append(policies, mfaPolicyOption{Value: v, Label: mfaPolicyLabels[v], Selected: f.fields["mfa_policy"] == v})
	}
	var roles []mfaRoleOption
	if list, err := s.svc.ListRoles(r.Context(), p.Actor); err == nil {
		for _, role := range list {
			roles = append(roles, mfaRoleOption{Key: role.Key, Name: role.Name, Checked: slices.Contains(f.mfaRoles, role.Key)})
		}
	}
	return policies, roles
}

func nonNilStrings(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}

// mfaPolicy and mfaRolesInput change the settings only when the form had
// the section (a form without it keeps them).
func (f settingsForm) mfaPolicy() roster.Opt[string] {
	if !f.hasMFA {
		return roster.Opt[string]{}
	}
	return roster.Some(f.fields["mfa_policy"])
}

func (f settingsForm) mfaRolesInput() roster.Opt[[]string] {
	if !f.hasMFA {
		return roster.Opt[[]string]{}
	}
	return roster.Some(nonNilStrings(f.mfaRoles))
}
