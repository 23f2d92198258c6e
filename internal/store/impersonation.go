package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/roster-dev/roster/internal/roster"
)

// "View as" sessions: an admin seeing the console as a user does.

const impersonationColumns = `id, tenant_id, user_id, impersonator_kind, impersonator_id, impersonator_name, hash, created_at, expires_at, ended_at`

func scanImpersonation(s interface{ Scan(...any) error }) (*roster.Impersonation, error) {
	var im roster.Impersonation
	var created, expires int64
	var ended sql.NullInt64
	err := s.Scan(&im.ID, &im.TenantID, &im.UserID, &im.ImpersonatorKind, &im.ImpersonatorID, &im.ImpersonatorName, &im.Hash,
		&created, &expires, &ended)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, roster.Errorf(roster.ENotFound, "no such impersonation")
	}
	if err != nil {
		return nil, err
	}
	im.CreatedAt, im.ExpiresAt, im.EndedAt = fromMS(created), fromMS(expires), fromNullMS(ended)
	return &im, nil
}

func (q *queries) CreateImpersonation(ctx context.Context, im *roster.Impersonation) error {
	var err error
	im.ID, err = q.insert(ctx, `INSERT INTO impersonations (tenant_id, user_id, impersonator_kind, impersonator_id, impersonator_name,
		hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, im.TenantID, im.UserID, im.ImpersonatorKind, im.ImpersonatorID,
		im.ImpersonatorName, im.Hash, ms(im.CreatedAt), ms(im.ExpiresAt))
	return err
}

func (q *queries) ImpersonationByHash(ctx context.Context, hash []byte) (*roster.Impersonation, error) {
	return scanImpersonation(q.queryRow(ctx, `SELECT `+impersonationColumns+` FROM impersonations WHERE hash = ?`, hash))
}

func (q *queries) ImpersonationByID(ctx context.Context, tenantID, id int64) (*roster.Impersonation, error) {
	return scanImpersonation(q.queryRow(ctx, `SELECT `+impersonationColumns+` FROM impersonations WHERE tenant_id = ? AND id = ?`, tenantID, id))
}

func (q *queries) EndImpersonation(ctx context.Context, tenantID, id int64, at time.Time) error {
	res, err := q.exec(ctx, `UPDATE impersonations SET ended_at = ? WHERE tenant_id = ? AND id = ? AND ended_at IS NULL`, ms(at), tenantID, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return roster.Errorf(roster.ENotFound, "this view-as has ended already")
	}
	return nil
}
