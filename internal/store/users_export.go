package store

import (
	"context"
	"database/sql"
	"slices"
	"strconv"
	"strings"

	"github.com/roster-dev/roster/internal/roster"
)

// An export reads every user of a filter in one streaming query with the
// list columns joined (roles, group access, agent IDs as aggregates of
// their rows), so its cost is one pass over the users' rows and indexes:
// no page-by-page reads, no per-page lookups of roles, access and agent
// IDs. Items are joined with the ASCII record separator (30) and an agent
// ID's source and external id with the unit separator (31), which no key,
// id or agent ID holds.

func (d *DB) userLinkColumns() string {
	if d.dialect == Postgres {
		return `(SELECT string_agg(r.key, chr(30) ORDER BY r.id) FROM user_roles ur JOIN roles r ON r.tenant_id = ur.tenant_id AND r.id = ur.role_id
			WHERE ur.tenant_id = u.tenant_id AND ur.user_id = u.id),
		(SELECT string_agg(ga.group_id::text, chr(30) ORDER BY ga.group_id) FROM user_group_access ga WHERE ga.tenant_id = u.tenant_id AND ga.user_id = u.id),
		(SELECT string_agg(a.source || chr(31) || a.external_id, chr(30) ORDER BY a.id) FROM agent_ids a WHERE a.tenant_id = u.tenant_id AND a.user_id = u.id)`
	}
	return `(SELECT group_concat(r.key, char(30) ORDER BY r.id) FROM user_roles ur JOIN roles r ON r.tenant_id = ur.tenant_id AND r.id = ur.role_id
			WHERE ur.tenant_id = u.tenant_id AND ur.user_id = u.id),
		(SELECT group_concat(ga.group_id, char(30) ORDER BY ga.group_id) FROM user_group_access ga WHERE ga.tenant_id = u.tenant_id AND ga.user_id = u.id),
		(SELECT group_concat(a.source || char(31) || a.external_id, char(30) ORDER BY a.id) FROM agent_ids a WHERE a.tenant_id = u.tenant_id AND a.user_id = u.id)`
}

// streamUsers calls f.Stream for every user the conditions select with an
// id above f.After, in id order (UserFilter.Stream).
func (q *queries) streamUsers(ctx context.Context, where []string, args []any, sets []userSet, f roster.UserFilter) error {
	cond, condArgs := userConditions(append(slices.Clone(where), "id > ?"), append(slices.Clone(args), f.After), sets, false)
	rows, err := q.query(ctx, `SELECT `+userColumns+`, `+q.d.userLinkColumns()+` FROM users u WHERE `+cond+` ORDER BY u.id`, condArgs...)
	if err != nil {
		return err
	}
	defer rows.Close()
	var agents []roster.AgentKey
	for rows.Next() {
		var roles, access, held sql.NullString
		u, err := scanUser(rowsWith{rows, []any{&roles, &access, &held}})
		if err != nil {
			return err
		}
		if roles.String != "" {
			u.Roles = strings.Split(roles.String, "\x1e")
		}
		if access.String != "" {
			for _, g := range strings.Split(access.String, "\x1e") {
				id, err := strconv.ParseInt(g, 10, 64)
				if err != nil {
					return err
				}
				u.GroupAccess = append(u.GroupAccess, id)
			}
		}
		agents = agents[:0]
		if held.String != "" {
			for _, k := range strings.Split(held.String, "\x1e") {
				source, ext, _ := strings.Cut(k, "\x1f")
				agents = append(agents, roster.AgentKey{Source: source, ExternalID: ext})
			}
		}
		if err := f.Stream(&u, agents); err != nil {
			return err
		}
	}
	return q.d.mapErr(rows.Err())
}

// rowsWith scans the user's columns and then extra.
type rowsWith struct {
	rows  *sql.Rows
	extra []any
}

func (r rowsWith) Scan(dest ...any) error { return r.rows.Scan(append(dest, r.extra...)...) }
