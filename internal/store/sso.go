package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/roster-dev/roster/internal/roster"
)

const ssoProviderColumns = `id, tenant_id, kind, name, issuer, client_id, client_secret_enc, match_claim, trust_email, jit, default_role,
	default_group_id, enabled, configured_by_kind, configured_by_id, configured_by_name, created_at, updated_at,
	saml_idp_metadata, saml_metadata_url, saml_sp_key_enc, saml_sp_cert, idp_initiated, mfa_from_idp`

func scanSSOProvider(s interface{ Scan(...any) error }) (*roster.SSOProvider, error) {
	var p roster.SSOProvider
	var group sql.NullInt64
	var created, updated int64
	if err := s.Scan(&p.ID, &p.TenantID, &p.Kind, &p.Name, &p.Issuer, &p.ClientID, &p.SealedSecret, &p.MatchClaim, &p.TrustEmail, &p.JIT,
		&p.DefaultRole, &group, &p.Enabled, &p.ConfiguredByKind, &p.ConfiguredByID, &p.ConfiguredBy, &created, &updated,
		&p.IdPMetadata, &p.MetadataURL, &p.SealedSPKey, &p.SPCert, &p.IdPInitiated, &p.MFAFromIdP); err != nil {
		return nil, err
	}
	if len(p.SealedSecret) == 0 {
		p.SealedSecret = nil
	}
	p.ClientSecretSet = p.SealedSecret != nil
	if group.Valid {
		p.DefaultGroupID = &group.Int64
	}
	p.CreatedAt, p.UpdatedAt = fromMS(created), fromMS(updated)
	return &p, nil
}

// ssoNameTaken names the field of the one unique rule of providers.
func ssoNameTaken(err error) error {
	if roster.ErrorCode(err) == roster.EConflict {
		return &roster.Error{Code: roster.EConflict, Message: "another identity provider has this name",
			Fields: []roster.FieldError{{Field: "name", Message: "is in use already"}}}
	}
	return err
}

func optionalID(id *int64) any {
	if id == nil {
		return nil
	}
	return *id
}

func (q *queries) CreateSSOProvider(ctx context.Context, p *roster.SSOProvider) error {
	id, err := q.insert(ctx, `INSERT INTO sso_providers (tenant_id, kind, name, issuer, client_id, client_secret_enc, match_claim, trust_email, jit,
		default_role, default_group_id, enabled, configured_by_kind, configured_by_id, configured_by_name, created_at, updated_at,
		saml_idp_metadata, saml_metadata_url, saml_sp_key_enc, saml_sp_cert, idp_initiated, mfa_from_idp)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		p.TenantID, p.Kind, p.Name, p.Issuer, p.ClientID, p.SealedSecret, p.MatchClaim, p.TrustEmail, p.JIT, p.DefaultRole, optionalID(p.DefaultGroupID),
		p.Enabled, p.ConfiguredByKind, p.ConfiguredByID, p.ConfiguredBy, ms(p.CreatedAt), ms(p.UpdatedAt),
		p.IdPMetadata, p.MetadataURL, p.SealedSPKey, p.SPCert, p.IdPInitiated, p.MFAFromIdP)
	if err != nil {
		return ssoNameTaken(err)
	}
	p.ID = id
	return nil
}

func (q *queries) ssoProvider(ctx context.Context, where string, args ...any) (*roster.SSOProvider, error) {
	p, err := scanSSOProvider(q.queryRow(ctx, `SELECT `+ssoProviderColumns+` FROM sso_providers WHERE `+where, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, roster.Errorf(roster.ENotFound, "no such identity provider")
	}
	if err != nil {
		return nil, err
	}
	domains, err := q.ssoDomains(ctx, p.TenantID, p.ID)
	if err != nil {
		return nil, err
	}
	p.EmailDomains = domains[p.ID]
	return p, nil
}

// ssoDomains are the email domains of the tenant's providers (of one when
// providerID is not 0), by provider.
func (q *queries) ssoDomains(ctx context.Context, tenantID, providerID int64) (map[int64][]string, error) {
	rows, err := q.query(ctx, `SELECT provider_id, domain FROM sso_domains WHERE tenant_id = ? AND (? = 0 OR provider_id = ?) ORDER BY domain`,
		tenantID, providerID, providerID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64][]string{}
	for rows.Next() {
		var id int64
		var d string
		if err := rows.Scan(&id, &d); err != nil {
			return nil, err
		}
		out[id] = append(out[id], d)
	}
	return out, rows.Err()
}

func (q *queries) PutSSODomains(ctx context.Context, tenantID, providerID int64, domains []string) error {
	if _, err := q.exec(ctx, `DELETE FROM sso_domains WHERE tenant_id = ? AND provider_id = ?`, tenantID, providerID); err != nil {
		return err
	}
	for _, d := range domains {
		if _, err := q.exec(ctx, `INSERT INTO sso_domains (tenant_id, provider_id, domain) VALUES (?, ?, ?)`, tenantID, providerID, d); err != nil {
			if roster.ErrorCode(err) == roster.EConflict {
				return &roster.Error{Code: roster.EConflict, Message: "another identity provider has this email domain",
					Fields: []roster.FieldError{{Field: "email_domains", Message: d + " is routed to another provider already"}}}
			}
			return err
		}
	}
	return nil
}

func (q *queries) SSOProviderByDomain(ctx context.Context, tenantID int64, domain string) (*roster.SSOProvider, error) {
	var id int64
	err := q.queryRow(ctx, `SELECT provider_id FROM sso_domains WHERE tenant_id = ? AND domain = ?`, tenantID, domain).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, roster.Errorf(roster.ENotFound, "no identity provider for this domain")
	}
	if err != nil {
		return nil, err
	}
	return q.SSOProvider(ctx, tenantID, id)
}

func (q *queries) ConsumeSAMLAssertion(ctx context.Context, tenantID, providerID int64, assertionID string, expiresAt time.Time) (bool, error) {
	res, err := q.exec(ctx, `INSERT INTO sso_saml_assertions (tenant_id, provider_id, assertion_id, expires_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (tenant_id, provider_id, assertion_id) DO NOTHING`, tenantID, providerID, assertionID, ms(expiresAt))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func (q *queries) DeleteExpiredSAMLAssertions(ctx context.Context, before time.Time) error {
	_, err := q.exec(ctx, `DELETE FROM sso_saml_assertions WHERE expires_at <= ?`, ms(before))
	return err
}

func (q *queries) SSOProvider(ctx context.Context, tenantID, id int64) (*roster.SSOProvider, error) {
	return q.ssoProvider(ctx, `tenant_id = ? AND id = ?`, tenantID, id)
}

func (q *queries) SSOProviderAnyTenant(ctx context.Context, id int64) (*roster.SSOProvider, error) {
	return q.ssoProvider(ctx, `id = ?`, id)
}

func (q *queries) ListSSOProviders(ctx context.Context, tenantID int64) ([]roster.SSOProvider, error) {
	rows, err := q.query(ctx, `SELECT `+ssoProviderColumns+` FROM sso_providers WHERE tenant_id = ? ORDER BY lower(name), id`, tenantID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []roster.SSOProvider{}
	for rows.Next() {
		p, err := scanSSOProvider(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *p)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	domains, err := q.ssoDomains(ctx, tenantID, 0)
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].EmailDomains = domains[out[i].ID]
	}
	return out, nil
}

func (q *queries) UpdateSSOProvider(ctx context.Context, p *roster.SSOProvider) error {
	_, err := q.exec(ctx, `UPDATE sso_providers SET name = ?, issuer = ?, client_id = ?, client_secret_enc = ?, match_claim = ?,
		trust_email = ?, jit = ?, default_role = ?, default_group_id = ?, enabled = ?, configured_by_kind = ?, configured_by_id = ?,
		configured_by_name = ?, updated_at = ?, saml_idp_metadata = ?, saml_metadata_url = ?, saml_sp_key_enc = ?, saml_sp_cert = ?,
		idp_initiated = ?, mfa_from_idp = ? WHERE tenant_id = ? AND id = ?`,
		p.Name, p.Issuer, p.ClientID, p.SealedSecret, p.MatchClaim, p.TrustEmail, p.JIT, p.DefaultRole, optionalID(p.DefaultGroupID), p.Enabled,
		p.ConfiguredByKind, p.ConfiguredByID, p.ConfiguredBy, ms(p.UpdatedAt), p.IdPMetadata, p.MetadataURL, p.SealedSPKey, p.SPCert,
		p.IdPInitiated, p.MFAFromIdP, p.TenantID, p.ID)
	return ssoNameTaken(err)
}

func (q *queries) DeleteSSOProvider(ctx context.Context, tenantID, id int64) error {
	_, err := q.exec(ctx, `DELETE FROM sso_providers WHERE tenant_id = ? AND id = ?`, tenantID, id)
	return err
}

func (q *queries) SSOLinkedUser(ctx context.Context, tenantID, providerID int64, subject string) (int64, error) {
	var id int64
	err := q.queryRow(ctx, `SELECT user_id FROM sso_links WHERE tenant_id = ? AND provider_id = ? AND subject = ?`,
		tenantID, providerID, subject).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return id, err
}

func (q *queries) SSOUserSubject(ctx context.Context, tenantID, providerID, userID int64) (string, error) {
	var sub string
	err := q.queryRow(ctx, `SELECT subject FROM sso_links WHERE tenant_id = ? AND provider_id = ? AND user_id = ?`,
		tenantID, providerID, userID).Scan(&sub)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return sub, err
}

func (q *queries) CreateSSOLink(ctx context.Context, l *roster.SSOLink) error {
	_, err := q.exec(ctx, `INSERT INTO sso_links (tenant_id, provider_id, subject, user_id, created_at) VALUES (?, ?, ?, ?, ?)`,
		l.TenantID, l.ProviderID, l.Subject, l.UserID, ms(l.CreatedAt))
	return err
}

func (q *queries) CreateSSOFlow(ctx context.Context, f *roster.SSOFlow) error {
	_, err := q.exec(ctx, `INSERT INTO sso_flows (state_hash, tenant_id, provider_id, nonce, verifier, expires_at, try_user_id)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, f.StateHash, f.TenantID, f.ProviderID, f.Nonce, f.Verifier, ms(f.ExpiresAt), f.TryUserID)
	return err
}

func (q *queries) TakeSSOFlow(ctx context.Context, stateHash []byte) (*roster.SSOFlow, error) {
	f := roster.SSOFlow{StateHash: stateHash}
	var expires int64
	err := q.queryRow(ctx, `DELETE FROM sso_flows WHERE state_hash = ? RETURNING tenant_id, provider_id, nonce, verifier, expires_at, try_user_id`,
		stateHash).Scan(&f.TenantID, &f.ProviderID, &f.Nonce, &f.Verifier, &expires, &f.TryUserID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, roster.Errorf(roster.ENotFound, "no such sign-in under way")
	}
	if err != nil {
		return nil, err
	}
	f.ExpiresAt = fromMS(expires)
	return &f, nil
}

func (q *queries) DeleteExpiredSSOFlows(ctx context.Context, before time.Time) error {
	_, err := q.exec(ctx, `DELETE FROM sso_flows WHERE expires_at <= ?`, ms(before))
	return err
}

func (q *queries) SSOPolicy(ctx context.Context, tenantID int64) (*roster.SSOPolicy, error) {
	var p roster.SSOPolicy
	var user, updated sql.NullInt64
	err := q.queryRow(ctx, `SELECT required, break_glass_user_id, updated_at FROM sso_policies WHERE tenant_id = ?`, tenantID).
		Scan(&p.Required, &user, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return &p, nil
	}
	if err != nil {
		return nil, err
	}
	if user.Valid {
		p.BreakGlassUserID = &user.Int64
	}
	p.UpdatedAt = fromNullMS(updated)
	return &p, nil
}

func (q *queries) PutSSOPolicy(ctx context.Context, tenantID int64, p *roster.SSOPolicy) error {
	_, err := q.exec(ctx, `INSERT INTO sso_policies (tenant_id, required, break_glass_user_id, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (tenant_id) DO UPDATE SET required = excluded.required, break_glass_user_id = excluded.break_glass_user_id,
			updated_at = excluded.updated_at`, tenantID, p.Required, optionalID(p.BreakGlassUserID), nullMS(p.UpdatedAt))
	return err
}
