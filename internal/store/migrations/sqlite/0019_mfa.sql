-- Multi-factor authentication (docs/mfa.md): a user's authenticator app
-- (TOTP), recovery codes, passkeys, and the second-factor steps under way.

-- One TOTP authenticator per user; confirmed_at is NULL while enrolment
-- waits for its first code. The secret is sealed (AES-256-GCM) under the
-- server's secret key; last_step is the last 30-second step used, so a code
-- works once.
CREATE TABLE mfa_totp (
    tenant_id     INTEGER NOT NULL,
    user_id       INTEGER NOT NULL,
    secret_enc    BLOB NOT NULL,
    confirmed_at  INTEGER,
    last_step     INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, user_id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);

-- Ten single-use recovery codes, only their SHA-256 stored.
CREATE TABLE mfa_recovery_codes (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id   INTEGER NOT NULL,
    user_id     INTEGER NOT NULL,
    code_hash   BLOB NOT NULL,
    used_at     INTEGER,
    UNIQUE (tenant_id, user_id, code_hash),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);

-- WebAuthn credentials; credential is go-webauthn's Credential as JSON.
CREATE TABLE mfa_passkeys (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id      INTEGER NOT NULL,
    user_id        INTEGER NOT NULL,
    name           TEXT NOT NULL,
    credential_id  BLOB NOT NULL UNIQUE,
    credential     TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    last_used_at   INTEGER,
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX mfa_passkeys_user ON mfa_passkeys (tenant_id, user_id);

-- A sign-in between its password and its second factor (or its enrolment).
-- Found by the hash of the token in the browser's cookie; it is not a
-- session and opens nothing else. password_ok = 0 marks a step that can
-- only fail (the password was wrong), which the step does not reveal.
CREATE TABLE mfa_challenges (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash      BLOB NOT NULL UNIQUE,
    tenant_id       INTEGER NOT NULL,
    user_id         INTEGER NOT NULL DEFAULT 0,
    account         TEXT NOT NULL,
    password_ok     INTEGER NOT NULL,
    stage           TEXT NOT NULL CHECK (stage IN ('verify', 'enrol')),
    -- a passkey ceremony under way (go-webauthn's SessionData as JSON)
    ceremony        TEXT NOT NULL DEFAULT '',
    -- the authenticator being enrolled at the enrol stage, sealed
    enrol_secret    BLOB,
    previous_hash   BLOB,
    ip              TEXT NOT NULL DEFAULT '',
    user_agent      TEXT NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL
);
CREATE INDEX mfa_challenges_expiry ON mfa_challenges (expires_at);
