package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/roster-dev/roster/internal/roster"
)

// ReserveIdempotencyKey inserts rec, or returns the record its key has.
func (q *queries) ReserveIdempotencyKey(ctx context.Context, rec *roster.IdempotencyRecord) (*roster.IdempotencyRecord, error) {
	res, err := q.exec(ctx, `INSERT INTO idempotency_keys (tenant_id, actor, idem_key, fingerprint, status, content_type, location, body, created_at)
		VALUES (?, ?, ?, ?, 0, '', '', ?, ?) ON CONFLICT (tenant_id, actor, idem_key) DO NOTHING`,
		rec.TenantID, rec.Actor, rec.Key, rec.Fingerprint, []byte{}, ms(rec.CreatedAt))
	if err != nil {
		return nil, err
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return nil, err
	}
	old := &roster.IdempotencyRecord{TenantID: rec.TenantID, Actor: rec.Actor, Key: rec.Key}
	var created int64
	err = q.queryRow(ctx, `SELECT fingerprint, status, content_type, location, body, created_at FROM idempotency_keys
		WHERE tenant_id = ? AND actor = ? AND idem_key = ?`, rec.TenantID, rec.Actor, rec.Key).
		Scan(&old.Fingerprint, &old.Answer.Status, &old.Answer.ContentType, &old.Answer.Location, &old.Answer.Body, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, roster.Errorf(roster.EConflict, "the idempotency key changed while it was read; try again")
	}
	if err != nil {
		return nil, err
	}
	old.CreatedAt = fromMS(created)
	return old, nil
}

// FinishIdempotencyKey records the answer of a reserved key.
func (q *queries) FinishIdempotencyKey(ctx context.Context, rec *roster.IdempotencyRecord) error {
	body := rec.Answer.Body
	if body == nil {
		body = []byte{}
	}
	_, err := q.exec(ctx, `UPDATE idempotency_keys SET status = ?, content_type = ?, location = ?, body = ?
		WHERE tenant_id = ? AND actor = ? AND idem_key = ?`,
		rec.Answer.Status, rec.Answer.ContentType, rec.Answer.Location, body, rec.TenantID, rec.Actor, rec.Key)
	return err
}

// DeleteIdempotencyKey forgets a key.
func (q *queries) DeleteIdempotencyKey(ctx context.Context, tenantID int64, actor, key string) error {
	_, err := q.exec(ctx, `DELETE FROM idempotency_keys WHERE tenant_id = ? AND actor = ? AND idem_key = ?`, tenantID, actor, key)
	return err
}

// PurgeIdempotencyKeys drops the keys made before the window.
func (q *queries) PurgeIdempotencyKeys(ctx context.Context, before time.Time) error {
	_, err := q.exec(ctx, `DELETE FROM idempotency_keys WHERE created_at < ?`, ms(before))
	return err
}
