package roster

import (
	"context"
	"time"
)

// TeamMember is one row of the My Team page: a user of the caller's groups
// with their agent IDs, their interactions over the period, the start of the
// latest of them, and their open coaching plans (open or in progress).
type TeamMember struct {
	User           User           `json:"user"`
	AgentIDs       []AgentID      `json:"agent_ids"`
	Interactions   int64          `json:"interactions"`
	LastActivityAt *time.Time     `json:"last_activity_at"`
	OpenPlans      []CoachingPlan `json:"open_plans"`
}

// MyTeam is one page of the caller's team over a period [From, To).
type MyTeam struct {
	Items   []TeamMember `json:"items"`
	Total   int          `json:"total"`
	Page    int          `json:"page"`
	PerPage int          `json:"per_page"`
	From    time.Time    `json:"from"`
	To      time.Time    `json:"to"`
}

// MyTeamQuery is a My Team request as front doors receive it.
type MyTeamQuery struct {
	From    string // date or RFC 3339 time; default: 30 days before To
	To      string // default: now
	Page    string
	PerPage string // default 100
}

// TeamFilter selects the members of a team: users (not deactivated) whose
// home group is in GroupIDs, or every user when AllGroups; never ExceptUserID.
type TeamFilter struct {
	AllGroups    bool
	GroupIDs     []int64
	ExceptUserID int64
	Role         string // only users holding this role (My Team: the agents)
	Page         int
	PerPage      int
}

// AgentActivity is what one agent ID did over a period.
type AgentActivity struct {
	AgentID      int64
	Interactions int64
	LastAt       *time.Time
}

// DefaultTeamPeriod is the period My Team covers when none is given.
const DefaultTeamPeriod = 30 * 24 * time.Hour

// MyTeam returns the caller's team: for a team leader the agents (users
// holding the Agent role) whose home group is in their groups (subtrees
// included), for a tenant-wide role every agent, the caller left out. Every number comes from indexed queries over
// the page's users only.
func (s *Service) MyTeam(ctx context.Context, a *Actor, q MyTeamQuery) (*MyTeam, error) {
	if err := a.require(PermTeamView); err != nil {
		return nil, err
	}
	var v Validation
	if q.PerPage == "" {
		q.PerPage = "100"
	}
	page, perPage := ParsePaging(&v, q.Page, q.PerPage)
	to := s.Now()
	if t := parseTimeParam(&v, "to", q.To); t != nil {
		to = *t
	}
	from := to.Add(-DefaultTeamPeriod)
	if t := parseTimeParam(&v, "from", q.From); t != nil {
		from = *t
	}
	if v.OK() && !from.Before(to) {
		v.Add("to", "must be after from")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	sf, err := s.scopeOf(ctx, a, PermTeamView)
	if err != nil {
		return nil, err
	}
	// The team is its agents: a fellow team leader or an analyst in the
	// same group is not coached here.
	f := TeamFilter{AllGroups: sf == nil, Role: RoleAgent, Page: page, PerPage: perPage}
	if a.Kind == ActorUser {
		f.ExceptUserID = a.ID
	}
	if sf != nil {
		// Only roles scoped to groups have a team; a self-scoped one sees
		// no one else.
		widest, err := s.widestScope(ctx, a, PermTeamView)
		if err != nil {
			return nil, err
		}
		if widest == ScopeGroups {
			f.GroupIDs = sf.GroupIDs
		}
	}
	out := &MyTeam{Items: []TeamMember{}, Page: page, PerPage: perPage, From: from, To: to}
	if !f.AllGroups && len(f.GroupIDs) == 0 {
		return out, nil
	}
	r := s.store.Read()
	users, total, err := r.TeamMembers(ctx, a.TenantID, f)
	if err != nil {
		return nil, err
	}
	out.Total = total
	if len(users) == 0 {
		return out, nil
	}
	userIDs := make([]int64, len(users))
	for i, u := range users {
		userIDs[i] = u.ID
	}
	agents, err := r.AgentIDsOfUsers(ctx, a.TenantID, userIDs)
	if err != nil {
		return nil, err
	}
	agentIDs := make([]int64, len(agents))
	for i, g := range agents {
		agentIDs[i] = g.ID
	}
	activity, err := r.AgentActivity(ctx, a.TenantID, agentIDs, from, to)
	if err != nil {
		return nil, err
	}
	plans, err := r.OpenCoachingPlans(ctx, a.TenantID, userIDs)
	if err != nil {
		return nil, err
	}
	byUser := make(map[int64]*TeamMember, len(users))
	for _, u := range users {
		out.Items = append(out.Items, TeamMember{User: u, AgentIDs: []AgentID{}, OpenPlans: []CoachingPlan{}})
	}
	for i := range out.Items {
		byUser[out.Items[i].User.ID] = &out.Items[i]
	}
	holder := make(map[int64]*TeamMember, len(agents))
	for _, g := range agents {
		if m := byUser[*g.UserID]; m != nil {
			m.AgentIDs = append(m.AgentIDs, g)
			holder[g.ID] = m
		}
	}
	for _, act := range activity {
		m := holder[act.AgentID]
		if m == nil {
			continue
		}
		m.Interactions += act.Interactions
		if act.LastAt != nil && (m.LastActivityAt == nil || act.LastAt.After(*m.LastActivityAt)) {
			m.LastActivityAt = act.LastAt
		}
	}
	for _, p := range plans {
		if m := byUser[p.AgentUserID]; m != nil {
			m.OpenPlans = append(m.OpenPlans, p)
		}
	}
	return out, nil
}
