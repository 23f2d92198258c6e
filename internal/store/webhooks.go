package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/roster-dev/roster/internal/roster"
)

// Webhooks and their deliveries: a second outbox beside outbox_messages,
// with its own worker lane (internal/delivery), so webhook endpoints and
// mail never wait on each other.

const webhookColumns = `id, tenant_id, url, events, description, enabled, created_at, updated_at, previous_until`

func scanWebhook(s interface{ Scan(...any) error }) (roster.Webhook, error) {
	var w roster.Webhook
	var events string
	var created, updated int64
	var prevUntil sql.NullInt64
	if err := s.Scan(&w.ID, &w.TenantID, &w.URL, &events, &w.Description, &w.Enabled, &created, &updated, &prevUntil); err != nil {
		return w, err
	}
	w.CreatedAt, w.UpdatedAt, w.PreviousSecretUntil = fromMS(created), fromMS(updated), fromNullMS(prevUntil)
	w.Events = []string{}
	return w, json.Unmarshal([]byte(events), &w.Events)
}

func (q *queries) CreateWebhook(ctx context.Context, w *roster.Webhook, s *roster.WebhookSecrets) error {
	var err error
	w.ID, err = q.insert(ctx, `INSERT INTO webhooks (tenant_id, url, events, description, enabled, secret_sealed, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		w.TenantID, w.URL, jsonText(w.Events), w.Description, w.Enabled, s.Sealed, ms(w.CreatedAt), ms(w.UpdatedAt))
	return err
}

func (q *queries) Webhook(ctx context.Context, tenantID, id int64) (*roster.Webhook, error) {
	w, err := scanWebhook(q.queryRow(ctx, `SELECT `+webhookColumns+` FROM webhooks WHERE tenant_id = ? AND id = ?`, tenantID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("webhook", id)
	}
	if err != nil {
		return nil, err
	}
	return &w, nil
}

func (q *queries) listWebhooks(ctx context.Context, query string, args ...any) ([]roster.Webhook, error) {
	rows, err := q.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []roster.Webhook{}
	for rows.Next() {
		w, err := scanWebhook(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, rows.Err()
}

func (q *queries) ListWebhooks(ctx context.Context, tenantID int64) ([]roster.Webhook, error) {
	return q.listWebhooks(ctx, `SELECT `+webhookColumns+` FROM webhooks WHERE tenant_id = ? ORDER BY id`, tenantID)
}

func (q *queries) EnabledWebhooks(ctx context.Context, tenantID int64) ([]roster.Webhook, error) {
	return q.listWebhooks(ctx, `SELECT `+webhookColumns+` FROM webhooks WHERE tenant_id = ? AND enabled = ? ORDER BY id`, tenantID, true)
}

func (q *queries) UpdateWebhook(ctx context.Context, w *roster.Webhook) error {
	res, err := q.exec(ctx, `UPDATE webhooks SET url = ?, events = ?, description = ?, enabled = ?, updated_at = ?
		WHERE tenant_id = ? AND id = ?`, w.URL, jsonText(w.Events), w.Description, w.Enabled, ms(w.UpdatedAt), w.TenantID, w.ID)
	return affectedOne(res, err, "webhook", w.ID)
}

func (q *queries) WebhookSecretsOf(ctx context.Context, tenantID, id int64) (*roster.WebhookSecrets, error) {
	var s roster.WebhookSecrets
	var until sql.NullInt64
	err := q.queryRow(ctx, `SELECT secret_sealed, previous_sealed, previous_until FROM webhooks WHERE tenant_id = ? AND id = ?`,
		tenantID, id).Scan(&s.Sealed, &s.PreviousSealed, &until)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("webhook", id)
	}
	s.PreviousUntil = fromNullMS(until)
	return &s, err
}

func (q *queries) SetWebhookSecrets(ctx context.Context, tenantID, id int64, s *roster.WebhookSecrets, at time.Time) error {
	res, err := q.exec(ctx, `UPDATE webhooks SET secret_sealed = ?, previous_sealed = ?, previous_until = ?, updated_at = ?
		WHERE tenant_id = ? AND id = ?`, s.Sealed, s.PreviousSealed, nullMS(s.PreviousUntil), ms(at), tenantID, id)
	return affectedOne(res, err, "webhook", id)
}

func (q *queries) DeleteWebhook(ctx context.Context, tenantID, id int64) error {
	res, err := q.exec(ctx, `DELETE FROM webhooks WHERE tenant_id = ? AND id = ?`, tenantID, id)
	return affectedOne(res, err, "webhook", id)
}

func affectedOne(res sql.Result, err error, kind string, id int64) error {
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound(kind, id)
	}
	return nil
}

const deliveryColumns = `d.id, d.tenant_id, d.webhook_id, d.msg_id, d.event_type, d.payload, d.status, d.attempts, d.next_attempt_at,
	d.response_code, d.last_error, d.created_at, d.updated_at, d.delivered_at`

func scanDelivery(s interface{ Scan(...any) error }, extra ...any) (roster.WebhookDelivery, error) {
	var d roster.WebhookDelivery
	var next, created, updated int64
	var code, delivered sql.NullInt64
	dest := append([]any{&d.ID, &d.TenantID, &d.WebhookID, &d.MsgID, &d.EventType, &d.Payload, &d.Status, &d.Attempts, &next,
		&code, &d.LastError, &created, &updated, &delivered}, extra...)
	if err := s.Scan(dest...); err != nil {
		return d, err
	}
	d.NextAttemptAt, d.CreatedAt, d.UpdatedAt, d.DeliveredAt = fromMS(next), fromMS(created), fromMS(updated), fromNullMS(delivered)
	if code.Valid {
		c := int(code.Int64)
		d.ResponseCode = &c
	}
	return d, nil
}

func (q *queries) EnqueueDelivery(ctx context.Context, d *roster.WebhookDelivery) error {
	var err error
	d.ID, err = q.insert(ctx, `INSERT INTO webhook_deliveries (tenant_id, webhook_id, msg_id, event_type, payload, status, attempts,
		next_attempt_at, last_error, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		d.TenantID, d.WebhookID, d.MsgID, d.EventType, d.Payload, d.Status, d.Attempts, ms(d.NextAttemptAt), d.LastError,
		ms(d.CreatedAt), ms(d.UpdatedAt))
	return err
}

func (q *queries) ListDeliveries(ctx context.Context, tenantID, webhookID int64, page, perPage int) ([]roster.WebhookDelivery, int, error) {
	var total int
	if err := q.queryRow(ctx, `SELECT count(*) FROM webhook_deliveries WHERE tenant_id = ? AND webhook_id = ?`,
		tenantID, webhookID).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := q.query(ctx, `SELECT `+deliveryColumns+` FROM webhook_deliveries d WHERE d.tenant_id = ? AND d.webhook_id = ?
		ORDER BY d.id DESC LIMIT ? OFFSET ?`, tenantID, webhookID, perPage, (page-1)*perPage)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	out := []roster.WebhookDelivery{}
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, d)
	}
	return out, total, rows.Err()
}

// ClaimDeliveries leases the oldest due delivery of each enabled webhook
// that has none in flight. The lease test is repeated outside the subquery:
// on PostgreSQL a replica that claimed the same row first makes this
// statement's update of it re-check, and skip it.
func (q *queries) ClaimDeliveries(ctx context.Context, now, leaseUntil time.Time, claim string, limit int) ([]roster.ClaimedDelivery, error) {
	n := ms(now)
	ids, err := q.query(ctx, `SELECT min(d.id) FROM webhook_deliveries d JOIN webhooks w ON w.tenant_id = d.tenant_id AND w.id = d.webhook_id
		WHERE d.status = 'pending' AND d.next_attempt_at <= ? AND (d.lease_until IS NULL OR d.lease_until <= ?) AND w.enabled = ?
		  AND NOT EXISTS (SELECT 1 FROM webhook_deliveries b WHERE b.webhook_id = d.webhook_id AND b.status = 'pending' AND b.lease_until > ?)
		GROUP BY d.webhook_id ORDER BY min(d.next_attempt_at) LIMIT ?`, n, n, true, n, limit)
	if err != nil {
		return nil, err
	}
	var pick []any
	for ids.Next() {
		var id int64
		if err := ids.Scan(&id); err != nil {
			ids.Close()
			return nil, err
		}
		pick = append(pick, id)
	}
	ids.Close()
	if err := ids.Err(); err != nil || len(pick) == 0 {
		return nil, err
	}
	rows, err := q.query(ctx, `UPDATE webhook_deliveries SET lease_until = ?, claim = ?
		WHERE id IN (`+placeholders(len(pick))+`) AND status = 'pending' AND (lease_until IS NULL OR lease_until <= ?)
		RETURNING id`, append(append([]any{ms(leaseUntil), claim}, pick...), n)...)
	if err != nil {
		return nil, err
	}
	var got []any
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		got = append(got, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(got) == 0 {
		return nil, err
	}
	full, err := q.query(ctx, `SELECT `+deliveryColumns+`, w.url, w.secret_sealed, w.previous_sealed, w.previous_until
		FROM webhook_deliveries d JOIN webhooks w ON w.tenant_id = d.tenant_id AND w.id = d.webhook_id
		WHERE d.id IN (`+placeholders(len(got))+`) AND d.claim = ? ORDER BY d.id`, append(got, claim)...)
	if err != nil {
		return nil, err
	}
	defer full.Close()
	var out []roster.ClaimedDelivery
	for full.Next() {
		var c roster.ClaimedDelivery
		var until sql.NullInt64
		d, err := scanDelivery(full, &c.URL, &c.Secrets.Sealed, &c.Secrets.PreviousSealed, &until)
		if err != nil {
			return nil, err
		}
		c.WebhookDelivery, c.Secrets.PreviousUntil = d, fromNullMS(until)
		out = append(out, c)
	}
	return out, full.Err()
}

func (q *queries) FinishDelivery(ctx context.Context, d *roster.WebhookDelivery, claim string) error {
	var code any
	if d.ResponseCode != nil {
		code = *d.ResponseCode
	}
	res, err := q.exec(ctx, `UPDATE webhook_deliveries SET status = ?, attempts = ?, next_attempt_at = ?, response_code = ?, last_error = ?,
		updated_at = ?, delivered_at = ?, lease_until = NULL, claim = NULL
		WHERE tenant_id = ? AND id = ? AND claim = ? AND status = 'pending'`,
		d.Status, d.Attempts, ms(d.NextAttemptAt), code, d.LastError, ms(d.UpdatedAt), nullMS(d.DeliveredAt), d.TenantID, d.ID, claim)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return roster.Errorf(roster.ENotFound, "webhook delivery %d is no longer held by this worker", d.ID)
	}
	return nil
}

func (q *queries) PruneDeliveries(ctx context.Context, before time.Time) error {
	_, err := q.exec(ctx, `DELETE FROM webhook_deliveries WHERE status <> 'pending' AND updated_at < ?`, ms(before))
	return err
}

// ServerKey returns the key named name, stored once by whichever replica
// asks first (value made by make); the others read the same one.
func (d *DB) ServerKey(ctx context.Context, name string, make func() string) (string, error) {
	if _, err := d.db.ExecContext(ctx, d.rebind(`INSERT INTO server_keys (name, value, created_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO NOTHING`), name, make(), time.Now().UnixMilli()); err != nil {
		return "", d.mapErr(err)
	}
	var v string
	err := d.db.QueryRowContext(ctx, d.rebind(`SELECT value FROM server_keys WHERE name = ?`), name).Scan(&v)
	return v, d.mapErr(err)
}
