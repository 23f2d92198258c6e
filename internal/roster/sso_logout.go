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

// SSOLogout is where to send a browser that signed out after provider
// providerID signed it in, and the provider's name; "" when there is
// nowhere to go. It needs no session: what it tells (the IdP's public
// logout address and the client ID) is public anyway.
func (s *Service) SSOLogout(ctx context.Context, providerID int64) (string, string) {
	p, err := s.store.Read().SSOProviderAnyTenant(ctx, providerID)
	if err != nil || p.Kind != SSOKindOIDC || !p.Enabled {
		return "", ""
	}
	return s.endSessionURL(ctx, p), p.Name
}

func (s *Service) endSessionURL(ctx context.Context, p *SSOProvider) string {
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
