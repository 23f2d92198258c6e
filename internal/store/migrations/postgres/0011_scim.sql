-- SCIM: the identity provider's own id of a user (externalId, RFC 7643 §3.1),
-- case-exact, filterable on an index. The index is not partial: a partial
-- one (external_id <> '') could not serve "external_id = $1" in a generic plan.
ALTER TABLE users ADD COLUMN external_id TEXT NOT NULL DEFAULT '';
CREATE INDEX users_external_id ON users (tenant_id, external_id COLLATE "C");
