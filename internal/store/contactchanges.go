package store

import (
	"context"

	"github.com/roster-dev/roster/internal/roster"
)

func (q *queries) ContactChanges(ctx context.Context, tenantID, userID int64) ([]roster.ContactChange, error) {
	rows, err := q.query(ctx, `SELECT field, value, code_hash, attempts, expires_at, created_at FROM contact_changes
		WHERE tenant_id = ? AND user_id = ? ORDER BY field`, tenantID, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []roster.ContactChange{}
	for rows.Next() {
		c := roster.ContactChange{TenantID: tenantID, UserID: userID}
		var expires, created int64
		if err := rows.Scan(&c.Field, &c.Value, &c.CodeHash, &c.Attempts, &expires, &created); err != nil {
			return nil, err
		}
		c.ExpiresAt, c.CreatedAt = fromMS(expires), fromMS(created)
		out = append(out, c)
	}
	return out, rows.Err()
}

func (q *queries) PutContactChange(ctx context.Context, c *roster.ContactChange) error {
	_, err := q.exec(ctx, `INSERT INTO contact_changes (tenant_id, user_id, field, value, code_hash, attempts, expires_at, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (tenant_id, user_id, field) DO UPDATE SET value = excluded.value, code_hash = excluded.code_hash,
			attempts = excluded.attempts, expires_at = excluded.expires_at, created_at = excluded.created_at`,
		c.TenantID, c.UserID, c.Field, c.Value, c.CodeHash, c.Attempts, ms(c.ExpiresAt), ms(c.CreatedAt))
	return err
}

func (q *queries) DeleteContactChange(ctx context.Context, tenantID, userID int64, field string) error {
	_, err := q.exec(ctx, `DELETE FROM contact_changes WHERE tenant_id = ? AND user_id = ? AND field = ?`, tenantID, userID, field)
	return err
}

func (q *queries) UserSessions(ctx context.Context, tenantID, userID int64) ([]roster.Session, error) {
	rows, err := q.query(ctx, `SELECT id, tenant_id, user_id, token_hash, created_at, last_seen_at, expires_at, ip, user_agent
		FROM sessions WHERE tenant_id = ? AND user_id = ? ORDER BY id DESC`, tenantID, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []roster.Session{}
	for rows.Next() {
		var s roster.Session
		var created, seen, expires int64
		if err := rows.Scan(&s.ID, &s.TenantID, &s.UserID, &s.TokenHash, &created, &seen, &expires, &s.IP, &s.UserAgent); err != nil {
			return nil, err
		}
		s.CreatedAt, s.LastSeenAt, s.ExpiresAt = fromMS(created), fromMS(seen), fromMS(expires)
		out = append(out, s)
	}
	return out, rows.Err()
}
