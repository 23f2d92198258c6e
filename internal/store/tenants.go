package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"

	"github.com/roster-dev/roster/internal/roster"
)

func (q *queries) CreateTenant(ctx context.Context, t *roster.Tenant) error {
	settings, err := json.Marshal(t.Settings)
	if err != nil {
		return err
	}
	t.ID, err = q.insert(ctx, `INSERT INTO tenants (slug, name, settings, created_at) VALUES (?, ?, ?, ?)`,
		t.Slug, t.Name, string(settings), ms(t.CreatedAt))
	return err
}

func (q *queries) TenantByID(ctx context.Context, id int64) (*roster.Tenant, error) {
	return q.tenant(ctx, "id = ?", id)
}

func (q *queries) TenantBySlug(ctx context.Context, slug string) (*roster.Tenant, error) {
	t, err := q.tenant(ctx, "slug = ?", slug)
	if roster.ErrorCode(err) == roster.ENotFound {
		return nil, roster.Errorf(roster.ENotFound, "no tenant %q", slug)
	}
	return t, err
}

func (q *queries) tenant(ctx context.Context, where string, arg any) (*roster.Tenant, error) {
	t, err := scanTenant(q.queryRow(ctx, `SELECT id, slug, name, settings, created_at FROM tenants WHERE `+where, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, roster.Errorf(roster.ENotFound, "no such tenant")
	}
	return t, err
}

func scanTenant(s interface{ Scan(...any) error }) (*roster.Tenant, error) {
	var t roster.Tenant
	var settings string
	var created int64
	if err := s.Scan(&t.ID, &t.Slug, &t.Name, &settings, &created); err != nil {
		return nil, err
	}
	t.Settings = roster.DefaultTenantSettings()
	if err := json.Unmarshal([]byte(settings), &t.Settings); err != nil {
		return nil, err
	}
	t.CreatedAt = fromMS(created)
	return &t, nil
}

func (q *queries) UpdateTenant(ctx context.Context, t *roster.Tenant) error {
	settings, err := json.Marshal(t.Settings)
	if err != nil {
		return err
	}
	res, err := q.exec(ctx, `UPDATE tenants SET name = ?, settings = ? WHERE id = ?`, t.Name, string(settings), t.ID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return roster.Errorf(roster.ENotFound, "no such tenant")
	}
	return nil
}

func (q *queries) ListTenants(ctx context.Context) ([]roster.Tenant, error) {
	rows, err := q.query(ctx, `SELECT id, slug, name, settings, created_at FROM tenants ORDER BY slug`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []roster.Tenant{}
	for rows.Next() {
		t, err := scanTenant(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *t)
	}
	return out, rows.Err()
}

func (q *queries) UserLanguages(ctx context.Context, tenantID int64) (map[string]int, error) {
	rows, err := q.query(ctx, `SELECT language, count(*) FROM users WHERE tenant_id = ? GROUP BY language`, tenantID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var lang string
		var n int
		if err := rows.Scan(&lang, &n); err != nil {
			return nil, err
		}
		out[lang] = n
	}
	return out, rows.Err()
}
