-- Webhooks, SQLite dialect: the tenant's endpoints and their own outbox of
-- deliveries. A delivery is written in the transaction of the change it
-- reports (like outbox_messages), so an event exists exactly when its change
-- does; the webhook worker delivers it with retries. Ids are never reused
-- (AUTOINCREMENT): a receiver may key on them.
CREATE TABLE webhooks (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id            INTEGER NOT NULL REFERENCES tenants (id),
    url                  TEXT NOT NULL,
    events               TEXT NOT NULL, -- JSON array of event types
    description          TEXT NOT NULL DEFAULT '',
    enabled              INTEGER NOT NULL DEFAULT 1,
    -- The signing secret, sealed with the server's secret key (AES-GCM);
    -- during a rotation the previous one signs too, until previous_until.
    secret_sealed        BLOB NOT NULL,
    previous_sealed      BLOB,
    previous_until       INTEGER,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL,
    UNIQUE (tenant_id, id)
);
CREATE INDEX webhooks_enabled ON webhooks (tenant_id, enabled);

-- One row per (event, webhook). msg_id is the webhook-id header: the same on
-- every attempt, so receivers can drop duplicates.
CREATE TABLE webhook_deliveries (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id        INTEGER NOT NULL,
    webhook_id       INTEGER NOT NULL,
    msg_id           TEXT NOT NULL UNIQUE,
    event_type       TEXT NOT NULL,
    payload          TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL,
    lease_until      INTEGER,
    claim            TEXT,
    response_code    INTEGER,
    last_error       TEXT NOT NULL DEFAULT '',
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    delivered_at     INTEGER,
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, webhook_id) REFERENCES webhooks (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at, id) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_leased ON webhook_deliveries (webhook_id, lease_until) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_log ON webhook_deliveries (tenant_id, webhook_id, id);
CREATE INDEX webhook_deliveries_final ON webhook_deliveries (updated_at) WHERE status <> 'pending';

-- Keys the server makes once and every replica shares: on PostgreSQL
-- without --secret-key the key that seals webhook secrets lives here (a
-- weaker default than a key kept apart from the data; see docs/rules.md).
CREATE TABLE server_keys (
    name        TEXT PRIMARY KEY,
    value       TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);

-- Managing webhooks is a new permission; existing Admin roles get it, as new
-- tenants' Admin roles do (Admin holds the whole catalogue).
UPDATE roles SET permissions = json_insert(permissions, '$[#]', 'webhooks.manage')
WHERE builtin = 1 AND key = 'admin'
  AND NOT EXISTS (SELECT 1 FROM json_each(roles.permissions) WHERE value = 'webhooks.manage');
