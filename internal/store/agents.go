package store

import (
	"context"
	"database/sql"
	"strings"

	"github.com/roster-dev/roster/internal/roster"
)

// agentColumns reads an agent ID with its effective group: the holder's home
// group when assigned, else the group of its latest interaction.
const agentColumns = `a.id, a.tenant_id, a.source, a.external_id, a.name, a.user_id, a.interactions, a.first_seen_at,
	a.last_seen_at, a.last_group_id, a.created_at, COALESCE(u.group_id, a.last_group_id)`

const agentFrom = ` FROM agent_ids a LEFT JOIN users u ON u.tenant_id = a.tenant_id AND u.id = a.user_id `

func scanAgent(s interface{ Scan(...any) error }) (roster.AgentID, error) {
	var g roster.AgentID
	var user, first, last, lastGroup, group sql.NullInt64
	var created int64
	if err := s.Scan(&g.ID, &g.TenantID, &g.Source, &g.ExternalID, &g.Name, &user, &g.Interactions, &first, &last,
		&lastGroup, &created, &group); err != nil {
		return g, err
	}
	g.UserID, g.LastGroupID, g.GroupID = nullID(user), nullID(lastGroup), nullID(group)
	g.FirstSeenAt, g.LastSeenAt = fromNullMS(first), fromNullMS(last)
	g.CreatedAt = fromMS(created)
	return g, nil
}

func nullID(v sql.NullInt64) *int64 {
	if !v.Valid {
		return nil
	}
	return &v.Int64
}

func (q *queries) scanAgents(ctx context.Context, query string, args ...any) ([]roster.AgentID, error) {
	rows, err := q.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []roster.AgentID{}
	for rows.Next() {
		g, err := scanAgent(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

func (q *queries) AgentIDsByID(ctx context.Context, tenantID int64, ids []int64) ([]roster.AgentID, error) {
	var out []roster.AgentID
	err := chunked(ids, inChunk, func(part []int64) error {
		got, err := q.scanAgents(ctx, `SELECT `+agentColumns+agentFrom+`WHERE a.tenant_id = ? AND a.id IN (`+placeholders(len(part))+`)`,
			anyArgs([]any{tenantID}, part)...)
		out = append(out, got...)
		return err
	})
	return out, err
}

func (q *queries) AgentIDsByKey(ctx context.Context, tenantID int64, keys []roster.AgentKey) ([]roster.AgentID, error) {
	bySource := map[string][]string{}
	for _, k := range keys {
		bySource[k.Source] = append(bySource[k.Source], k.ExternalID)
	}
	var out []roster.AgentID
	for src, ext := range bySource {
		err := chunked(ext, inChunk, func(part []string) error {
			got, err := q.scanAgents(ctx, `SELECT `+agentColumns+agentFrom+`WHERE a.tenant_id = ? AND a.source = ? AND a.external_id IN (`+
				placeholders(len(part))+`)`, anyArgs([]any{tenantID, src}, part)...)
			out = append(out, got...)
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (q *queries) ListAgentIDs(ctx context.Context, tenantID int64, f roster.AgentFilter) ([]roster.AgentID, int, error) {
	where := []string{"a.tenant_id = ?"}
	args := []any{tenantID}
	if f.Query != "" {
		where = append(where, `a.search LIKE ? ESCAPE '\'`)
		args = append(args, likePattern(f.Query))
	}
	if f.Assigned != nil {
		if *f.Assigned {
			where = append(where, "a.user_id IS NOT NULL")
		} else {
			where = append(where, "a.user_id IS NULL")
		}
	}
	if f.Source != "" {
		where = append(where, "a.source = ?")
		args = append(args, f.Source)
	}
	if f.UserID != 0 {
		where = append(where, "a.user_id = ?")
		args = append(args, f.UserID)
	}
	if f.Scope != nil {
		c, a := scopeCond(f.Scope, "COALESCE(u.group_id, a.last_group_id)", "a.id", "")
		where, args = append(where, c), append(args, a...)
	}
	cond := strings.Join(where, " AND ")
	var total int
	if err := q.queryRow(ctx, `SELECT count(*)`+agentFrom+`WHERE `+cond, args...).Scan(&total); err != nil {
		return nil, 0, q.d.mapErr(err)
	}
	dir := " ASC"
	if f.Desc {
		dir = " DESC"
	}
	c := ""
	if q.d.dialect == Postgres {
		c = ` COLLATE "C"`
	}
	var order string
	switch f.Sort {
	case "name":
		order = "lower(a.name)" + c + dir + ", a.id" + dir
	case "interactions":
		order = "a.interactions" + dir + ", a.id" + dir
	case "last_seen_at":
		order = "COALESCE(a.last_seen_at, 0)" + dir + ", a.id" + dir
	default:
		order = "a.source" + c + dir + ", a.external_id" + c + dir
	}
	items, err := q.scanAgents(ctx, `SELECT `+agentColumns+agentFrom+`WHERE `+cond+` ORDER BY `+order+` LIMIT ? OFFSET ?`,
		append(args, f.PerPage, (f.Page-1)*f.PerPage)...)
	return items, total, err
}

func (q *queries) HoldAgentID(ctx context.Context, tenantID, agentID, userID int64) (bool, error) {
	res, err := q.exec(ctx, `UPDATE agent_ids SET user_id = ? WHERE tenant_id = ? AND id = ? AND (user_id IS NULL OR user_id = ?)`,
		userID, tenantID, agentID, userID)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func (q *queries) ReleaseAgentIDs(ctx context.Context, tenantID, userID int64, keep []int64) error {
	query := `UPDATE agent_ids SET user_id = NULL WHERE tenant_id = ? AND user_id = ?`
	args := []any{tenantID, userID}
	if len(keep) > 0 {
		query += ` AND id NOT IN (` + placeholders(len(keep)) + `)`
		args = anyArgs(args, keep)
	}
	_, err := q.exec(ctx, query, args...)
	return err
}

func (q *queries) LockIngest(ctx context.Context, tenantID int64) error {
	if q.d.dialect != Postgres {
		return nil // SQLite: the write transaction holds the database lock
	}
	// Advisory locks are per database, not per schema: the key names both.
	_, err := q.exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended(current_schema() || ':ingest:' || CAST(CAST(? AS BIGINT) AS TEXT), 7327))`, tenantID)
	return err
}

// agentInsertChunk rows of 11 values go into one INSERT.
const agentInsertChunk = 200

// storedAgent is what an ingest batch needs to know of an agent ID.
type storedAgent struct {
	id                              int64
	name                            string
	first, last, lastGroup, groupAt sql.NullInt64
}

// UpsertAgentIDs reads the batch's agent IDs, inserts the new ones, and
// adds the batch to the others: the counts and times of all of them in one
// statement, name and group one by one where they changed (rarely: an
// agent's name and team change seldom). A delta's latest interaction wins
// name and group when it is not older than what the agent ID has seen.
func (q *queries) UpsertAgentIDs(ctx context.Context, tenantID int64, rows []roster.AgentDelta) error {
	stored, err := q.storedAgents(ctx, tenantID, rows)
	if err != nil {
		return err
	}
	var fresh []int
	for i := range rows {
		if a, ok := stored[rows[i].Key]; ok {
			rows[i].ID = a.id
		} else {
			fresh = append(fresh, i)
		}
	}
	if err := q.insertAgents(ctx, tenantID, rows, fresh); err != nil {
		return err
	}
	var counts []agentChange
	for i := range rows {
		r := &rows[i]
		a, ok := stored[r.Key]
		if !ok || r.Interactions == 0 && r.LastSeen == nil {
			continue
		}
		c := agentChange{id: a.id, n: r.Interactions, first: nullInt64(a.first), last: nullInt64(a.last), groupAt: nullInt64(a.groupAt)}
		if r.FirstSeen != nil && (!a.first.Valid || ms(*r.FirstSeen) < a.first.Int64) {
			c.first = ms(*r.FirstSeen)
		}
		newer := r.LastSeen != nil && (!a.last.Valid || ms(*r.LastSeen) >= a.last.Int64)
		if newer {
			c.last = ms(*r.LastSeen)
		}
		if newer && r.Name != "" && r.Name != a.name {
			c.name, c.nameSet = r.Name, true
		}
		if r.Group != 0 && (!a.groupAt.Valid || ms(*r.GroupAt) >= a.groupAt.Int64) {
			c.groupAt = ms(*r.GroupAt)
			c.group, c.groupSet = r.Group, !a.lastGroup.Valid || a.lastGroup.Int64 != r.Group
		}
		counts = append(counts, c)
	}
	if err := q.bumpAgents(ctx, tenantID, counts); err != nil {
		return err
	}
	// Names and groups, where they changed.
	keys := make(map[int64]roster.AgentKey, len(rows))
	for _, r := range rows {
		keys[r.ID] = r.Key
	}
	for _, c := range counts {
		if c.nameSet {
			if _, err := q.exec(ctx, `UPDATE agent_ids SET name = ?, search = ? WHERE tenant_id = ? AND id = ?`,
				c.name, agentSearch(keys[c.id], c.name), tenantID, c.id); err != nil {
				return err
			}
		}
		if c.groupSet {
			if _, err := q.exec(ctx, `UPDATE agent_ids SET last_group_id = ? WHERE tenant_id = ? AND id = ?`, c.group, tenantID, c.id); err != nil {
				return err
			}
		}
	}
	return nil
}

func nullInt64(v sql.NullInt64) any {
	if !v.Valid {
		return nil
	}
	return v.Int64
}

// agentChange is what an ingest batch changes of a stored agent ID.
type agentChange struct {
	id                int64
	n                 int64 // interactions to add
	first, last       any
	name              string
	group, groupAt    any
	nameSet, groupSet bool
}

// bumpAgents writes counts and times. PostgreSQL takes them all in one
// UPDATE ... FROM (VALUES ...) per chunk (one round trip, one run of the
// statement trigger); SQLite's planner may scan the whole table for that
// form, so there a prepared keyed UPDATE runs per agent ID (in-process, no
// round trips).
func (q *queries) bumpAgents(ctx context.Context, tenantID int64, counts []agentChange) error {
	if q.d.dialect == Postgres {
		const row = `(CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT))`
		return chunked(counts, 500, func(part []agentChange) error {
			args := make([]any, 0, len(part)*5+1)
			for _, c := range part {
				args = append(args, c.id, c.n, c.first, c.last, c.groupAt)
			}
			args = append(args, tenantID)
			_, err := q.exec(ctx, `UPDATE agent_ids SET interactions = agent_ids.interactions + v.column2, first_seen_at = v.column3,
				last_seen_at = v.column4, last_group_at = v.column5
				FROM (VALUES `+strings.TrimSuffix(strings.Repeat(row+", ", len(part)), ", ")+`) AS v
				WHERE agent_ids.tenant_id = ? AND agent_ids.id = v.column1`, args...)
			return err
		})
	}
	const bump = `UPDATE agent_ids SET interactions = interactions + ?, first_seen_at = ?, last_seen_at = ?, last_group_at = ?
		WHERE tenant_id = ? AND id = ?`
	stmt := q.prepared(ctx, bump, len(counts) > 1)
	if stmt != nil {
		defer stmt.Close()
	}
	for _, c := range counts {
		var err error
		if stmt != nil {
			_, err = stmt.ExecContext(ctx, c.n, c.first, c.last, c.groupAt, tenantID, c.id)
			err = q.d.mapErr(err)
		} else {
			_, err = q.exec(ctx, bump, c.n, c.first, c.last, c.groupAt, tenantID, c.id)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// storedAgents reads the agent IDs of rows that exist already.
func (q *queries) storedAgents(ctx context.Context, tenantID int64, rows []roster.AgentDelta) (map[roster.AgentKey]storedAgent, error) {
	bySource := map[string][]string{}
	for _, r := range rows {
		bySource[r.Key.Source] = append(bySource[r.Key.Source], r.Key.ExternalID)
	}
	out := make(map[roster.AgentKey]storedAgent, len(rows))
	for src, ext := range bySource {
		err := chunked(ext, inChunk, func(part []string) error {
			res, err := q.query(ctx, `SELECT id, external_id, name, first_seen_at, last_seen_at, last_group_id, last_group_at FROM agent_ids
				WHERE tenant_id = ? AND source = ? AND external_id IN (`+placeholders(len(part))+`)`, anyArgs([]any{tenantID, src}, part)...)
			if err != nil {
				return err
			}
			defer res.Close()
			for res.Next() {
				var a storedAgent
				var ext string
				if err := res.Scan(&a.id, &ext, &a.name, &a.first, &a.last, &a.lastGroup, &a.groupAt); err != nil {
					return err
				}
				out[roster.AgentKey{Source: src, ExternalID: ext}] = a
			}
			return res.Err()
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// insertAgents inserts rows[fresh] and fills in their ids.
func (q *queries) insertAgents(ctx context.Context, tenantID int64, rows []roster.AgentDelta, fresh []int) error {
	index := make(map[roster.AgentKey]int, len(fresh))
	for _, i := range fresh {
		index[rows[i].Key] = i
	}
	return chunked(fresh, agentInsertChunk, func(part []int) error {
		args := make([]any, 0, len(part)*11)
		for _, i := range part {
			r := &rows[i]
			var group any
			if r.Group != 0 {
				group = r.Group
			}
			args = append(args, tenantID, r.Key.Source, r.Key.ExternalID, r.Name, r.Interactions, nullMS(r.FirstSeen),
				nullMS(r.LastSeen), group, nullMS(r.GroupAt), ms(r.CreatedAt), agentSearch(r.Key, r.Name))
		}
		res, err := q.query(ctx, `INSERT INTO agent_ids (tenant_id, source, external_id, name, interactions, first_seen_at,
			last_seen_at, last_group_id, last_group_at, created_at, search) VALUES `+valueRows(len(part), 11)+` RETURNING id, source, external_id`, args...)
		if err != nil {
			return err
		}
		defer res.Close()
		for res.Next() {
			var id int64
			var k roster.AgentKey
			if err := res.Scan(&id, &k.Source, &k.ExternalID); err != nil {
				return err
			}
			rows[index[k]].ID = id
		}
		return res.Err()
	})
}

// agentSearch is what agent search looks in.
func agentSearch(k roster.AgentKey, name string) string {
	return strings.ToLower(k.Source + ":" + k.ExternalID + " " + name)
}

func (q *queries) RecountAgentIDs(ctx context.Context, tenantID int64, ids []int64) error {
	const of = `FROM interactions i WHERE i.tenant_id = agent_ids.tenant_id AND i.agent_id = agent_ids.id`
	const latest = of + ` AND i.group_id IS NOT NULL ORDER BY i.started_at DESC, i.id DESC LIMIT 1`
	return chunked(ids, inChunk, func(part []int64) error {
		_, err := q.exec(ctx, `UPDATE agent_ids SET interactions = (SELECT count(*) `+of+`),
			first_seen_at = (SELECT min(i.started_at) `+of+`), last_seen_at = (SELECT max(i.started_at) `+of+`),
			last_group_id = (SELECT i.group_id `+latest+`), last_group_at = (SELECT i.started_at `+latest+`)
			WHERE tenant_id = ? AND id IN (`+placeholders(len(part))+`)`, anyArgs([]any{tenantID}, part)...)
		return err
	})
}

// loadUserAgentIDs fills the agent IDs of a page of users (loadUserLinks).
func (q *queries) loadUserAgentIDs(ctx context.Context, tenantID int64, in string, args []any, users []roster.User, idx map[int64]int,
	query func(context.Context, string, ...any) (*sql.Rows, error)) error {
	rows, err := query(ctx, `SELECT user_id, id FROM agent_ids WHERE tenant_id = ? AND user_id IN (`+in+`) ORDER BY id`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var uid, id int64
		if err := rows.Scan(&uid, &id); err != nil {
			return err
		}
		users[idx[uid]].AgentIDs = append(users[idx[uid]].AgentIDs, id)
	}
	return rows.Err()
}
