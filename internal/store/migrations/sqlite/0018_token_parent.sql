-- A token made by a token remembers its maker, so revoking a token revokes
-- every token it made (a leaked token cannot leave a backdoor behind).
ALTER TABLE api_tokens ADD COLUMN parent_token_id INTEGER;
UPDATE api_tokens SET parent_token_id = (SELECT e.actor_id FROM audit_events e WHERE e.tenant_id = api_tokens.tenant_id
    AND e.action = 'token.create' AND e.target_kind = 'token' AND e.target_id = api_tokens.id AND e.actor_kind = 'token')
WHERE created_by_kind = 'token';
CREATE INDEX api_tokens_parent ON api_tokens (tenant_id, parent_token_id);
