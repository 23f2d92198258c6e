package roster

import (
	"context"
	"net/url"
)

// Single logout (docs/sso.md): signing out always ends Roster's session.
// When single sign-on began it and the OpenID Connect IdP advertises an
// end_session_endpoint (RP-initiated logout 1.0), the browser is sent
// there too, with the client ID and the sign-in page as the address to
// come back to. SAML single logout is not built: the IdP's session stays
// (docs/sso.md says so).

// SSOLogoutURL is where to send a browser that signs out of session token,
// which provider providerID signed in; "" when there is nowhere to go.
// Call it before SignOut (it needs the session).
func (s *Service) SSOLogoutURL(ctx context.Context, token string, providerID int64) string {
	if providerID == 0 {
		return ""
	}
	a, _, err := s.AuthenticateSession(ctx, token)
	if err != nil {
		return ""
	}
	p, err := s.store.Read().SSOProvider(ctx, a.TenantID, providerID)
	if err != nil || p.Kind != SSOKindOIDC || !p.Enabled {
		return ""
	}
	op, err := s.discover(ctx, p.Issuer)
	if err != nil {
		s.log.Info("sso: discovery failed at sign-out", "tenant", p.TenantID, "provider", p.ID, "err", err)
		return ""
	}
	var meta struct {
		EndSession string `json:"end_session_endpoint"`
	}
	if op.Claims(&meta) != nil || meta.EndSession == "" || checkIssuer(meta.EndSession, s.sso.loopback) != "" {
		return ""
	}
	u, err := url.Parse(meta.EndSession)
	if err != nil {
		return ""
	}
	q := u.Query()
	q.Set("client_id", p.ClientID)
	q.Set("post_logout_redirect_uri", s.PublicURL()+"/signin")
	u.RawQuery = q.Encode()
	return u.String()
}
