package roster

import (
	"context"
	"slices"
	"strings"
)

// Single sign-on and the second factor (docs/mfa.md, "Single sign-on"). A
// sign-in through an identity provider is the first factor. When the
// person must give a second one (they have one set up, or the policy
// requires it), the sign-in goes on to Roster's second-factor step, unless
// the provider is trusted to assert MFA (SSOProvider.MFAFromIdP) and this
// sign-in's assertion says a second factor was used. SAML sets the
// assertion from AuthnContext (the claims' MFAAsserted), OIDC from amr/acr
// (OIDCAssertsMFA); both come through ssoSecondFactor.

// mfaAMRValues are RFC 8176 amr values that mean more than one factor.
var mfaAMRValues = []string{"mfa", "mca", "otp", "hwk", "sc", "swk", "fpt", "face", "iris", "retina", "vbm", "pop"}

// OIDCAssertsMFA reports whether an ID token's amr or acr claim says the
// person authenticated with more than one factor: amr "mfa" (or a
// possession or biometric method, RFC 8176), or an acr naming MFA (Entra
// ID's and Okta's "…mfa…", the REFEDS MFA profile).
func OIDCAssertsMFA(amr []string, acr string) bool {
	for _, v := range amr {
		if slices.Contains(mfaAMRValues, strings.ToLower(v)) {
			return true
		}
	}
	acr = strings.ToLower(acr)
	return strings.Contains(acr, "mfa") || acr == "http://schemas.openid.net/pape/policies/2007/06/multi-factor"
}

// ssoSecondFactor decides, in the sign-in's transaction, whether an SSO
// sign-in of u needs Roster's second factor; when it does, it returns the
// step (a challenge whose first factor passed) instead of a session.
// idpAsserted is whether the IdP said this sign-in used MFA.
func (s *Service) ssoSecondFactor(ctx context.Context, tx Tx, p *SSOProvider, u *User, idpAsserted bool, in SSOCallbackInput) (*SignedIn, error) {
	pol, err := s.tenantMFAPolicy(ctx, p.TenantID)
	if err != nil || pol.policy == MFAOff {
		return nil, err
	}
	if p.MFAFromIdP && idpAsserted {
		return nil, nil
	}
	st, err := s.mfaStatusTx(ctx, tx, u)
	if err != nil {
		return nil, err
	}
	c := &MFAChallenge{TenantID: p.TenantID, UserID: u.ID, Account: accountKey(u.ID, ""), PasswordOK: true, Stage: MFAStageVerify,
		IP: in.IP, UserAgent: in.UserAgent}
	if in.Previous != "" {
		c.PreviousHash = HashSecret(in.Previous)
	}
	switch {
	case st.Enrolled():
	case st.Required:
		c.Stage = MFAStageEnrol
		if c.EnrolSecret, err = s.sealTOTP(p.TenantID, newTOTPSecret()); err != nil {
			return nil, err
		}
	default:
		return nil, nil
	}
	token := NewSecret(mfaTokenPrefix)
	now := s.Now()
	c.TokenHash, c.CreatedAt, c.ExpiresAt = HashSecret(token), now, now.Add(MFAChallengeTTL)
	if err := tx.CreateMFAChallenge(ctx, c); err != nil {
		return nil, err
	}
	return &SignedIn{MFA: &MFAStep{Token: token, Stage: c.Stage, ExpiresAt: c.ExpiresAt}}, nil
}
