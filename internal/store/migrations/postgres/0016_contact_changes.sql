-- A user's own change of email or mobile waits here until they confirm it
-- with the one-time code sent to the new address (docs/rules.md, Account).
CREATE TABLE contact_changes (
    tenant_id   BIGINT NOT NULL,
    user_id     BIGINT NOT NULL,
    field       TEXT NOT NULL CHECK (field IN ('email', 'mobile')),
    value       TEXT NOT NULL,
    code_hash   BYTEA NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    expires_at  BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, user_id, field),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
