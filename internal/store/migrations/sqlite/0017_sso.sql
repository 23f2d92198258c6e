-- Enterprise sign-in (docs/sso.md): a tenant's identity providers, the
-- links between an IdP's subject and a user, and the sign-ins under way.
CREATE TABLE sso_providers (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id           INTEGER NOT NULL REFERENCES tenants (id),
    kind                TEXT NOT NULL CHECK (kind IN ('oidc', 'saml')),
    name                TEXT NOT NULL,
    issuer              TEXT NOT NULL,
    client_id           TEXT NOT NULL,
    -- AES-256-GCM under the server's secret key, never shown back.
    client_secret_enc   BLOB,
    match_claim         TEXT NOT NULL CHECK (match_claim IN ('email', 'sub')),
    -- the IdP's emails are verified by its admins (Entra ID sends no email_verified).
    trust_email         INTEGER NOT NULL DEFAULT 0,
    jit                 INTEGER NOT NULL DEFAULT 0,
    default_role        TEXT NOT NULL DEFAULT '',
    -- checked when used: a group may be deleted meanwhile.
    default_group_id    INTEGER,
    enabled             INTEGER NOT NULL DEFAULT 1,
    -- who configured it last: just-in-time creation acts as them.
    configured_by_kind  TEXT NOT NULL,
    configured_by_id    INTEGER NOT NULL DEFAULT 0,
    configured_by_name  TEXT NOT NULL DEFAULT '',
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL,
    UNIQUE (tenant_id, id)
);
CREATE UNIQUE INDEX sso_providers_name ON sso_providers (tenant_id, lower(name));

CREATE TABLE sso_links (
    tenant_id     INTEGER NOT NULL,
    provider_id   INTEGER NOT NULL,
    subject       TEXT NOT NULL,
    user_id       INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, provider_id, subject),
    UNIQUE (tenant_id, provider_id, user_id),
    FOREIGN KEY (tenant_id, provider_id) REFERENCES sso_providers (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX sso_links_user ON sso_links (tenant_id, user_id);

-- A sign-in between /sso/{id}/start and its callback: found by the hash of
-- its state, used once.
CREATE TABLE sso_flows (
    state_hash    BLOB PRIMARY KEY,
    tenant_id     INTEGER NOT NULL,
    provider_id   INTEGER NOT NULL,
    nonce         TEXT NOT NULL,
    verifier      TEXT NOT NULL,
    expires_at    INTEGER NOT NULL,
    FOREIGN KEY (tenant_id, provider_id) REFERENCES sso_providers (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX sso_flows_expiry ON sso_flows (expires_at);
CREATE INDEX sso_flows_provider ON sso_flows (tenant_id, provider_id);

-- "SSO required": password sign-in and one-time codes are refused to all
-- but the break-glass user (checked when used: a user may be deleted).
CREATE TABLE sso_policies (
    tenant_id             INTEGER PRIMARY KEY REFERENCES tenants (id),
    required              INTEGER NOT NULL DEFAULT 0,
    break_glass_user_id   INTEGER,
    updated_at            INTEGER NOT NULL
);
