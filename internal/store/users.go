package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/roster-dev/roster/internal/roster"
)

const userColumns = `u.id, u.tenant_id, u.username, u.name, u.email, u.mobile, u.language, u.group_id, u.status,
	u.agent_number, u.nicknames, u.ring_to, u.scoring_enabled, u.roaming, u.queue_logged_on, u.last_login_at, u.created_at, u.updated_at`

func scanUser(s interface{ Scan(...any) error }) (roster.User, error) {
	var u roster.User
	var agent, lastLogin sql.NullInt64
	var nicknames string
	var created, updated int64
	err := s.Scan(&u.ID, &u.TenantID, &u.Username, &u.Name, &u.Email, &u.Mobile, &u.Language, &u.GroupID, &u.Status,
		&agent, &nicknames, &u.RingTo, &u.ScoringEnabled, &u.Roaming, &u.QueueLoggedOn, &lastLogin, &created, &updated)
	if err != nil {
		return u, err
	}
	if agent.Valid {
		u.AgentNumber = &agent.Int64
	}
	u.Nicknames = []string{}
	if err := json.Unmarshal([]byte(nicknames), &u.Nicknames); err != nil {
		return u, err
	}
	u.LastLoginAt = fromNullMS(lastLogin)
	u.CreatedAt, u.UpdatedAt = fromMS(created), fromMS(updated)
	u.Roles, u.GroupAccess = []string{}, []int64{}
	return u, nil
}

// searchText is what substring search looks in.
func searchText(u *roster.User) string {
	return strings.ToLower(u.Name + " " + u.Username + " " + u.Email + " " + u.Mobile)
}

func nullInt(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}

func (q *queries) CreateUser(ctx context.Context, u *roster.User) error {
	var err error
	u.ID, err = q.insert(ctx, `INSERT INTO users (tenant_id, username, name, email, mobile, language, group_id, group_name, status,
		agent_number, nicknames, ring_to, scoring_enabled, roaming, queue_logged_on, last_login_at, created_at, updated_at, search)
		VALUES (?, ?, ?, ?, ?, ?, ?, (SELECT name FROM org_groups WHERE tenant_id = ? AND id = ?), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		u.TenantID, u.Username, u.Name, u.Email, u.Mobile, u.Language, u.GroupID, u.TenantID, u.GroupID, u.Status,
		nullInt(u.AgentNumber), jsonText(u.Nicknames), u.RingTo, u.ScoringEnabled, u.Roaming, u.QueueLoggedOn,
		nullMS(u.LastLoginAt), ms(u.CreatedAt), ms(u.UpdatedAt), searchText(u))
	if err != nil {
		return err
	}
	return q.writeUserLinks(ctx, u, false)
}

func (q *queries) UpdateUser(ctx context.Context, u *roster.User) error {
	res, err := q.exec(ctx, `UPDATE users SET username = ?, name = ?, email = ?, mobile = ?, language = ?, group_id = ?,
		group_name = (SELECT name FROM org_groups WHERE tenant_id = ? AND id = ?), status = ?, agent_number = ?, nicknames = ?,
		ring_to = ?, scoring_enabled = ?, roaming = ?, queue_logged_on = ?, last_login_at = ?, updated_at = ?, search = ?
		WHERE tenant_id = ? AND id = ?`,
		u.Username, u.Name, u.Email, u.Mobile, u.Language, u.GroupID, u.TenantID, u.GroupID, u.Status, nullInt(u.AgentNumber),
		jsonText(u.Nicknames), u.RingTo, u.ScoringEnabled, u.Roaming, u.QueueLoggedOn, nullMS(u.LastLoginAt), ms(u.UpdatedAt),
		searchText(u), u.TenantID, u.ID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound("user", u.ID)
	}
	return q.writeUserLinks(ctx, u, true)
}

// writeUserLinks stores the user's roles and group access as rows.
func (q *queries) writeUserLinks(ctx context.Context, u *roster.User, replace bool) error {
	if replace {
		if _, err := q.exec(ctx, `DELETE FROM user_roles WHERE tenant_id = ? AND user_id = ?`, u.TenantID, u.ID); err != nil {
			return err
		}
		if _, err := q.exec(ctx, `DELETE FROM user_group_access WHERE tenant_id = ? AND user_id = ?`, u.TenantID, u.ID); err != nil {
			return err
		}
	}
	for _, key := range u.Roles {
		res, err := q.exec(ctx, `INSERT INTO user_roles (tenant_id, user_id, role_id)
			SELECT ?, ?, id FROM roles WHERE tenant_id = ? AND key = ?`, u.TenantID, u.ID, u.TenantID, key)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return roster.Errorf(roster.EInvalid, "no role with the key %q", key)
		}
	}
	for _, gid := range u.GroupAccess {
		if _, err := q.exec(ctx, `INSERT INTO user_group_access (tenant_id, user_id, group_id) VALUES (?, ?, ?)`, u.TenantID, u.ID, gid); err != nil {
			return err
		}
	}
	return nil
}

func (q *queries) User(ctx context.Context, tenantID, id int64) (*roster.User, error) {
	u, err := scanUser(q.queryRow(ctx, `SELECT `+userColumns+` FROM users u WHERE u.tenant_id = ? AND u.id = ?`, tenantID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("user", id)
	}
	if err != nil {
		return nil, err
	}
	users := []roster.User{u}
	if err := q.loadUserLinks(ctx, tenantID, users); err != nil {
		return nil, err
	}
	return &users[0], nil
}

// loadUserLinks fills roles and group access of a page of users with two queries.
func (q *queries) loadUserLinks(ctx context.Context, tenantID int64, users []roster.User) error {
	if len(users) == 0 {
		return nil
	}
	idx := make(map[int64]int, len(users))
	args := make([]any, 0, len(users)+1)
	args = append(args, tenantID)
	for i, u := range users {
		idx[u.ID] = i
		args = append(args, u.ID)
	}
	in := placeholders(len(users))
	rows, err := q.query(ctx, `SELECT ur.user_id, r.key FROM user_roles ur JOIN roles r ON r.tenant_id = ur.tenant_id AND r.id = ur.role_id
		WHERE ur.tenant_id = ? AND ur.user_id IN (`+in+`) ORDER BY r.id`, args...)
	if err != nil {
		return err
	}
	for rows.Next() {
		var uid int64
		var key string
		if err := rows.Scan(&uid, &key); err != nil {
			rows.Close()
			return err
		}
		users[idx[uid]].Roles = append(users[idx[uid]].Roles, key)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	rows, err = q.query(ctx, `SELECT user_id, group_id FROM user_group_access WHERE tenant_id = ? AND user_id IN (`+in+`) ORDER BY group_id`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var uid, gid int64
		if err := rows.Scan(&uid, &gid); err != nil {
			return err
		}
		users[idx[uid]].GroupAccess = append(users[idx[uid]].GroupAccess, gid)
	}
	return rows.Err()
}

func (q *queries) DeleteUser(ctx context.Context, tenantID, id int64) error {
	res, err := q.exec(ctx, `DELETE FROM users WHERE tenant_id = ? AND id = ?`, tenantID, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound("user", id)
	}
	return nil
}

func (q *queries) UserIDByField(ctx context.Context, tenantID int64, field string, value any) (int64, error) {
	var where string
	switch field {
	case "username":
		where = "lower(username) = lower(?)"
	case "email":
		where = "email = ? AND email <> ''"
	case "agent_number":
		where = "agent_number = ?"
	default:
		return 0, fmt.Errorf("store: UserIDByField: unknown field %q", field)
	}
	var id int64
	err := q.queryRow(ctx, `SELECT id FROM users WHERE tenant_id = ? AND `+where, tenantID, value).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return id, err
}

func (q *queries) UsedAgentNumbers(ctx context.Context, tenantID int64) ([]int64, error) {
	rows, err := q.query(ctx, `SELECT agent_number FROM users WHERE tenant_id = ? AND agent_number IS NOT NULL ORDER BY agent_number`, tenantID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []int64{}
	for rows.Next() {
		var n int64
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

func (q *queries) CountUsers(ctx context.Context, tenantID int64) (roster.UserCounts, error) {
	var c roster.UserCounts
	err := q.queryRow(ctx, `SELECT
		(SELECT count(*) FROM users WHERE tenant_id = ? AND status = 'active' AND last_login_at IS NOT NULL),
		(SELECT count(*) FROM users WHERE tenant_id = ? AND status = 'invited'),
		(SELECT count(*) FROM user_roles ur JOIN users u ON u.tenant_id = ur.tenant_id AND u.id = ur.user_id
			WHERE ur.tenant_id = ? AND ur.role_id = (SELECT id FROM roles WHERE tenant_id = ? AND key = 'admin') AND u.status <> 'deactivated'),
		(SELECT count(*) FROM users u WHERE u.tenant_id = ? AND u.status = 'active' AND NOT EXISTS (
			SELECT 1 FROM user_roles ur WHERE ur.tenant_id = u.tenant_id AND ur.user_id = u.id
			AND ur.role_id = (SELECT id FROM roles WHERE tenant_id = ? AND key = 'admin')))`,
		tenantID, tenantID, tenantID, tenantID, tenantID, tenantID).Scan(&c.Active, &c.Invited, &c.Admin, &c.Standard)
	return c, err
}

// sortColumns maps the public sort keys to indexed expressions.
func (d *DB) sortColumns(key string) []string {
	c := ""
	if d.dialect == Postgres {
		c = ` COLLATE "C"`
	}
	switch key {
	case "username":
		return []string{"lower(u.username)" + c}
	case "email":
		return []string{"u.email" + c}
	case "status":
		return []string{"u.status", "lower(u.name)" + c}
	case "group":
		return []string{"lower(u.group_name)" + c, "lower(u.name)" + c}
	case "last_login_at":
		return []string{"u.last_login_at"}
	case "created_at":
		return nil // ids grow with creation time
	default:
		return []string{"lower(u.name)" + c}
	}
}

// orderBy renders the ORDER BY list. SQLite sorts NULLs first ascending and
// last descending; PostgreSQL is told to do the same, so both dialects agree
// and a reversed order is exactly the reverse.
func (d *DB) orderBy(cols []string, desc bool) string {
	dir := " ASC"
	if desc {
		dir = " DESC"
	}
	parts := make([]string, 0, len(cols)+1)
	for _, c := range cols {
		p := c + dir
		if d.dialect == Postgres && c == "u.last_login_at" {
			if desc {
				p += " NULLS LAST"
			} else {
				p += " NULLS FIRST"
			}
		}
		parts = append(parts, p)
	}
	parts = append(parts, "u.id"+dir)
	return strings.Join(parts, ", ")
}

// likePattern escapes s for LIKE ... ESCAPE '\'.
func likePattern(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(strings.ToLower(s)) + "%"
}

// ListUsers returns one page and the total. Pages past the middle are read in
// the reverse order from the end, so the last page costs what the first does.
func (q *queries) ListUsers(ctx context.Context, tenantID int64, f roster.UserFilter) ([]roster.User, int, error) {
	where := []string{"u.tenant_id = ?"}
	args := []any{tenantID}
	if len(f.Statuses) > 0 {
		where = append(where, "u.status IN ("+placeholders(len(f.Statuses))+")")
		for _, s := range f.Statuses {
			args = append(args, s)
		}
	}
	if f.RoleID != 0 {
		where = append(where, "EXISTS (SELECT 1 FROM user_roles ur WHERE ur.tenant_id = u.tenant_id AND ur.user_id = u.id AND ur.role_id = ?)")
		args = append(args, f.RoleID)
	}
	if len(f.GroupIDs) > 0 {
		where = append(where, "u.group_id IN ("+placeholders(len(f.GroupIDs))+")")
		for _, g := range f.GroupIDs {
			args = append(args, g)
		}
	}
	if f.Query != "" {
		if q.d.dialect == SQLite && len([]rune(f.Query)) >= 3 {
			// The trigram index answers phrases of three or more characters.
			where = append(where, "u.id IN (SELECT rowid FROM users_fts WHERE users_fts MATCH ?)")
			args = append(args, `"`+strings.ReplaceAll(strings.ToLower(f.Query), `"`, `""`)+`"`)
		} else {
			where = append(where, `u.search LIKE ? ESCAPE '\'`)
			args = append(args, likePattern(f.Query))
		}
	}
	cond := strings.Join(where, " AND ")
	var total int
	if err := q.queryRow(ctx, `SELECT count(*) FROM users u WHERE `+cond, args...).Scan(&total); err != nil {
		return nil, 0, q.d.mapErr(err)
	}
	offset := (f.Page - 1) * f.PerPage
	if offset >= total {
		return []roster.User{}, total, nil
	}
	limit, desc, reversed := f.PerPage, f.Desc, false
	if offset > total/2 {
		reversed, desc = true, !desc
		end := offset + f.PerPage
		if end > total {
			end = total
		}
		limit = end - offset
		offset = total - end
	}
	rows, err := q.query(ctx, `SELECT `+userColumns+` FROM users u WHERE `+cond+
		` ORDER BY `+q.d.orderBy(q.d.sortColumns(f.Sort), desc)+` LIMIT ? OFFSET ?`, append(args, limit, offset)...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	users := make([]roster.User, 0, limit)
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
	if reversed {
		slices.Reverse(users)
	}
	return users, total, q.loadUserLinks(ctx, tenantID, users)
}
