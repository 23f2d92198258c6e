package store

import (
	"context"
	"database/sql"
	"errors"

	"github.com/roster-dev/roster/internal/roster"
)

// Bulk import (roster/import*.go): batched lookups for the checks, and the
// job with its staged rows (migration imports).

func (q *queries) UsersByUsernames(ctx context.Context, tenantID int64, names []string) ([]roster.User, error) {
	out := []roster.User{}
	err := chunked(names, inChunk, func(part []string) error {
		rows, err := q.query(ctx, `SELECT `+userColumns+` FROM users u WHERE u.tenant_id = ? AND lower(u.username) IN (`+
			placeholders(len(part))+`)`, anyArgs([]any{tenantID}, part)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		var users []roster.User
		for rows.Next() {
			u, err := scanUser(rows)
			if err != nil {
				return err
			}
			users = append(users, u)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if err := q.loadUserLinks(ctx, tenantID, users); err != nil {
			return err
		}
		out = append(out, users...)
		return nil
	})
	return out, err
}

func (q *queries) UserHolders(ctx context.Context, tenantID int64, emails []string, numbers []int64) (roster.UserHolders, error) {
	h := roster.UserHolders{Emails: map[string]int64{}, Numbers: map[int64]int64{}}
	err := chunked(emails, inChunk, func(part []string) error {
		rows, err := q.query(ctx, `SELECT email, id FROM users WHERE tenant_id = ? AND email IN (`+placeholders(len(part))+`)`,
			anyArgs([]any{tenantID}, part)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var e string
			var id int64
			if err := rows.Scan(&e, &id); err != nil {
				return err
			}
			h.Emails[e] = id
		}
		return rows.Err()
	})
	if err != nil {
		return h, err
	}
	err = chunked(numbers, inChunk, func(part []int64) error {
		rows, err := q.query(ctx, `SELECT agent_number, id FROM users WHERE tenant_id = ? AND agent_number IN (`+placeholders(len(part))+`)`,
			anyArgs([]any{tenantID}, part)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var n, id int64
			if err := rows.Scan(&n, &id); err != nil {
				return err
			}
			h.Numbers[n] = id
		}
		return rows.Err()
	})
	return h, err
}

const importJobColumns = `id, tenant_id, state, mode, invite, actor_kind, actor_id, actor_name, total, created, updated, unchanged, merged_row, created_at, updated_at`

func scanImportJob(s interface{ Scan(...any) error }) (roster.ImportJob, error) {
	var j roster.ImportJob
	var created, updated int64
	err := s.Scan(&j.ID, &j.TenantID, &j.State, &j.Mode, &j.Invite, &j.ActorKind, &j.ActorID, &j.ActorName,
		&j.Total, &j.Created, &j.Updated, &j.Unchanged, &j.MergedRow, &created, &updated)
	j.CreatedAt, j.UpdatedAt = fromMS(created), fromMS(updated)
	return j, err
}

func (q *queries) CreateImportJob(ctx context.Context, j *roster.ImportJob) error {
	var err error
	j.ID, err = q.insert(ctx, `INSERT INTO import_jobs (tenant_id, state, mode, invite, actor_kind, actor_id, actor_name, total,
		created, updated, unchanged, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		j.TenantID, j.State, j.Mode, j.Invite, j.ActorKind, j.ActorID, j.ActorName, j.Total, j.Created, j.Updated, j.Unchanged,
		ms(j.CreatedAt), ms(j.UpdatedAt))
	return err
}

func (q *queries) LockImportJob(ctx context.Context, tenantID, id int64) (*roster.ImportJob, error) {
	lock := ""
	if q.d.dialect == Postgres {
		lock = " FOR UPDATE" // SQLite's write transactions hold the database's one write lock already
	}
	j, err := scanImportJob(q.queryRow(ctx, `SELECT `+importJobColumns+` FROM import_jobs WHERE tenant_id = ? AND id = ?`+lock, tenantID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("import", id)
	}
	if err != nil {
		return nil, err
	}
	return &j, nil
}

func (q *queries) OpenImportJobs(ctx context.Context, tenantID int64) ([]roster.ImportJob, error) {
	rows, err := q.query(ctx, `SELECT `+importJobColumns+` FROM import_jobs WHERE tenant_id = ? AND state <> 'done' ORDER BY id`, tenantID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []roster.ImportJob
	for rows.Next() {
		j, err := scanImportJob(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, rows.Err()
}

func (q *queries) UpdateImportJob(ctx context.Context, j *roster.ImportJob) error {
	_, err := q.exec(ctx, `UPDATE import_jobs SET state = ?, total = ?, created = ?, updated = ?, unchanged = ?, merged_row = ?, updated_at = ?
		WHERE tenant_id = ? AND id = ?`, j.State, j.Total, j.Created, j.Updated, j.Unchanged, j.MergedRow, ms(j.UpdatedAt), j.TenantID, j.ID)
	return err
}

func (q *queries) DeleteImportJob(ctx context.Context, tenantID, id int64) error {
	if _, err := q.exec(ctx, `DELETE FROM import_rows WHERE tenant_id = ? AND job_id = ?`, tenantID, id); err != nil {
		return err
	}
	_, err := q.exec(ctx, `DELETE FROM import_jobs WHERE tenant_id = ? AND id = ?`, tenantID, id)
	return err
}

// stageRowsPerInsert keeps a statement's parameters (4 a row) well under
// SQLite's limit.
const stageRowsPerInsert = 500

func (q *queries) StageImportRows(ctx context.Context, tenantID, jobID int64, rows []roster.StagedImportRow) error {
	return chunked(rows, stageRowsPerInsert, func(part []roster.StagedImportRow) error {
		args := make([]any, 0, 4*len(part))
		for _, r := range part {
			args = append(args, tenantID, jobID, r.Row, string(r.Data))
		}
		_, err := q.exec(ctx, `INSERT INTO import_rows (tenant_id, job_id, row_no, data) VALUES `+valueRows(len(part), 4), args...)
		return err
	})
}

func (q *queries) StagedImportRows(ctx context.Context, tenantID, jobID int64, after, limit int) ([]roster.StagedImportRow, error) {
	rows, err := q.query(ctx, `SELECT row_no, data FROM import_rows WHERE job_id = ? AND row_no > ? AND tenant_id = ? ORDER BY row_no LIMIT ?`,
		jobID, after, tenantID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []roster.StagedImportRow
	for rows.Next() {
		var r roster.StagedImportRow
		var data string
		if err := rows.Scan(&r.Row, &data); err != nil {
			return nil, err
		}
		r.Data = []byte(data)
		out = append(out, r)
	}
	return out, rows.Err()
}

func (q *queries) DeleteStagedImportRows(ctx context.Context, tenantID, jobID int64, from, upTo int) error {
	_, err := q.exec(ctx, `DELETE FROM import_rows WHERE job_id = ? AND row_no > ? AND row_no <= ? AND tenant_id = ?`, jobID, from, upTo, tenantID)
	return err
}

func (q *queries) AgentKeysByID(ctx context.Context, tenantID int64, ids []int64) (map[int64]roster.AgentKey, error) {
	out := make(map[int64]roster.AgentKey, len(ids))
	err := chunked(ids, inChunk, func(part []int64) error {
		rows, err := q.query(ctx, `SELECT id, source, external_id FROM agent_ids WHERE tenant_id = ? AND id IN (`+placeholders(len(part))+`)`,
			anyArgs([]any{tenantID}, part)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			var k roster.AgentKey
			if err := rows.Scan(&id, &k.Source, &k.ExternalID); err != nil {
				return err
			}
			out[id] = k
		}
		return rows.Err()
	})
	return out, err
}
