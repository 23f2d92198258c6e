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
	var t roster.Tenant
	var settings string
	var created int64
	err := q.queryRow(ctx, `SELECT id, slug, name, settings, created_at FROM tenants WHERE `+where, arg).
		Scan(&t.ID, &t.Slug, &t.Name, &settings, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, roster.Errorf(roster.ENotFound, "no such tenant")
	}
	if err != nil {
		return nil, err
	}
	t.Settings = roster.DefaultTenantSettings()
	if err := json.Unmarshal([]byte(settings), &t.Settings); err != nil {
		return nil, err
	}
	t.CreatedAt = fromMS(created)
	return &t, nil
}
