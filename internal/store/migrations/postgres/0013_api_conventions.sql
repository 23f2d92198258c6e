-- The request an audit event was written by (X-Request-Id), so an event
-- can be found in the access log and the other way round. Empty before.
ALTER TABLE audit_events ADD COLUMN request_id TEXT NOT NULL DEFAULT '';

-- Idempotency keys: the first answer to a create, kept for 24 hours per
-- tenant, actor and key, so a retry gets it again instead of a second
-- thing. fingerprint is a hash of the method, route and body: the same key
-- with another request is refused.
CREATE TABLE idempotency_keys (
    tenant_id     BIGINT NOT NULL REFERENCES tenants (id),
    actor         TEXT NOT NULL,
    idem_key      TEXT NOT NULL,
    fingerprint   TEXT NOT NULL,
    status        INTEGER NOT NULL,
    content_type  TEXT NOT NULL,
    location      TEXT NOT NULL DEFAULT '',
    body          BYTEA NOT NULL,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, actor, idem_key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
