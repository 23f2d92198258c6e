package roster

import (
	"errors"
	"strings"

	"github.com/crewjam/saml"
)

// What a verified SAML answer says (who, and whether a second factor was
// used), and what a refused one is told, in words.

func (s *Service) samlRefusal(p *SSOProvider, err error) error {
	detail := err
	var ire *saml.InvalidResponseError
	if errors.As(err, &ire) && ire.PrivateErr != nil {
		detail = ire.PrivateErr
	}
	s.log.Warn("sso: SAML answer refused", "tenant", p.TenantID, "provider", p.ID, "err", detail)
	var status saml.ErrBadStatus
	var statusPtr *saml.ErrBadStatus
	switch {
	case errors.Is(detail, saml.ErrAssertionReplayed):
		return Errorf(EUnauthorized, "this answer of %s was used already; start again from the sign-in page", p.Name)
	case errors.Is(detail, saml.ErrExpired):
		return Errorf(EUnauthorized, "your sign-in at %s has expired; start again", p.Name)
	case errors.Is(detail, saml.ErrNotYetValid):
		return Errorf(EUnauthorized, "the answer of %s is not valid yet (are the clocks right?); try again in a minute", p.Name)
	case errors.Is(detail, saml.ErrAudienceMismatch):
		return Errorf(EUnauthorized, "%s answered for another application (wrong audience); ask your administrator to check the entity ID set at the identity provider", p.Name)
	case errors.Is(detail, saml.ErrDestinationMismatch):
		return Errorf(EUnauthorized, "%s sent its answer for another address (wrong recipient); ask your administrator to check the reply URL set at the identity provider", p.Name)
	case errors.Is(detail, saml.ErrIssuerMismatch):
		return Errorf(EUnauthorized, "the answer came from another issuer than %s; ask your administrator to check the metadata", p.Name)
	case errors.Is(detail, saml.ErrRequestIDMismatch):
		return Errorf(EUnauthorized, "the answer of %s does not belong to this sign-in; start again", p.Name)
	case errors.As(detail, &status) || errors.As(detail, &statusPtr):
		return Errorf(EUnauthorized, "%s did not sign you in; start again, or ask your administrator", p.Name)
	case errors.Is(detail, saml.ErrInvalidSignature), errors.Is(detail, saml.ErrUntrustedCertificate),
		strings.Contains(detail.Error(), "signature"):
		return Errorf(EUnauthorized, "the answer of %s is not signed by it, or was changed on the way; tell your administrator", p.Name)
	}
	return Errorf(EUnauthorized, "the answer of %s could not be verified; start again, and tell your administrator if it keeps happening", p.Name)
}

// SAML attributes by the names IdPs use for them (Entra ID, Okta, Google,
// ADFS, LDAP-style OIDs), compared without case.
var (
	samlEmailNames = []string{"email", "mail", "emailaddress", "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
		"urn:oid:0.9.2342.19200300.100.1.3", "user.email"}
	samlNameNames = []string{"displayname", "name", "http://schemas.microsoft.com/identity/claims/displayname",
		"urn:oid:2.16.840.1.113730.3.1.241", "cn", "urn:oid:2.5.4.3"}
	samlGivenNames = []string{"givenname", "firstname", "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname", "urn:oid:2.5.4.42"}
	samlSurnames   = []string{"surname", "sn", "lastname", "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname", "urn:oid:2.5.4.4"}
)

// samlMFAClasses are the AuthnContextClassRefs that mean a second factor
// was used (SAML authn context classes; Entra ID's and REFEDS' MFA).
var samlMFAClasses = map[string]bool{
	"urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorContract":     true,
	"urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorUnregistered": true,
	"urn:oasis:names:tc:SAML:2.0:ac:classes:TimeSyncToken":               true,
	"urn:oasis:names:tc:SAML:2.0:ac:classes:Smartcard":                   true,
	"urn:oasis:names:tc:SAML:2.0:ac:classes:SmartcardPKI":                true,
	"urn:oasis:names:tc:SAML:2.0:ac:classes:MultiFactor":                 true,
	"http://schemas.microsoft.com/claims/multipleauthn":                  true,
	"https://refeds.org/profile/mfa":                                     true,
}

// samlClaims reads a verified assertion: the NameID is the subject (a
// transient one names nobody for long, so it links nothing), the email and
// name come from the attributes (or an emailAddress NameID).
func samlClaims(a *saml.Assertion, p *SSOProvider) *ssoClaims {
	c := &ssoClaims{trusted: p.TrustEmail, Attributes: map[string][]string{}}
	for _, st := range a.AttributeStatements {
		for _, at := range st.Attributes {
			name := at.Name
			if at.FriendlyName != "" {
				name = at.FriendlyName + " (" + at.Name + ")"
			}
			for _, v := range at.Values {
				c.Attributes[name] = append(c.Attributes[name], v.Value)
			}
		}
	}
	attr := func(names []string) string {
		for _, want := range names {
			for _, st := range a.AttributeStatements {
				for _, at := range st.Attributes {
					if (strings.EqualFold(at.Name, want) || strings.EqualFold(at.FriendlyName, want)) && len(at.Values) > 0 {
						if v := strings.TrimSpace(at.Values[0].Value); v != "" {
							return v
						}
					}
				}
			}
		}
		return ""
	}
	if a.Subject != nil && a.Subject.NameID != nil {
		n := a.Subject.NameID
		c.Attributes["NameID ("+n.Format+")"] = []string{n.Value}
		if n.Format != string(saml.TransientNameIDFormat) {
			c.Subject = n.Value
		}
		if n.Format == string(saml.EmailAddressNameIDFormat) {
			c.Email = n.Value
		}
	}
	if e := attr(samlEmailNames); e != "" {
		c.Email = e
	}
	c.Name = attr(samlNameNames)
	if c.Name == "" {
		c.Name = strings.TrimSpace(attr(samlGivenNames) + " " + attr(samlSurnames))
	}
	// Entra ID names the methods in an attribute rather than the context.
	for _, m := range c.Attributes["http://schemas.microsoft.com/claims/authnmethodsreferences"] {
		if strings.HasSuffix(m, "/multipleauthn") {
			c.MFAAsserted = true
		}
	}
	for _, st := range a.AuthnStatements {
		if ref := st.AuthnContext.AuthnContextClassRef; ref != nil {
			c.AuthnContext = append(c.AuthnContext, ref.Value)
			if samlMFAClasses[strings.TrimSpace(ref.Value)] {
				c.MFAAsserted = true
			}
		}
	}
	return c
}
