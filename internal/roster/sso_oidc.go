package roster

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/roster-dev/roster/internal/auth"
	"golang.org/x/oauth2"
)

// OpenID Connect sign-in: the authorization code flow with PKCE (S256),
// state and nonce. The ID token is verified by go-oidc: signature against
// the IdP's published keys (fetched again when a token names a key not seen
// before, which is how key rotation looks from here), iss, aud and exp;
// the nonce is compared here.

// ssoFlowLifetime bounds the time between start and callback.
const ssoFlowLifetime = 10 * time.Minute

// ssoDiscoveryMaxAge: the IdP's configuration is read again after this.
const ssoDiscoveryMaxAge = time.Hour

type discovered struct {
	provider *oidc.Provider
	at       time.Time
}

// discover reads (and keeps) the IdP's configuration. The key set it holds
// outlives the request, so its context must too.
func (s *Service) discover(ctx context.Context, issuer string) (*oidc.Provider, error) {
	if d, ok := s.sso.providers.Load(issuer); ok && time.Since(d.(*discovered).at) < ssoDiscoveryMaxAge {
		return d.(*discovered).provider, nil
	}
	p, err := oidc.NewProvider(s.ssoContext(context.WithoutCancel(ctx)), issuer)
	if err != nil {
		return nil, err
	}
	s.sso.providers.Store(issuer, &discovered{provider: p, at: time.Now()})
	return p, nil
}

// ssoContext makes go-oidc and oauth2 use the service's HTTP client.
func (s *Service) ssoContext(ctx context.Context) context.Context {
	return oidc.ClientContext(ctx, s.sso.client)
}

func (s *Service) oauthConfig(p *SSOProvider, op *oidc.Provider) (*oauth2.Config, error) {
	secret := ""
	if p.SealedSecret != nil {
		var err error
		if secret, err = s.openSecret(p.TenantID, p.SealedSecret); err != nil {
			return nil, err
		}
	}
	return &oauth2.Config{ClientID: p.ClientID, ClientSecret: secret, Endpoint: op.Endpoint(),
		RedirectURL: s.ssoRedirectURI(p.ID), Scopes: []string{oidc.ScopeOpenID, "email", "profile"}}, nil
}

// SSOStart is where to send the browser, and the state to keep in it.
type SSOStart struct {
	URL       string
	State     string
	ExpiresAt time.Time
	// SAML: the answer comes back by a cross-site POST, so the state cookie
	// must be SameSite=None (when served over https).
	SAML bool
}

// errSSOGone is the answer for providers that do not exist or are off.
func errSSOGone() error {
	return Errorf(ENotFound, "this sign-in option does not exist (any more); go back to the sign-in page")
}

// StartSSO begins a sign-in with provider id: the state (and, for OIDC,
// the nonce and PKCE verifier; for SAML, the AuthnRequest's id) are kept in
// the database (any replica can take the answer); the state goes to the
// browser too, which must bring it back.
// Starts are limited per client address and tenant: each keeps a flow.
func (s *Service) StartSSO(ctx context.Context, providerID int64, ip string) (*SSOStart, error) {
	return s.startSSO(ctx, providerID, ip, nil)
}

// ssoStartLimit bounds the sign-ins one client address starts per tenant.
var ssoStartLimit = auth.Limit{Max: 30, Window: 5 * time.Minute}

// StartSSOTry begins a "try sign-in" by an admin signed in to
// the console: the provider may be switched off still.
func (s *Service) StartSSOTry(ctx context.Context, a *Actor, providerID int64) (*SSOStart, error) {
	if err := s.requireSSOAdmin(ctx, a, true); err != nil {
		return nil, err
	}
	if a.Kind != ActorUser || a.ImpersonatorID != nil {
		return nil, Errorf(EForbidden, "a try sign-in is made by a person signed in to the console, as themselves")
	}
	return s.startSSO(ctx, providerID, a.IP, a)
}

func (s *Service) startSSO(ctx context.Context, providerID int64, ip string, try *Actor) (*SSOStart, error) {
	p, err := s.store.Read().SSOProviderAnyTenant(ctx, providerID)
	if ErrorCode(err) == ENotFound || (err == nil && ((try == nil && !p.Enabled) || (try != nil && try.TenantID != p.TenantID))) {
		return nil, errSSOGone()
	}
	if err != nil {
		return nil, err
	}
	now := s.Now()
	var wait time.Duration
	err = s.inTxOutsideDecisions(ctx, func(tx Tx) error {
		var err error
		wait, err = ssoStartLimit.Hit(ctx, tx, p.TenantID, limitKey("sso_start", "ip", clientText(ip, 100)), now)
		return err
	})
	if err != nil {
		return nil, err
	}
	if wait > 0 {
		s.log.Info("sso: starts throttled", "tenant", p.TenantID, "provider", p.ID, "ip", ip)
		return nil, rateLimited("sign-in attempts", wait)
	}
	state := NewSecret("")
	f := &SSOFlow{StateHash: HashSecret(state), TenantID: p.TenantID, ProviderID: p.ID, ExpiresAt: now.Add(ssoFlowLifetime)}
	if try != nil {
		f.TryUserID = try.ID
	}
	var url string
	if p.Kind == SSOKindSAML {
		if url, err = s.startSAML(ctx, p, f, state); err != nil {
			return nil, err
		}
	} else {
		op, err := s.discover(ctx, p.Issuer)
		if err != nil {
			s.log.Warn("sso: discovery failed", "tenant", p.TenantID, "provider", p.ID, "issuer", p.Issuer, "err", err)
			return nil, Errorf(EUnavailable, "%s cannot be reached now; try again in a moment", p.Name)
		}
		cfg, err := s.oauthConfig(p, op)
		if err != nil {
			return nil, err
		}
		f.Nonce, f.Verifier = NewSecret(""), oauth2.GenerateVerifier()
		url = cfg.AuthCodeURL(state, oidc.Nonce(f.Nonce), oauth2.S256ChallengeOption(f.Verifier))
	}
	err = s.inTxOutsideDecisions(ctx, func(tx Tx) error {
		if err := tx.DeleteExpiredSSOFlows(ctx, now); err != nil {
			return err
		}
		return tx.CreateSSOFlow(ctx, f)
	})
	if err != nil {
		return nil, err
	}
	return &SSOStart{URL: url, State: state, ExpiresAt: f.ExpiresAt, SAML: p.Kind == SSOKindSAML}, nil
}

// SSOCallbackInput is what the IdP sent the browser back with, and what
// the browser holds.
type SSOCallbackInput struct {
	ProviderID int64
	State      string // from the query
	Browser    string // the state the browser kept since the start
	Code       string
	Error      string // the IdP's error code, if it refused
	IP         string
	UserAgent  string
	Previous   string // the browser's session cookie, ended by the sign-in
}

// ssoClaims are the claims a sign-in is matched by.
type ssoClaims struct {
	Subject           string `json:"sub"`
	Email             string `json:"email"`
	EmailVerified     any    `json:"email_verified"` // a boolean; some IdPs send "true"
	Name              string `json:"name"`
	PreferredUsername string `json:"preferred_username"`
	trusted           bool   // the provider's TrustEmail

	// Attributes are the claims or SAML attributes as the IdP sent them
	// (shown by "try sign-in"); AuthnContext the SAML AuthnContextClassRefs.
	Attributes   map[string][]string `json:"-"`
	AuthnContext []string            `json:"-"`
	// AMR and ACR say how the IdP authenticated the person (OIDC Core
	// 2: amr, RFC 8176 values; acr).
	AMR []string `json:"amr"`
	ACR string   `json:"acr"`
	// MFAAsserted: the IdP says it used a second factor (OIDC amr/acr,
	// SAML AuthnContext).
	MFAAsserted bool `json:"-"`
}

func (c ssoClaims) emailVerified() bool {
	if c.trusted {
		return c.Email != ""
	}
	switch v := c.EmailVerified.(type) {
	case bool:
		return v
	case string:
		return strings.EqualFold(v, "true")
	}
	return false
}

// errSSOState: the callback does not belong to a sign-in this browser began.
func errSSOState() error {
	return Errorf(EUnauthorized, "this sign-in was not started in this browser, or it was used already; start again from the sign-in page")
}

// FinishSSO takes the IdP's answer: the state must be the browser's and
// unused, the code is exchanged with the PKCE verifier, the ID token is
// verified, and the person it names is signed in. Errors say
// what went wrong in plain words; the detail goes to the log.
func (s *Service) FinishSSO(ctx context.Context, in SSOCallbackInput) (*SignedIn, error) {
	in.IP, in.UserAgent = clientText(in.IP, 100), clientText(in.UserAgent, 400)
	if in.State == "" || len(in.State) > 200 || subtle.ConstantTimeCompare([]byte(in.State), []byte(in.Browser)) != 1 {
		s.log.Warn("sso: state does not match the browser's", "provider", in.ProviderID, "has_browser_state", in.Browser != "")
		return nil, errSSOState()
	}
	var f *SSOFlow
	err := s.inTxOutsideDecisions(ctx, func(tx Tx) error {
		var err error
		f, err = tx.TakeSSOFlow(ctx, HashSecret(in.State))
		return err
	})
	if ErrorCode(err) == ENotFound || (err == nil && f.ProviderID != in.ProviderID) {
		s.log.Warn("sso: unknown or used state", "provider", in.ProviderID)
		return nil, errSSOState()
	}
	if err != nil {
		return nil, err
	}
	if !s.Now().Before(f.ExpiresAt) {
		return nil, Errorf(EUnauthorized, "the sign-in took too long and has expired; start again")
	}
	p, err := s.store.Read().SSOProvider(ctx, f.TenantID, f.ProviderID)
	if ErrorCode(err) == ENotFound || (err == nil && ((!p.Enabled && f.TryUserID == 0) || p.Kind != SSOKindOIDC)) {
		return nil, errSSOGone()
	}
	if err != nil {
		return nil, err
	}
	if in.Error != "" {
		s.log.Info("sso: the identity provider refused", "tenant", p.TenantID, "provider", p.ID, "error", clientText(in.Error, 100))
		return nil, Errorf(EUnauthorized, "%s did not sign you in; start again, or ask your administrator", p.Name)
	}
	claims, err := s.verifyOIDC(ctx, p, in.Code, f)
	if err != nil {
		return nil, err
	}
	claims.MFAAsserted = OIDCAssertsMFA(claims.AMR, claims.ACR)
	if f.TryUserID != 0 {
		return s.finishTry(ctx, p, f, claims, in)
	}
	return s.ssoSignIn(ctx, p, claims, in)
}

// verifyOIDC exchanges the code and verifies the ID token it brings.
func (s *Service) verifyOIDC(ctx context.Context, p *SSOProvider, code string, f *SSOFlow) (*ssoClaims, error) {
	op, err := s.discover(ctx, p.Issuer)
	if err != nil {
		s.log.Warn("sso: discovery failed", "tenant", p.TenantID, "provider", p.ID, "err", err)
		return nil, Errorf(EUnavailable, "%s cannot be reached now; try again in a moment", p.Name)
	}
	cfg, err := s.oauthConfig(p, op)
	if err != nil {
		s.log.Error("sso: client secret", "tenant", p.TenantID, "provider", p.ID, "err", err)
		return nil, Errorf(EInternal, "the sign-in with %s is not set up correctly; tell your administrator", p.Name)
	}
	hctx := s.ssoContext(ctx)
	tok, err := cfg.Exchange(hctx, code, oauth2.VerifierOption(f.Verifier))
	if err != nil {
		s.log.Warn("sso: code exchange failed", "tenant", p.TenantID, "provider", p.ID, "err", err)
		return nil, Errorf(EUnauthorized, "%s did not confirm the sign-in; start again, and tell your administrator if it keeps happening", p.Name)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		s.log.Warn("sso: no id_token in the token response", "tenant", p.TenantID, "provider", p.ID)
		return nil, Errorf(EUnauthorized, "%s sent no identity; tell your administrator", p.Name)
	}
	return s.verifyIDToken(hctx, p, op, raw, f.Nonce, oauth2.StaticTokenSource(tok))
}

// verifyIDToken verifies raw (signature, iss, aud, exp, nonce) and reads
// its claims, from the userinfo endpoint when the token carries no email.
func (s *Service) verifyIDToken(ctx context.Context, p *SSOProvider, op *oidc.Provider, raw, nonce string, ts oauth2.TokenSource) (*ssoClaims, error) {
	idt, err := op.VerifierContext(ctx, &oidc.Config{ClientID: p.ClientID, Now: s.now}).Verify(ctx, raw)
	if err != nil {
		s.log.Warn("sso: ID token refused", "tenant", p.TenantID, "provider", p.ID, "err", err)
		var expired *oidc.TokenExpiredError
		switch {
		case errors.As(err, &expired):
			return nil, Errorf(EUnauthorized, "your sign-in at %s has expired; start again", p.Name)
		case strings.Contains(err.Error(), "expected audience"):
			return nil, Errorf(EUnauthorized, "%s answered for another application (wrong audience); ask your administrator to check the client ID", p.Name)
		case strings.Contains(err.Error(), "issued by a different provider"):
			return nil, Errorf(EUnauthorized, "the answer came from another issuer than %s; ask your administrator to check the issuer", p.Name)
		}
		return nil, Errorf(EUnauthorized, "the answer of %s could not be verified; start again, and tell your administrator if it keeps happening", p.Name)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(nonce)) != 1 {
		s.log.Warn("sso: nonce mismatch", "tenant", p.TenantID, "provider", p.ID)
		return nil, Errorf(EUnauthorized, "the answer of %s does not belong to this sign-in (nonce); start again", p.Name)
	}
	var c ssoClaims
	if err := idt.Claims(&c); err != nil {
		return nil, fmt.Errorf("sso: reading claims: %w", err)
	}
	var all map[string]any
	if err := idt.Claims(&all); err == nil {
		c.Attributes = claimTexts(all)
	}
	c.Subject, c.trusted = idt.Subject, p.TrustEmail
	if c.Email == "" && ts != nil && op.UserInfoEndpoint() != "" {
		ui, err := op.UserInfo(ctx, ts)
		if err != nil {
			s.log.Warn("sso: userinfo failed", "tenant", p.TenantID, "provider", p.ID, "err", err)
			return nil, Errorf(EUnauthorized, "%s did not tell who you are; start again", p.Name)
		}
		if ui.Subject != idt.Subject {
			s.log.Warn("sso: userinfo names another subject", "tenant", p.TenantID, "provider", p.ID)
			return nil, Errorf(EUnauthorized, "the answer of %s could not be verified; start again", p.Name)
		}
		var more ssoClaims
		if err := ui.Claims(&more); err != nil {
			return nil, fmt.Errorf("sso: reading userinfo: %w", err)
		}
		var all map[string]any
		if err := ui.Claims(&all); err == nil {
			for k, v := range claimTexts(all) {
				if _, ok := c.Attributes[k]; !ok && c.Attributes != nil {
					c.Attributes[k] = v
				}
			}
		}
		c.Email, c.EmailVerified = more.Email, more.EmailVerified
		if c.Name == "" {
			c.Name = more.Name
		}
		if c.PreferredUsername == "" {
			c.PreferredUsername = more.PreferredUsername
		}
	}
	return &c, nil
}

// claimTexts shows claims as texts, for a "try sign-in".
func claimTexts(claims map[string]any) map[string][]string {
	out := make(map[string][]string, len(claims))
	for k, v := range claims {
		switch v := v.(type) {
		case []any:
			for _, x := range v {
				out[k] = append(out[k], fmt.Sprint(x))
			}
		case float64:
			out[k] = []string{strconv.FormatFloat(v, 'f', -1, 64)}
		default:
			out[k] = []string{fmt.Sprint(v)}
		}
	}
	return out
}
