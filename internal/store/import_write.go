package store

import (
	"context"

	"strings"

	"github.com/roster-dev/roster/internal/roster"
)

// The bulk writes of an import: the statements of CreateUser, AddAudit and
// HoldAgentID with many rows each. The rows are the same and every trigger
// fires for each of them (search index, counts, the decision index's change
// log), so a user imported is stored exactly like one created alone.

// bulkUsersPerInsert keeps an insert's parameters (20 a user) well under
// SQLite's limit.
const bulkUsersPerInsert = 200

func (q *queries) CreateUsers(ctx context.Context, tenantID int64, users []*roster.User) error {
	roleIDs := map[string]int64{}
	rows, err := q.query(ctx, `SELECT key, id FROM roles WHERE tenant_id = ?`, tenantID)
	if err != nil {
		return err
	}
	for rows.Next() {
		var k string
		var id int64
		if err := rows.Scan(&k, &id); err != nil {
			rows.Close()
			return err
		}
		roleIDs[k] = id
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	return chunked(users, bulkUsersPerInsert, func(part []*roster.User) error {
		args := make([]any, 0, 20*len(part))
		vals := make([]string, len(part))
		byName := make(map[string]*roster.User, len(part))
		for i, u := range part {
			vals[i] = "(?, ?, ?, ?, ?, ?, ?, (SELECT name FROM org_groups WHERE tenant_id = ? AND id = ?), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
			args = append(args, tenantID, u.Username, u.Name, u.Email, u.Mobile, u.Language, u.GroupID, tenantID, u.GroupID, u.Status,
				nullInt(u.AgentNumber), jsonText(u.Nicknames), u.RingTo, u.ScoringEnabled, u.Roaming, u.QueueLoggedOn,
				ms(u.CreatedAt), ms(u.UpdatedAt), searchText(u))
			byName[strings.ToLower(u.Username)] = u
		}
		res, err := q.query(ctx, `INSERT INTO users (tenant_id, username, name, email, mobile, language, group_id, group_name, status,
			agent_number, nicknames, ring_to, scoring_enabled, roaming, queue_logged_on, created_at, updated_at, search)
			VALUES `+strings.Join(vals, ", ")+` RETURNING id, username`, args...)
		if err != nil {
			return err
		}
		for res.Next() {
			var id int64
			var name string
			if err := res.Scan(&id, &name); err != nil {
				res.Close()
				return err
			}
			byName[strings.ToLower(name)].ID = id
		}
		res.Close()
		if err := res.Err(); err != nil {
			return q.d.mapErr(err)
		}
		var links, access []any
		nLinks, nAccess := 0, 0
		for _, u := range part {
			u.TenantID = tenantID
			for _, k := range u.Roles {
				id, ok := roleIDs[k]
				if !ok {
					return roster.Errorf(roster.EInvalid, "no role with the key %q", k)
				}
				// The status and name copies as the triggers would set them.
				links = append(links, tenantID, u.ID, id, u.Status, strings.ToLower(u.Name))
				nLinks++
			}
			for _, g := range u.GroupAccess {
				access = append(access, tenantID, u.ID, g)
				nAccess++
			}
		}
		if err := q.insertRows(ctx, `INSERT INTO user_roles (tenant_id, user_id, role_id, status, name_key) VALUES `, 5, nLinks, links); err != nil {
			return err
		}
		return q.insertRows(ctx, `INSERT INTO user_group_access (tenant_id, user_id, group_id) VALUES `, 3, nAccess, access)
	})
}

// insertRows runs head with n rows of k values, 1000 values at most per statement.
func (q *queries) insertRows(ctx context.Context, head string, k, n int, args []any) error {
	per := max(1, 1000/k)
	for n > 0 {
		m := min(per, n)
		if _, err := q.exec(ctx, head+valueRows(m, k), args[:m*k]...); err != nil {
			return err
		}
		args, n = args[m*k:], n-m
	}
	return nil
}

func (q *queries) AddAudits(ctx context.Context, events []*roster.AuditEvent) error {
	return chunked(events, 70, func(part []*roster.AuditEvent) error {
		args := make([]any, 0, 13*len(part))
		for _, e := range part {
			args = append(args, e.TenantID, e.ActorKind, e.ActorID, e.ActorName, e.ImpersonatorID, e.Action, e.TargetKind, e.TargetID,
				nullText(e.Before), nullText(e.After), e.IP, e.UserAgent, ms(e.At))
		}
		_, err := q.exec(ctx, `INSERT INTO audit_events (tenant_id, actor_kind, actor_id, actor_name, impersonator_id, action,
			target_kind, target_id, before, after, ip, user_agent, at) VALUES `+valueRows(len(part), 13), args...)
		return err
	})
}

func (q *queries) HoldAgentIDs(ctx context.Context, tenantID int64, holds []roster.AgentHold) error {
	return chunked(holds, 300, func(part []roster.AgentHold) error {
		var cases strings.Builder
		args := make([]any, 0, 3*len(part)+1)
		ids := make([]any, 0, len(part))
		cases.WriteString("CASE id")
		for _, h := range part {
			cases.WriteString(" WHEN ? THEN CAST(? AS BIGINT)")
			args = append(args, h.AgentID, h.UserID)
			ids = append(ids, h.AgentID)
		}
		cases.WriteString(" END")
		args = append(args, tenantID)
		args = append(args, ids...)
		res, err := q.exec(ctx, `UPDATE agent_ids SET user_id = `+cases.String()+` WHERE tenant_id = ? AND id IN (`+
			placeholders(len(part))+`) AND user_id IS NULL`, args...)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); int(n) != len(part) {
			return roster.Errorf(roster.EConflict, "%d of %d agent IDs were given to other users meanwhile", len(part)-int(n), len(part))
		}
		return nil
	})
}
