package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"

	"github.com/roster-dev/roster/internal/roster"
)

const roleColumns = `id, tenant_id, key, name, description, scope, permissions, builtin, hidden, created_at, updated_at`

func scanRole(s interface{ Scan(...any) error }) (roster.Role, error) {
	var r roster.Role
	var perms string
	var created, updated int64
	if err := s.Scan(&r.ID, &r.TenantID, &r.Key, &r.Name, &r.Description, &r.Scope, &perms, &r.Builtin, &r.Hidden, &created, &updated); err != nil {
		return r, err
	}
	r.CreatedAt, r.UpdatedAt = fromMS(created), fromMS(updated)
	r.Permissions = []string{}
	return r, json.Unmarshal([]byte(perms), &r.Permissions)
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
	r.ID, err = q.insert(ctx, `INSERT INTO roles (tenant_id, key, name, description, scope, permissions, builtin, hidden, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.TenantID, r.Key, r.Name, r.Description, r.Scope, jsonText(r.Permissions), r.Builtin, r.Hidden, ms(r.CreatedAt), ms(r.UpdatedAt))
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
	res, err := q.exec(ctx, `UPDATE roles SET name = ?, description = ?, scope = ?, permissions = ?, updated_at = ? WHERE tenant_id = ? AND id = ?`,
		r.Name, r.Description, r.Scope, jsonText(r.Permissions), ms(r.UpdatedAt), r.TenantID, r.ID)
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

func (q *queries) CreateToken(ctx context.Context, t *roster.APIToken) error {
	var err error
	t.ID, err = q.insert(ctx, `INSERT INTO api_tokens (tenant_id, name, role_id, hash, created_at) VALUES (?, ?, ?, ?, ?)`,
		t.TenantID, t.Name, t.RoleID, t.Hash, ms(t.CreatedAt))
	return err
}

func (q *queries) TokenByHash(ctx context.Context, hash []byte) (*roster.APIToken, error) {
	var t roster.APIToken
	var created int64
	var revoked, used sql.NullInt64
	err := q.queryRowKept(ctx, `SELECT id, tenant_id, name, role_id, hash, created_at, revoked_at, last_used_at FROM api_tokens WHERE hash = ?`, hash).
		Scan(&t.ID, &t.TenantID, &t.Name, &t.RoleID, &t.Hash, &created, &revoked, &used)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, roster.Errorf(roster.ENotFound, "no such token")
	}
	if err != nil {
		return nil, err
	}
	t.CreatedAt, t.RevokedAt, t.LastUsedAt = fromMS(created), fromNullMS(revoked), fromNullMS(used)
	return &t, nil
}
