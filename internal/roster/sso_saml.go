package roster

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/subtle"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/crewjam/saml"
	"github.com/crewjam/saml/samlsp"
	dsig "github.com/russellhaering/goxmldsig"
)

// SAML 2.0 sign-in (docs/sso.md) by github.com/crewjam/saml: this service
// is the service provider (SP), one per identity provider, with its own
// key and certificate (the key sealed with the server's secret key). The
// library checks the signature (of the response or of the assertion: one
// must be there and valid), issuer, audience, recipient, the request the
// answer is for, and NotBefore/NotOnOrAfter; assertion ids are remembered
// in the database until they expire, so an assertion is used once across
// restarts and replicas. Who the person is, is decided by the same path as
// for OpenID Connect (ssoMatchUser).

// Bounds of what a SAML provider is configured with and sent.
const (
	samlMetadataMax = 512 << 10 // the IdP's metadata
	samlResponseMax = 1 << 20   // the base64 SAMLResponse of a POST
	samlKeyBits     = 2048
	samlCertYears   = 10
)

func (s *Service) samlURL(id int64, what string) string {
	return s.PublicURL() + "/sso/" + strconv.FormatInt(id, 10) + "/saml/" + what
}

// samlACSURL is the assertion consumer service: the IdP posts answers there.
func (s *Service) samlACSURL(id int64) string { return s.samlURL(id, "acs") }

// samlMetadataURL is this SP's metadata, and its entity ID.
func (s *Service) samlMetadataURL(id int64) string { return s.samlURL(id, "metadata") }

func certPEM(der []byte) string {
	if len(der) == 0 {
		return ""
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

// applySAMLInput checks and applies the fields of a SAML provider. The
// IdP's metadata is read (from metadata_url, or metadata_xml) only after
// every field passed its bounds.
func (s *Service) applySAMLInput(ctx context.Context, p *SSOProvider, in SSOProviderInput, create bool, v *Validation,
	text func(string, Opt[string], int, bool) (string, bool)) error {
	for field, set := range map[string]bool{"issuer": in.Issuer.Set, "client_id": in.ClientID.Set, "client_secret": in.ClientSecret.Set} {
		if set {
			v.Add(field, "is for OpenID Connect providers; a SAML provider is described by its metadata (metadata_xml or metadata_url)")
		}
	}
	if val, ok := text("name", in.Name, 100, true); ok {
		p.Name = val
	}
	if create && !in.MetadataXML.Set && !in.MetadataURL.Set {
		v.Add("metadata_xml", "is required: the identity provider's SAML metadata, as XML (metadata_xml) or its address (metadata_url)")
	}
	if in.MetadataXML.Set && in.MetadataURL.Set && in.MetadataXML.V != "" && in.MetadataURL.V != "" {
		v.Add("metadata_url", "give the metadata either as XML or by its address, not both")
	}
	if in.MetadataXML.Set && len(in.MetadataXML.V) > samlMetadataMax {
		v.Add("metadata_xml", "is too long (at most %d bytes)", samlMetadataMax)
	}
	fetch := ""
	if in.MetadataURL.Set && in.MetadataURL.V != "" {
		raw := strings.TrimSpace(in.MetadataURL.V)
		if len(raw) > 500 {
			v.Add("metadata_url", "is too long (at most 500 bytes)")
		} else if msg := checkIssuer(raw, s.sso.loopback); msg != "" {
			v.Add("metadata_url", "%s", strings.Replace(msg, "the issuer URL", "the SAML metadata address", 1))
		} else {
			fetch = raw
		}
	}
	if create && !in.TrustEmail.Set {
		// A SAML IdP has no "email verified": the email it signs is its
		// admins' (docs/sso.md).
		p.TrustEmail = true
	}
	s.applyCommonSSOInput(p, in, v)
	if in.IdPInitiated.Set {
		p.IdPInitiated = in.IdPInitiated.V
	}
	if err := v.Err(); err != nil {
		return err
	}
	var raw []byte
	field := "metadata_xml"
	switch {
	case fetch != "":
		field = "metadata_url"
		b, err := s.fetchSAMLMetadata(ctx, fetch)
		if err != nil {
			s.log.Info("sso: SAML metadata could not be read", "url", fetch, "err", err)
			return badField(field, "could not be read from %s: %v", fetch, err)
		}
		raw, p.MetadataURL = b, fetch
	case in.MetadataXML.Set && in.MetadataXML.V != "":
		raw = []byte(in.MetadataXML.V)
		if in.MetadataURL.Set {
			p.MetadataURL = ""
		}
	}
	if raw != nil {
		ed, err := checkIdPMetadata(raw)
		if err != nil {
			return badField(field, "%s", err.Error())
		}
		p.IdPMetadata, p.Issuer = string(raw), ed.EntityID
	}
	if p.SealedSPKey == nil {
		if err := s.newSAMLKey(p); err != nil {
			return err
		}
	}
	p.SealedSecret, p.ClientID, p.ClientSecretSet = nil, "", false
	return nil
}

func (s *Service) fetchSAMLMetadata(ctx context.Context, addr string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, addr, nil)
	if err != nil {
		return nil, err
	}
	resp, err := s.sso.client.Do(req)
	if err != nil {
		return nil, errors.New("the address cannot be reached")
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("the address answered %d", resp.StatusCode)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, samlMetadataMax+1))
	if err != nil {
		return nil, errors.New("the answer broke off")
	}
	if len(b) > samlMetadataMax {
		return nil, fmt.Errorf("the metadata is longer than %d bytes", samlMetadataMax)
	}
	return b, nil
}

// checkIdPMetadata: metadata of one IdP that signs (a signing certificate)
// and takes sign-in requests by HTTP redirect.
func checkIdPMetadata(raw []byte) (*saml.EntityDescriptor, error) {
	ed, err := samlsp.ParseMetadata(raw)
	if err != nil || ed.EntityID == "" {
		return nil, errors.New("is not the SAML 2.0 metadata of an identity provider (an EntityDescriptor with an IDPSSODescriptor)")
	}
	if len(ed.IDPSSODescriptors) == 0 {
		return nil, errors.New("describes no identity provider (no IDPSSODescriptor)")
	}
	sp := saml.ServiceProvider{IDPMetadata: ed}
	if sp.GetSSOBindingLocation(saml.HTTPRedirectBinding) == "" {
		return nil, errors.New("has no sign-in address for the HTTP-Redirect binding (SingleSignOnService)")
	}
	signing := false
	for _, d := range ed.IDPSSODescriptors {
		for _, k := range d.KeyDescriptors {
			if (k.Use == "" || k.Use == "signing") && len(k.KeyInfo.X509Data.X509Certificates) > 0 {
				signing = true
			}
		}
	}
	if !signing {
		return nil, errors.New("has no signing certificate, so signed answers could not be checked")
	}
	return ed, nil
}

// newSAMLKey makes this SP's key and a self-signed certificate for p: the
// IdP knows the certificate from the SP metadata.
func (s *Service) newSAMLKey(p *SSOProvider) error {
	key, err := rsa.GenerateKey(rand.Reader, samlKeyBits)
	if err != nil {
		return err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return err
	}
	now := s.Now()
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: "Roster SAML service provider"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(samlCertYears, 0, 0),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return err
	}
	pk, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	sealed, err := s.sealSecret(p.TenantID, string(pk))
	if err != nil {
		return err
	}
	p.SealedSPKey, p.SPCert = sealed, der
	return nil
}

// serviceProvider is the SP of p as the library wants it, its clock the
// service's (one verification is instantaneous).
func (s *Service) serviceProvider(ctx context.Context, p *SSOProvider) (*saml.ServiceProvider, error) {
	pk, err := s.openSecret(p.TenantID, p.SealedSPKey)
	if err != nil {
		return nil, err
	}
	key, err := x509.ParsePKCS8PrivateKey([]byte(pk))
	if err != nil {
		return nil, err
	}
	rsaKey, ok := key.(*rsa.PrivateKey)
	if !ok {
		return nil, errors.New("the SAML key is not an RSA key")
	}
	cert, err := x509.ParseCertificate(p.SPCert)
	if err != nil {
		return nil, err
	}
	ed, err := samlsp.ParseMetadata([]byte(p.IdPMetadata))
	if err != nil {
		return nil, err
	}
	md, err := url.Parse(s.samlMetadataURL(p.ID))
	if err != nil {
		return nil, err
	}
	acs, err := url.Parse(s.samlACSURL(p.ID))
	if err != nil {
		return nil, err
	}
	return &saml.ServiceProvider{EntityID: md.String(), Key: rsaKey, Certificate: cert, MetadataURL: *md, AcsURL: *acs,
		IDPMetadata: ed, AllowIDPInitiated: p.IdPInitiated, Clock: dsig.NewFakeClockAt(s.Now()),
		AssertionConsumerServiceBindings: []string{saml.HTTPPostBinding},
		HTTPClient:                       s.sso.client,
		ReplayCache:                      &samlReplayCache{ctx: ctx, s: s, p: p}}, nil
}

// samlReplayCache remembers the ids of the assertions accepted, until they
// expire, in the database: a replayed assertion is refused everywhere.
type samlReplayCache struct {
	ctx context.Context
	s   *Service
	p   *SSOProvider
}

func (c *samlReplayCache) Consume(assertionID string, expiresAt time.Time) error {
	fresh := false
	err := c.s.inTxOutsideDecisions(c.ctx, func(tx Tx) error {
		if err := tx.DeleteExpiredSAMLAssertions(c.ctx, c.s.Now()); err != nil {
			return err
		}
		var err error
		fresh, err = tx.ConsumeSAMLAssertion(c.ctx, c.p.TenantID, c.p.ID, assertionID, expiresAt)
		return err
	})
	if err == nil && !fresh {
		return saml.ErrAssertionReplayed
	}
	return err
}

// SAMLMetadata is this SP's metadata for provider id (public: the IdP, or
// its admin, reads it).
func (s *Service) SAMLMetadata(ctx context.Context, id int64) ([]byte, error) {
	p, err := s.store.Read().SSOProviderAnyTenant(ctx, id)
	if ErrorCode(err) == ENotFound || (err == nil && p.Kind != SSOKindSAML) {
		return nil, errSSOGone()
	}
	if err != nil {
		return nil, err
	}
	sp, err := s.serviceProvider(ctx, p)
	if err != nil {
		return nil, err
	}
	b, err := xml.MarshalIndent(sp.Metadata(), "", "  ")
	if err != nil {
		return nil, err
	}
	return append([]byte(xml.Header), b...), nil
}

// startSAML makes the AuthnRequest of a SAML sign-in: its id is kept with
// the flow (the answer must be for it), the state travels as RelayState.
func (s *Service) startSAML(ctx context.Context, p *SSOProvider, f *SSOFlow, state string) (string, error) {
	sp, err := s.serviceProvider(ctx, p)
	if err != nil {
		s.log.Error("sso: SAML service provider", "tenant", p.TenantID, "provider", p.ID, "err", err)
		return "", Errorf(EInternal, "the sign-in with %s is not set up correctly; tell your administrator", p.Name)
	}
	req, err := sp.MakeAuthenticationRequest(sp.GetSSOBindingLocation(saml.HTTPRedirectBinding), saml.HTTPRedirectBinding, saml.HTTPPostBinding)
	if err != nil {
		return "", err
	}
	u, err := req.Redirect(state, sp)
	if err != nil {
		return "", err
	}
	f.Nonce = req.ID
	return u.String(), nil
}

// SAMLResponseInput is what the IdP's form posted to the assertion
// consumer service, and what the browser holds.
type SAMLResponseInput struct {
	ProviderID   int64
	SAMLResponse string // base64, as posted
	RelayState   string
	Browser      string // the state the browser kept since the start, if any
	IP           string
	UserAgent    string
	Previous     string // the browser's session cookie
}

// FinishSAML takes a SAML answer posted to provider id's assertion
// consumer service: the answer to a sign-in this browser began (its
// RelayState), or, when the provider allows it, one the IdP sent
// unasked (IdP-initiated). The person is then signed in as for OpenID
// Connect (ssoSignIn), or, for a "try sign-in", shown what came.
func (s *Service) FinishSAML(ctx context.Context, in SAMLResponseInput) (*SignedIn, error) {
	in.IP, in.UserAgent = clientText(in.IP, 100), clientText(in.UserAgent, 400)
	if in.SAMLResponse == "" {
		return nil, badField("SAMLResponse", "is required: the answer of the identity provider")
	}
	if len(in.SAMLResponse) > samlResponseMax || len(in.RelayState) > 200 {
		return nil, Errorf(EInvalid, "the answer of the identity provider is too large")
	}
	p, err := s.store.Read().SSOProviderAnyTenant(ctx, in.ProviderID)
	if ErrorCode(err) == ENotFound || (err == nil && p.Kind != SSOKindSAML) {
		return nil, errSSOGone()
	}
	if err != nil {
		return nil, err
	}
	var f *SSOFlow
	if in.RelayState != "" {
		err := s.inTxOutsideDecisions(ctx, func(tx Tx) error {
			var err error
			f, err = tx.TakeSSOFlow(ctx, HashSecret(in.RelayState))
			return err
		})
		switch {
		case ErrorCode(err) == ENotFound:
			f = nil // not ours: an IdP-initiated sign-in may carry any RelayState
		case err != nil:
			return nil, err
		case f.ProviderID != p.ID || subtle.ConstantTimeCompare([]byte(in.RelayState), []byte(in.Browser)) != 1:
			s.log.Warn("sso: SAML state does not match the browser's", "provider", p.ID, "has_browser_state", in.Browser != "")
			return nil, errSSOState()
		case !s.Now().Before(f.ExpiresAt):
			return nil, Errorf(EUnauthorized, "the sign-in took too long and has expired; start again")
		}
	}
	if !p.Enabled && (f == nil || f.TryUserID == 0) {
		return nil, errSSOGone()
	}
	if f == nil && !p.IdPInitiated {
		s.log.Info("sso: unsolicited SAML answer refused", "tenant", p.TenantID, "provider", p.ID)
		return nil, Errorf(EUnauthorized, "sign-ins started at %s are not accepted; start from Roster's sign-in page", p.Name)
	}
	c, err := s.verifySAML(ctx, p, in.SAMLResponse, f)
	if err != nil {
		return nil, err
	}
	cb := SSOCallbackInput{ProviderID: p.ID, IP: in.IP, UserAgent: in.UserAgent, Previous: in.Previous}
	if f != nil && f.TryUserID != 0 {
		return s.finishTry(ctx, p, f, c, cb)
	}
	return s.ssoSignIn(ctx, p, c, cb)
}

// verifySAML checks the answer and reads who it names. Each refusal says
// what went wrong in words; the library's detail goes to the log.
func (s *Service) verifySAML(ctx context.Context, p *SSOProvider, response string, f *SSOFlow) (*ssoClaims, error) {
	raw, err := base64.StdEncoding.DecodeString(strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' || r == ' ' || r == '\t' {
			return -1
		}
		return r
	}, response))
	if err != nil {
		return nil, badField("SAMLResponse", "is not base64")
	}
	sp, err := s.serviceProvider(ctx, p)
	if err != nil {
		s.log.Error("sso: SAML service provider", "tenant", p.TenantID, "provider", p.ID, "err", err)
		return nil, Errorf(EInternal, "the sign-in with %s is not set up correctly; tell your administrator", p.Name)
	}
	var ids []string
	if f != nil {
		ids, sp.AllowIDPInitiated = []string{f.Nonce}, false
	}
	a, err := sp.ParseXMLResponse(raw, ids, sp.AcsURL)
	if err != nil {
		return nil, s.samlRefusal(p, err)
	}
	return samlClaims(a, p), nil
}
