-- The grant rule's delegation: the role keys a role's holders may assign
-- without holding their permissions (seed 002: the Environment Manager
-- invites Operators, Content managers, Analysts, Producers and Developers).
ALTER TABLE roles ADD COLUMN assignable_roles TEXT NOT NULL DEFAULT '[]';
UPDATE roles SET assignable_roles = '["operator","content_manager","analyst","producer","developer"]'
    WHERE builtin = 1 AND key = 'environment_manager';

-- API tokens are bound to the person who made them (bound_user_id; NULL for
-- the operator's tenant service tokens) and may expire.
ALTER TABLE api_tokens ADD COLUMN created_by_kind TEXT NOT NULL DEFAULT 'system';
ALTER TABLE api_tokens ADD COLUMN bound_user_id INTEGER;
ALTER TABLE api_tokens ADD COLUMN created_by_name TEXT NOT NULL DEFAULT '';
ALTER TABLE api_tokens ADD COLUMN expires_at INTEGER;

-- Tokens made before: their maker is in the audit log. A token made by a
-- user is bound to that user; one made by a token to that token's user.
UPDATE api_tokens SET
    created_by_kind = (SELECT e.actor_kind FROM audit_events e WHERE e.tenant_id = api_tokens.tenant_id
        AND e.action = 'token.create' AND e.target_kind = 'token' AND e.target_id = api_tokens.id),
    created_by_name = (SELECT e.actor_name FROM audit_events e WHERE e.tenant_id = api_tokens.tenant_id
        AND e.action = 'token.create' AND e.target_kind = 'token' AND e.target_id = api_tokens.id),
    bound_user_id = (SELECT e.actor_id FROM audit_events e WHERE e.tenant_id = api_tokens.tenant_id
        AND e.action = 'token.create' AND e.target_kind = 'token' AND e.target_id = api_tokens.id AND e.actor_kind = 'user')
WHERE EXISTS (SELECT 1 FROM audit_events e WHERE e.tenant_id = api_tokens.tenant_id
        AND e.action = 'token.create' AND e.target_kind = 'token' AND e.target_id = api_tokens.id);
UPDATE api_tokens SET bound_user_id = (SELECT e.actor_id FROM audit_events e WHERE e.tenant_id = api_tokens.tenant_id
        AND e.action = 'token.create' AND e.target_kind = 'token' AND e.actor_kind = 'user'
        AND e.target_id = (SELECT p.actor_id FROM audit_events p WHERE p.tenant_id = api_tokens.tenant_id
            AND p.action = 'token.create' AND p.target_kind = 'token' AND p.target_id = api_tokens.id))
WHERE created_by_kind = 'token';
CREATE INDEX api_tokens_bound_user ON api_tokens (tenant_id, bound_user_id);
