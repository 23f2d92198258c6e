-- Agents, SQLite dialect: agent IDs, interactions, impersonations ("view as")
-- and the change log the in-memory decision index follows.

-- An agent's identity in one interaction source (voice:4711, chat:anna.k).
-- One row per agent ID, so user_id is "the one user holding it": at most one
-- user per agent ID is the shape of the table itself.
CREATE TABLE agent_ids (
    id             INTEGER PRIMARY KEY,
    tenant_id      INTEGER NOT NULL REFERENCES tenants (id),
    source         TEXT NOT NULL,
    external_id    TEXT NOT NULL,
    name           TEXT NOT NULL DEFAULT '',
    user_id        INTEGER,
    interactions   INTEGER NOT NULL DEFAULT 0,
    first_seen_at  INTEGER,
    last_seen_at   INTEGER,
    last_group_id  INTEGER, -- group of the latest interaction that had one
    last_group_at  INTEGER, -- start of that interaction
    created_at     INTEGER NOT NULL,
    search         TEXT NOT NULL, -- lower-case "source:external_id name", for substring search
    UNIQUE (tenant_id, id),
    UNIQUE (tenant_id, source, external_id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id),
    FOREIGN KEY (tenant_id, last_group_id) REFERENCES org_groups (tenant_id, id)
);
CREATE INDEX agent_ids_user ON agent_ids (tenant_id, user_id) WHERE user_id IS NOT NULL;
CREATE INDEX agent_ids_last_group ON agent_ids (tenant_id, last_group_id);

-- Minimal metadata of a call or chat. Idempotent on (source, external_id).
CREATE TABLE interactions (
    id           INTEGER PRIMARY KEY,
    tenant_id    INTEGER NOT NULL,
    source       TEXT NOT NULL,
    external_id  TEXT NOT NULL,
    agent_id     INTEGER NOT NULL,
    group_id     INTEGER,
    channel      TEXT NOT NULL DEFAULT '',
    started_at   INTEGER NOT NULL,
    duration_s   INTEGER NOT NULL DEFAULT 0,
    UNIQUE (tenant_id, source, external_id),
    FOREIGN KEY (tenant_id, agent_id) REFERENCES agent_ids (tenant_id, id),
    FOREIGN KEY (tenant_id, group_id) REFERENCES org_groups (tenant_id, id)
);
CREATE INDEX interactions_agent ON interactions (tenant_id, agent_id, started_at);
CREATE INDEX interactions_group ON interactions (tenant_id, group_id, started_at);
CREATE INDEX interactions_started ON interactions (tenant_id, started_at);

-- A deleted user's agent IDs become unassigned; a deleted group's
-- interactions stay, without a group.
CREATE TRIGGER agent_ids_release_user BEFORE DELETE ON users BEGIN
    UPDATE agent_ids SET user_id = NULL WHERE tenant_id = old.tenant_id AND user_id = old.id;
END;
CREATE TRIGGER interactions_detach_group BEFORE DELETE ON org_groups BEGIN
    UPDATE interactions SET group_id = NULL WHERE tenant_id = old.tenant_id AND group_id = old.id;
    UPDATE agent_ids SET last_group_id = NULL WHERE tenant_id = old.tenant_id AND last_group_id = old.id;
END;

-- "View as": an administrator acts as another user's view, read-only. Only
-- the hash of the bearer secret is stored.
CREATE TABLE impersonations (
    id                 INTEGER PRIMARY KEY,
    tenant_id          INTEGER NOT NULL REFERENCES tenants (id),
    user_id            INTEGER NOT NULL,
    impersonator_kind  TEXT NOT NULL,
    impersonator_id    INTEGER NOT NULL,
    impersonator_name  TEXT NOT NULL,
    hash               BLOB NOT NULL UNIQUE,
    created_at         INTEGER NOT NULL,
    expires_at         INTEGER NOT NULL,
    ended_at           INTEGER,
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX impersonations_user ON impersonations (tenant_id, user_id);

-- The change log of everything the decision index holds: roles, groups,
-- users with their roles and group access, agent IDs and API tokens. Written
-- by triggers in the transaction of the change, whatever code made it, so
-- every roster process can follow it (ids grow in commit order: SQLite has
-- one writer at a time). Old rows are pruned.
CREATE TABLE authz_changes (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id  INTEGER NOT NULL,
    kind       TEXT NOT NULL,
    ref_id     INTEGER NOT NULL,
    at         INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER))
);
CREATE INDEX authz_changes_at ON authz_changes (at);

CREATE TRIGGER authz_users_insert AFTER INSERT ON users BEGIN
    INSERT INTO authz_changes (tenant_id, kind, ref_id) VALUES (new.tenant_id, 'user', new.id);
END;
CREATE TRIGGER authz_users_update AFTER UPDATE OF status, group_id, roaming ON users
WHEN old.status IS NOT new.status OR old.group_id IS NOT new.group_id OR old.roaming IS NOT new.roaming BEGIN
    INSERT INTO authz_changes (tenant_id, kind, ref_id) VALUES (new.tenant_id, 'user', new.id);
END;
CREATE TRIGGER authz_users_delete AFTER DELETE ON users BEGIN
    INSERT INTO authz_changes (tenant_id, kind, ref_id) VALUES (old.tenant_id, 'user', old.id);
END;

CREATE TRIGGER authz_user_roles_insert AFTER INSERT ON user_roles BEGIN
    INSERT INTO authz_changes (tenant_id, kind, ref_id) VALUES (new.tenant_id, 'user', new.user_id);
END;
CREATE TRIGGER authz_user_roles_delete AFTER DELETE ON user_roles BEGIN
    INSERT INTO authz_changes (tenant_id, kind, ref_id) VALUES (old.tenant_id, 'user', old.user_id);
END;
CREATE TRIGGER authz_user_group_access_insert AFTER INSERT ON user_group_access BEGIN
    INSERT INTO authz_changes (tenant_id, kind, ref_id) VALUES (new.tenant_id, 'user', new.user_id);
END;
CREATE TRIGGER authz_user_group_access_delete AFTER DELETE ON user_group_access BEGIN
    INSERT INTO authz_changes (tenant_id, kind, ref_id) VALUES (old.tenant_id, 'user', old.user_id);
END;

CREATE TRIGGER authz_roles_insert AFTER INSERT ON roles BEGIN
    INSERT INTO authz_changes (tenant_id, kind, ref_id) VALUES (new.tenant_id, 'role', new.id);
END;
CREATE TRIGGER authz_roles_update AFTER UPDATE ON roles BEGIN
    INSERT INTO authz_changes (tenant_id, kind, ref_id) VALUES (new.tenant_id, 'role', new.id);
END;
CREATE TRIGGER authz_roles_delete AFTER DELETE ON roles BEGIN
    INSERT INTO authz_changes (tenant_id, kind, ref_id) VALUES (old.tenant_id, 'role', old.id);
END;

CREATE TRIGGER authz_groups_insert AFTER INSERT ON org_groups BEGIN
    INSERT INTO authz_changes (tenant_id, kind, ref_id) VALUES (new.tenant_id, 'group', new.id);
END;
CREATE TRIGGER authz_groups_update AFTER UPDATE OF parent_id ON org_groups
WHEN old.parent_id IS NOT new.parent_id BEGIN
    INSERT INTO authz_changes (tenant_id, kind, ref_id) VALUES (new.tenant_id, 'group', new.id);
END;
CREATE TRIGGER authz_groups_delete AFTER DELETE ON org_groups BEGIN
    INSERT INTO authz_changes (tenant_id, kind, ref_id) VALUES (old.tenant_id, 'group', old.id);
END;

CREATE TRIGGER authz_agent_ids_insert AFTER INSERT ON agent_ids BEGIN
    INSERT INTO authz_changes (tenant_id, kind, ref_id) VALUES (new.tenant_id, 'agent', new.id);
END;
CREATE TRIGGER authz_agent_ids_update AFTER UPDATE OF user_id, last_group_id ON agent_ids
WHEN old.user_id IS NOT new.user_id OR old.last_group_id IS NOT new.last_group_id BEGIN
    INSERT INTO authz_changes (tenant_id, kind, ref_id) VALUES (new.tenant_id, 'agent', new.id);
END;
CREATE TRIGGER authz_agent_ids_delete AFTER DELETE ON agent_ids BEGIN
    INSERT INTO authz_changes (tenant_id, kind, ref_id) VALUES (old.tenant_id, 'agent', old.id);
END;

CREATE TRIGGER authz_api_tokens_update AFTER UPDATE OF revoked_at, role_id ON api_tokens
WHEN old.revoked_at IS NOT new.revoked_at OR old.role_id IS NOT new.role_id BEGIN
    INSERT INTO authz_changes (tenant_id, kind, ref_id) VALUES (new.tenant_id, 'token', new.id);
END;
CREATE TRIGGER authz_api_tokens_delete AFTER DELETE ON api_tokens BEGIN
    INSERT INTO authz_changes (tenant_id, kind, ref_id) VALUES (old.tenant_id, 'token', old.id);
END;

-- The decision API is a new permission; existing Admin roles get it, as new
-- tenants' Admin roles do (Admin holds the whole catalogue).
UPDATE roles SET permissions = json_insert(permissions, '$[#]', 'authz.check')
WHERE builtin = 1 AND key = 'admin'
  AND NOT EXISTS (SELECT 1 FROM json_each(roles.permissions) WHERE value = 'authz.check');
