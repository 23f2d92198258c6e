package store

import (
	"context"
	"database/sql"
	"strconv"
	"strings"

	"github.com/roster-dev/roster/internal/roster"
)

func nullText(b []byte) any {
	if b == nil {
		return nil
	}
	return string(b)
}

func (q *queries) AddAudit(ctx context.Context, e *roster.AuditEvent) error {
	var err error
	e.ID, err = q.insert(ctx, `INSERT INTO audit_events (tenant_id, actor_kind, actor_id, actor_name, impersonator_id, action,
		target_kind, target_id, before, after, ip, user_agent, request_id, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.TenantID, e.ActorKind, e.ActorID, e.ActorName, e.ImpersonatorID, e.Action, e.TargetKind, e.TargetID,
		nullText(e.Before), nullText(e.After), e.IP, e.UserAgent, e.RequestID, ms(e.At))
	return err
}

// splitRef reads "kind:id", "kind" or "id".
func splitRef(s string) (kind string, id int64, hasID bool) {
	k, v, found := strings.Cut(s, ":")
	if !found {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return "", n, true
		}
		return s, 0, false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	return k, n, err == nil
}

func (q *queries) ListAudit(ctx context.Context, tenantID int64, f roster.AuditFilter) ([]roster.AuditEvent, int, error) {
	where := []string{"tenant_id = ?"}
	args := []any{tenantID}
	ref := func(s, kindCol, idCol string) {
		kind, id, hasID := splitRef(s)
		if kind != "" {
			where = append(where, kindCol+" = ?")
			args = append(args, kind)
		}
		if hasID {
			where = append(where, idCol+" = ?")
			args = append(args, id)
		}
	}
	if f.Actor != "" {
		ref(f.Actor, "actor_kind", "actor_id")
	}
	if f.Target != "" {
		ref(f.Target, "target_kind", "target_id")
	}
	if f.Scope != nil { // a scoped actor: events about users and groups in scope
		c, a := auditScopeCond(tenantID, f.Scope)
		where, args = append(where, c), append(args, a...)
	}
	if f.Action != "" {
		if strings.HasSuffix(f.Action, ".") {
			where = append(where, "action LIKE ?")
			args = append(args, strings.NewReplacer("%", "", "_", "").Replace(f.Action)+"%")
		} else {
			where = append(where, "action = ?")
			args = append(args, f.Action)
		}
	}
	if f.From != nil {
		where = append(where, "at >= ?")
		args = append(args, ms(*f.From))
	}
	if f.To != nil {
		where = append(where, "at < ?")
		args = append(args, ms(*f.To))
	}
	cond := strings.Join(where, " AND ")
	var total int
	if err := q.queryRow(ctx, `SELECT count(*) FROM audit_events WHERE `+cond, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := q.query(ctx, `SELECT id, tenant_id, actor_kind, actor_id, actor_name, impersonator_id, action, target_kind, target_id,
		before, after, ip, user_agent, request_id, at FROM audit_events WHERE `+cond+` ORDER BY id DESC LIMIT ? OFFSET ?`,
		append(args, f.PerPage, (f.Page-1)*f.PerPage)...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	out := []roster.AuditEvent{}
	for rows.Next() {
		var e roster.AuditEvent
		var imp sql.NullInt64
		var before, after sql.NullString
		var at int64
		if err := rows.Scan(&e.ID, &e.TenantID, &e.ActorKind, &e.ActorID, &e.ActorName, &imp, &e.Action, &e.TargetKind, &e.TargetID,
			&before, &after, &e.IP, &e.UserAgent, &e.RequestID, &at); err != nil {
			return nil, 0, err
		}
		if imp.Valid {
			e.ImpersonatorID = &imp.Int64
		}
		if before.Valid {
			e.Before = []byte(before.String)
		}
		if after.Valid {
			e.After = []byte(after.String)
		}
		e.At = fromMS(at)
		out = append(out, e)
	}
	return out, total, rows.Err()
}
