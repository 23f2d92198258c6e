-- SAML 2.0 identity providers beside OpenID Connect ones (docs/sso.md):
-- the IdP's metadata, this service provider's own key and certificate per
-- provider (the key sealed with the server's secret key), email domains
-- that route a sign-in to a provider, assertions already used (replay
-- protection that holds across restarts and replicas), and "try sign-in"
-- flows started by an admin.
ALTER TABLE sso_providers ADD COLUMN saml_idp_metadata TEXT NOT NULL DEFAULT '';
ALTER TABLE sso_providers ADD COLUMN saml_metadata_url TEXT NOT NULL DEFAULT '';
ALTER TABLE sso_providers ADD COLUMN saml_sp_key_enc BLOB;
ALTER TABLE sso_providers ADD COLUMN saml_sp_cert BLOB;
ALTER TABLE sso_providers ADD COLUMN idp_initiated INTEGER NOT NULL DEFAULT 0;

-- A domain routes to one provider of a tenant; other tenants may name the
-- same domain (nobody proves they own it, so no tenant can take it from
-- another).
CREATE TABLE sso_domains (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id     INTEGER NOT NULL,
    provider_id   INTEGER NOT NULL,
    domain        TEXT NOT NULL,
    UNIQUE (tenant_id, domain),
    FOREIGN KEY (tenant_id, provider_id) REFERENCES sso_providers (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX sso_domains_provider ON sso_domains (tenant_id, provider_id);

CREATE TABLE sso_saml_assertions (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id     INTEGER NOT NULL,
    provider_id   INTEGER NOT NULL,
    assertion_id  TEXT NOT NULL,
    expires_at    INTEGER NOT NULL,
    UNIQUE (tenant_id, provider_id, assertion_id),
    FOREIGN KEY (tenant_id, provider_id) REFERENCES sso_providers (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX sso_saml_assertions_expiry ON sso_saml_assertions (expires_at);

-- A "try sign-in" flow: the admin who started it (0: a real sign-in).
ALTER TABLE sso_flows ADD COLUMN try_user_id INTEGER NOT NULL DEFAULT 0;
