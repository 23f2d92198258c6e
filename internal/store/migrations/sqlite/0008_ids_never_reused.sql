-- roster:foreign-keys-off
-- Ids are never given out twice. A table whose id is INTEGER PRIMARY KEY
-- without AUTOINCREMENT hands the id of its highest row, once that row is
-- deleted, to the next insert: the audit log of user:19 would mix two
-- people, an old invitation would point at a stranger. Every such table is
-- rebuilt here with AUTOINCREMENT (authz_changes had it already), keeping
-- every row with its id, by SQLite's procedure for changes ALTER TABLE
-- cannot make (https://www.sqlite.org/lang_altertable.html, section 7): the
-- runner turns foreign keys off around this migration (the first line says
-- so: with them on, DROP TABLE deletes and cascades into child tables), and
-- runs PRAGMA foreign_key_check before it commits.
--
-- Each table: create new_X, copy with INSERT ... SELECT * (no triggers and
-- foreign keys off, so SQLite moves the records of the table and of its
-- unique indexes as they are, without decoding them), drop X, rename new_X
-- to X, make X's indexes again. The triggers are dropped first and made
-- again last, as they were and in the same order (so they fire in the same
-- order), so that no rename rewrites one and none names a table while it
-- is gone. The copy fires no trigger: the counters, the search index and
-- the change log stay as they are. The index builds take most of the time
-- (1M users and 1M audit events: ~20 s), sorted on helper threads.
PRAGMA threads = 4;
DROP TRIGGER users_fts_insert;
DROP TRIGGER users_fts_delete;
DROP TRIGGER users_fts_update;
DROP TRIGGER user_counts_insert;
DROP TRIGGER user_counts_delete;
DROP TRIGGER user_counts_update;
DROP TRIGGER user_roles_status_insert;
DROP TRIGGER user_roles_status_update;
DROP TRIGGER user_roles_count_insert;
DROP TRIGGER user_roles_count_delete;
DROP TRIGGER user_roles_count_update;
DROP TRIGGER agent_ids_release_user;
DROP TRIGGER interactions_detach_group;
DROP TRIGGER authz_users_insert;
DROP TRIGGER authz_users_update;
DROP TRIGGER authz_users_delete;
DROP TRIGGER authz_user_roles_insert;
DROP TRIGGER authz_user_roles_delete;
DROP TRIGGER authz_user_group_access_insert;
DROP TRIGGER authz_user_group_access_delete;
DROP TRIGGER authz_roles_insert;
DROP TRIGGER authz_roles_update;
DROP TRIGGER authz_roles_delete;
DROP TRIGGER authz_groups_insert;
DROP TRIGGER authz_groups_update;
DROP TRIGGER authz_groups_delete;
DROP TRIGGER authz_agent_ids_insert;
DROP TRIGGER authz_agent_ids_update;
DROP TRIGGER authz_agent_ids_delete;
DROP TRIGGER authz_api_tokens_update;
DROP TRIGGER authz_api_tokens_delete;
DROP TRIGGER user_roles_name_insert;
DROP TRIGGER user_roles_name_update;
DROP TRIGGER user_logins_add;
DROP TRIGGER user_logins_copy;

CREATE TABLE new_tenants (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    slug        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    settings    TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);
INSERT INTO new_tenants SELECT * FROM tenants;
DROP TABLE tenants;
ALTER TABLE new_tenants RENAME TO tenants;

CREATE TABLE new_org_groups (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id   INTEGER NOT NULL REFERENCES tenants (id),
    parent_id   INTEGER,
    name        TEXT NOT NULL,
    level       INTEGER NOT NULL CHECK (level >= 1),
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, parent_id) REFERENCES org_groups (tenant_id, id)
);
INSERT INTO new_org_groups SELECT * FROM org_groups;
DROP TABLE org_groups;
ALTER TABLE new_org_groups RENAME TO org_groups;
CREATE INDEX org_groups_parent ON org_groups (tenant_id, parent_id);

CREATE TABLE new_roles (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id    INTEGER NOT NULL REFERENCES tenants (id),
    key          TEXT NOT NULL,
    name         TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    scope        TEXT NOT NULL CHECK (scope IN ('tenant', 'groups', 'self')),
    permissions  TEXT NOT NULL DEFAULT '[]',
    builtin      INTEGER NOT NULL DEFAULT 0,
    hidden       INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    UNIQUE (tenant_id, id),
    UNIQUE (tenant_id, key)
);
INSERT INTO new_roles SELECT * FROM roles;
DROP TABLE roles;
ALTER TABLE new_roles RENAME TO roles;

CREATE TABLE new_users (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id        INTEGER NOT NULL REFERENCES tenants (id),
    username         TEXT NOT NULL,
    name             TEXT NOT NULL,
    email            TEXT NOT NULL DEFAULT '',
    mobile           TEXT NOT NULL DEFAULT '',
    language         TEXT NOT NULL,
    group_id         INTEGER NOT NULL,
    group_name       TEXT NOT NULL, -- copy of the home group's name, so "sort by group" uses an index
    status           TEXT NOT NULL CHECK (status IN ('invited', 'active', 'deactivated')),
    agent_number     INTEGER CHECK (agent_number > 0),
    nicknames        TEXT NOT NULL DEFAULT '[]',
    ring_to          TEXT NOT NULL DEFAULT '',
    scoring_enabled  INTEGER NOT NULL DEFAULT 0,
    roaming          INTEGER NOT NULL DEFAULT 0,
    queue_logged_on  INTEGER NOT NULL DEFAULT 0,
    password_hash    TEXT,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    search           TEXT NOT NULL, -- lower-case name, username, email and mobile, for substring search
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, group_id) REFERENCES org_groups (tenant_id, id),
    CHECK (email <> '' OR mobile <> '')
);
INSERT INTO new_users SELECT * FROM users;
DROP TABLE users;
ALTER TABLE new_users RENAME TO users;
CREATE UNIQUE INDEX users_username_uq ON users (tenant_id, lower(username));
CREATE UNIQUE INDEX users_email_uq ON users (tenant_id, email) WHERE email <> '';
CREATE UNIQUE INDEX users_agent_number_uq ON users (tenant_id, agent_number) WHERE agent_number IS NOT NULL;
CREATE INDEX users_name ON users (tenant_id, lower(name), id);
CREATE INDEX users_email ON users (tenant_id, email, id);
CREATE INDEX users_status_name ON users (tenant_id, status, lower(name), id);
CREATE INDEX users_group ON users (tenant_id, group_id, lower(name), id);
CREATE INDEX users_group_name ON users (tenant_id, lower(group_name), lower(name), id);

CREATE TABLE new_api_tokens (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id     INTEGER NOT NULL REFERENCES tenants (id),
    name          TEXT NOT NULL,
    role_id       INTEGER NOT NULL,
    hash          BLOB NOT NULL UNIQUE,
    created_at    INTEGER NOT NULL,
    revoked_at    INTEGER,
    last_used_at  INTEGER,
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, role_id) REFERENCES roles (tenant_id, id)
);
INSERT INTO new_api_tokens SELECT * FROM api_tokens;
DROP TABLE api_tokens;
ALTER TABLE new_api_tokens RENAME TO api_tokens;
CREATE INDEX api_tokens_role ON api_tokens (tenant_id, role_id);

CREATE TABLE new_audit_events (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id        INTEGER NOT NULL REFERENCES tenants (id),
    actor_kind       TEXT NOT NULL,
    actor_id         INTEGER NOT NULL,
    actor_name       TEXT NOT NULL,
    impersonator_id  INTEGER,
    action           TEXT NOT NULL,
    target_kind      TEXT NOT NULL,
    target_id        INTEGER NOT NULL,
    before           TEXT,
    after            TEXT,
    ip               TEXT NOT NULL DEFAULT '',
    user_agent       TEXT NOT NULL DEFAULT '',
    at               INTEGER NOT NULL
);
INSERT INTO new_audit_events SELECT * FROM audit_events;
DROP TABLE audit_events;
ALTER TABLE new_audit_events RENAME TO audit_events;
CREATE INDEX audit_tenant ON audit_events (tenant_id, id);
CREATE INDEX audit_action ON audit_events (tenant_id, action, id);
CREATE INDEX audit_target ON audit_events (tenant_id, target_kind, target_id, id);
CREATE INDEX audit_actor ON audit_events (tenant_id, actor_kind, actor_id, id);
CREATE INDEX audit_at ON audit_events (tenant_id, at, id);

CREATE TABLE new_invitations (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
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
INSERT INTO new_invitations SELECT * FROM invitations;
DROP TABLE invitations;
ALTER TABLE new_invitations RENAME TO invitations;
CREATE INDEX invitations_status ON invitations (tenant_id, status, expires_at, id);
CREATE INDEX invitations_user ON invitations (tenant_id, user_id);
CREATE INDEX invitations_created ON invitations (tenant_id, id);

CREATE TABLE new_sessions (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
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
INSERT INTO new_sessions SELECT * FROM sessions;
DROP TABLE sessions;
ALTER TABLE new_sessions RENAME TO sessions;
CREATE INDEX sessions_user ON sessions (tenant_id, user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE new_one_time_codes (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
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
INSERT INTO new_one_time_codes SELECT * FROM one_time_codes;
DROP TABLE one_time_codes;
ALTER TABLE new_one_time_codes RENAME TO one_time_codes;
CREATE INDEX one_time_codes_expires ON one_time_codes (expires_at);

CREATE TABLE new_outbox_messages (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
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
INSERT INTO new_outbox_messages SELECT * FROM outbox_messages;
DROP TABLE outbox_messages;
ALTER TABLE new_outbox_messages RENAME TO outbox_messages;
CREATE INDEX outbox_due ON outbox_messages (next_attempt_at, id) WHERE status = 'pending';
CREATE INDEX outbox_tenant ON outbox_messages (tenant_id, id);
CREATE INDEX outbox_ref ON outbox_messages (tenant_id, ref) WHERE status = 'pending';

CREATE TABLE new_agent_ids (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
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
INSERT INTO new_agent_ids SELECT * FROM agent_ids;
DROP TABLE agent_ids;
ALTER TABLE new_agent_ids RENAME TO agent_ids;
CREATE INDEX agent_ids_user ON agent_ids (tenant_id, user_id) WHERE user_id IS NOT NULL;
CREATE INDEX agent_ids_last_group ON agent_ids (tenant_id, last_group_id);

CREATE TABLE new_interactions (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
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
INSERT INTO new_interactions SELECT * FROM interactions;
DROP TABLE interactions;
ALTER TABLE new_interactions RENAME TO interactions;
CREATE INDEX interactions_agent ON interactions (tenant_id, agent_id, started_at);
CREATE INDEX interactions_group ON interactions (tenant_id, group_id, started_at);
CREATE INDEX interactions_started ON interactions (tenant_id, started_at);

CREATE TABLE new_impersonations (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
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
INSERT INTO new_impersonations SELECT * FROM impersonations;
DROP TABLE impersonations;
ALTER TABLE new_impersonations RENAME TO impersonations;
CREATE INDEX impersonations_user ON impersonations (tenant_id, user_id);

CREATE TABLE new_properties (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id      INTEGER NOT NULL REFERENCES tenants (id),
    key            TEXT NOT NULL,
    label          TEXT NOT NULL,
    type           TEXT NOT NULL CHECK (type IN ('integer', 'duration', 'text', 'boolean', 'choice')),
    default_value  TEXT NOT NULL,
    choices        TEXT NOT NULL DEFAULT '[]',
    builtin        INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    UNIQUE (tenant_id, id),
    UNIQUE (tenant_id, key)
);
INSERT INTO new_properties SELECT * FROM properties;
DROP TABLE properties;
ALTER TABLE new_properties RENAME TO properties;

CREATE TABLE new_skills (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id   INTEGER NOT NULL REFERENCES tenants (id),
    name        TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    UNIQUE (tenant_id, id)
);
INSERT INTO new_skills SELECT * FROM skills;
DROP TABLE skills;
ALTER TABLE new_skills RENAME TO skills;
CREATE UNIQUE INDEX skills_name_uq ON skills (tenant_id, lower(name));

CREATE TABLE new_profiles (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id   INTEGER NOT NULL REFERENCES tenants (id),
    name        TEXT NOT NULL,
    group_id    INTEGER,
    user_id     INTEGER,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    UNIQUE (tenant_id, id),
    CHECK ((group_id IS NULL) <> (user_id IS NULL)),
    FOREIGN KEY (tenant_id, group_id) REFERENCES org_groups (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
INSERT INTO new_profiles SELECT * FROM profiles;
DROP TABLE profiles;
ALTER TABLE new_profiles RENAME TO profiles;
CREATE UNIQUE INDEX profiles_group_name_uq ON profiles (tenant_id, group_id, lower(name)) WHERE group_id IS NOT NULL;
CREATE UNIQUE INDEX profiles_user_name_uq ON profiles (tenant_id, user_id, lower(name)) WHERE user_id IS NOT NULL;
CREATE INDEX profiles_group ON profiles (tenant_id, group_id);
CREATE INDEX profiles_user ON profiles (tenant_id, user_id);

CREATE TABLE new_coaching_plans (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id        INTEGER NOT NULL REFERENCES tenants (id),
    agent_user_id    INTEGER NOT NULL,
    title            TEXT NOT NULL,
    goals            TEXT NOT NULL DEFAULT '',
    status           TEXT NOT NULL CHECK (status IN ('open', 'in_progress', 'done')),
    due_date         TEXT, -- YYYY-MM-DD
    created_by_kind  TEXT NOT NULL,
    created_by_id    INTEGER NOT NULL,
    created_by_name  TEXT NOT NULL,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, agent_user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
INSERT INTO new_coaching_plans SELECT * FROM coaching_plans;
DROP TABLE coaching_plans;
ALTER TABLE new_coaching_plans RENAME TO coaching_plans;
CREATE INDEX coaching_plans_agent ON coaching_plans (tenant_id, agent_user_id, status, id);
CREATE INDEX coaching_plans_status ON coaching_plans (tenant_id, status, id);

CREATE TABLE new_coaching_notes (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id    INTEGER NOT NULL,
    plan_id      INTEGER NOT NULL,
    text         TEXT NOT NULL,
    author_kind  TEXT NOT NULL,
    author_id    INTEGER NOT NULL,
    author_name  TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    FOREIGN KEY (tenant_id, plan_id) REFERENCES coaching_plans (tenant_id, id) ON DELETE CASCADE
);
INSERT INTO new_coaching_notes SELECT * FROM coaching_notes;
DROP TABLE coaching_notes;
ALTER TABLE new_coaching_notes RENAME TO coaching_notes;
CREATE INDEX coaching_notes_plan ON coaching_notes (tenant_id, plan_id, id);

-- The triggers, as they were.
CREATE TRIGGER users_fts_insert AFTER INSERT ON users BEGIN
    INSERT INTO users_fts (rowid, search) VALUES ((new.tenant_id << 32) + new.id, new.search);
END;
CREATE TRIGGER users_fts_delete AFTER DELETE ON users BEGIN
    DELETE FROM users_fts WHERE rowid = (old.tenant_id << 32) + old.id;
END;
CREATE TRIGGER users_fts_update AFTER UPDATE OF search ON users BEGIN
    DELETE FROM users_fts WHERE rowid = (old.tenant_id << 32) + old.id;
    INSERT INTO users_fts (rowid, search) VALUES ((new.tenant_id << 32) + new.id, new.search);
END;
CREATE TRIGGER user_counts_insert AFTER INSERT ON users BEGIN
    INSERT INTO user_counts (tenant_id, role_id, status, group_id, n) VALUES (new.tenant_id, 0, new.status, new.group_id, 1)
    ON CONFLICT DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER user_counts_delete AFTER DELETE ON users BEGIN
    UPDATE user_counts SET n = n - 1
    WHERE tenant_id = old.tenant_id AND role_id = 0 AND status = old.status AND group_id = old.group_id;
END;
CREATE TRIGGER user_counts_update AFTER UPDATE OF status, group_id ON users
WHEN old.status IS NOT new.status OR old.group_id IS NOT new.group_id BEGIN
    UPDATE user_counts SET n = n - 1
    WHERE tenant_id = old.tenant_id AND role_id = 0 AND status = old.status AND group_id = old.group_id;
    INSERT INTO user_counts (tenant_id, role_id, status, group_id, n) VALUES (new.tenant_id, 0, new.status, new.group_id, 1)
    ON CONFLICT DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER user_roles_status_insert AFTER INSERT ON user_roles
WHEN new.status IS NOT (SELECT status FROM users WHERE tenant_id = new.tenant_id AND id = new.user_id) BEGIN
    UPDATE user_roles SET status = (SELECT status FROM users WHERE tenant_id = new.tenant_id AND id = new.user_id)
    WHERE tenant_id = new.tenant_id AND user_id = new.user_id AND role_id = new.role_id;
END;
CREATE TRIGGER user_roles_status_update AFTER UPDATE OF status ON users WHEN old.status IS NOT new.status BEGIN
    UPDATE user_roles SET status = new.status WHERE tenant_id = new.tenant_id AND user_id = new.id;
END;
CREATE TRIGGER user_roles_count_insert AFTER INSERT ON user_roles BEGIN
    INSERT INTO user_counts (tenant_id, role_id, status, group_id, n)
    VALUES (new.tenant_id, new.role_id, (SELECT status FROM users WHERE tenant_id = new.tenant_id AND id = new.user_id), 0, 1)
    ON CONFLICT DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER user_roles_count_delete AFTER DELETE ON user_roles BEGIN
    UPDATE user_counts SET n = n - 1
    WHERE tenant_id = old.tenant_id AND role_id = old.role_id AND status = old.status AND group_id = 0;
END;
CREATE TRIGGER user_roles_count_update AFTER UPDATE OF status ON user_roles
WHEN old.status <> '' AND old.status IS NOT new.status BEGIN
    UPDATE user_counts SET n = n - 1
    WHERE tenant_id = old.tenant_id AND role_id = old.role_id AND status = old.status AND group_id = 0;
    INSERT INTO user_counts (tenant_id, role_id, status, group_id, n) VALUES (new.tenant_id, new.role_id, new.status, 0, 1)
    ON CONFLICT DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER agent_ids_release_user BEFORE DELETE ON users BEGIN
    UPDATE agent_ids SET user_id = NULL WHERE tenant_id = old.tenant_id AND user_id = old.id;
END;
CREATE TRIGGER interactions_detach_group BEFORE DELETE ON org_groups BEGIN
    UPDATE interactions SET group_id = NULL WHERE tenant_id = old.tenant_id AND group_id = old.id;
    UPDATE agent_ids SET last_group_id = NULL WHERE tenant_id = old.tenant_id AND last_group_id = old.id;
END;
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
CREATE TRIGGER user_roles_name_insert AFTER INSERT ON user_roles
WHEN new.name_key IS NOT (SELECT lower(name) FROM users WHERE tenant_id = new.tenant_id AND id = new.user_id) BEGIN
    UPDATE user_roles SET name_key = (SELECT lower(name) FROM users WHERE tenant_id = new.tenant_id AND id = new.user_id)
    WHERE tenant_id = new.tenant_id AND user_id = new.user_id AND role_id = new.role_id;
END;
CREATE TRIGGER user_roles_name_update AFTER UPDATE OF name ON users WHEN old.name IS NOT new.name BEGIN
    UPDATE user_roles SET name_key = lower(new.name) WHERE tenant_id = new.tenant_id AND user_id = new.id;
END;
CREATE TRIGGER user_logins_add AFTER INSERT ON users BEGIN
    INSERT INTO user_logins (tenant_id, user_id, status, group_id) VALUES (new.tenant_id, new.id, new.status, new.group_id);
END;
CREATE TRIGGER user_logins_copy AFTER UPDATE OF status, group_id ON users
    WHEN old.status IS NOT new.status OR old.group_id IS NOT new.group_id BEGIN
    UPDATE user_logins SET status = new.status, group_id = new.group_id WHERE tenant_id = new.tenant_id AND user_id = new.id;
END;

-- The copy left each table's highest id in sqlite_sequence. Ids given out
-- before this upgrade whose rows are gone since are not given out again
-- either, where the audit log or an invitation still names them (every
-- delete Roster makes of a row with an id is audited, but of sessions and
-- one-time codes): each tenant's highest per kind is one index lookup
-- (audit_target, audit_actor, invitations_user), not a scan. Values from 2^32 up are no
-- ids (users_fts keeps ids below 2^32).
CREATE TEMP TABLE ids_given (name TEXT NOT NULL, seq INTEGER);
INSERT INTO temp.ids_given (name, seq) SELECT name, seq FROM sqlite_sequence;
INSERT INTO temp.ids_given (name, seq)
SELECT 'tenants', max(id) FROM tenants
UNION ALL SELECT 'org_groups', max(id) FROM org_groups
UNION ALL SELECT 'roles', max(id) FROM roles
UNION ALL SELECT 'users', max(id) FROM users
UNION ALL SELECT 'api_tokens', max(id) FROM api_tokens
UNION ALL SELECT 'audit_events', max(id) FROM audit_events
UNION ALL SELECT 'invitations', max(id) FROM invitations
UNION ALL SELECT 'sessions', max(id) FROM sessions
UNION ALL SELECT 'one_time_codes', max(id) FROM one_time_codes
UNION ALL SELECT 'outbox_messages', max(id) FROM outbox_messages
UNION ALL SELECT 'agent_ids', max(id) FROM agent_ids
UNION ALL SELECT 'interactions', max(id) FROM interactions
UNION ALL SELECT 'impersonations', max(id) FROM impersonations
UNION ALL SELECT 'properties', max(id) FROM properties
UNION ALL SELECT 'skills', max(id) FROM skills
UNION ALL SELECT 'profiles', max(id) FROM profiles
UNION ALL SELECT 'coaching_plans', max(id) FROM coaching_plans
UNION ALL SELECT 'coaching_notes', max(id) FROM coaching_notes;
INSERT INTO temp.ids_given (name, seq)
WITH kinds (kind, name) AS (VALUES ('tenant', 'tenants'), ('group', 'org_groups'), ('role', 'roles'), ('user', 'users'),
    ('token', 'api_tokens'), ('invitation', 'invitations'), ('impersonation', 'impersonations'), ('agent', 'agent_ids'),
    ('property', 'properties'), ('skill', 'skills'), ('profile', 'profiles'), ('coaching_plan', 'coaching_plans'))
SELECT k.name, (SELECT max(e.target_id) FROM audit_events e WHERE e.tenant_id = t.id AND e.target_kind = k.kind)
FROM tenants t, kinds k;
INSERT INTO temp.ids_given (name, seq)
WITH kinds (kind, name) AS (VALUES ('user', 'users'), ('token', 'api_tokens'))
SELECT k.name, (SELECT max(e.actor_id) FROM audit_events e WHERE e.tenant_id = t.id AND e.actor_kind = k.kind)
FROM tenants t, kinds k;
INSERT INTO temp.ids_given (name, seq)
SELECT 'users', (SELECT max(i.user_id) FROM invitations i WHERE i.tenant_id = t.id) FROM tenants t;
DELETE FROM temp.ids_given WHERE seq IS NULL OR seq <= 0 OR seq >= 4294967296 OR name IS NULL;
DELETE FROM sqlite_sequence WHERE name IN (SELECT name FROM temp.ids_given);
INSERT INTO sqlite_sequence (name, seq) SELECT name, max(seq) FROM temp.ids_given GROUP BY name;
DROP TABLE temp.ids_given;
PRAGMA threads = 0;
