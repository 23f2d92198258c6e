-- Console: the list filters each user saves ("Save filters" / "Reset to default").
CREATE TABLE console_saved_filters (
    tenant_id   INTEGER NOT NULL,
    user_id     INTEGER NOT NULL,
    list        TEXT NOT NULL, -- which list the filter belongs to, e.g. 'users'
    query       TEXT NOT NULL, -- the filter as URL query parameters
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, user_id, list),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
