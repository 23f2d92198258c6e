package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/roster-dev/roster/internal/roster"
)

// inChunk is how many ids go into one IN list.
const inChunk = 500

// chunked calls fn with successive parts of ids of at most n.
func chunked[T any](ids []T, n int, fn func(part []T) error) error {
	for len(ids) > 0 {
		part := ids[:min(n, len(ids))]
		ids = ids[len(part):]
		if err := fn(part); err != nil {
			return err
		}
	}
	return nil
}

func anyArgs[T any](prefix []any, vals []T) []any {
	out := make([]any, 0, len(prefix)+len(vals))
	out = append(out, prefix...)
	for _, v := range vals {
		out = append(out, v)
	}
	return out
}

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

// inList renders "col IN (?, ?)" with its args, or a false condition for none.
func inList[T any](col string, vals []T) (string, []any) {
	if len(vals) == 0 {
		return "1 = 0", nil
	}
	return col + " IN (" + placeholders(len(vals)) + ")", anyArgs(nil, vals)
}

// scopeCond renders a ScopeFilter: in one of the groups (groupCol), or one
// of the agent IDs (agentCol, "" when the list has none), or the actor
// (userCol, "" when the list has none).
func scopeCond(sf *roster.ScopeFilter, groupCol, agentCol, userCol string) (string, []any) {
	var parts []string
	var args []any
	if len(sf.GroupIDs) > 0 {
		c, a := inList(groupCol, sf.GroupIDs)
		parts, args = append(parts, c), append(args, a...)
	}
	if agentCol != "" && len(sf.AgentIDs) > 0 {
		c, a := inList(agentCol, sf.AgentIDs)
		parts, args = append(parts, c), append(args, a...)
	}
	if userCol != "" && sf.UserID != 0 {
		parts, args = append(parts, userCol+" = ?"), append(args, sf.UserID)
	}
	if len(parts) == 0 {
		return "1 = 0", nil
	}
	return "(" + strings.Join(parts, " OR ") + ")", args
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

const interactionColumns = `i.id, i.tenant_id, i.source, i.external_id, i.agent_id, a.external_id, i.group_id, i.channel, i.started_at, i.duration_s`

const interactionFrom = ` FROM interactions i JOIN agent_ids a ON a.tenant_id = i.tenant_id AND a.id = i.agent_id `

func (q *queries) scanInteractions(ctx context.Context, query string, args ...any) ([]roster.Interaction, error) {
	rows, err := q.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []roster.Interaction{}
	for rows.Next() {
		var it roster.Interaction
		var group sql.NullInt64
		var started int64
		if err := rows.Scan(&it.ID, &it.TenantID, &it.Source, &it.ExternalID, &it.AgentID, &it.AgentExternalID, &group,
			&it.Channel, &started, &it.DurationS); err != nil {
			return nil, err
		}
		it.GroupID, it.StartedAt = nullID(group), fromMS(started)
		out = append(out, it)
	}
	return out, rows.Err()
}

func (q *queries) InteractionsByKey(ctx context.Context, tenantID int64, source string, externalIDs []string) ([]roster.Interaction, error) {
	var out []roster.Interaction
	err := chunked(externalIDs, inChunk, func(part []string) error {
		got, err := q.scanInteractions(ctx, `SELECT `+interactionColumns+interactionFrom+
			`WHERE i.tenant_id = ? AND i.source = ? AND i.external_id IN (`+placeholders(len(part))+`)`,
			anyArgs([]any{tenantID, source}, part)...)
		out = append(out, got...)
		return err
	})
	return out, err
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

// valueRows renders n rows of k placeholders: (?, ?), (?, ?).
func valueRows(n, k int) string {
	row := "(" + placeholders(k) + ")"
	return strings.Repeat(row+", ", n-1) + row
}

// interactionChunk rows of 8 values go into one INSERT.
const interactionChunk = 500

func (q *queries) WriteInteractions(ctx context.Context, tenantID int64, rows []roster.Interaction) error {
	var fresh []roster.Interaction
	for _, it := range rows {
		if it.ID == 0 {
			fresh = append(fresh, it)
			continue
		}
		if _, err := q.exec(ctx, `UPDATE interactions SET agent_id = ?, group_id = ?, channel = ?, started_at = ?, duration_s = ?
			WHERE tenant_id = ? AND id = ?`, it.AgentID, it.GroupID, it.Channel, ms(it.StartedAt), it.DurationS, tenantID, it.ID); err != nil {
			return err
		}
	}
	_, err := q.insertInteractions(ctx, tenantID, fresh, false)
	return err
}

func (q *queries) InsertNewInteractions(ctx context.Context, tenantID int64, rows []roster.Interaction) (bool, error) {
	return q.insertInteractions(ctx, tenantID, rows, true)
}

// insertInteractions inserts rows in chunks. With skipExisting a row whose
// source and external id are taken is left out, and the insert stops at the
// first chunk that left one out, reporting allNew false.
func (q *queries) insertInteractions(ctx context.Context, tenantID int64, rows []roster.Interaction, skipExisting bool) (allNew bool, err error) {
	const insert = `INSERT INTO interactions (tenant_id, source, external_id, agent_id, group_id, channel, started_at, duration_s) VALUES `
	skip := ""
	if skipExisting {
		skip = ` ON CONFLICT (tenant_id, source, external_id) DO NOTHING`
	}
	full := q.prepared(ctx, insert+valueRows(interactionChunk, 8)+skip, len(rows) >= 2*interactionChunk)
	if full != nil {
		defer full.Close()
	}
	args := make([]any, 0, interactionChunk*8)
	allNew = true
	err = chunked(rows, interactionChunk, func(part []roster.Interaction) error {
		args = args[:0]
		for _, it := range part {
			var group any // a plain value: database/sql converts pointers by reflection
			if it.GroupID != nil {
				group = *it.GroupID
			}
			args = append(args, tenantID, it.Source, it.ExternalID, it.AgentID, group, it.Channel, ms(it.StartedAt), it.DurationS)
		}
		var res sql.Result
		var err error
		if full != nil && len(part) == interactionChunk {
			res, err = full.ExecContext(ctx, args...)
			err = q.d.mapErr(err)
		} else {
			res, err = q.exec(ctx, insert+valueRows(len(part), 8)+skip, args...)
		}
		if err != nil || !skipExisting {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n != int64(len(part)) {
			allNew = false
			return errStop
		}
		return nil
	})
	if errors.Is(err, errStop) {
		err = nil
	}
	return allNew, err
}

// errStop ends a chunked loop early.
var errStop = errors.New("stop")

// prepared prepares query once for the repeated full-size chunks of a bulk
// write (parsing a statement of thousands of placeholders costs as much as
// running it); nil when not worth it or not possible.
func (q *queries) prepared(ctx context.Context, query string, worth bool) *sql.Stmt {
	p, ok := q.q.(interface {
		PrepareContext(ctx context.Context, query string) (*sql.Stmt, error)
	})
	if !worth || !ok {
		return nil
	}
	stmt, err := p.PrepareContext(ctx, q.d.rebind(query))
	if err != nil {
		return nil // the chunks then run unprepared, and report the error themselves
	}
	return stmt
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

func (q *queries) ListInteractions(ctx context.Context, tenantID int64, f roster.InteractionFilter) ([]roster.Interaction, int, error) {
	where := []string{"i.tenant_id = ?"}
	args := []any{tenantID}
	if f.AgentID != 0 {
		where = append(where, "i.agent_id = ?")
		args = append(args, f.AgentID)
	}
	if len(f.GroupIDs) > 0 {
		c, a := inList("i.group_id", f.GroupIDs)
		where, args = append(where, c), append(args, a...)
	}
	if f.From != nil {
		where = append(where, "i.started_at >= ?")
		args = append(args, ms(*f.From))
	}
	if f.To != nil {
		where = append(where, "i.started_at < ?")
		args = append(args, ms(*f.To))
	}
	if f.Scope != nil {
		c, a := scopeCond(f.Scope, "i.group_id", "i.agent_id", "")
		where, args = append(where, c), append(args, a...)
	}
	cond := strings.Join(where, " AND ")
	var total int
	if err := q.queryRow(ctx, `SELECT count(*) FROM interactions i WHERE `+cond, args...).Scan(&total); err != nil {
		return nil, 0, q.d.mapErr(err)
	}
	dir := " DESC"
	if !f.Desc {
		dir = " ASC"
	}
	items, err := q.scanInteractions(ctx, `SELECT `+interactionColumns+interactionFrom+`WHERE `+cond+
		` ORDER BY i.started_at`+dir+`, i.id`+dir+` LIMIT ? OFFSET ?`, append(args, f.PerPage, (f.Page-1)*f.PerPage)...)
	return items, total, err
}

func (q *queries) MoveInteractions(ctx context.Context, tenantID int64, agentIDs []int64, from, to int64) (int64, error) {
	var moved int64
	err := chunked(agentIDs, inChunk, func(part []int64) error {
		res, err := q.exec(ctx, `UPDATE interactions SET group_id = ? WHERE tenant_id = ? AND group_id = ? AND agent_id IN (`+
			placeholders(len(part))+`)`, anyArgs([]any{to, tenantID, from}, part)...)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		moved += n
		// The latest-interaction group follows, for when the agent ID is released.
		_, err = q.exec(ctx, `UPDATE agent_ids SET last_group_id = ? WHERE tenant_id = ? AND last_group_id = ? AND id IN (`+
			placeholders(len(part))+`)`, anyArgs([]any{to, tenantID, from}, part)...)
		return err
	})
	return moved, err
}

const impersonationColumns = `id, tenant_id, user_id, impersonator_kind, impersonator_id, impersonator_name, hash, created_at, expires_at, ended_at`

func scanImpersonation(s interface{ Scan(...any) error }) (*roster.Impersonation, error) {
	var im roster.Impersonation
	var created, expires int64
	var ended sql.NullInt64
	err := s.Scan(&im.ID, &im.TenantID, &im.UserID, &im.ImpersonatorKind, &im.ImpersonatorID, &im.ImpersonatorName, &im.Hash,
		&created, &expires, &ended)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, roster.Errorf(roster.ENotFound, "no such impersonation")
	}
	if err != nil {
		return nil, err
	}
	im.CreatedAt, im.ExpiresAt, im.EndedAt = fromMS(created), fromMS(expires), fromNullMS(ended)
	return &im, nil
}

func (q *queries) CreateImpersonation(ctx context.Context, im *roster.Impersonation) error {
	var err error
	im.ID, err = q.insert(ctx, `INSERT INTO impersonations (tenant_id, user_id, impersonator_kind, impersonator_id, impersonator_name,
		hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, im.TenantID, im.UserID, im.ImpersonatorKind, im.ImpersonatorID,
		im.ImpersonatorName, im.Hash, ms(im.CreatedAt), ms(im.ExpiresAt))
	return err
}

func (q *queries) ImpersonationByHash(ctx context.Context, hash []byte) (*roster.Impersonation, error) {
	return scanImpersonation(q.queryRow(ctx, `SELECT `+impersonationColumns+` FROM impersonations WHERE hash = ?`, hash))
}

func (q *queries) ImpersonationByID(ctx context.Context, tenantID, id int64) (*roster.Impersonation, error) {
	return scanImpersonation(q.queryRow(ctx, `SELECT `+impersonationColumns+` FROM impersonations WHERE tenant_id = ? AND id = ?`, tenantID, id))
}

func (q *queries) EndImpersonation(ctx context.Context, tenantID, id int64, at time.Time) error {
	res, err := q.exec(ctx, `UPDATE impersonations SET ended_at = ? WHERE tenant_id = ? AND id = ? AND ended_at IS NULL`, ms(at), tenantID, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return roster.Errorf(roster.ENotFound, "this view-as has ended already")
	}
	return nil
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

// auditScopeCond limits the audit log to what a scoped actor may see: events
// about users whose home group is in scope and about groups in scope, and
// events about or by the actor themself.
func auditScopeCond(tenantID int64, sf *roster.ScopeFilter) (string, []any) {
	var parts []string
	var args []any
	if len(sf.GroupIDs) > 0 {
		in := placeholders(len(sf.GroupIDs))
		parts = append(parts, `(target_kind = 'user' AND target_id IN (SELECT id FROM users WHERE tenant_id = ? AND group_id IN (`+in+`)))`,
			`(target_kind = 'group' AND target_id IN (`+in+`))`)
		args = anyArgs([]any{tenantID}, sf.GroupIDs)
		args = anyArgs(args, sf.GroupIDs)
	}
	if sf.UserID != 0 {
		parts = append(parts, `(target_kind = 'user' AND target_id = ?)`, `(actor_kind = 'user' AND actor_id = ?)`)
		args = append(args, sf.UserID, sf.UserID)
	}
	if len(parts) == 0 {
		return "1 = 0", nil
	}
	return "(" + strings.Join(parts, " OR ") + ")", args
}
