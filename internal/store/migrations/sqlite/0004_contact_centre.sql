-- Contact-centre details, SQLite dialect: properties with inherited values,
-- skills and profiles, coaching plans.

-- A property is a tenant-defined setting. Values are JSON text, already
-- checked against the type by the core.
CREATE TABLE properties (
    id             INTEGER PRIMARY KEY,
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

-- Values set on a group; subgroups and users inherit them (computed on read).
CREATE TABLE group_property_values (
    tenant_id    INTEGER NOT NULL,
    group_id     INTEGER NOT NULL,
    property_id  INTEGER NOT NULL,
    value        TEXT NOT NULL,
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, group_id, property_id),
    FOREIGN KEY (tenant_id, group_id) REFERENCES org_groups (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, property_id) REFERENCES properties (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX group_property_values_property ON group_property_values (tenant_id, property_id);

-- A user's own overrides: keyed by user, so they survive a move.
CREATE TABLE user_property_values (
    tenant_id    INTEGER NOT NULL,
    user_id      INTEGER NOT NULL,
    property_id  INTEGER NOT NULL,
    value        TEXT NOT NULL,
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, user_id, property_id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, property_id) REFERENCES properties (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX user_property_values_property ON user_property_values (tenant_id, property_id);

-- The built-in examples for the tenants that exist already; new tenants get
-- them from the core (roster.CreateTenant).
INSERT INTO properties (tenant_id, key, label, type, default_value, choices, builtin, created_at, updated_at)
SELECT id, 'wrapup_timeout_phone', 'Wrap-up timeout, phone', 'duration', '60', '[]', 1, created_at, created_at FROM tenants;
INSERT INTO properties (tenant_id, key, label, type, default_value, choices, builtin, created_at, updated_at)
SELECT id, 'wrapup_timeout_chat', 'Wrap-up timeout, chat', 'duration', '30', '[]', 1, created_at, created_at FROM tenants;
INSERT INTO properties (tenant_id, key, label, type, default_value, choices, builtin, created_at, updated_at)
SELECT id, 'resource_filter', 'Resource filter', 'text', '""', '[]', 1, created_at, created_at FROM tenants;

CREATE TABLE skills (
    id          INTEGER PRIMARY KEY,
    tenant_id   INTEGER NOT NULL REFERENCES tenants (id),
    name        TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    UNIQUE (tenant_id, id)
);
CREATE UNIQUE INDEX skills_name_uq ON skills (tenant_id, lower(name));

-- A profile belongs to a group (a group profile) or to one user (personal).
CREATE TABLE profiles (
    id          INTEGER PRIMARY KEY,
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
CREATE UNIQUE INDEX profiles_group_name_uq ON profiles (tenant_id, group_id, lower(name)) WHERE group_id IS NOT NULL;
CREATE UNIQUE INDEX profiles_user_name_uq ON profiles (tenant_id, user_id, lower(name)) WHERE user_id IS NOT NULL;
CREATE INDEX profiles_group ON profiles (tenant_id, group_id);
CREATE INDEX profiles_user ON profiles (tenant_id, user_id);

CREATE TABLE profile_skills (
    tenant_id   INTEGER NOT NULL,
    profile_id  INTEGER NOT NULL,
    skill_id    INTEGER NOT NULL,
    level       INTEGER NOT NULL CHECK (level BETWEEN 1 AND 100),
    PRIMARY KEY (tenant_id, profile_id, skill_id),
    FOREIGN KEY (tenant_id, profile_id) REFERENCES profiles (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, skill_id) REFERENCES skills (tenant_id, id)
);
CREATE INDEX profile_skills_skill ON profile_skills (tenant_id, skill_id);

-- Group profiles a user has switched off. Available group profiles are
-- computed from the home group, so a new group profile is on for its users
-- at once, and a switch-off is kept across moves.
CREATE TABLE user_group_profiles_off (
    tenant_id   INTEGER NOT NULL,
    user_id     INTEGER NOT NULL,
    profile_id  INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, user_id, profile_id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, profile_id) REFERENCES profiles (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX user_group_profiles_off_profile ON user_group_profiles_off (tenant_id, profile_id);

CREATE TABLE coaching_plans (
    id               INTEGER PRIMARY KEY,
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
CREATE INDEX coaching_plans_agent ON coaching_plans (tenant_id, agent_user_id, status, id);
CREATE INDEX coaching_plans_status ON coaching_plans (tenant_id, status, id);

CREATE TABLE coaching_notes (
    id           INTEGER PRIMARY KEY,
    tenant_id    INTEGER NOT NULL,
    plan_id      INTEGER NOT NULL,
    text         TEXT NOT NULL,
    author_kind  TEXT NOT NULL,
    author_id    INTEGER NOT NULL,
    author_name  TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    FOREIGN KEY (tenant_id, plan_id) REFERENCES coaching_plans (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX coaching_notes_plan ON coaching_notes (tenant_id, plan_id, id);
