package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/roster-dev/roster/internal/roster"
)

const roleColumns = `id, tenant_id, key, name, description, scope, permissions, assignable_roles, builtin, hidden, created_at, updated_at`

func scanRole(s interface{ Scan(...any) error }) (roster.Role, error) {
	var r roster.Role
	var perms, assignable string
	var created, updated int64
	if err := s.Scan(&r.ID, &r.TenantID, &r.Key, &r.Name, &r.Description, &r.Scope, &perms, &assignable, &r.Builtin, &r.Hidden, &created, &updated); err != nil {
		return r, err
	}
	r.CreatedAt, r.UpdatedAt = fromMS(created), fromMS(updated)
	r.Permissions, r.AssignableRoles = []string{}, []string{}
	if err := json.Unmarshal([]byte(perms), &r.Permissions); err != nil {
		return r, err
	}
	return r, json.Unmarshal([]byte(assignable), &r.AssignableRoles)
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // string and int slices always marshal
	}
	return string(b)
}

func (q *queries) CreateRole(ctx context.Context, r *roster.Role) error {
	var err error
	r.ID, err = q.insert(ctx, `INSERT INTO roles (tenant_id, key, name, description, scope, permissions, assignable_roles, builtin, hidden, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.TenantID, r.Key, r.Name, r.Description, r.Scope, jsonText(r.Permissions), jsonText(nonNil(r.AssignableRoles)), r.Builtin, r.Hidden, ms(r.CreatedAt), ms(r.UpdatedAt))
	return err
}

func (q *queries) Role(ctx context.Context, tenantID, id int64) (*roster.Role, error) {
	r, err := scanRole(q.queryRow(ctx, `SELECT `+roleColumns+` FROM roles WHERE tenant_id = ? AND id = ?`, tenantID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("role", id)
	}
	if err != nil {
		return nil, err
	}
	return &r, nil
}

func (q *queries) ListRoles(ctx context.Context, tenantID int64) ([]roster.Role, error) {
	rows, err := q.query(ctx, `SELECT `+roleColumns+` FROM roles WHERE tenant_id = ? ORDER BY builtin DESC, id`, tenantID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []roster.Role{}
	for rows.Next() {
		r, err := scanRole(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func (q *queries) UpdateRole(ctx context.Context, r *roster.Role) error {
	res, err := q.exec(ctx, `UPDATE roles SET name = ?, description = ?, scope = ?, permissions = ?, assignable_roles = ?, updated_at = ? WHERE tenant_id = ? AND id = ?`,
		r.Name, r.Description, r.Scope, jsonText(r.Permissions), jsonText(nonNil(r.AssignableRoles)), ms(r.UpdatedAt), r.TenantID, r.ID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound("role", r.ID)
	}
	return nil
}

func (q *queries) DeleteRole(ctx context.Context, tenantID, id int64) error {
	res, err := q.exec(ctx, `DELETE FROM roles WHERE tenant_id = ? AND id = ?`, tenantID, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound("role", id)
	}
	return nil
}

func (q *queries) RoleHolders(ctx context.Context, tenantID, roleID int64) (int, error) {
	var n int
	err := q.queryRow(ctx, `SELECT
		(SELECT count(*) FROM user_roles WHERE tenant_id = ? AND role_id = ?) +
		(SELECT count(*) FROM api_tokens WHERE tenant_id = ? AND role_id = ? AND revoked_at IS NULL)`,
		tenantID, roleID, tenantID, roleID).Scan(&n)
	return n, err
}

// nonNil stores an absent list as [] rather than null.
func nonNil(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

func (q *queries) CreateToken(ctx context.Context, t *roster.APIToken) error {
	var err error
	t.ID, err = q.insert(ctx, `INSERT INTO api_tokens (tenant_id, name, role_id, hash, created_by_kind, created_by_name, bound_user_id, parent_token_id, expires_at, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		t.TenantID, t.Name, t.RoleID, t.Hash, t.CreatedByKind, t.CreatedByName, t.BoundUserID, t.ParentID, nullMS(t.ExpiresAt), ms(t.CreatedAt))
	return err
}

const tokenColumns = `t.id, t.tenant_id, t.name, t.role_id, r.key, t.hash, t.created_by_kind, t.created_by_name, t.bound_user_id,
	t.parent_token_id, t.created_at, t.last_used_at, t.expires_at, t.revoked_at`

const tokenFrom = ` FROM api_tokens t JOIN roles r ON r.tenant_id = t.tenant_id AND r.id = t.role_id`

func scanToken(s interface{ Scan(...any) error }) (roster.APIToken, error) {
	var t roster.APIToken
	var created int64
	var bound, parent, used, expires, revoked sql.NullInt64
	err := s.Scan(&t.ID, &t.TenantID, &t.Name, &t.RoleID, &t.Role, &t.Hash, &t.CreatedByKind, &t.CreatedByName, &bound,
		&parent, &created, &used, &expires, &revoked)
	if err != nil {
		return t, err
	}
	if bound.Valid {
		t.BoundUserID = &bound.Int64
	}
	if parent.Valid {
		t.ParentID = &parent.Int64
	}
	t.Service = !bound.Valid
	t.CreatedAt, t.LastUsedAt, t.ExpiresAt, t.RevokedAt = fromMS(created), fromNullMS(used), fromNullMS(expires), fromNullMS(revoked)
	return t, nil
}

func (q *queries) TokenByHash(ctx context.Context, hash []byte) (*roster.APIToken, error) {
	t, err := scanToken(q.queryRowKept(ctx, `SELECT `+tokenColumns+tokenFrom+` WHERE t.hash = ?`, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, roster.Errorf(roster.ENotFound, "no such token")
	}
	if err != nil {
		return nil, err
	}
	return &t, nil
}

func (q *queries) Token(ctx context.Context, tenantID, id int64) (*roster.APIToken, error) {
	t, err := scanToken(q.queryRow(ctx, `SELECT `+tokenColumns+tokenFrom+` WHERE t.tenant_id = ? AND t.id = ?`, tenantID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("API token", id)
	}
	if err != nil {
		return nil, err
	}
	return &t, nil
}

func (q *queries) listTokens(ctx context.Context, where string, args ...any) ([]roster.APIToken, error) {
	rows, err := q.query(ctx, `SELECT `+tokenColumns+tokenFrom+` WHERE `+where+` ORDER BY t.id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []roster.APIToken{}
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

func (q *queries) ListTokens(ctx context.Context, tenantID int64) ([]roster.APIToken, error) {
	return q.listTokens(ctx, `t.tenant_id = ?`, tenantID)
}

func (q *queries) RevokeToken(ctx context.Context, tenantID, id int64, at time.Time) error {
	res, err := q.exec(ctx, `UPDATE api_tokens SET revoked_at = ? WHERE tenant_id = ? AND id = ? AND revoked_at IS NULL`, ms(at), tenantID, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound("API token", id)
	}
	return nil
}

func (q *queries) RevokeUserTokens(ctx context.Context, tenantID, userID int64, at time.Time) ([]roster.APIToken, error) {
	live, err := q.listTokens(ctx, `t.tenant_id = ? AND t.bound_user_id = ? AND t.revoked_at IS NULL`, tenantID, userID)
	if err != nil || len(live) == 0 {
		return live, err
	}
	if _, err := q.exec(ctx, `UPDATE api_tokens SET revoked_at = ? WHERE tenant_id = ? AND bound_user_id = ? AND revoked_at IS NULL`,
		ms(at), tenantID, userID); err != nil {
		return nil, err
	}
	for i := range live {
		live[i].RevokedAt = &at
	}
	return live, nil
}

func (q *queries) LiveTokenChildren(ctx context.Context, tenantID, parentID int64) ([]roster.APIToken, error) {
	return q.listTokens(ctx, `t.tenant_id = ? AND t.parent_token_id = ? AND t.revoked_at IS NULL`, tenantID, parentID)
}

func (q *queries) TouchToken(ctx context.Context, tenantID, id int64, at time.Time) error {
	_, err := q.exec(ctx, `UPDATE api_tokens SET last_used_at = ? WHERE tenant_id = ? AND id = ?`, ms(at), tenantID, id)
	return err
}
