package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/roster-dev/roster/internal/roster"
)

// Interactions (contacts handled by an agent ID): ingest, the list, and
// moving them with their agent ID.

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
