package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

func (q *queries) SavedFilter(ctx context.Context, tenantID, userID int64, list string) (string, error) {
	var query string
	err := q.queryRow(ctx, `SELECT query FROM console_saved_filters WHERE tenant_id = ? AND user_id = ? AND list = ?`,
		tenantID, userID, list).Scan(&query)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return query, err
}

func (q *queries) SaveFilter(ctx context.Context, tenantID, userID int64, list, query string, at time.Time) error {
	_, err := q.exec(ctx, `INSERT INTO console_saved_filters (tenant_id, user_id, list, query, updated_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (tenant_id, user_id, list) DO UPDATE SET query = excluded.query, updated_at = excluded.updated_at`,
		tenantID, userID, list, query, ms(at))
	return err
}

func (q *queries) DeleteSavedFilter(ctx context.Context, tenantID, userID int64, list string) error {
	_, err := q.exec(ctx, `DELETE FROM console_saved_filters WHERE tenant_id = ? AND user_id = ? AND list = ?`, tenantID, userID, list)
	return err
}
