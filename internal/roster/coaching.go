package roster

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"
)

// coachingPerms are the permissions that show coaching plans.
var coachingPerms = []string{PermCoachingManage, PermTeamView}

// coachingScope is what plans the actor reaches through the roles granting
// perms: nil for the whole tenant; the plans of the users whose home group
// is in the scope's groups; and always the actor's own. A role with the self
// scope reaches only the actor's own plans (a roaming agent's wider view of
// interactions does not open other people's plans).
func (s *Service) coachingScope(ctx context.Context, a *Actor, perms ...string) (*ScopeFilter, error) {
	sf, err := s.scopeOf(ctx, a, perms...)
	if err != nil || sf == nil {
		return sf, err
	}
	widest, err := s.widestScope(ctx, a, perms...)
	if err != nil {
		return nil, err
	}
	out := &ScopeFilter{UserID: a.ID}
	if widest == ScopeGroups {
		out.GroupIDs = sf.GroupIDs
	}
	return out, nil
}

// ListCoachingPlans lists the plans the actor may see.
func (s *Service) ListCoachingPlans(ctx context.Context, a *Actor, q CoachingPlanQuery) (*Page[CoachingPlan], error) {
	if err := a.require(coachingPerms...); err != nil {
		return nil, err
	}
	var v Validation
	f := CoachingPlanFilter{Sort: "created_at", Desc: true}
	f.Page, f.PerPage = ParsePaging(&v, q.Page, q.PerPage)
	if q.Order != "" {
		f.Desc = parseOrder(&v, q.Order)
	}
	switch q.Sort {
	case "", "created_at":
	case "due_date", "updated_at":
		f.Sort = q.Sort
	default:
		v.Add("sort", "cannot sort by %q; use created_at, updated_at or due_date", q.Sort)
	}
	if q.AgentUserID != "" {
		id, err := strconv.ParseInt(q.AgentUserID, 10, 64)
		if err != nil || id < 1 {
			v.Add("agent_user_id", "must be a user id")
		}
		f.AgentUserID = id
	}
	if q.Status != "" {
		for _, st := range strings.Split(q.Status, ",") {
			st = strings.TrimSpace(st)
			if !slices.Contains(PlanStatuses, st) {
				v.Add("status", "%q is not a status; use open, in_progress or done", st)
				continue
			}
			f.Statuses = append(f.Statuses, st)
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	sf, err := s.coachingScope(ctx, a, coachingPerms...)
	if err != nil {
		return nil, err
	}
	f.Scope = sf
	items, total, err := s.store.Read().ListCoachingPlans(ctx, a.TenantID, f)
	if err != nil {
		return nil, err
	}
	return &Page[CoachingPlan]{Items: items, Total: total, Page: f.Page, PerPage: f.PerPage}, nil
}

// CoachingPlan returns one plan the actor may see; others are not found.
func (s *Service) CoachingPlan(ctx context.Context, a *Actor, id int64) (*CoachingPlan, error) {
	if err := a.require(coachingPerms...); err != nil {
		return nil, err
	}
	r := s.store.Read()
	p, err := r.CoachingPlan(ctx, a.TenantID, id)
	if err != nil {
		return nil, err
	}
	if err := s.planInScope(ctx, r, a, p, coachingPerms...); err != nil {
		return nil, err
	}
	return p, nil
}

// planInScope answers ENotFound for a plan of an agent out of the actor's reach.
func (s *Service) planInScope(ctx context.Context, tx Reader, a *Actor, p *CoachingPlan, perms ...string) error {
	ok, err := s.agentInCoachingScope(ctx, tx, a, p.AgentUserID, perms...)
	if err != nil {
		return err
	}
	if !ok {
		return Errorf(ENotFound, "no coaching plan with id %d", p.ID)
	}
	return nil
}

// agentInCoachingScope reports whether the plans of user id are within the
// actor's reach (false for a user that does not exist).
func (s *Service) agentInCoachingScope(ctx context.Context, tx Reader, a *Actor, userID int64, perms ...string) (bool, error) {
	sf, err := s.coachingScope(ctx, a, perms...)
	if err != nil {
		return false, err
	}
	u, err := tx.User(ctx, a.TenantID, userID)
	if ErrorCode(err) == ENotFound {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return sf.userVisible(u), nil
}

// CreateCoachingPlan starts a plan. Without agent_user_id it is the signed-in
// user's own plan.
func (s *Service) CreateCoachingPlan(ctx context.Context, a *Actor, in CoachingPlanInput) (*CoachingPlan, error) {
	if err := a.requireWrite(PermCoachingManage); err != nil {
		return nil, err
	}
	now := s.Now()
	p := &CoachingPlan{TenantID: a.TenantID, Status: PlanOpen, CreatedByKind: a.Kind, CreatedByID: a.ID, CreatedByName: a.Name,
		Notes: []CoachingNote{}, CreatedAt: now, UpdatedAt: now}
	if !in.AgentUserID.Set && a.Kind == ActorUser {
		in.AgentUserID = Some(a.ID)
	}
	if !in.Status.Set {
		in.Status = Some(PlanOpen)
	}
	// The fields are checked before the transaction; only whether the
	// agent is one whose plans the actor manages needs it.
	var v Validation
	p.AgentUserID = in.AgentUserID.V
	if p.AgentUserID == 0 {
		v.Add("agent_user_id", "is required: the user whose plan this is")
	}
	if !in.Title.Set {
		v.Add("title", "is required")
	}
	applyPlanInput(&v, p, in)
	checkAgent := func(tx Reader, v *Validation) error {
		if p.AgentUserID == 0 {
			return nil
		}
		ok, err := s.agentInCoachingScope(ctx, tx, a, p.AgentUserID, PermCoachingManage)
		if err == nil && !ok {
			v.Add("agent_user_id", "no user with id %d among the users whose coaching plans you manage", p.AgentUserID)
		}
		return err
	}
	if !v.OK() {
		if err := checkAgent(s.store.Read(), &v); err != nil {
			return nil, err
		}
		return nil, v.Err()
	}
	err := s.inTx(ctx, func(tx Tx) error {
		var v Validation
		if err := checkAgent(tx, &v); err != nil {
			return err
		}
		if err := v.Err(); err != nil {
			return err
		}
		if err := tx.CreateCoachingPlan(ctx, p); err != nil {
			return err
		}
		if err := s.addPlanNote(ctx, tx, a, p, in.Note); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "coaching_plan.create", "coaching_plan", p.ID, nil, p)
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// UpdateCoachingPlan changes a plan the actor may manage and, with a note,
// adds it.
func (s *Service) UpdateCoachingPlan(ctx context.Context, a *Actor, id int64, in CoachingPlanInput) (*CoachingPlan, error) {
	if err := a.requireWrite(PermCoachingManage); err != nil {
		return nil, err
	}
	// The plan, in the actor's reach; its agent never changes.
	load := func(tx Reader, v *Validation) (*CoachingPlan, error) {
		before, err := tx.CoachingPlan(ctx, a.TenantID, id)
		if err != nil {
			return nil, err
		}
		if err := s.planInScope(ctx, tx, a, before, PermCoachingManage); err != nil {
			return nil, err
		}
		if in.AgentUserID.Set && in.AgentUserID.V != before.AgentUserID {
			v.Add("agent_user_id", "cannot be changed; start a new plan for the other user")
		}
		return before, nil
	}
	var pre Validation // the fields, before the transaction
	if applyPlanInput(&pre, &CoachingPlan{}, in); !pre.OK() {
		if _, err := load(s.store.Read(), &pre); err != nil {
			return nil, err
		}
		return nil, pre.Err()
	}
	var p *CoachingPlan
	err := s.inTx(ctx, func(tx Tx) error {
		if err := s.checkVersion(ctx, tx, KindCoachingPlan, a.TenantID, id); err != nil {
			return err
		}
		var v Validation
		before, err := load(tx, &v)
		if err != nil {
			return err
		}
		p = new(CoachingPlan)
		*p = *before
		p.Notes = slices.Clone(before.Notes)
		applyPlanInput(&v, p, in)
		if err := v.Err(); err != nil {
			return err
		}
		p.UpdatedAt = s.nextUpdate(p.UpdatedAt)
		if err := tx.UpdateCoachingPlan(ctx, p); err != nil {
			return err
		}
		if err := s.addPlanNote(ctx, tx, a, p, in.Note); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "coaching_plan.update", "coaching_plan", id, before, p)
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// AddCoachingNote adds a timestamped note to a plan.
func (s *Service) AddCoachingNote(ctx context.Context, a *Actor, id int64, text string) (*CoachingPlan, error) {
	if strings.TrimSpace(text) == "" {
		var v Validation
		v.Add("text", "is required")
		return nil, v.Err()
	}
	return s.UpdateCoachingPlan(ctx, a, id, CoachingPlanInput{Note: Some(text)})
}

// applyPlanInput validates the given fields into p.
func applyPlanInput(v *Validation, p *CoachingPlan, in CoachingPlanInput) {
	if in.Title.Set {
		p.Title = strings.TrimSpace(in.Title.V)
		if p.Title == "" || tooLong(p.Title, MaxPlanTitleLen) {
			v.Add("title", "must be 1 to %d characters", MaxPlanTitleLen)
		}
	}
	if in.Goals.Set {
		p.Goals = strings.TrimSpace(in.Goals.V)
		if tooLong(p.Goals, MaxPlanGoalsLen) {
			v.Add("goals", "must be at most %d characters", MaxPlanGoalsLen)
		}
	}
	if in.Status.Set {
		p.Status = in.Status.V
		if !slices.Contains(PlanStatuses, p.Status) {
			v.Add("status", "must be open, in_progress or done")
		}
	}
	if in.DueDate.Set {
		d := strings.TrimSpace(in.DueDate.V)
		if in.DueDate.Null || d == "" {
			p.DueDate = nil
		} else if _, err := time.Parse("2006-01-02", d); err != nil || len(d) != 10 {
			v.Add("due_date", "must be a date such as 2026-12-31")
		} else {
			p.DueDate = &d
		}
	}
	if in.Note.Set {
		n := strings.TrimSpace(in.Note.V)
		if in.Note.Null || n == "" || tooLong(n, MaxPlanNoteLen) {
			v.Add("note", "must be 1 to %d characters", MaxPlanNoteLen)
		}
	}
}

func (s *Service) addPlanNote(ctx context.Context, tx Tx, a *Actor, p *CoachingPlan, note Opt[string]) error {
	if !note.Set {
		return nil
	}
	n := &CoachingNote{TenantID: a.TenantID, PlanID: p.ID, Text: strings.TrimSpace(note.V), AuthorKind: a.Kind, AuthorID: a.ID,
		AuthorName: a.Name, CreatedAt: s.Now()}
	if err := tx.AddCoachingNote(ctx, n); err != nil {
		return err
	}
	p.Notes = append(p.Notes, *n)
	return nil
}
