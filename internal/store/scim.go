package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/roster-dev/roster/internal/roster"
)

// SCIM's queries: a filter tree (roster.SCIMFilter) becomes one WHERE
// clause on the users indexes; values always travel as arguments.

// scimColumn is how a filter field reads in SQL.
type scimColumn struct {
	expr  string // the column, as the index holds it
	kind  string // "text", "int", "bool", "time"
	lower bool   // case-insensitive: compared lower-cased
	fts   bool   // the search text (and its trigram index) contains it
}

func (d *DB) scimColumn(field string) (scimColumn, bool) {
	c := ""
	if d.dialect == Postgres {
		c = ` COLLATE "C"`
	}
	switch field {
	case roster.SCIMFieldID:
		return scimColumn{expr: "u.id", kind: "int"}, true
	case roster.SCIMFieldUsername:
		return scimColumn{expr: "lower(u.username)" + c, kind: "text", lower: true, fts: true}, true
	case roster.SCIMFieldExternalID:
		return scimColumn{expr: "u.external_id" + c, kind: "text"}, true
	case roster.SCIMFieldEmail:
		return scimColumn{expr: "u.email" + c, kind: "text", lower: true, fts: true}, true // stored lower-cased
	case roster.SCIMFieldName:
		return scimColumn{expr: "lower(u.name)" + c, kind: "text", lower: true, fts: true}, true
	case roster.SCIMFieldMobile:
		return scimColumn{expr: "u.mobile" + c, kind: "text", fts: true}, true
	case roster.SCIMFieldLanguage:
		return scimColumn{expr: "u.language", kind: "text"}, true
	case roster.SCIMFieldActive:
		return scimColumn{expr: "u.status", kind: "bool"}, true
	case roster.SCIMFieldCreated:
		return scimColumn{expr: "u.created_at", kind: "time"}, true
	case roster.SCIMFieldUpdated:
		return scimColumn{expr: "u.updated_at", kind: "time"}, true
	case roster.SCIMFieldGroup:
		return scimColumn{expr: "u.group_id", kind: "int"}, true
	case roster.SCIMFieldAgentNumber:
		return scimColumn{expr: "u.agent_number", kind: "int"}, true
	case roster.SCIMFieldRole:
		return scimColumn{kind: "role"}, true
	}
	return scimColumn{}, false
}

var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

var sqlCompare = map[string]string{"eq": "=", "ne": "<>", "gt": ">", "ge": ">=", "lt": "<", "le": "<="}

// scimWhere renders f. Every condition it makes is true or false, never
// NULL, so that "not" is the exact complement.
func (q *queries) scimWhere(tenantID int64, f *roster.SCIMFilter) (string, []any, error) {
	switch f.Op {
	case "and", "or":
		if len(f.Args) != 2 {
			return "", nil, fmt.Errorf("store: SCIM %s needs two operands", f.Op)
		}
		l, la, err := q.scimWhere(tenantID, f.Args[0])
		if err != nil {
			return "", nil, err
		}
		r, ra, err := q.scimWhere(tenantID, f.Args[1])
		if err != nil {
			return "", nil, err
		}
		return "(" + l + " " + strings.ToUpper(f.Op) + " " + r + ")", append(la, ra...), nil
	case "not":
		if len(f.Args) != 1 {
			return "", nil, fmt.Errorf("store: SCIM not needs one operand")
		}
		x, xa, err := q.scimWhere(tenantID, f.Args[0])
		if err != nil {
			return "", nil, err
		}
		return "(NOT " + x + ")", xa, nil
	}
	col, ok := q.d.scimColumn(f.Field)
	if !ok {
		return "", nil, roster.Errorf(roster.EInvalid, "cannot filter by %q", f.Field)
	}
	bad := func() (string, []any, error) {
		return "", nil, roster.Errorf(roster.EInvalid, "the operator %q does not apply to %s (a %s) with the value %v", f.Op, f.Field, col.kind, f.Value)
	}
	switch col.kind {
	case "role":
		key, ok := f.Value.(string)
		if f.Op == "pr" {
			return `EXISTS (SELECT 1 FROM user_roles ur WHERE ur.tenant_id = u.tenant_id AND ur.user_id = u.id)`, nil, nil
		}
		if !ok || (f.Op != "eq" && f.Op != "ne") {
			return bad()
		}
		cond := `EXISTS (SELECT 1 FROM user_roles ur JOIN roles r ON r.tenant_id = ur.tenant_id AND r.id = ur.role_id
			WHERE ur.tenant_id = u.tenant_id AND ur.user_id = u.id AND r.key = ?)`
		if f.Op == "ne" {
			cond = "NOT " + cond
		}
		return cond, []any{key}, nil
	case "bool":
		b, ok := f.Value.(bool)
		if f.Op == "pr" {
			return "1 = 1", nil, nil
		}
		if !ok || (f.Op != "eq" && f.Op != "ne") {
			return bad()
		}
		if b == (f.Op == "eq") {
			return "u.status IN ('active', 'invited')", nil, nil
		}
		return "u.status = 'deactivated'", nil, nil
	case "int", "time":
		if f.Op == "pr" {
			if f.Field == roster.SCIMFieldAgentNumber {
				return col.expr + " IS NOT NULL", nil, nil
			}
			return "1 = 1", nil, nil
		}
		op, ok := sqlCompare[f.Op]
		if !ok {
			return bad()
		}
		var v any
		switch x := f.Value.(type) {
		case int64:
			if col.kind != "int" {
				return bad()
			}
			v = x
		case time.Time:
			if col.kind != "time" {
				return bad()
			}
			v = ms(x)
		default:
			return bad()
		}
		if f.Field == roster.SCIMFieldAgentNumber {
			return "(" + col.expr + " IS NOT NULL AND " + col.expr + " " + op + " ?)", []any{v}, nil
		}
		return col.expr + " " + op + " ?", []any{v}, nil
	}
	// Text.
	if f.Op == "pr" {
		return col.expr + " <> ''", nil, nil
	}
	s, ok := f.Value.(string)
	if !ok {
		return bad()
	}
	if col.lower {
		s = strings.ToLower(s)
	}
	if op, ok := sqlCompare[f.Op]; ok {
		return col.expr + " " + op + " ?", []any{s}, nil
	}
	var cond string
	var args []any
	switch f.Op {
	case "sw":
		// One range of the column's index, compared bytewise.
		cond, args = "("+col.expr+" >= ? AND "+col.expr+" < ?)", []any{s, s + "\U0010FFFF"}
	case "co", "ew":
		pattern := "%" + likeEscaper.Replace(s) // s is lower-cased already when the column is
		if f.Op == "co" {
			pattern += "%"
		}
		cond, args = col.expr+` LIKE ? ESCAPE '\'`, []any{pattern}
		if !col.lower {
			// LIKE ignores ASCII case on SQLite; a case-exact column
			// compares its text exactly as well.
			cond, args = "("+cond+" AND "+q.d.scimContains(col.expr, f.Op)+")", append(args, s)
			if f.Op == "ew" {
				args = append(args, s)
			}
		}
	default:
		return bad()
	}
	if col.fts && utf8.RuneCountInString(s) >= 3 && f.Op != "sw" {
		// The trigram index narrows the search text to the few rows that
		// contain the phrase; cond then checks the column itself.
		pre, preArgs := q.d.searchContains(tenantID, s)
		cond, args = "("+pre+" AND "+cond+")", append(preArgs, args...)
	}
	return cond, args, nil
}

// scimContains is a case-exact substring (co) or suffix (ew) test of expr
// against the next argument.
func (d *DB) scimContains(expr, op string) string {
	if d.dialect == Postgres {
		if op == "ew" {
			return "right(" + expr + ", length(CAST(? AS TEXT))) = ?"
		}
		return "strpos(" + expr + ", CAST(? AS TEXT)) > 0"
	}
	if op == "ew" {
		return "substr(" + expr + ", -length(?)) = ?"
	}
	return "instr(" + expr + ", ?) > 0"
}

// searchContains narrows to users whose search text contains s (three or more
// characters) through the trigram index of each dialect.
func (d *DB) searchContains(tenantID int64, s string) (string, []any) {
	if d.dialect == SQLite {
		first := tenantID << 32
		phrase := `"` + strings.ReplaceAll(strings.ToLower(s), `"`, `""`) + `"`
		return `u.id IN (SELECT rowid - ? FROM users_fts WHERE users_fts MATCH ? AND rowid BETWEEN ? AND ?)`,
			[]any{first, phrase, first, first + 1<<32 - 1}
	}
	return `u.search LIKE ? ESCAPE '\'`, []any{likePattern(s)}
}

// scimOrder is the ORDER BY of a SCIM list, ending in a unique key so that
// pages are stable.
func (d *DB) scimOrder(field string, desc bool) string {
	c := ""
	if d.dialect == Postgres {
		c = ` COLLATE "C"`
	}
	var cols []string
	switch field {
	case roster.SCIMFieldUsername:
		cols = d.sortColumns("username")
	case roster.SCIMFieldName:
		cols = d.sortColumns("name")
	case roster.SCIMFieldEmail:
		cols = d.sortColumns("email")
	case roster.SCIMFieldExternalID:
		cols = []string{"u.external_id" + c, "u.id"}
	case roster.SCIMFieldUpdated:
		cols = []string{"u.updated_at", "u.id"}
	default: // id, created
		cols = []string{"u.id"}
	}
	return d.orderBy(cols, desc)
}

func (q *queries) ListUsersSCIM(ctx context.Context, tenantID int64, f roster.SCIMUserFilter) ([]roster.User, int, error) {
	where, args := []string{"u.tenant_id = ?"}, []any{tenantID}
	if f.Filter != nil {
		c, a, err := q.scimWhere(tenantID, f.Filter)
		if err != nil {
			return nil, 0, err
		}
		where, args = append(where, c), append(args, a...)
	}
	if f.Scope != nil {
		c, a := scopeCond(f.Scope, "u.group_id", "", "u.id")
		where, args = append(where, c), append(args, a...)
	}
	cond := strings.Join(where, " AND ")
	var total int
	var err error
	if len(where) == 1 {
		total, err = q.TenantUserCount(ctx, tenantID)
	} else {
		err = q.queryRow(ctx, `SELECT count(*) FROM users u WHERE `+cond, args...).Scan(&total)
	}
	if err != nil {
		return nil, 0, err
	}
	users := []roster.User{}
	if f.Limit == 0 || f.Offset >= total {
		return users, total, nil
	}
	// The page's ids first, from the index alone; a page past the middle
	// is read in the reverse order from the end, so it costs what the one
	// as far from the start does. Then the page's rows by id.
	offset, limit, desc := f.Offset, min(f.Limit, total-f.Offset), f.Desc
	reversed := offset > total/2
	if reversed {
		offset, desc = total-offset-limit, !desc
	}
	if f.After > 0 { // id order, from where the previous page ended
		op := ">"
		if f.Desc {
			op = "<"
		}
		cond, args = cond+" AND u.id "+op+" ?", append(args, f.After)
		offset, limit, desc, reversed = 0, f.Limit, f.Desc, false
	}
	ids, err := q.int64s(ctx, `SELECT u.id FROM users u WHERE `+cond+` ORDER BY `+q.d.scimOrder(f.SortBy, desc)+` LIMIT ? OFFSET ?`,
		append(args, limit, offset)...)
	if err != nil || len(ids) == 0 {
		return users, total, err
	}
	if reversed {
		slices.Reverse(ids)
	}
	in, inArgs := inList("u.id", ids)
	rows, err := q.query(ctx, `SELECT `+userColumns+` FROM users u WHERE u.tenant_id = ? AND `+in, append([]any{tenantID}, inArgs...)...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	byID := make(map[int64]roster.User, len(ids))
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, 0, err
		}
		byID[u.ID] = u
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	rows.Close()
	for _, id := range ids {
		if u, ok := byID[id]; ok { // gone since the ids were read: the page is one shorter
			users = append(users, u)
		}
	}
	return users, total, q.loadUserLinks(ctx, tenantID, users)
}

func (q *queries) TenantUserCount(ctx context.Context, tenantID int64) (int, error) {
	var n int
	err := q.queryRow(ctx, `SELECT coalesce(sum(n), 0) FROM user_counts WHERE tenant_id = ? AND role_id = 0`, tenantID).Scan(&n)
	return n, err
}

func (q *queries) UserExternalIDs(ctx context.Context, tenantID int64, ids []int64) (map[int64]string, error) {
	out := map[int64]string{}
	if len(ids) == 0 {
		return out, nil
	}
	in, args := inList("id", ids)
	rows, err := q.query(ctx, `SELECT id, external_id FROM users WHERE tenant_id = ? AND external_id <> '' AND `+in,
		append([]any{tenantID}, args...)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var ext string
		if err := rows.Scan(&id, &ext); err != nil {
			return nil, err
		}
		out[id] = ext
	}
	return out, rows.Err()
}

func (q *queries) SetUserExternalID(ctx context.Context, tenantID, userID int64, externalID string) error {
	res, err := q.exec(ctx, `UPDATE users SET external_id = ? WHERE tenant_id = ? AND id = ?`, externalID, tenantID, userID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound("user", userID)
	}
	return nil
}

// SCIMSettings reads the provisioning keys of the tenant's settings object.
func (q *queries) SCIMSettings(ctx context.Context, tenantID int64) (roster.SCIMSettings, error) {
	var s roster.SCIMSettings
	raw, err := q.settingsObject(ctx, tenantID)
	if err != nil {
		return s, err
	}
	b, _ := json.Marshal(raw)
	return s, json.Unmarshal(b, &s)
}

// SetSCIMSettings writes the provisioning keys into the settings object and
// keeps every other key as it is.
func (q *queries) SetSCIMSettings(ctx context.Context, tenantID int64, s roster.SCIMSettings) error {
	raw, err := q.settingsObject(ctx, tenantID)
	if err != nil {
		return err
	}
	// default_language is the tenant's own setting too: kept unless given.
	for _, k := range []string{"scim_default_group", "scim_default_role", "scim_group_parent"} {
		delete(raw, k)
	}
	b, _ := json.Marshal(s)
	var set map[string]json.RawMessage
	if err := json.Unmarshal(b, &set); err != nil {
		return err
	}
	for k, v := range set {
		raw[k] = v
	}
	b, err = json.Marshal(raw)
	if err != nil {
		return err
	}
	_, err = q.exec(ctx, `UPDATE tenants SET settings = ? WHERE id = ?`, string(b), tenantID)
	return err
}

func (q *queries) settingsObject(ctx context.Context, tenantID int64) (map[string]json.RawMessage, error) {
	var settings string
	if err := q.queryRow(ctx, `SELECT settings FROM tenants WHERE id = ?`, tenantID).Scan(&settings); err != nil {
		return nil, q.d.mapErr(err)
	}
	raw := map[string]json.RawMessage{}
	if settings != "" {
		if err := json.Unmarshal([]byte(settings), &raw); err != nil {
			return nil, err
		}
	}
	return raw, nil
}

func (q *queries) GroupMembers(ctx context.Context, tenantID, groupID int64) ([]roster.MemberRef, error) {
	rows, err := q.query(ctx, `SELECT id, username FROM users WHERE tenant_id = ? AND group_id = ? ORDER BY id`, tenantID, groupID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []roster.MemberRef{}
	for rows.Next() {
		var m roster.MemberRef
		if err := rows.Scan(&m.ID, &m.Username); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

func (q *queries) GroupNames(ctx context.Context, tenantID int64, ids []int64) (map[int64]string, error) {
	out := make(map[int64]string, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	in, args := inList("id", ids)
	rows, err := q.query(ctx, `SELECT id, name FROM org_groups WHERE tenant_id = ? AND `+in, append([]any{tenantID}, args...)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			return nil, err
		}
		out[id] = name
	}
	return out, rows.Err()
}
