package roster

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// AgentID is an agent's identity in one interaction source (voice:4711,
// chat:anna.k). Agent IDs appear when interactions are ingested; an agent ID
// belongs to at most one user, a user may hold several (seeds 000, 001).
type AgentID struct {
	ID         int64  `json:"id"`
	TenantID   int64  `json:"-"`
	Source     string `json:"source"`
	ExternalID string `json:"external_id"`
	Name       string `json:"name"`
	UserID     *int64 `json:"user_id"`
	// GroupID is the agent ID's group: its holder's home group when it is
	// assigned, else the group of its latest interaction.
	GroupID      *int64     `json:"group_id"`
	Interactions int64      `json:"interactions"`
	FirstSeenAt  *time.Time `json:"first_seen_at"`
	LastSeenAt   *time.Time `json:"last_seen_at"`
	LastGroupID  *int64     `json:"-"`
	CreatedAt    time.Time  `json:"created_at"`
}

// Key returns the agent ID's source and external id.
func (g *AgentID) Key() AgentKey { return AgentKey{g.Source, g.ExternalID} }

func (k AgentKey) String() string { return k.Source + ":" + k.ExternalID }

// AgentRef names an agent ID in input: its id (12) or "source:external_id"
// ("voice:4711"), which is handy in imports.
type AgentRef struct {
	ID  int64
	Key AgentKey
	bad string // what was given when it is neither
}

// ParseAgentRef reads "12" or "source:external_id".
func ParseAgentRef(s string) AgentRef {
	s = strings.TrimSpace(s)
	var id int64
	if _, err := fmt.Sscan(s, &id); err == nil && fmt.Sprint(id) == s {
		return AgentRef{ID: id}
	}
	src, ext, ok := strings.Cut(s, ":")
	src, ext = strings.ToLower(strings.TrimSpace(src)), strings.TrimSpace(ext)
	if !ok || src == "" || ext == "" {
		return AgentRef{bad: s}
	}
	return AgentRef{Key: AgentKey{src, ext}}
}

// UnmarshalJSON accepts a number or a "source:external_id" string; anything
// else is kept and reported as a field error by the core.
func (r *AgentRef) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*r = ParseAgentRef(s)
		return nil
	}
	var id int64
	if err := json.Unmarshal(b, &id); err == nil {
		*r = AgentRef{ID: id}
		return nil
	}
	*r = AgentRef{bad: string(b)}
	return nil
}

// MarshalJSON writes the id, or "source:external_id".
func (r AgentRef) MarshalJSON() ([]byte, error) {
	if r.ID != 0 {
		return json.Marshal(r.ID)
	}
	if r.bad != "" {
		return json.Marshal(r.bad)
	}
	return json.Marshal(r.Key.String())
}

// AgentIDRefs turns ids into refs.
func AgentIDRefs(ids ...int64) []AgentRef {
	out := make([]AgentRef, len(ids))
	for i, id := range ids {
		out[i] = AgentRef{ID: id}
	}
	return out
}

// resolveAgentRefs finds the agent IDs refs name; unknown ones are field
// errors under field. Duplicates are dropped.
func resolveAgentRefs(ctx context.Context, tx Tx, tenantID int64, field string, refs []AgentRef, v *Validation) ([]AgentID, error) {
	var ids []int64
	var keys []AgentKey
	for i, r := range refs {
		switch {
		case r.bad != "":
			v.Add(field, "item %d: %s is not an agent ID; give its id or \"source:external_id\"", i, echo(r.bad))
		case r.ID != 0:
			ids = append(ids, r.ID)
		default:
			keys = append(keys, r.Key)
		}
	}
	var found []AgentID
	if len(ids) > 0 {
		byID, err := tx.AgentIDsByID(ctx, tenantID, ids)
		if err != nil {
			return nil, err
		}
		found = append(found, byID...)
	}
	if len(keys) > 0 {
		byKey, err := tx.AgentIDsByKey(ctx, tenantID, keys)
		if err != nil {
			return nil, err
		}
		found = append(found, byKey...)
	}
	byID := make(map[int64]AgentID, len(found))
	byKey := make(map[AgentKey]AgentID, len(found))
	for _, g := range found {
		byID[g.ID] = g
		byKey[g.Key()] = g
	}
	var out []AgentID
	taken := make(map[int64]bool, len(refs))
	for i, r := range refs {
		if r.bad != "" {
			continue
		}
		g, ok := byKey[r.Key]
		if r.ID != 0 {
			g, ok = byID[r.ID]
		}
		if !ok {
			name := r.Key.String()
			if r.ID != 0 {
				name = fmt.Sprint(r.ID)
			}
			v.Add(field, "item %d: no agent ID %s (agent IDs appear when their interactions are ingested)", i, name)
			continue
		}
		if !taken[g.ID] {
			taken[g.ID] = true
			out = append(out, g)
		}
	}
	return out, nil
}

// setAgentIDsTx makes refs the agent IDs of u (written already or about to
// be, u.ID set): new ones are assigned, the others released. Holding agent
// IDs needs a role with the self scope (the Agent role): seed 000 ties agent
// IDs to "a user with the role Agent", and only self-scoped roles see data
// through them. An agent ID another user holds is a conflict naming them.
func (s *Service) setAgentIDsTx(ctx context.Context, tx Tx, a *Actor, u *User, refs []AgentRef) error {
	var v Validation
	agents, err := resolveAgentRefs(ctx, tx, a.TenantID, "agent_ids", refs, &v)
	if err != nil {
		return err
	}
	if len(agents) > 0 {
		selfScoped, err := holdsSelfRole(ctx, tx, a.TenantID, u.Roles)
		if err != nil {
			return err
		}
		if !selfScoped {
			v.Add("agent_ids", "only users holding a role with the self scope (such as Agent) can hold agent IDs")
		}
	}
	if err := v.Err(); err != nil {
		return err
	}
	sf, err := s.scopeOf(ctx, a, PermUsersManage)
	if err != nil {
		return err
	}
	for i, g := range agents {
		if !sf.agentVisible(&g) {
			return oneFieldError("agent_ids", "item %d: no agent ID %s (agent IDs appear when their interactions are ingested)", i, g.Key())
		}
	}
	for _, g := range agents {
		if g.UserID != nil && *g.UserID != u.ID {
			return s.heldBy(ctx, tx, a.TenantID, g)
		}
	}
	keep := make([]int64, len(agents))
	for i, g := range agents {
		keep[i] = g.ID
	}
	if err := tx.ReleaseAgentIDs(ctx, a.TenantID, u.ID, keep); err != nil {
		return err
	}
	for _, g := range agents {
		ok, err := tx.HoldAgentID(ctx, a.TenantID, g.ID, u.ID)
		if err != nil {
			return err
		}
		if !ok { // taken meanwhile by a concurrent assignment
			now, err := tx.AgentIDsByID(ctx, a.TenantID, []int64{g.ID})
			if err != nil {
				return err
			}
			if len(now) == 1 {
				return s.heldBy(ctx, tx, a.TenantID, now[0])
			}
			return conflictField(ReasonAgentIDHeld, "agent_ids", "the agent ID %s was just assigned to another user", g.Key())
		}
	}
	slices.Sort(keep)
	u.AgentIDs = keep
	return nil
}

// heldBy is the conflict of an agent ID another user holds, naming them.
func (s *Service) heldBy(ctx context.Context, tx Tx, tenantID int64, g AgentID) error {
	holder := fmt.Sprintf("user %d", *g.UserID)
	if h, err := tx.User(ctx, tenantID, *g.UserID); err == nil {
		holder = h.Username
		if h.Name != "" && h.Name != h.Username {
			holder += " (" + h.Name + ")"
		}
	}
	return conflictField(ReasonAgentIDHeld, "agent_ids", "the agent ID %s is held by %s; an agent ID belongs to one user at a time, so take it away from them first", g.Key(), holder)
}

// holdsSelfRole reports whether one of the role keys has the self scope.
func holdsSelfRole(ctx context.Context, tx Tx, tenantID int64, keys []string) (bool, error) {
	roles, err := tx.ListRoles(ctx, tenantID)
	if err != nil {
		return false, err
	}
	for _, r := range roles {
		if r.Scope == ScopeSelf && slices.Contains(keys, r.Key) {
			return true, nil
		}
	}
	return false, nil
}

// SetUserAgents replaces the agent IDs a user holds (PUT /users/{id}/agents).
// refs nil (the field was missing) is an error; empty takes them all away.
func (s *Service) SetUserAgents(ctx context.Context, a *Actor, userID int64, refs []AgentRef) (*User, error) {
	if err := a.requireWrite(PermUsersManage); err != nil {
		return nil, err
	}
	if refs == nil {
		return nil, oneFieldError("agent_ids", "is required: the complete list ([] takes them all away)")
	}
	var v Validation
	if checkAgentRefs(&v, "agent_ids", refs); !v.OK() { // before the transaction
		return nil, s.reachableFirst(v.Err(), s.userReachable(ctx, a, userID))
	}
	return s.changeUser(ctx, a, userID, "user.agents", func(tx Tx, u, _ *User) error {
		return s.setAgentIDsTx(ctx, tx, a, u, refs)
	})
}

// AgentQuery is an agent list request as front doors receive it.
type AgentQuery struct {
	Q        string
	Assigned string // "true" or "false"
	Source   string
	UserID   string
	Sort     string
	Order    string
	Page     string
	PerPage  string
}

// ListAgents lists the agent IDs the actor may see: with users.view or
// users.manage (to assign them) or team.view, within the scope of the roles
// granting those.
func (s *Service) ListAgents(ctx context.Context, a *Actor, q AgentQuery) (*Page[AgentID], error) {
	perms := []string{PermUsersView, PermUsersManage, PermTeamView}
	if err := a.require(perms...); err != nil {
		return nil, err
	}
	var v Validation
	f := AgentFilter{Sort: "external_id", Query: strings.TrimSpace(q.Q), Source: strings.ToLower(strings.TrimSpace(q.Source))}
	f.Page, f.PerPage = ParsePaging(&v, q.Page, q.PerPage)
	f.Desc = parseOrder(&v, q.Order)
	if len(f.Query) > 100 {
		v.Add("q", "must be at most 100 characters")
	}
	switch q.Assigned {
	case "":
	case "true", "false":
		b := q.Assigned == "true"
		f.Assigned = &b
	default:
		v.Add("assigned", "must be true or false")
	}
	if q.Sort != "" {
		if !slices.Contains(AgentSortKeys, q.Sort) {
			v.Add("sort", "cannot sort by %q; use one of %s", q.Sort, strings.Join(AgentSortKeys, ", "))
		}
		f.Sort = q.Sort
	}
	if q.UserID != "" {
		if _, err := fmt.Sscan(q.UserID, &f.UserID); err != nil || f.UserID < 1 {
			v.Add("user_id", "must be a user id")
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	sf, err := s.scopeOf(ctx, a, perms...)
	if err != nil {
		return nil, err
	}
	f.Scope = sf
	items, total, err := s.store.Read().ListAgentIDs(ctx, a.TenantID, f)
	if err != nil {
		return nil, err
	}
	return &Page[AgentID]{Items: items, Total: total, Page: f.Page, PerPage: f.PerPage}, nil
}
