package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/roster-dev/roster/internal/roster"
)

// Invitations: one per invited user, found by id, token or user.

const invitationColumns = `id, tenant_id, user_id, email, name, username, token_hash, status, expires_at, send_count,
	last_sent_at, invited_by_kind, invited_by_id, invited_by_name, accepted_at, cancelled_at, created_at, updated_at`

func scanInvitation(s interface{ Scan(...any) error }) (roster.Invitation, error) {
	var inv roster.Invitation
	var expires, lastSent, created, updated int64
	var accepted, cancelled sql.NullInt64
	err := s.Scan(&inv.ID, &inv.TenantID, &inv.UserID, &inv.Email, &inv.Name, &inv.Username, &inv.TokenHash, &inv.Status,
		&expires, &inv.SendCount, &lastSent, &inv.InvitedByKind, &inv.InvitedByID, &inv.InvitedByName, &accepted, &cancelled,
		&created, &updated)
	inv.ExpiresAt, inv.LastSentAt, inv.CreatedAt, inv.UpdatedAt = fromMS(expires), fromMS(lastSent), fromMS(created), fromMS(updated)
	inv.AcceptedAt, inv.CancelledAt = fromNullMS(accepted), fromNullMS(cancelled)
	return inv, err
}

func (q *queries) CreateInvitation(ctx context.Context, inv *roster.Invitation) error {
	var err error
	inv.ID, err = q.insert(ctx, `INSERT INTO invitations (tenant_id, user_id, email, name, username, token_hash, status, expires_at,
		send_count, last_sent_at, invited_by_kind, invited_by_id, invited_by_name, accepted_at, cancelled_at, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		inv.TenantID, inv.UserID, inv.Email, inv.Name, inv.Username, inv.TokenHash, inv.Status, ms(inv.ExpiresAt),
		inv.SendCount, ms(inv.LastSentAt), inv.InvitedByKind, inv.InvitedByID, inv.InvitedByName, nullMS(inv.AcceptedAt),
		nullMS(inv.CancelledAt), ms(inv.CreatedAt), ms(inv.UpdatedAt))
	return err
}

func (q *queries) oneInvitation(ctx context.Context, where string, args ...any) (*roster.Invitation, error) {
	inv, err := scanInvitation(q.queryRow(ctx, `SELECT `+invitationColumns+` FROM invitations WHERE `+where, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, roster.Errorf(roster.ENotFound, "no such invitation")
	}
	if err != nil {
		return nil, err
	}
	return &inv, nil
}

func (q *queries) Invitation(ctx context.Context, tenantID, id int64) (*roster.Invitation, error) {
	inv, err := q.oneInvitation(ctx, `tenant_id = ? AND id = ?`, tenantID, id)
	if roster.ErrorCode(err) == roster.ENotFound {
		return nil, notFound("invitation", id)
	}
	return inv, err
}

func (q *queries) InvitationByTokenHash(ctx context.Context, hash []byte) (*roster.Invitation, error) {
	return q.oneInvitation(ctx, `token_hash = ?`, hash)
}

func (q *queries) PendingInvitationOfUser(ctx context.Context, tenantID, userID int64) (*roster.Invitation, error) {
	return q.oneInvitation(ctx, `tenant_id = ? AND user_id = ? AND status = 'pending' ORDER BY id DESC LIMIT 1`, tenantID, userID)
}

func (q *queries) UpdateInvitation(ctx context.Context, inv *roster.Invitation) error {
	res, err := q.exec(ctx, `UPDATE invitations SET email = ?, name = ?, username = ?, token_hash = ?, status = ?, expires_at = ?,
		send_count = ?, last_sent_at = ?, accepted_at = ?, cancelled_at = ?, updated_at = ? WHERE tenant_id = ? AND id = ?`,
		inv.Email, inv.Name, inv.Username, inv.TokenHash, inv.Status, ms(inv.ExpiresAt), inv.SendCount, ms(inv.LastSentAt), nullMS(inv.AcceptedAt),
		nullMS(inv.CancelledAt), ms(inv.UpdatedAt), inv.TenantID, inv.ID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound("invitation", inv.ID)
	}
	return nil
}

func (q *queries) ListInvitations(ctx context.Context, tenantID int64, f roster.InvitationFilter) ([]roster.Invitation, int, error) {
	where := []string{"tenant_id = ?"}
	args := []any{tenantID}
	if len(f.Statuses) > 0 {
		var or []string
		for _, st := range f.Statuses {
			switch st {
			case roster.InvitationPending:
				or = append(or, "(status = 'pending' AND expires_at > ?)")
				args = append(args, ms(f.Now))
			case roster.InvitationExpired:
				or = append(or, "(status = 'pending' AND expires_at <= ?)")
				args = append(args, ms(f.Now))
			default:
				or = append(or, "status = ?")
				args = append(args, st)
			}
		}
		where = append(where, "("+strings.Join(or, " OR ")+")")
	}
	if f.Scope != nil { // a scoped actor: invitations of users in their groups
		c, a := scopeCondition(f.Scope, tenantID, "user_id")
		where = append(where, c)
		args = append(args, a...)
	}
	cond := strings.Join(where, " AND ")
	var total int
	if err := q.queryRow(ctx, `SELECT count(*) FROM invitations WHERE `+cond, args...).Scan(&total); err != nil {
		return nil, 0, q.d.mapErr(err)
	}
	rows, err := q.query(ctx, `SELECT `+invitationColumns+` FROM invitations WHERE `+cond+` ORDER BY id DESC LIMIT ? OFFSET ?`,
		append(args, f.PerPage, (f.Page-1)*f.PerPage)...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	out := []roster.Invitation{}
	for rows.Next() {
		inv, err := scanInvitation(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, inv)
	}
	return out, total, rows.Err()
}
