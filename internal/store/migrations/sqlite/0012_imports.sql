-- Bulk imports (docs/architecture.md, "Bulk import"): a validated file is
-- staged row by row in import_rows, then merged into users in bounded
-- chunks; each chunk deletes the rows it merged and counts them on its job
-- in the same transaction. A job interrupted while staging is rolled back
-- (nothing of it is visible); one interrupted while merging is finished by
-- `roster user import --resume`.
CREATE TABLE import_jobs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id   INTEGER NOT NULL REFERENCES tenants (id),
    state       TEXT NOT NULL CHECK (state IN ('staging', 'merging', 'done')),
    mode        TEXT NOT NULL CHECK (mode IN ('create', 'upsert')),
    invite      INTEGER NOT NULL DEFAULT 0,
    actor_kind  TEXT NOT NULL,
    actor_id    INTEGER NOT NULL DEFAULT 0,
    actor_name  TEXT NOT NULL DEFAULT '',
    total       INTEGER NOT NULL DEFAULT 0,
    created     INTEGER NOT NULL DEFAULT 0,
    updated     INTEGER NOT NULL DEFAULT 0,
    unchanged   INTEGER NOT NULL DEFAULT 0,
    -- The last staged row merged: the next chunk starts after it (a range
    -- of the primary key, never a walk over the deleted rows before it).
    merged_row  INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    UNIQUE (tenant_id, id)
);
CREATE INDEX import_jobs_open ON import_jobs (tenant_id, state);

CREATE TABLE import_rows (
    tenant_id INTEGER NOT NULL,
    job_id    INTEGER NOT NULL,
    row_no    INTEGER NOT NULL,
    data      TEXT NOT NULL,
    PRIMARY KEY (job_id, row_no),
    FOREIGN KEY (tenant_id, job_id) REFERENCES import_jobs (tenant_id, id) ON DELETE CASCADE
);
