-- A user's own change of email or mobile waits here until they confirm it
-- with the one-time code sent to the new address (docs/rules.md, Account).
CREATE TABLE contact_changes (
    tenant_id   INTEGER NOT NULL,
    user_id     INTEGER NOT NULL,
    field       TEXT NOT NULL CHECK (field IN ('email', 'mobile')),
    value       TEXT NOT NULL,
    code_hash   BLOB NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    expires_at  INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, user_id, field),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
