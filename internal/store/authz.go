package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/roster-dev/roster/internal/authz"
	"github.com/roster-dev/roster/internal/roster"
)

// The decision index's source: the change log that triggers write (migration
// 0003) and the reads that load or patch a tenant's partition.
//
// SQLite has one writer at a time, so log ids become visible in order and a
// reader's cursor is simply the last id read. PostgreSQL hands out identity
// values at insert time, so a transaction that started earlier can commit a
// lower id after a reader has moved past it. The reader therefore reads in a
// REPEATABLE READ snapshot, remembers the transactions that were still
// running at that snapshot (Cursor.Pending), and reads their rows again,
// whatever their ids, once they are no longer running.

// snapshotReader is what reading the log needs of the database.
type snapshotReader interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// inSnapshot runs fn in a read-only REPEATABLE READ transaction (PostgreSQL)
// and passes it the transactions running at its snapshot.
func (q *queries) inSnapshot(ctx context.Context, fn func(r snapshotReader, running []uint64) error) error {
	return classify(q.snapshot(ctx, fn)) // an outage is roster.EUnavailable
}

func (q *queries) snapshot(ctx context.Context, fn func(r snapshotReader, running []uint64) error) error {
	db, ok := q.q.(*sql.DB)
	if !ok {
		return fmt.Errorf("store: the change log is read outside transactions")
	}
	tx, err := db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var snap string
	if err := tx.QueryRowContext(ctx, `SELECT pg_current_snapshot()::text`).Scan(&snap); err != nil {
		return err
	}
	running, err := parseSnapshot(snap)
	if err != nil {
		return err
	}
	if err := fn(tx, running); err != nil {
		return err
	}
	return tx.Commit()
}

// parseSnapshot reads "xmin:xmax:xip,xip,..." and returns the xips.
func parseSnapshot(s string) ([]uint64, error) {
	parts := strings.Split(s, ":")
	if len(parts) != 3 {
		return nil, fmt.Errorf("store: unexpected snapshot %q", s)
	}
	var out []uint64
	for _, x := range strings.Split(parts[2], ",") {
		if x == "" {
			continue
		}
		v, err := strconv.ParseUint(x, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("store: unexpected snapshot %q", s)
		}
		out = append(out, v)
	}
	return out, nil
}

func (q *queries) AuthzHead(ctx context.Context) (authz.Cursor, error) {
	var cur authz.Cursor
	if q.d.dialect != Postgres {
		err := q.queryRow(ctx, `SELECT COALESCE(max(id), 0) FROM authz_changes`).Scan(&cur.ID)
		return cur, err
	}
	err := q.inSnapshot(ctx, func(r snapshotReader, running []uint64) error {
		cur.Pending = running
		return r.QueryRowContext(ctx, `SELECT COALESCE(max(id), 0) FROM authz_changes`).Scan(&cur.ID)
	})
	return cur, err
}

func (q *queries) AuthzChanges(ctx context.Context, cur authz.Cursor) ([]authz.Change, authz.Cursor, error) {
	next := authz.Cursor{ID: cur.ID}
	var out []authz.Change
	read := func(rows *sql.Rows, err error) error {
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var c authz.Change
			var id int64
			if err := rows.Scan(&id, &c.TenantID, &c.Kind, &c.RefID); err != nil {
				return err
			}
			next.ID = max(next.ID, id)
			out = append(out, c)
		}
		return rows.Err()
	}
	if q.d.dialect != Postgres {
		err := read(q.q.QueryContext(ctx, `SELECT id, tenant_id, kind, ref_id FROM authz_changes WHERE id > ? ORDER BY id`, cur.ID))
		return out, next, classify(err)
	}
	err := q.inSnapshot(ctx, func(r snapshotReader, running []uint64) error {
		next.Pending = running
		if len(cur.Pending) == 0 {
			return read(r.QueryContext(ctx, `SELECT id, tenant_id, kind, ref_id FROM authz_changes WHERE id > $1 ORDER BY id`, cur.ID))
		}
		xids := make([]string, len(cur.Pending))
		for i, x := range cur.Pending {
			xids[i] = strconv.FormatUint(x, 10)
		}
		return read(r.QueryContext(ctx, `SELECT id, tenant_id, kind, ref_id FROM authz_changes
			WHERE id > $1 OR xid = ANY($2::text::xid8[]) ORDER BY id`, cur.ID, "{"+strings.Join(xids, ",")+"}"))
	})
	return out, next, err
}

// PruneAuthzChanges deletes old log entries a few thousand at a time, each
// batch its own statement on the pool, so a large prune never holds SQLite's
// write lock for long.
func (d *DB) PruneAuthzChanges(ctx context.Context, before time.Time) error {
	q := &queries{q: d.db, d: d}
	for {
		res, err := q.exec(ctx, `DELETE FROM authz_changes WHERE id IN (SELECT id FROM authz_changes WHERE at < ? ORDER BY id LIMIT 5000)`, ms(before))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n < 5000 {
			return nil
		}
	}
}

func (q *queries) AuthzTenant(ctx context.Context, tenantID int64) (*authz.TenantData, error) {
	d := &authz.TenantData{}
	var err error
	if d.Roles, err = q.authzRoles(ctx, `tenant_id = ?`, tenantID); err != nil {
		return nil, err
	}
	if d.Groups, err = q.authzGroups(ctx, `tenant_id = ?`, tenantID); err != nil {
		return nil, err
	}
	if d.Users, err = q.authzUsers(ctx, `tenant_id = ?`, tenantID); err != nil {
		return nil, err
	}
	if d.Agents, err = q.authzAgents(ctx, `tenant_id = ?`, tenantID); err != nil {
		return nil, err
	}
	return d, nil
}

// byIDs runs load for ids in chunks, with "tenant_id = ? AND id IN (...)".
func byIDs[T any](tenantID int64, ids []int64, load func(cond string, args ...any) ([]T, error)) ([]T, error) {
	var out []T
	err := chunked(ids, inChunk, func(part []int64) error {
		got, err := load(`tenant_id = ? AND id IN (`+placeholders(len(part))+`)`, anyArgs([]any{tenantID}, part)...)
		out = append(out, got...)
		return err
	})
	return out, err
}

func (q *queries) AuthzRoles(ctx context.Context, tenantID int64, ids []int64) ([]authz.Role, error) {
	return byIDs(tenantID, ids, func(cond string, args ...any) ([]authz.Role, error) { return q.authzRoles(ctx, cond, args...) })
}

func (q *queries) AuthzGroups(ctx context.Context, tenantID int64, ids []int64) ([]authz.Group, error) {
	return byIDs(tenantID, ids, func(cond string, args ...any) ([]authz.Group, error) { return q.authzGroups(ctx, cond, args...) })
}

func (q *queries) AuthzUsers(ctx context.Context, tenantID int64, ids []int64) ([]authz.User, error) {
	return byIDs(tenantID, ids, func(cond string, args ...any) ([]authz.User, error) { return q.authzUsers(ctx, cond, args...) })
}

func (q *queries) AuthzAgents(ctx context.Context, tenantID int64, ids []int64) ([]authz.Agent, error) {
	return byIDs(tenantID, ids, func(cond string, args ...any) ([]authz.Agent, error) { return q.authzAgents(ctx, cond, args...) })
}

func (q *queries) authzRoles(ctx context.Context, cond string, args ...any) ([]authz.Role, error) {
	rows, err := q.query(ctx, `SELECT id, scope, permissions FROM roles WHERE `+cond, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []authz.Role
	for rows.Next() {
		var r authz.Role
		var perms string
		if err := rows.Scan(&r.ID, &r.Scope, &perms); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(perms), &r.Permissions); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func (q *queries) authzGroups(ctx context.Context, cond string, args ...any) ([]authz.Group, error) {
	rows, err := q.query(ctx, `SELECT id, parent_id FROM org_groups WHERE `+cond, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []authz.Group
	for rows.Next() {
		var g authz.Group
		var parent sql.NullInt64
		if err := rows.Scan(&g.ID, &parent); err != nil {
			return nil, err
		}
		g.ParentID = parent.Int64
		out = append(out, g)
	}
	return out, rows.Err()
}

// authzUsers reads users with their roles and group access (three queries
// over the same condition on users).
func (q *queries) authzUsers(ctx context.Context, cond string, args ...any) ([]authz.User, error) {
	rows, err := q.query(ctx, `SELECT id, status, group_id, roaming FROM users WHERE `+cond, args...)
	if err != nil {
		return nil, err
	}
	var out []authz.User
	idx := map[int64]int{}
	for rows.Next() {
		var u authz.User
		var status string
		if err := rows.Scan(&u.ID, &status, &u.GroupID, &u.Roaming); err != nil {
			rows.Close()
			return nil, err
		}
		u.Active = status == roster.StatusActive
		idx[u.ID] = len(out)
		out = append(out, u)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(out) == 0 {
		return out, err
	}
	// The same condition, on the link tables' user_id.
	linkCond := strings.Replace(cond, "id IN", "user_id IN", 1)
	for _, link := range []struct {
		table, col string
		add        func(u *authz.User, v int64)
	}{
		{"user_roles", "role_id", func(u *authz.User, v int64) { u.RoleIDs = append(u.RoleIDs, v) }},
		{"user_group_access", "group_id", func(u *authz.User, v int64) { u.Access = append(u.Access, v) }},
	} {
		rows, err := q.query(ctx, `SELECT user_id, `+link.col+` FROM `+link.table+` WHERE `+linkCond, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var uid, v int64
			if err := rows.Scan(&uid, &v); err != nil {
				rows.Close()
				return nil, err
			}
			if i, ok := idx[uid]; ok {
				link.add(&out[i], v)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (q *queries) authzAgents(ctx context.Context, cond string, args ...any) ([]authz.Agent, error) {
	rows, err := q.query(ctx, `SELECT id, user_id, last_group_id FROM agent_ids WHERE `+cond, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []authz.Agent
	for rows.Next() {
		var a authz.Agent
		var user, group sql.NullInt64
		if err := rows.Scan(&a.ID, &user, &group); err != nil {
			return nil, err
		}
		a.UserID, a.LastGroupID = user.Int64, group.Int64
		out = append(out, a)
	}
	return out, rows.Err()
}
