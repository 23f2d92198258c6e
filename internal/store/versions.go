package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/roster-dev/roster/internal/roster"
)

// versionSources: where each versioned resource keeps its change time. A
// token changes only when it is revoked.
var versionSources = map[string]struct{ table, column, by string }{
	roster.KindUser:         {"users", "updated_at", "id"},
	roster.KindGroup:        {"org_groups", "updated_at", "id"},
	roster.KindRole:         {"roles", "updated_at", "id"},
	roster.KindProperty:     {"properties", "updated_at", "key"},
	roster.KindSkill:        {"skills", "updated_at", "id"},
	roster.KindProfile:      {"profiles", "updated_at", "id"},
	roster.KindCoachingPlan: {"coaching_plans", "updated_at", "id"},
	roster.KindToken:        {"api_tokens", "COALESCE(revoked_at, created_at)", "id"},
	roster.KindInvitation:   {"invitations", "updated_at", "id"},
	roster.KindWebhook:      {"webhooks", "updated_at", "id"},
}

// LockVersion reads a resource's change time and locks its row until the
// transaction ends. SQLite's write transactions hold the database's write
// lock from their start (BEGIN IMMEDIATE), so there the read alone is enough;
// PostgreSQL locks the row (FOR UPDATE) and, under READ COMMITTED, answers
// the version committed by whoever held the lock before.
func (q *queries) LockVersion(ctx context.Context, kind string, tenantID int64, ref any) (time.Time, error) {
	src, ok := versionSources[kind]
	if !ok {
		return time.Time{}, fmt.Errorf("LockVersion: unknown kind %q", kind)
	}
	query := `SELECT ` + src.column + ` FROM ` + src.table + ` WHERE tenant_id = ? AND ` + src.by + ` = ?`
	if q.d.dialect == Postgres {
		query += ` FOR UPDATE`
	}
	var at int64
	err := q.queryRow(ctx, query, tenantID, ref).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, roster.Errorf(roster.ENotFound, "no %s %v", kind, ref)
	}
	if err != nil {
		return time.Time{}, err
	}
	return fromMS(at), nil
}

// TouchVersion sets the change time of a user or a group.
func (q *queries) TouchVersion(ctx context.Context, kind string, tenantID, id int64, at time.Time) error {
	src, ok := versionSources[kind]
	if !ok || src.column != "updated_at" || src.by != "id" {
		return fmt.Errorf("TouchVersion: kind %q has no change time to set", kind)
	}
	_, err := q.exec(ctx, `UPDATE `+src.table+` SET updated_at = ? WHERE tenant_id = ? AND id = ?`, ms(at), tenantID, id)
	return err
}
