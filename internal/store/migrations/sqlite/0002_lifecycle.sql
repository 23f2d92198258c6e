-- Access lifecycle, SQLite dialect: invitations, sessions, one-time codes,
-- shared rate limits and the transactional outbox. Secrets are stored only
-- as SHA-256 hashes (tokens are 256 random bits; codes live minutes).

-- One invitation per invited user. user_id has no foreign key on purpose:
-- cancelling an invitation deletes the invited user, and the invitation row
-- (with its email and name) stays as the record of what was cancelled.
CREATE TABLE invitations (
    id               INTEGER PRIMARY KEY,
    tenant_id        INTEGER NOT NULL REFERENCES tenants (id),
    user_id          INTEGER NOT NULL,
    email            TEXT NOT NULL,
    name             TEXT NOT NULL,
    username         TEXT NOT NULL,
    token_hash       BLOB NOT NULL UNIQUE,
    status           TEXT NOT NULL CHECK (status IN ('pending', 'accepted', 'cancelled')),
    expires_at       INTEGER NOT NULL,
    send_count       INTEGER NOT NULL DEFAULT 1,
    last_sent_at     INTEGER NOT NULL,
    invited_by_kind  TEXT NOT NULL,
    invited_by_id    INTEGER NOT NULL,
    invited_by_name  TEXT NOT NULL,
    accepted_at      INTEGER,
    cancelled_at     INTEGER,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    UNIQUE (tenant_id, id)
);
CREATE INDEX invitations_status ON invitations (tenant_id, status, expires_at, id);
CREATE INDEX invitations_user ON invitations (tenant_id, user_id);
CREATE INDEX invitations_created ON invitations (tenant_id, id);

-- Server-side sessions: the cookie holds a random id, the table its hash.
CREATE TABLE sessions (
    id            INTEGER PRIMARY KEY,
    tenant_id     INTEGER NOT NULL,
    user_id       INTEGER NOT NULL,
    token_hash    BLOB NOT NULL UNIQUE,
    created_at    INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL, -- absolute end; idle expiry is last_seen_at + idle timeout
    ip            TEXT NOT NULL DEFAULT '',
    user_agent    TEXT NOT NULL DEFAULT '',
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX sessions_user ON sessions (tenant_id, user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- The one live one-time code of a user (a new request replaces it).
CREATE TABLE one_time_codes (
    id          INTEGER PRIMARY KEY,
    tenant_id   INTEGER NOT NULL,
    user_id     INTEGER NOT NULL,
    code_hash   BLOB NOT NULL,
    channel     TEXT NOT NULL CHECK (channel IN ('email', 'sms')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    expires_at  INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    UNIQUE (tenant_id, id),
    UNIQUE (tenant_id, user_id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX one_time_codes_expires ON one_time_codes (expires_at);

-- Fixed-window counters of failed sign-ins, code requests and code guesses,
-- per account and per client address. In the database so replicas share them.
CREATE TABLE rate_limits (
    tenant_id     INTEGER NOT NULL REFERENCES tenants (id),
    key           TEXT NOT NULL,
    window_start  INTEGER NOT NULL,
    count         INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, key)
);
CREATE INDEX rate_limits_window ON rate_limits (window_start);

-- Transactional outbox: written in the transaction of the change that causes
-- the message, delivered by a worker. secret (an invitation token or a code)
-- is substituted into the text at delivery and erased once the message is
-- final, so the database keeps no usable secret after delivery.
CREATE TABLE outbox_messages (
    id               INTEGER PRIMARY KEY,
    tenant_id        INTEGER NOT NULL REFERENCES tenants (id),
    channel          TEXT NOT NULL CHECK (channel IN ('email', 'sms')),
    recipient        TEXT NOT NULL,
    language         TEXT NOT NULL DEFAULT 'en',
    kind             TEXT NOT NULL,
    ref              TEXT NOT NULL DEFAULT '',
    subject          TEXT NOT NULL DEFAULT '',
    body_text        TEXT NOT NULL,
    body_html        TEXT NOT NULL DEFAULT '',
    secret           TEXT,
    status           TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed', 'cancelled', 'logged')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL,
    lease_until      INTEGER,
    claim            TEXT,
    last_error       TEXT NOT NULL DEFAULT '',
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    sent_at          INTEGER,
    UNIQUE (tenant_id, id)
);
CREATE INDEX outbox_due ON outbox_messages (next_attempt_at, id) WHERE status = 'pending';
CREATE INDEX outbox_tenant ON outbox_messages (tenant_id, id);
CREATE INDEX outbox_ref ON outbox_messages (tenant_id, ref) WHERE status = 'pending';
