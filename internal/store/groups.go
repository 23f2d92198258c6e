package store

import (
	"context"
	"database/sql"
	"errors"

	"github.com/roster-dev/roster/internal/roster"
)

const groupColumns = `id, tenant_id, parent_id, name, level, created_at, updated_at`

func scanGroup(s interface{ Scan(...any) error }) (roster.Group, error) {
	var g roster.Group
	var parent sql.NullInt64
	var created, updated int64
	err := s.Scan(&g.ID, &g.TenantID, &parent, &g.Name, &g.Level, &created, &updated)
	if parent.Valid {
		g.ParentID = &parent.Int64
	}
	g.CreatedAt, g.UpdatedAt = fromMS(created), fromMS(updated)
	return g, err
}

func (q *queries) CreateGroup(ctx context.Context, g *roster.Group) error {
	var err error
	g.ID, err = q.insert(ctx, `INSERT INTO org_groups (tenant_id, parent_id, name, level, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)`,
		g.TenantID, g.ParentID, g.Name, g.Level, ms(g.CreatedAt), ms(g.UpdatedAt))
	return err
}

func (q *queries) Group(ctx context.Context, tenantID, id int64) (*roster.Group, error) {
	g, err := scanGroup(q.queryRow(ctx, `SELECT `+groupColumns+` FROM org_groups WHERE tenant_id = ? AND id = ?`, tenantID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("group", id)
	}
	if err != nil {
		return nil, err
	}
	return &g, nil
}

func (q *queries) ListGroups(ctx context.Context, tenantID int64) ([]roster.Group, error) {
	rows, err := q.query(ctx, `SELECT `+groupColumns+` FROM org_groups WHERE tenant_id = ? ORDER BY level, lower(name), id`, tenantID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []roster.Group{}
	for rows.Next() {
		g, err := scanGroup(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// UpdateGroup also refreshes the copy of the name on its users.
func (q *queries) UpdateGroup(ctx context.Context, g *roster.Group) error {
	res, err := q.exec(ctx, `UPDATE org_groups SET parent_id = ?, name = ?, level = ?, updated_at = ? WHERE tenant_id = ? AND id = ?`,
		g.ParentID, g.Name, g.Level, ms(g.UpdatedAt), g.TenantID, g.ID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound("group", g.ID)
	}
	_, err = q.exec(ctx, `UPDATE users SET group_name = ? WHERE tenant_id = ? AND group_id = ? AND group_name <> ?`,
		g.Name, g.TenantID, g.ID, g.Name)
	return err
}

func (q *queries) DeleteGroup(ctx context.Context, tenantID, id int64) error {
	res, err := q.exec(ctx, `DELETE FROM org_groups WHERE tenant_id = ? AND id = ?`, tenantID, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound("group", id)
	}
	return nil
}

func (q *queries) GroupUsage(ctx context.Context, tenantID, id int64) (children, users int, err error) {
	err = q.queryRow(ctx, `SELECT
		(SELECT count(*) FROM org_groups WHERE tenant_id = ? AND parent_id = ?),
		(SELECT count(*) FROM users WHERE tenant_id = ? AND group_id = ?) +
		(SELECT count(*) FROM user_group_access WHERE tenant_id = ? AND group_id = ?)`,
		tenantID, id, tenantID, id, tenantID, id).Scan(&children, &users)
	return children, users, err
}
