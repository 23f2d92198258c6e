package store

import (
	"context"
	"database/sql"
	"strings"

	"github.com/roster-dev/roster/internal/roster"
)

// Coaching plans and their notes.

const planColumns = `p.id, p.tenant_id, p.agent_user_id, p.title, p.goals, p.status, p.due_date, p.created_by_kind, p.created_by_id,
	p.created_by_name, p.created_at, p.updated_at`

func scanPlan(s interface{ Scan(...any) error }) (roster.CoachingPlan, error) {
	var p roster.CoachingPlan
	var due sql.NullString
	var created, updated int64
	err := s.Scan(&p.ID, &p.TenantID, &p.AgentUserID, &p.Title, &p.Goals, &p.Status, &due, &p.CreatedByKind, &p.CreatedByID,
		&p.CreatedByName, &created, &updated)
	if due.Valid {
		p.DueDate = &due.String
	}
	p.CreatedAt, p.UpdatedAt = fromMS(created), fromMS(updated)
	p.Notes = []roster.CoachingNote{}
	return p, err
}

func nullDate(p *string) any {
	if p == nil {
		return nil
	}
	return *p
}

func (q *queries) CreateCoachingPlan(ctx context.Context, p *roster.CoachingPlan) error {
	var err error
	p.ID, err = q.insert(ctx, `INSERT INTO coaching_plans (tenant_id, agent_user_id, title, goals, status, due_date, created_by_kind,
		created_by_id, created_by_name, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		p.TenantID, p.AgentUserID, p.Title, p.Goals, p.Status, nullDate(p.DueDate), p.CreatedByKind, p.CreatedByID, p.CreatedByName,
		ms(p.CreatedAt), ms(p.UpdatedAt))
	return err
}

func (q *queries) UpdateCoachingPlan(ctx context.Context, p *roster.CoachingPlan) error {
	res, err := q.exec(ctx, `UPDATE coaching_plans SET title = ?, goals = ?, status = ?, due_date = ?, updated_at = ? WHERE tenant_id = ? AND id = ?`,
		p.Title, p.Goals, p.Status, nullDate(p.DueDate), ms(p.UpdatedAt), p.TenantID, p.ID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound("coaching plan", p.ID)
	}
	return nil
}

func (q *queries) AddCoachingNote(ctx context.Context, n *roster.CoachingNote) error {
	var err error
	n.ID, err = q.insert(ctx, `INSERT INTO coaching_notes (tenant_id, plan_id, text, author_kind, author_id, author_name, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, n.TenantID, n.PlanID, n.Text, n.AuthorKind, n.AuthorID, n.AuthorName, ms(n.CreatedAt))
	return err
}

func (q *queries) CoachingPlan(ctx context.Context, tenantID, id int64) (*roster.CoachingPlan, error) {
	p, err := scanPlan(q.queryRow(ctx, `SELECT `+planColumns+` FROM coaching_plans p WHERE p.tenant_id = ? AND p.id = ?`, tenantID, id))
	if err == sql.ErrNoRows {
		return nil, notFound("coaching plan", id)
	}
	if err != nil {
		return nil, err
	}
	plans := []roster.CoachingPlan{p}
	if err := q.loadNotes(ctx, tenantID, plans); err != nil {
		return nil, err
	}
	return &plans[0], nil
}

// scopeCondition limits rows whose user column is col to a scope: the
// actor's own, and those of users whose home group is in the scope's groups.
// One IN over a subquery, so the planner drives the read from the users_group
// index into the (tenant, user) index of the table instead of filtering the
// tenant's rows.
func scopeCondition(sf *roster.ScopeFilter, tenantID int64, col string) (string, []any) {
	var parts []string
	var args []any
	if len(sf.GroupIDs) > 0 {
		parts = append(parts, "SELECT id FROM users WHERE tenant_id = ? AND group_id IN ("+placeholders(len(sf.GroupIDs))+")")
		args = append(args, tenantID)
		for _, g := range sf.GroupIDs {
			args = append(args, g)
		}
	}
	if sf.UserID != 0 {
		parts = append(parts, "SELECT CAST(? AS BIGINT)")
		args = append(args, sf.UserID)
	}
	if len(parts) == 0 {
		return "1 = 0", nil
	}
	return col + " IN (" + strings.Join(parts, " UNION ALL ") + ")", args
}

func (q *queries) ListCoachingPlans(ctx context.Context, tenantID int64, f roster.CoachingPlanFilter) ([]roster.CoachingPlan, int, error) {
	where := []string{"p.tenant_id = ?"}
	args := []any{tenantID}
	if f.AgentUserID != 0 {
		where = append(where, "p.agent_user_id = ?")
		args = append(args, f.AgentUserID)
	}
	if len(f.Statuses) > 0 {
		where = append(where, "p.status IN ("+placeholders(len(f.Statuses))+")")
		for _, s := range f.Statuses {
			args = append(args, s)
		}
	}
	if f.Scope != nil {
		cond, cargs := scopeCondition(f.Scope, tenantID, "p.agent_user_id")
		where = append(where, cond)
		args = append(args, cargs...)
	}
	cond := strings.Join(where, " AND ")
	var total int
	if err := q.queryRow(ctx, `SELECT count(*) FROM coaching_plans p WHERE `+cond, args...).Scan(&total); err != nil {
		return nil, 0, q.d.mapErr(err)
	}
	dir := " ASC"
	if f.Desc {
		dir = " DESC"
	}
	// A scoped list is a few users' plans: "+" keeps the planner from
	// walking the tenant's plans in id order to find them.
	idCol := "p.id"
	if f.Scope != nil {
		idCol = "+p.id"
	}
	order := idCol + dir
	switch f.Sort {
	case "updated_at":
		order = "p.updated_at" + dir + ", " + order
	case "due_date": // plans without a due date last, either way
		order = "CASE WHEN p.due_date IS NULL THEN 1 ELSE 0 END, p.due_date" + dir + ", " + order
	}
	rows, err := q.query(ctx, `SELECT `+planColumns+` FROM coaching_plans p WHERE `+cond+` ORDER BY `+order+` LIMIT ? OFFSET ?`,
		append(args, f.PerPage, (f.Page-1)*f.PerPage)...)
	if err != nil {
		return nil, 0, err
	}
	plans, err := collectPlans(rows)
	if err != nil {
		return nil, 0, err
	}
	return plans, total, q.loadNotes(ctx, tenantID, plans)
}

func collectPlans(rows *sql.Rows) ([]roster.CoachingPlan, error) {
	defer rows.Close()
	out := []roster.CoachingPlan{}
	for rows.Next() {
		p, err := scanPlan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// loadNotes fills the notes of a page of plans with one query, oldest first.
func (q *queries) loadNotes(ctx context.Context, tenantID int64, plans []roster.CoachingPlan) error {
	if len(plans) == 0 {
		return nil
	}
	idx := make(map[int64]int, len(plans))
	args := []any{tenantID}
	for i, p := range plans {
		idx[p.ID] = i
		args = append(args, p.ID)
	}
	rows, err := q.query(ctx, `SELECT id, plan_id, text, author_kind, author_id, author_name, created_at FROM coaching_notes
		WHERE tenant_id = ? AND plan_id IN (`+placeholders(len(plans))+`) ORDER BY plan_id, id`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		n := roster.CoachingNote{TenantID: tenantID}
		var at int64
		if err := rows.Scan(&n.ID, &n.PlanID, &n.Text, &n.AuthorKind, &n.AuthorID, &n.AuthorName, &at); err != nil {
			return err
		}
		n.CreatedAt = fromMS(at)
		i := idx[n.PlanID]
		plans[i].Notes = append(plans[i].Notes, n)
	}
	return rows.Err()
}

// OpenCoachingPlans reads the plans of a page of users through the
// (tenant_id, agent_user_id, status) index.
func (q *queries) OpenCoachingPlans(ctx context.Context, tenantID int64, userIDs []int64) ([]roster.CoachingPlan, error) {
	if len(userIDs) == 0 {
		return []roster.CoachingPlan{}, nil
	}
	args := []any{tenantID}
	for _, id := range userIDs {
		args = append(args, id)
	}
	rows, err := q.query(ctx, `SELECT `+planColumns+` FROM coaching_plans p WHERE p.tenant_id = ? AND p.agent_user_id IN (`+
		placeholders(len(userIDs))+`) AND p.status IN ('open', 'in_progress') ORDER BY p.agent_user_id, p.id`, args...)
	if err != nil {
		return nil, err
	}
	plans, err := collectPlans(rows)
	if err != nil {
		return nil, err
	}
	return plans, q.loadNotes(ctx, tenantID, plans)
}
