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

// userColumns reads a user from users u; the last sign-in time is kept in
// user_logins (one row per user, see migration user_logins).
const userColumns = `u.id, u.tenant_id, u.username, u.name, u.email, u.mobile, u.language, u.group_id, u.status,
	u.agent_number, u.nicknames, u.ring_to, u.scoring_enabled, u.roaming, u.queue_logged_on,
	(SELECT l.last_login_at FROM user_logins l WHERE l.tenant_id = u.tenant_id AND l.user_id = u.id), u.created_at, u.updated_at`

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
	u.Roles, u.GroupAccess, u.AgentIDs = []string{}, []int64{}, []int64{}
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
		agent_number, nicknames, ring_to, scoring_enabled, roaming, queue_logged_on, created_at, updated_at, search)
		VALUES (?, ?, ?, ?, ?, ?, ?, (SELECT name FROM org_groups WHERE tenant_id = ? AND id = ?), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		u.TenantID, u.Username, u.Name, u.Email, u.Mobile, u.Language, u.GroupID, u.TenantID, u.GroupID, u.Status,
		nullInt(u.AgentNumber), jsonText(u.Nicknames), u.RingTo, u.ScoringEnabled, u.Roaming, u.QueueLoggedOn,
		ms(u.CreatedAt), ms(u.UpdatedAt), searchText(u))
	if err != nil {
		return err
	}
	return q.writeUserLinks(ctx, u, false)
}

func (q *queries) UpdateUser(ctx context.Context, u *roster.User) error {
	res, err := q.exec(ctx, `UPDATE users SET username = ?, name = ?, email = ?, mobile = ?, language = ?, group_id = ?,
		group_name = (SELECT name FROM org_groups WHERE tenant_id = ? AND id = ?), status = ?, agent_number = ?, nicknames = ?,
		ring_to = ?, scoring_enabled = ?, roaming = ?, queue_logged_on = ?, updated_at = ?, search = ?
		WHERE tenant_id = ? AND id = ?`,
		u.Username, u.Name, u.Email, u.Mobile, u.Language, u.GroupID, u.TenantID, u.GroupID, u.Status, nullInt(u.AgentNumber),
		jsonText(u.Nicknames), u.RingTo, u.ScoringEnabled, u.Roaming, u.QueueLoggedOn, ms(u.UpdatedAt),
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
		res, err := q.exec(ctx, `INSERT INTO user_roles (tenant_id, user_id, role_id, name_key)
			SELECT ?, ?, id, (SELECT lower(name) FROM users WHERE tenant_id = ? AND id = ?) FROM roles WHERE tenant_id = ? AND key = ?`,
			u.TenantID, u.ID, u.TenantID, u.ID, u.TenantID, key)
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
	// A full page's links have one query text per page size, an exact
	// lookup's one per match (at most three): kept prepared.
	query := q.query
	if len(users) <= 3 || slices.Contains(roster.PerPageChoices, len(users)) {
		query = q.queryKept
	}
	rows, err := query(ctx, `SELECT ur.user_id, r.key FROM user_roles ur JOIN roles r ON r.tenant_id = ur.tenant_id AND r.id = ur.role_id
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
	rows, err = query(ctx, `SELECT user_id, group_id FROM user_group_access WHERE tenant_id = ? AND user_id IN (`+in+`) ORDER BY group_id`, args...)
	if err != nil {
		return err
	}
	for rows.Next() {
		var uid, gid int64
		if err := rows.Scan(&uid, &gid); err != nil {
			rows.Close()
			return err
		}
		users[idx[uid]].GroupAccess = append(users[idx[uid]].GroupAccess, gid)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	return q.loadUserAgentIDs(ctx, tenantID, in, args, users, idx, query)
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
		(SELECT count(*) FROM users u JOIN user_logins l ON l.tenant_id = u.tenant_id AND l.user_id = u.id
			WHERE u.tenant_id = ? AND u.status = 'active' AND l.last_login_at IS NOT NULL),
		(SELECT count(*) FROM users WHERE tenant_id = ? AND status = 'invited'),
		(SELECT count(*) FROM user_roles ur JOIN users u ON u.tenant_id = ur.tenant_id AND u.id = ur.user_id
			WHERE ur.tenant_id = ? AND ur.role_id = (SELECT id FROM roles WHERE tenant_id = ? AND key = 'admin') AND u.status <> 'deactivated'),
		(SELECT count(*) FROM users u WHERE u.tenant_id = ? AND u.status = 'active' AND NOT EXISTS (
			SELECT 1 FROM user_roles ur WHERE ur.tenant_id = u.tenant_id AND ur.user_id = u.id
			AND ur.role_id = (SELECT id FROM roles WHERE tenant_id = ? AND key = 'admin')))`,
		tenantID, tenantID, tenantID, tenantID, tenantID, tenantID).Scan(&c.Active, &c.Invited, &c.Admin, &c.Standard)
	return c, err
}
