package store

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/roster-dev/roster/internal/roster"
)

// The outbox: mail and SMS written in the change's transaction, claimed and
// sent by the deliverer.

const outboxColumns = `id, tenant_id, channel, recipient, language, kind, ref, subject, body_text, body_html, secret, status,
	attempts, next_attempt_at, last_error, created_at, updated_at, sent_at`

func scanOutbox(s interface{ Scan(...any) error }) (roster.OutboxMessage, error) {
	var m roster.OutboxMessage
	var secret sql.NullString
	var next, created, updated int64
	var sent sql.NullInt64
	err := s.Scan(&m.ID, &m.TenantID, &m.Channel, &m.Recipient, &m.Language, &m.Kind, &m.Ref, &m.Subject, &m.Text, &m.HTML,
		&secret, &m.Status, &m.Attempts, &next, &m.LastError, &created, &updated, &sent)
	m.Secret = secret.String
	m.NextAttemptAt, m.CreatedAt, m.UpdatedAt, m.SentAt = fromMS(next), fromMS(created), fromMS(updated), fromNullMS(sent)
	return m, err
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (q *queries) EnqueueMessage(ctx context.Context, m *roster.OutboxMessage) error {
	var err error
	m.ID, err = q.insert(ctx, `INSERT INTO outbox_messages (tenant_id, channel, recipient, language, kind, ref, subject, body_text,
		body_html, secret, status, attempts, next_attempt_at, last_error, created_at, updated_at, sent_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		m.TenantID, m.Channel, m.Recipient, m.Language, m.Kind, m.Ref, m.Subject, m.Text, m.HTML, nullString(m.Secret), m.Status,
		m.Attempts, ms(m.NextAttemptAt), m.LastError, ms(m.CreatedAt), ms(m.UpdatedAt), nullMS(m.SentAt))
	return err
}

func (q *queries) CancelPendingMessages(ctx context.Context, tenantID int64, ref string, now time.Time) error {
	_, err := q.exec(ctx, `UPDATE outbox_messages SET status = 'cancelled', secret = NULL, updated_at = ?
		WHERE tenant_id = ? AND ref = ? AND status = 'pending'`, ms(now), tenantID, ref)
	return err
}

func (q *queries) ListOutbox(ctx context.Context, tenantID int64, f roster.OutboxFilter) ([]roster.OutboxMessage, int, error) {
	where := []string{"tenant_id = ?"}
	args := []any{tenantID}
	if len(f.Statuses) > 0 {
		where = append(where, "status IN ("+placeholders(len(f.Statuses))+")")
		for _, s := range f.Statuses {
			args = append(args, s)
		}
	}
	if f.Channel != "" {
		where = append(where, "channel = ?")
		args = append(args, f.Channel)
	}
	cond := strings.Join(where, " AND ")
	var total int
	if err := q.queryRow(ctx, `SELECT count(*) FROM outbox_messages WHERE `+cond, args...).Scan(&total); err != nil {
		return nil, 0, q.d.mapErr(err)
	}
	rows, err := q.query(ctx, `SELECT `+outboxColumns+` FROM outbox_messages WHERE `+cond+` ORDER BY id DESC LIMIT ? OFFSET ?`,
		append(args, f.PerPage, (f.Page-1)*f.PerPage)...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	out := []roster.OutboxMessage{}
	for rows.Next() {
		m, err := scanOutbox(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, m)
	}
	return out, total, rows.Err()
}

// ClaimOutbox leases due messages. On PostgreSQL, FOR UPDATE SKIP LOCKED lets
// replicas claim side by side without waiting on or taking each other's
// rows; on SQLite the write transaction is taken up front (BEGIN IMMEDIATE),
// so two workers claim one after the other. An expired lease (a worker that
// died mid-delivery) makes the message claimable again.
func (q *queries) ClaimOutbox(ctx context.Context, now, leaseUntil time.Time, claim string, limit int) ([]roster.OutboxMessage, error) {
	lock := ""
	if q.d.dialect == Postgres {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	rows, err := q.query(ctx, `UPDATE outbox_messages SET lease_until = ?, claim = ?
		WHERE id IN (SELECT id FROM outbox_messages WHERE status = 'pending' AND next_attempt_at <= ?
			AND (lease_until IS NULL OR lease_until <= ?) ORDER BY next_attempt_at, id LIMIT ?`+lock+`)
		RETURNING `+outboxColumns, ms(leaseUntil), claim, ms(now), ms(now), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []roster.OutboxMessage
	for rows.Next() {
		m, err := scanOutbox(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

func (q *queries) FinishOutbox(ctx context.Context, m *roster.OutboxMessage, claim string) error {
	var secret any
	if m.Status == roster.OutboxPending {
		secret = nullString(m.Secret) // kept for the next attempt
	}
	res, err := q.exec(ctx, `UPDATE outbox_messages SET status = ?, attempts = ?, next_attempt_at = ?, last_error = ?, sent_at = ?,
		updated_at = ?, secret = ?, lease_until = NULL, claim = NULL
		WHERE tenant_id = ? AND id = ? AND claim = ? AND status = 'pending'`,
		m.Status, m.Attempts, ms(m.NextAttemptAt), m.LastError, nullMS(m.SentAt), ms(m.UpdatedAt), secret, m.TenantID, m.ID, claim)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return roster.Errorf(roster.ENotFound, "outbox message %d is no longer held by this worker", m.ID)
	}
	return nil
}
