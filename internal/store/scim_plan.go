package store

import (
	"context"
	"strings"

	"github.com/roster-dev/roster/internal/roster"
)

// SCIMPlan returns the query plan of a SCIM user filter's count, for the
// test that the filters identity providers send can run on indexes. On
// PostgreSQL sequential scans are switched off for it, since on a small
// table the planner rightly prefers one.
func (d *DB) SCIMPlan(ctx context.Context, tenantID int64, f *roster.SCIMFilter) (string, error) {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return "", err
	}
	defer tx.Rollback()
	q := &queries{q: tx, d: d}
	cond, args, err := q.scimWhere(tenantID, f)
	if err != nil {
		return "", err
	}
	explain := "EXPLAIN QUERY PLAN "
	if d.dialect == Postgres {
		explain = "EXPLAIN "
		if _, err := tx.ExecContext(ctx, "SET LOCAL enable_seqscan = off"); err != nil {
			return "", err
		}
	}
	rows, err := q.query(ctx, explain+`SELECT count(*) FROM users u WHERE u.tenant_id = ? AND `+cond, append([]any{tenantID}, args...)...)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var lines []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return "", err
		}
		var parts []string
		for _, v := range vals {
			if b, ok := v.([]byte); ok {
				v = string(b)
			}
			if s, ok := v.(string); ok {
				parts = append(parts, s)
			}
		}
		lines = append(lines, strings.Join(parts, " "))
	}
	return strings.Join(lines, "\n"), rows.Err()
}
