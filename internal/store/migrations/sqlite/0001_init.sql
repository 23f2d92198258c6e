-- Roster schema, SQLite dialect. Times are Unix milliseconds (UTC).
CREATE TABLE tenants (
    id          INTEGER PRIMARY KEY,
    slug        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    settings    TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE TABLE org_groups (
    id          INTEGER PRIMARY KEY,
    tenant_id   INTEGER NOT NULL REFERENCES tenants (id),
    parent_id   INTEGER,
    name        TEXT NOT NULL,
    level       INTEGER NOT NULL CHECK (level >= 1),
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, parent_id) REFERENCES org_groups (tenant_id, id)
);
CREATE INDEX org_groups_parent ON org_groups (tenant_id, parent_id);

CREATE TABLE roles (
    id           INTEGER PRIMARY KEY,
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

CREATE TABLE users (
    id               INTEGER PRIMARY KEY,
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
    last_login_at    INTEGER,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    search           TEXT NOT NULL, -- lower-case name, username, email and mobile, for substring search
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, group_id) REFERENCES org_groups (tenant_id, id),
    CHECK (email <> '' OR mobile <> '')
);
CREATE UNIQUE INDEX users_username_uq ON users (tenant_id, lower(username));
CREATE UNIQUE INDEX users_email_uq ON users (tenant_id, email) WHERE email <> '';
CREATE UNIQUE INDEX users_agent_number_uq ON users (tenant_id, agent_number) WHERE agent_number IS NOT NULL;
CREATE INDEX users_name ON users (tenant_id, lower(name), id);
CREATE INDEX users_email ON users (tenant_id, email, id);
CREATE INDEX users_status_name ON users (tenant_id, status, lower(name), id);
CREATE INDEX users_group ON users (tenant_id, group_id, lower(name), id);
CREATE INDEX users_group_name ON users (tenant_id, lower(group_name), lower(name), id);
CREATE INDEX users_last_login ON users (tenant_id, last_login_at, id);

-- Trigram index over users.search: substring search without scanning. Its
-- rowids are tenant_id << 32 + id (ids stay below 2^32), so a tenant's rows
-- are one rowid range and a search never reads other tenants' matches.
-- Contentless: the text is in users already.
CREATE VIRTUAL TABLE users_fts USING fts5 (search, content = '', contentless_delete = 1, tokenize = 'trigram');
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

-- List totals kept by triggers, so that a total under status, group and role
-- filters is a sum of a few rows: counting 200k users costs 10 to 20 ms even
-- in the narrowest index. role_id 0: the users, per status and home group;
-- otherwise the holders of that role, per status (group_id 0). SQLite has
-- one writer at a time, so the counters are updated in place.
CREATE TABLE user_counts (
    tenant_id  INTEGER NOT NULL,
    role_id    INTEGER NOT NULL,
    status     TEXT NOT NULL,
    group_id   INTEGER NOT NULL,
    n          INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, role_id, status, group_id)
) WITHOUT ROWID;
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

CREATE TABLE user_roles (
    tenant_id  INTEGER NOT NULL,
    user_id    INTEGER NOT NULL,
    role_id    INTEGER NOT NULL,
    status     TEXT NOT NULL DEFAULT '', -- the user's status, kept by triggers (below)
    PRIMARY KEY (tenant_id, user_id, role_id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, role_id) REFERENCES roles (tenant_id, id)
);
-- With the status here, a list filtered by role and status is counted (and
-- started) in this index alone, without visiting each user.
CREATE INDEX user_roles_role ON user_roles (tenant_id, role_id, status, user_id);
CREATE TRIGGER user_roles_status_insert AFTER INSERT ON user_roles
WHEN new.status IS NOT (SELECT status FROM users WHERE tenant_id = new.tenant_id AND id = new.user_id) BEGIN
    UPDATE user_roles SET status = (SELECT status FROM users WHERE tenant_id = new.tenant_id AND id = new.user_id)
    WHERE tenant_id = new.tenant_id AND user_id = new.user_id AND role_id = new.role_id;
END;
CREATE TRIGGER user_roles_status_update AFTER UPDATE OF status ON users WHEN old.status IS NOT new.status BEGIN
    UPDATE user_roles SET status = new.status WHERE tenant_id = new.tenant_id AND user_id = new.id;
END;
-- Role holders in user_counts. An insert counts the user's status itself
-- (the copy may still be empty); a later change of the copy from empty is
-- that fill-in, not a move.
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

CREATE TABLE user_group_access (
    tenant_id  INTEGER NOT NULL,
    user_id    INTEGER NOT NULL,
    group_id   INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, user_id, group_id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, group_id) REFERENCES org_groups (tenant_id, id)
);
CREATE INDEX user_group_access_group ON user_group_access (tenant_id, group_id);

CREATE TABLE api_tokens (
    id            INTEGER PRIMARY KEY,
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
CREATE INDEX api_tokens_role ON api_tokens (tenant_id, role_id);

CREATE TABLE audit_events (
    id               INTEGER PRIMARY KEY,
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
CREATE INDEX audit_tenant ON audit_events (tenant_id, id);
CREATE INDEX audit_action ON audit_events (tenant_id, action, id);
CREATE INDEX audit_target ON audit_events (tenant_id, target_kind, target_id, id);
CREATE INDEX audit_actor ON audit_events (tenant_id, actor_kind, actor_id, id);
CREATE INDEX audit_at ON audit_events (tenant_id, at, id);
