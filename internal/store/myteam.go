package store

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/roster-dev/roster/internal/roster"
)

// The queries behind My Team. Each reads only the rows of one page of users
// through an index: users by (tenant, group, name), agent IDs by (tenant,
// user), interactions by (tenant, agent ID, start).

func (q *queries) TeamMembers(ctx context.Context, tenantID int64, f roster.TeamFilter) ([]roster.User, int, error) {
	where := []string{"u.tenant_id = ?", "u.status IN ('invited', 'active')"}
	args := []any{tenantID}
	if !f.AllGroups {
		if len(f.GroupIDs) == 0 {
			return []roster.User{}, 0, nil
		}
		where = append(where, "u.group_id IN ("+placeholders(len(f.GroupIDs))+")")
		for _, g := range f.GroupIDs {
			args = append(args, g)
		}
	}
	if f.ExceptUserID != 0 {
		where = append(where, "u.id <> ?")
		args = append(args, f.ExceptUserID)
	}
	if f.Role != "" {
		where = append(where, `EXISTS (SELECT 1 FROM user_roles ur JOIN roles r ON r.tenant_id = ur.tenant_id AND r.id = ur.role_id
			WHERE ur.tenant_id = u.tenant_id AND ur.user_id = u.id AND r.key = ?)`)
		args = append(args, f.Role)
	}
	cond := strings.Join(where, " AND ")
	var total int
	if err := q.queryRow(ctx, `SELECT count(*) FROM users u WHERE `+cond, args...).Scan(&total); err != nil {
		return nil, 0, q.d.mapErr(err)
	}
	order := q.d.orderBy(q.d.sortColumns("name"), false)
	if !f.AllGroups && q.d.dialect == SQLite {
		// A team is a few groups: read them through users_group and sort
		// the few rows ("+" hides the name index), instead of walking the
		// tenant's users in name order. PostgreSQL decides from statistics.
		order = "+lower(u.name), u.id"
	}
	rows, err := q.query(ctx, `SELECT `+userColumns+` FROM users u WHERE `+cond+` ORDER BY `+order+
		` LIMIT ? OFFSET ?`, append(args, f.PerPage, (f.Page-1)*f.PerPage)...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	users := []roster.User{}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, 0, err
		}
		users = append(users, u)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	return users, total, q.loadUserLinks(ctx, tenantID, users)
}

func (q *queries) AgentIDsOfUsers(ctx context.Context, tenantID int64, userIDs []int64) ([]roster.AgentID, error) {
	if len(userIDs) == 0 {
		return []roster.AgentID{}, nil
	}
	args := []any{tenantID}
	for _, id := range userIDs {
		args = append(args, id)
	}
	return q.scanAgents(ctx, `SELECT `+agentColumns+agentFrom+`WHERE a.tenant_id = ? AND a.user_id IN (`+placeholders(len(userIDs))+
		`) ORDER BY a.user_id, a.source, a.external_id`, args...)
}

func (q *queries) AgentActivity(ctx context.Context, tenantID int64, agentIDs []int64, from, to time.Time) ([]roster.AgentActivity, error) {
	if len(agentIDs) == 0 {
		return []roster.AgentActivity{}, nil
	}
	args := []any{tenantID}
	for _, id := range agentIDs {
		args = append(args, id)
	}
	args = append(args, ms(from), ms(to))
	rows, err := q.query(ctx, `SELECT agent_id, count(*), max(started_at) FROM interactions
		WHERE tenant_id = ? AND agent_id IN (`+placeholders(len(agentIDs))+`) AND started_at >= ? AND started_at < ?
		GROUP BY agent_id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []roster.AgentActivity{}
	for rows.Next() {
		var a roster.AgentActivity
		var last sql.NullInt64
		if err := rows.Scan(&a.AgentID, &a.Interactions, &last); err != nil {
			return nil, err
		}
		a.LastAt = fromNullMS(last)
		out = append(out, a)
	}
	return out, rows.Err()
}
