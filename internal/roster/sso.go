package roster

import (
	"context"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Enterprise sign-in (docs/sso.md, docs/rules.md "Single sign-on"): a
// tenant's identity providers, configured by someone who manages the
// environment tenant-wide. The client secret is sealed with the server's
// secret key and never shown back.

// SSO provider kinds and the claims a sign-in can be matched by.
const (
	SSOKindOIDC = "oidc"
	SSOKindSAML = "saml"

	// SSOMatchEmail: the IdP's email, when the IdP says it is verified,
	// finds the user the first time; the subject is linked from then on.
	SSOMatchEmail = "email"
	// SSOMatchSubject: only subjects linked already (by just-in-time
	// creation) sign in.
	SSOMatchSubject = "sub"
)

// SSOProvider is one identity provider of a tenant.
type SSOProvider struct {
	ID              int64  `json:"id"`
	TenantID        int64  `json:"-"`
	Kind            string `json:"kind"`
	Name            string `json:"name"`
	Issuer          string `json:"issuer"`
	ClientID        string `json:"client_id"`
	ClientSecretSet bool   `json:"client_secret_set"`
	MatchClaim      string `json:"match_claim"`
	// TrustEmail takes the IdP's email as verified even without
	// email_verified: for IdPs whose admins manage every address (Entra ID).
	TrustEmail bool `json:"trust_email"`
	// JIT creates unknown users with DefaultRole in DefaultGroupID, under
	// the grant rule of the person who configured the provider.
	JIT            bool   `json:"jit"`
	DefaultRole    string `json:"default_role"`
	DefaultGroupID *int64 `json:"default_group_id"`
	Enabled        bool   `json:"enabled"`
	// MFAFromIdP lets the IdP's assertion of a multi-factor sign-in (OIDC
	// amr/acr, SAML AuthnContext) stand in for Roster's second factor.
	MFAFromIdP bool `json:"mfa_from_idp"`
	// EmailDomains route a sign-in by email to this provider (unique
	// within the tenant).
	EmailDomains []string `json:"email_domains"`
	// RedirectURI is what the IdP must be told (computed, not stored): the
	// OIDC callback, or the SAML assertion consumer service.
	RedirectURI string `json:"redirect_uri"`

	// SAML 2.0 (kind "saml"): Issuer is the IdP's entity ID,
	// read from its metadata.
	MetadataURL  string `json:"metadata_url,omitempty"`
	IdPInitiated bool   `json:"idp_initiated"`
	// What the IdP must be told of this service provider (computed).
	SPEntityID    string `json:"sp_entity_id,omitempty"`
	SPMetadataURL string `json:"sp_metadata_url,omitempty"`
	SPCertificate string `json:"sp_certificate,omitempty"`

	ConfiguredBy string    `json:"configured_by"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`

	// SealedSecret is the client secret sealed; nil: none.
	SealedSecret     []byte `json:"-"`
	ConfiguredByKind string `json:"-"`
	ConfiguredByID   int64  `json:"-"`
	// IdPMetadata is the IdP's SAML metadata XML; SealedSPKey this service
	// provider's private key (PKCS #8, sealed), SPCert its certificate (DER).
	IdPMetadata string `json:"-"`
	SealedSPKey []byte `json:"-"`
	SPCert      []byte `json:"-"`
}

// SSOProviderInput creates or changes a provider; absent fields keep their
// value on a change.
type SSOProviderInput struct {
	Kind           Opt[string]   `json:"kind"`
	Name           Opt[string]   `json:"name"`
	Issuer         Opt[string]   `json:"issuer"`
	ClientID       Opt[string]   `json:"client_id"`
	ClientSecret   Opt[string]   `json:"client_secret"`
	MatchClaim     Opt[string]   `json:"match_claim"`
	TrustEmail     Opt[bool]     `json:"trust_email"`
	JIT            Opt[bool]     `json:"jit"`
	DefaultRole    Opt[string]   `json:"default_role"`
	DefaultGroupID Opt[int64]    `json:"default_group_id"`
	Enabled        Opt[bool]     `json:"enabled"`
	EmailDomains   Opt[[]string] `json:"email_domains"`
	MFAFromIdP     Opt[bool]     `json:"mfa_from_idp"`
	// SAML 2.0: the IdP's metadata, as XML or fetched from a URL.
	MetadataXML  Opt[string] `json:"metadata_xml"`
	MetadataURL  Opt[string] `json:"metadata_url"`
	IdPInitiated Opt[bool]   `json:"idp_initiated"`
}

// SSOSignInOption is what the sign-in page shows of a provider.
type SSOSignInOption struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// ssoRedirectURI is the callback URL the IdP sends the browser back to.
func (s *Service) ssoRedirectURI(id int64) string {
	return s.PublicURL() + "/sso/" + strconv.FormatInt(id, 10) + "/callback"
}

// withURLs fills in what p's IdP must be told, computed from the public URL.
func (s *Service) withURLs(p *SSOProvider) *SSOProvider {
	if p.EmailDomains == nil {
		p.EmailDomains = []string{}
	}
	if p.Kind != SSOKindSAML {
		p.RedirectURI = s.ssoRedirectURI(p.ID)
		return p
	}
	p.RedirectURI, p.SPEntityID = s.samlACSURL(p.ID), s.samlMetadataURL(p.ID)
	p.SPMetadataURL = p.SPEntityID
	p.SPCertificate = certPEM(p.SPCert)
	return p
}

func (s *Service) requireSSOAdmin(ctx context.Context, a *Actor, write bool) error {
	check := a.require
	if write {
		check = a.requireWrite
	}
	if err := check(PermEnvironmentManage); err != nil {
		return err
	}
	return s.requireTenantWide(ctx, a, "configuring single sign-on", PermEnvironmentManage)
}

// ListSSOProviders lists the tenant's identity providers.
func (s *Service) ListSSOProviders(ctx context.Context, a *Actor) ([]SSOProvider, error) {
	if err := s.requireSSOAdmin(ctx, a, false); err != nil {
		return nil, err
	}
	ps, err := s.store.Read().ListSSOProviders(ctx, a.TenantID)
	for i := range ps {
		s.withURLs(&ps[i])
	}
	return ps, err
}

// SSOProvider returns one identity provider of the tenant.
func (s *Service) SSOProvider(ctx context.Context, a *Actor, id int64) (*SSOProvider, error) {
	if err := s.requireSSOAdmin(ctx, a, false); err != nil {
		return nil, err
	}
	p, err := s.store.Read().SSOProvider(ctx, a.TenantID, id)
	if err != nil {
		return nil, err
	}
	return s.withURLs(p), nil
}

// SSOSignInOptions lists the enabled providers of a tenant for its sign-in
// page; an unknown tenant has none (slugs are public, nothing is revealed).
func (s *Service) SSOSignInOptions(ctx context.Context, tenantSlug string) ([]SSOSignInOption, error) {
	id, err := s.tenantIDBySlug(ctx, strings.TrimSpace(tenantSlug))
	if ErrorCode(err) == ENotFound {
		return []SSOSignInOption{}, nil
	}
	if err != nil {
		return nil, err
	}
	ps, err := s.store.Read().ListSSOProviders(ctx, id)
	if err != nil {
		return nil, err
	}
	out := []SSOSignInOption{}
	for _, p := range ps {
		if p.Enabled {
			out = append(out, SSOSignInOption{ID: p.ID, Name: p.Name})
		}
	}
	return out, nil
}

// CreateSSOProvider adds an identity provider.
func (s *Service) CreateSSOProvider(ctx context.Context, a *Actor, in SSOProviderInput) (*SSOProvider, error) {
	if err := s.requireSSOAdmin(ctx, a, true); err != nil {
		return nil, err
	}
	now := s.Now()
	p := &SSOProvider{TenantID: a.TenantID, MatchClaim: SSOMatchEmail, Enabled: true, CreatedAt: now, UpdatedAt: now}
	if err := s.applySSOInput(ctx, p, in, true); err != nil {
		return nil, err
	}
	err := s.inTx(ctx, func(tx Tx) error {
		if err := s.checkSSODefaults(ctx, tx, a, p); err != nil {
			return err
		}
		configuredBy(p, a)
		if err := tx.CreateSSOProvider(ctx, p); err != nil {
			return err
		}
		if err := tx.PutSSODomains(ctx, p.TenantID, p.ID, p.EmailDomains); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "sso_provider.create", "sso_provider", p.ID, nil, p)
	})
	if err != nil {
		return nil, err
	}
	return s.withURLs(p), nil
}

// UpdateSSOProvider changes an identity provider. Whoever changes it
// becomes the one its just-in-time creation acts as.
func (s *Service) UpdateSSOProvider(ctx context.Context, a *Actor, id int64, in SSOProviderInput) (*SSOProvider, error) {
	if err := s.requireSSOAdmin(ctx, a, true); err != nil {
		return nil, err
	}
	if in.Kind.Set {
		return nil, badField("kind", "cannot be changed; add a new provider instead")
	}
	var p *SSOProvider
	err := s.inTx(ctx, func(tx Tx) error {
		before, err := tx.SSOProvider(ctx, a.TenantID, id)
		if err != nil {
			return err
		}
		next := *before
		if err := s.applySSOInput(ctx, &next, in, false); err != nil {
			return err
		}
		if err := s.checkSSODefaults(ctx, tx, a, &next); err != nil {
			return err
		}
		configuredBy(&next, a)
		next.UpdatedAt = s.Now()
		if err := tx.UpdateSSOProvider(ctx, &next); err != nil {
			return err
		}
		if err := tx.PutSSODomains(ctx, next.TenantID, next.ID, next.EmailDomains); err != nil {
			return err
		}
		p = &next
		return s.audit(ctx, tx, a, "sso_provider.update", "sso_provider", id, before, p)
	})
	if err != nil {
		return nil, err
	}
	return s.withURLs(p), nil
}

// DeleteSSOProvider removes an identity provider with its links: its users
// keep their accounts and sign in another way.
func (s *Service) DeleteSSOProvider(ctx context.Context, a *Actor, id int64) error {
	if err := s.requireSSOAdmin(ctx, a, true); err != nil {
		return err
	}
	return s.inTx(ctx, func(tx Tx) error {
		before, err := tx.SSOProvider(ctx, a.TenantID, id)
		if err != nil {
			return err
		}
		if err := tx.DeleteSSOProvider(ctx, a.TenantID, id); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "sso_provider.delete", "sso_provider", id, before, nil)
	})
}

func configuredBy(p *SSOProvider, a *Actor) {
	p.ConfiguredByKind, p.ConfiguredByID, p.ConfiguredBy = a.Kind, a.ID, a.Name
	if a.system {
		p.ConfiguredByID = 0
	}
}

// applySSOInput checks in (bounds and formats, every bad field at once)
// and applies it to p.
func (s *Service) applySSOInput(ctx context.Context, p *SSOProvider, in SSOProviderInput, create bool) error {
	var v Validation
	text := func(field string, o Opt[string], max int, required bool) (string, bool) {
		val := strings.TrimSpace(o.V)
		switch {
		case !o.Set && !create:
			return "", false
		case (!o.Set || o.Null || val == "") && required:
			v.Add(field, "is required")
		case !utf8.ValidString(val) || len(val) > max:
			v.Add(field, "is too long (at most %d bytes)", max)
		default:
			return val, true
		}
		return "", false
	}
	if create {
		switch k, _ := text("kind", in.Kind, 10, true); k {
		case SSOKindOIDC, SSOKindSAML:
			p.Kind = k
		case "":
		default:
			v.Add("kind", "must be %q or %q", SSOKindOIDC, SSOKindSAML)
		}
	}
	if val, ok := text("name", in.Name, 100, true); ok {
		p.Name = val
	}
	if p.Kind == SSOKindSAML {
		return s.applySAMLInput(ctx, p, in, create, &v, text)
	}
	if in.MetadataXML.Set || in.MetadataURL.Set || in.IdPInitiated.Set {
		v.Add("metadata_xml", "is for SAML 2.0 providers only")
	}
	if val, ok := text("issuer", in.Issuer, 500, true); ok {
		if msg := checkIssuer(val, s.sso.loopback); msg != "" {
			v.Add("issuer", "%s", msg)
		} else {
			p.Issuer = strings.TrimRight(val, "/")
		}
	}
	if val, ok := text("client_id", in.ClientID, 300, true); ok {
		p.ClientID = val
	}
	if in.ClientSecret.Set {
		switch {
		case in.ClientSecret.Null || in.ClientSecret.V == "":
			p.SealedSecret = nil
		case len(in.ClientSecret.V) > 1000:
			v.Add("client_secret", "is too long (at most 1000 bytes)")
		default:
			sealed, err := s.sealSecret(p.TenantID, in.ClientSecret.V)
			if err != nil {
				return err
			}
			p.SealedSecret = sealed
		}
	}
	s.applyCommonSSOInput(p, in, &v)
	p.ClientSecretSet = p.SealedSecret != nil
	return v.Err()
}

// applyCommonSSOInput applies the fields every kind of provider has.
func (s *Service) applyCommonSSOInput(p *SSOProvider, in SSOProviderInput, v *Validation) {
	if in.MatchClaim.Set {
		switch m := strings.TrimSpace(in.MatchClaim.V); m {
		case SSOMatchEmail, SSOMatchSubject:
			p.MatchClaim = m
		default:
			v.Add("match_claim", "must be %q (the verified email finds the user) or %q (linked accounts only)", SSOMatchEmail, SSOMatchSubject)
		}
	}
	if in.MFAFromIdP.Set {
		p.MFAFromIdP = in.MFAFromIdP.V
	}
	if in.TrustEmail.Set {
		p.TrustEmail = in.TrustEmail.V
	}
	if in.JIT.Set {
		p.JIT = in.JIT.V
	}
	if in.DefaultRole.Set {
		p.DefaultRole = strings.TrimSpace(in.DefaultRole.V)
	}
	if in.DefaultGroupID.Set {
		p.DefaultGroupID = nil
		if !in.DefaultGroupID.Null {
			id := in.DefaultGroupID.V
			p.DefaultGroupID = &id
		}
	}
	if in.Enabled.Set {
		p.Enabled = in.Enabled.V
	}
	if in.EmailDomains.Set {
		p.EmailDomains = checkEmailDomains(in.EmailDomains.V, v)
	}
}

// checkIssuer: an absolute https URL; http only to this machine and only
// when the server allows it (tests, a local IdP).
func checkIssuer(raw string, loopback bool) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "must be the issuer URL of your identity provider, such as https://login.example.com"
	}
	switch u.Scheme {
	case "https":
		return ""
	case "http":
		if !loopback {
			break
		}
		host := u.Hostname()
		if ip := net.ParseIP(host); host == "localhost" || (ip != nil && ip.IsLoopback()) {
			return ""
		}
	}
	return "must start with https://"
}

// checkSSODefaults checks in tx what just-in-time creation will use: a
// role the actor may give (the grant rule, checked again at each creation)
// and a group of the tenant.
func (s *Service) checkSSODefaults(ctx context.Context, tx Tx, a *Actor, p *SSOProvider) error {
	var v Validation
	if p.DefaultRole == "" && p.JIT {
		v.Add("default_role", "is required when new users are created at their first sign-in (jit)")
	}
	if p.DefaultGroupID == nil && p.JIT {
		v.Add("default_group_id", "is required when new users are created at their first sign-in (jit)")
	}
	if p.DefaultGroupID != nil {
		if _, err := tx.Group(ctx, a.TenantID, *p.DefaultGroupID); ErrorCode(err) == ENotFound {
			v.Add("default_group_id", "no group with id %d", *p.DefaultGroupID)
		} else if err != nil {
			return err
		}
	}
	if err := v.Err(); err != nil {
		return err
	}
	if p.DefaultRole == "" {
		return nil
	}
	roles, err := tx.ListRoles(ctx, a.TenantID)
	if err != nil {
		return err
	}
	g, err := s.grantorOf(ctx, tx, a, roles)
	if err != nil {
		return err
	}
	r := g.roles[p.DefaultRole]
	if r == nil {
		return badField("default_role", "no role with the key %q", p.DefaultRole)
	}
	if err := g.mayAssign(r); err != nil {
		return forbidden(oneFieldError("default_role", "%s", ErrorMessage(err)))
	}
	return nil
}
