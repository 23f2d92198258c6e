-- An identity provider's assertion of multi-factor sign-in (OIDC amr/acr,
-- SAML AuthnContext) may stand in for Roster's second factor (docs/mfa.md).
ALTER TABLE sso_providers ADD COLUMN mfa_from_idp INTEGER NOT NULL DEFAULT 0;
