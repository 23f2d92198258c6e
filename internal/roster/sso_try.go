package roster

import (
	"context"
	"fmt"
	"sort"
)

// "Try sign-in" (docs/sso.md): an admin signs in at the IdP from the
// settings page and is shown what the IdP sent and whom it would sign in,
// decided by the same ssoMatchUser as a real sign-in; no session and no
// user is made, nothing is linked.

// SSOTryResult is what a try sign-in shows.
type SSOTryResult struct {
	ProviderID  int64
	Provider    string
	Subject     string
	Email       string
	EmailOK     bool // verified by the IdP, or trusted (trust_email)
	Name        string
	MFAAsserted bool
	// Attributes are the claims or SAML attributes, sorted by name.
	Attributes []SSOAttribute
	// WouldSignIn and Outcome say what a real sign-in would do, in words.
	WouldSignIn bool
	Outcome     string
}

// SSOAttribute is one claim or attribute as the IdP sent it.
type SSOAttribute struct {
	Name   string
	Values []string
}

// finishTry reports the sign-in of c to the admin who started it: the
// browser must still be signed in as them.
func (s *Service) finishTry(ctx context.Context, p *SSOProvider, f *SSOFlow, c *ssoClaims, in SSOCallbackInput) (*SignedIn, error) {
	a, _, err := s.AuthenticateSession(ctx, in.Previous)
	if err != nil || a.TenantID != f.TenantID || a.Kind != ActorUser || a.ID != f.TryUserID {
		s.log.Warn("sso: try sign-in finished by someone else", "tenant", f.TenantID, "provider", p.ID)
		return nil, Errorf(EUnauthorized, "this try sign-in was started by someone else, or your session has ended; start it again from the settings page")
	}
	if err := s.requireSSOAdmin(ctx, a, false); err != nil {
		return nil, err
	}
	res := &SSOTryResult{ProviderID: p.ID, Provider: p.Name, Subject: c.Subject, Email: c.Email, EmailOK: c.emailVerified(),
		Name: c.Name, MFAAsserted: c.MFAAsserted}
	for name, vals := range c.Attributes {
		res.Attributes = append(res.Attributes, SSOAttribute{Name: name, Values: vals})
	}
	sort.Slice(res.Attributes, func(i, j int) bool { return res.Attributes[i].Name < res.Attributes[j].Name })
	res.WouldSignIn, res.Outcome = s.tryOutcome(ctx, p, c)
	return &SignedIn{ProviderID: p.ID, MFAAsserted: c.MFAAsserted, Try: res}, nil
}

// tryOutcome says what a real sign-in of c would do.
func (s *Service) tryOutcome(ctx context.Context, p *SSOProvider, c *ssoClaims) (bool, string) {
	r := s.store.Read()
	t, err := r.TenantByID(ctx, p.TenantID)
	if err != nil {
		return false, "could not be decided: " + ErrorMessage(err)
	}
	m, err := s.ssoMatchUser(ctx, p, t, c)
	if err != nil {
		return false, "refused: " + ErrorMessage(err)
	}
	off := ""
	if !p.Enabled {
		off = " (once the provider is switched on)"
	}
	if m.create {
		switch {
		case c.Email == "" || !c.emailVerified():
			return false, fmt.Sprintf("refused: nobody matches, and a new account needs a verified email address, which %s did not send", p.Name)
		case p.DefaultGroupID == nil || p.DefaultRole == "":
			return false, "refused: nobody matches, and no role or group is set for new accounts"
		}
		if _, err := s.configurer(ctx, p); err != nil {
			return false, fmt.Sprintf("refused: nobody matches, and the person who set up %s can no longer create accounts", p.Name)
		}
		return true, fmt.Sprintf("nobody matches: a new account %s would be created with the role %q%s", c.Email, p.DefaultRole, off)
	}
	u, err := r.User(ctx, p.TenantID, m.userID)
	if err != nil {
		return false, "refused: no account matches"
	}
	who := u.Name + " (" + u.Username + ")"
	linked := ""
	if m.link {
		linked = ", and their account would be linked to this " + p.Name + " account"
	}
	switch u.Status {
	case StatusDeactivated:
		return false, "refused: the account of " + who + " is deactivated"
	case StatusInvited:
		inv, err := r.PendingInvitationOfUser(ctx, u.TenantID, u.ID)
		if err != nil || !s.Now().Before(inv.ExpiresAt) {
			return false, "refused: " + who + " was invited, but the invitation has expired or was cancelled"
		}
		return true, who + " would be signed in, which accepts their invitation" + linked + off
	}
	return true, who + " would be signed in" + linked + off
}
