package store

import (
	"context"
	"slices"
	"strings"

	"github.com/roster-dev/roster/internal/roster"
)

// The Users list: filters, sort orders and the paging strategies behind them.

// sortColumns maps the public sort keys to indexed expressions, ending in a
// key unique in the tenant, so that pages never overlap and the order is an
// index's order (PostgreSQL compares in the indexes' "C" collation).
func (d *DB) sortColumns(key string) []string {
	c := ""
	if d.dialect == Postgres {
		c = ` COLLATE "C"`
	}
	switch key {
	case "username":
		// Unique already (users_username_uq): a tie-breaker would make
		// PostgreSQL sort instead of walking that index.
		return []string{"lower(u.username)" + c}
	case "email":
		return []string{"u.email" + c, "u.id"}
	case "status":
		return []string{"u.status", "lower(u.name)" + c, "u.id"}
	case "group":
		return []string{"lower(u.group_name)" + c, "lower(u.name)" + c, "u.id"}
	case "last_login_at":
		// user_logins l, in the order of user_logins_order.
		return []string{"l.last_login_at", "l.user_id"}
	case "created_at":
		return []string{"u.id"} // ids grow with creation time
	default:
		return []string{"lower(u.name)" + c, "u.id"}
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
	parts := make([]string, 0, len(cols))
	for _, c := range cols {
		p := c + dir
		if d.dialect == Postgres && c == "l.last_login_at" {
			if desc {
				p += " NULLS LAST"
			} else {
				p += " NULLS FIRST"
			}
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, ", ")
}

// prefixCond matches users whose name starts with term (lower case): one
// range of the name index, [term, term + the highest code point), which
// both dialects compare bytewise (PostgreSQL's index in "C").
func (d *DB) prefixCond(term string) (string, []any) {
	lo := strings.ToLower(term)
	col := "lower(name)"
	if d.dialect == Postgres {
		col += ` COLLATE "C"`
	}
	return "(" + col + " >= ? AND " + col + " < ?)", []any{lo, lo + "\U0010FFFF"}
}

// likePattern escapes s for LIKE ... ESCAPE '\'.
func likePattern(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(strings.ToLower(s)) + "%"
}

// ListUsers returns one page and the total. Pages past the middle are read in
// the reverse order from the end, so the last page costs what the first does.
func (q *queries) ListUsers(ctx context.Context, tenantID int64, f roster.UserFilter) ([]roster.User, int, error) {
	// Conditions on the users row, unqualified, so that the first ones are
	// also conditions on user_counts (kept per tenant, role, status and group).
	where := []string{"tenant_id = ?"}
	args := []any{tenantID}
	// The conditions user_logins l holds too (its copies of the status and
	// home group), for the last-login order; loginsHoldAll: all of where.
	lw, lwArgs, loginsHoldAll := []string{"l.tenant_id = ?"}, []any{tenantID}, true
	var statuses []any
	if len(f.Statuses) > 0 {
		where = append(where, "status IN ("+placeholders(len(f.Statuses))+")")
		lw = append(lw, "l.status IN ("+placeholders(len(f.Statuses))+")")
		for _, s := range f.Statuses {
			statuses = append(statuses, s)
		}
		args, lwArgs = append(args, statuses...), append(lwArgs, statuses...)
	}
	statusOnly := len(where)
	if len(f.GroupIDs) > 0 {
		where = append(where, "group_id IN ("+placeholders(len(f.GroupIDs))+")")
		lw = append(lw, "l.group_id IN ("+placeholders(len(f.GroupIDs))+")")
		for _, g := range f.GroupIDs {
			args, lwArgs = append(args, g), append(lwArgs, g)
		}
	}
	counted := len(where)
	if f.Scoring != nil {
		where = append(where, "scoring_enabled = ?")
		args = append(args, *f.Scoring)
		loginsHoldAll = false
	}
	if f.Roaming != nil {
		where = append(where, "roaming = ?")
		args = append(args, *f.Roaming)
		loginsHoldAll = false
	}
	if f.Scope != nil { // a scoped actor: home group in scope, or themself
		c, a := scopeCond(f.Scope, "group_id", "", "id")
		where, args = append(where, c), append(args, a...)
		c, a = scopeCond(f.Scope, "l.group_id", "", "l.user_id")
		lw, lwArgs = append(lw, c), append(lwArgs, a...)
	}
	var sets []userSet
	var roleCond string // the role filter on user_roles, for the name-order index
	var roleCondArgs []any
	if f.RoleID != 0 {
		// user_roles keeps a copy of the user's status: role and status
		// together are one range of user_roles_role, and user_counts keeps
		// the role's holders per status.
		role, roleArgs := `tenant_id = ? AND role_id = ?`, []any{tenantID, f.RoleID}
		if len(statuses) > 0 {
			role += ` AND status IN (` + placeholders(len(statuses)) + `)`
			roleArgs = append(roleArgs, statuses...)
		}
		s := userSet{
			ids:       `SELECT user_id FROM user_roles WHERE ` + role,
			args:      roleArgs,
			probe:     `EXISTS (SELECT 1 FROM user_roles ur WHERE ur.tenant_id = u.tenant_id AND ur.user_id = u.id AND ur.role_id = ?)`,
			probeArgs: []any{f.RoleID},
		}
		if len(where) == statusOnly && f.Query == "" {
			s.count, s.countArgs = `SELECT coalesce(sum(n), 0) FROM user_counts WHERE group_id = 0 AND `+role, roleArgs
			roleCond, roleCondArgs = role, roleArgs
		}
		sets = append(sets, s)
	}
	exact, err := q.exactMatches(ctx, tenantID, f.Exact)
	if err != nil {
		return nil, 0, err
	}
	if len(exact) > 0 {
		// A complete username, email or mobile number that matches: those
		// users, from the unique indexes.
		loginsHoldAll = false
		where = append(where, "id IN ("+placeholders(len(exact))+")")
		for _, id := range exact {
			args = append(args, id)
		}
	} else if f.Query != "" {
		if q.d.dialect == SQLite && len([]rune(f.Query)) >= 3 {
			// The trigram index answers phrases of three or more characters.
			// Its rowids are tenant_id<<32 + id: the tenant's rows are one
			// rowid range, and other tenants' matches are never read.
			first := tenantID << 32
			phrase := `"` + strings.ReplaceAll(strings.ToLower(f.Query), `"`, `""`) + `"`
			match := []any{phrase, first, first + 1<<32 - 1}
			s := userSet{
				ids:  `SELECT rowid - ? FROM users_fts WHERE users_fts MATCH ? AND rowid BETWEEN ? AND ?`,
				args: append([]any{first}, match...),
			}
			if len(where) == 1 && f.RoleID == 0 {
				s.count, s.countArgs = `SELECT count(*) FROM users_fts WHERE users_fts MATCH ? AND rowid BETWEEN ? AND ?`, match
			}
			sets = append(sets, s)
		} else if len([]rune(f.Query)) < 3 {
			loginsHoldAll = false
			// One or two characters hold no trigram, and occur in a large
			// part of any directory: they match the start of the name, one
			// range of its index (docs/rules.md).
			c, a := q.d.prefixCond(f.Query)
			where, args = append(where, c), append(args, a...)
		} else {
			loginsHoldAll = false
			// On PostgreSQL users_search_trgm holds (tenant_id, trigrams).
			where = append(where, `search LIKE ? ESCAPE '\'`)
			args = append(args, likePattern(f.Query))
		}
	}

	if f.Keyset && f.Stream != nil {
		return nil, -1, q.streamUsers(ctx, where, args, sets, f)
	}
	if f.Keyset {
		return q.usersAfter(ctx, tenantID, where, args, sets, f)
	}
	// The total comes from the smallest thing that holds the whole filter:
	// counting 200k rows costs 10 to 20 ms even in the narrowest index.
	count, countArgs := `SELECT coalesce(sum(n), 0) FROM user_counts WHERE role_id = 0 AND `+strings.Join(where, " AND "), args
	switch {
	case len(sets) == 1 && sets[0].count != "":
		count, countArgs = sets[0].count, sets[0].countArgs
	case len(sets) > 0 || len(where) > counted:
		cond, condArgs := userConditions(where, args, sets, false)
		count, countArgs = `SELECT count(*) FROM users u WHERE `+cond, condArgs
	}
	var total int
	// Without group lists (a subtree filter, a scoped actor's groups) the
	// query texts are of a few dozen shapes (sort, order, statuses, role,
	// search kind): those are kept prepared, as compiling them cost more
	// than running them.
	keep := len(f.GroupIDs) == 0 && f.Scope == nil
	queryRow, queryRows := q.queryRow, q.query
	if keep {
		queryRow, queryRows = q.queryRowKept, q.queryKept
	}
	if err := queryRow(ctx, count, countArgs...).Scan(&total); err != nil {
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
	// Deferred join: the page's ids come from an index alone, however deep
	// the offset; only the page's own rows are read from the table.
	order := q.d.orderBy(q.d.sortColumns(f.Sort), desc)
	var ids string
	var idsArgs []any
	if roleCond != "" && (f.Sort == "" || f.Sort == "name") {
		// A role's holders (by status) in name order: user_roles_role_name
		// holds them in that order with the user's name copied in.
		ids = `SELECT user_id AS id FROM user_roles WHERE ` + roleCond + ` ORDER BY ` + q.d.orderBy([]string{"name_key", "user_id"}, desc)
		idsArgs = roleCondArgs
	} else {
		probe, err := q.probeSets(ctx, tenantID, sets, total, offset+limit)
		if err != nil {
			return nil, 0, err
		}
		cond, condArgs := userConditions(where, args, sets, probe)
		ids, idsArgs = `SELECT u.id FROM users u WHERE `+cond+` ORDER BY `+order, condArgs
		if f.Sort == "last_login_at" {
			held := loginsHoldAll && len(sets) == 0 // every condition is on user_logins
			walk := true
			switch {
			case q.d.dialect != SQLite || len(where) == 1 && len(sets) == 0:
				// PostgreSQL's planner estimates how few users a filter
				// keeps and picks for itself; SQLite's cannot.
			case len(sets) > 0:
				walk = probe // probeSets weighed the same
			default:
				// An index entry costs about a tenth of a users row test.
				cheaper := 1
				if held {
					cheaper = 10
				}
				if walk, err = q.walkCheaper(ctx, tenantID, total, offset+limit, cheaper); err != nil {
					return nil, 0, err
				}
			}
			if walk {
				// Walk the tenant's sign-in times in order, testing what
				// user_logins does not hold on each walked user.
				ids, idsArgs = `SELECT l.user_id AS id FROM user_logins l WHERE `+strings.Join(lw, " AND "), lwArgs
				if !held {
					ids += ` AND EXISTS (SELECT 1 FROM users u WHERE u.id = l.user_id AND ` + cond + `)`
					idsArgs = append(slices.Clone(idsArgs), condArgs...)
				}
				ids += ` ORDER BY ` + order
			} else {
				// Few users: read them all and sort them by their times
				// ("+" keeps SQLite from walking user_logins_order).
				ids = `SELECT m.id FROM (SELECT u.id FROM users u WHERE ` + cond + `) m
					JOIN user_logins l ON l.tenant_id = ? AND l.user_id = m.id ORDER BY ` + q.d.orderBy([]string{"+l.last_login_at", "+l.user_id"}, desc)
				idsArgs = append(slices.Clone(condArgs), tenantID)
			}
		}
	}
	from := "users u"
	if f.Sort == "last_login_at" {
		from += " JOIN user_logins l ON l.tenant_id = u.tenant_id AND l.user_id = u.id"
	}
	rows, err := queryRows(ctx, `SELECT `+userColumns+` FROM `+from+` JOIN (`+ids+` LIMIT ? OFFSET ?) p ON p.id = u.id ORDER BY `+order,
		append(slices.Clone(idsArgs), limit, offset)...)
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

// userSet is a filter kept outside the users row: the users holding a role,
// or (SQLite) the trigram index's matches.
type userSet struct {
	ids       string // selects the set's user ids
	args      []any
	probe     string // tests one user u without building the set; may be empty
	probeArgs []any
	count     string // counts the whole filter, when the set alone holds it
	countArgs []any
}

// userConditions renders the WHERE text of a page or count over users u.
// Each set is a list the planner may start from (IN), or with probe the
// users are walked in the sort order and each one is tested.
func userConditions(where []string, args []any, sets []userSet, probe bool) (string, []any) {
	parts := slices.Clone(where)
	args = slices.Clone(args)
	for _, s := range sets {
		switch {
		case probe && s.probe != "":
			parts = append(parts, s.probe)
			args = append(args, s.probeArgs...)
		case probe:
			// Unary + keeps SQLite from starting at the list: it builds
			// the list once and looks each walked user up in it.
			parts = append(parts, "+u.id IN ("+s.ids+")")
			args = append(args, s.args...)
		default:
			parts = append(parts, "u.id IN ("+s.ids+")")
			args = append(args, s.args...)
		}
	}
	return strings.Join(parts, " AND "), args
}

// probeSets tells whether a page under sets is cheaper read by walking the
// sort order and testing each user than by reading every user in the sets
// and sorting them: walking reads about end × tenant/total users, the sets
// total. SQLite's planner cannot know total; PostgreSQL's estimates it.
func (q *queries) probeSets(ctx context.Context, tenantID int64, sets []userSet, total, end int) (bool, error) {
	if len(sets) == 0 || q.d.dialect != SQLite {
		return false, nil
	}
	return q.walkCheaper(ctx, tenantID, total, end, 1)
}

// walkCheaper tells whether the first end users a filter keeps (total of
// the tenant's) are cheaper found by walking an order of all the tenant's
// users, testing each, than by reading all total and sorting them; a test
// costs 1/cheaper of reading a user.
func (q *queries) walkCheaper(ctx context.Context, tenantID int64, total, end, cheaper int) (bool, error) {
	var tenant int
	if err := q.queryRow(ctx, `SELECT coalesce(sum(n), 0) FROM user_counts WHERE role_id = 0 AND tenant_id = ?`, tenantID).Scan(&tenant); err != nil {
		return false, err
	}
	return end*tenant < cheaper*total*total, nil
}

// usersAfter reads f.PerPage users of the filter with ids above f.After, in
// id order (UserFilter.Keyset): each call is one range of the primary key,
// so walking a whole list costs what reading it once does.
func (q *queries) usersAfter(ctx context.Context, tenantID int64, where []string, args []any, sets []userSet, f roster.UserFilter) ([]roster.User, int, error) {
	cond, condArgs := userConditions(append(slices.Clone(where), "id > ?"), append(slices.Clone(args), f.After), sets, false)
	rows, err := q.query(ctx, `SELECT `+userColumns+` FROM users u WHERE `+cond+` ORDER BY u.id LIMIT ?`, append(condArgs, f.PerPage)...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	users := make([]roster.User, 0, f.PerPage)
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
	return users, -1, q.loadUserLinks(ctx, tenantID, users)
}
