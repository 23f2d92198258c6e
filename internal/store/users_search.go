package store

import (
	"context"
	"strings"

	"github.com/roster-dev/roster/internal/roster"
)

// exactMatches returns the ids of the tenant's users whose username, email
// or mobile number is exactly the term's (each a unique index, the mobile
// one users_mobile), at most one per field.
func (q *queries) exactMatches(ctx context.Context, tenantID int64, t roster.ExactTerm) ([]int64, error) {
	if !t.Any() {
		return nil, nil
	}
	var parts []string
	var args []any
	if t.Username != "" {
		// PostgreSQL's users_username_uq is on lower(username) COLLATE "C":
		// only the same expression finds it (equality is the same in both).
		col := "lower(username)"
		if q.d.dialect == Postgres {
			col += ` COLLATE "C"`
		}
		parts = append(parts, `SELECT id FROM users WHERE tenant_id = ? AND `+col+` = lower(?)`)
		args = append(args, tenantID, t.Username)
	}
	if t.Email != "" {
		parts = append(parts, `SELECT id FROM users WHERE tenant_id = ? AND email = ? AND email <> ''`)
		args = append(args, tenantID, t.Email)
	}
	if t.Mobile != "" {
		parts = append(parts, `SELECT id FROM users WHERE tenant_id = ? AND mobile = ? AND mobile <> ''`)
		args = append(args, tenantID, t.Mobile)
	}
	rows, err := q.queryKept(ctx, strings.Join(parts, " UNION "), args...) // seven texts at most
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}
