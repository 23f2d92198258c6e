package authz

import "context"

// userLocked finds the user in p, syncing once when the user is missing (a
// user created a moment ago by another process). It returns with p.mu held
// for reading; the caller unlocks.
func (x *Index) userLocked(ctx context.Context, p *partition, userID int64) (*user, error) {
	p.mu.RLock()
	if u := p.users[userID]; u != nil {
		return u, nil
	}
	p.mu.RUnlock()
	if err := x.Sync(ctx); err != nil {
		return nil, err
	}
	p.mu.RLock()
	if u := p.users[userID]; u != nil {
		return u, nil
	}
	p.mu.RUnlock()
	return nil, ErrUnknownUser
}

// Check reports whether the user holds perm through a role whose scope
// covers the data of group groupID and/or agent ID agentID (0: not given;
// with neither, holding the permission is enough). Users who are not active
// are allowed nothing. A group or agent ID the tenant does not have is never
// covered.
func (x *Index) Check(ctx context.Context, tenantID, userID int64, perm string, groupID, agentID int64) (bool, error) {
	p, err := x.partition(ctx, tenantID)
	if err != nil {
		return false, err
	}
	u, err := x.userLocked(ctx, p, userID)
	if err != nil {
		return false, err
	}
	ok := p.check(u, perm, groupID, agentID)
	p.mu.RUnlock()
	return ok, nil
}

// Scope returns what the user may see through the roles granting any of
// perms (all of their roles when perms is empty): the union of their scopes.
func (x *Index) Scope(ctx context.Context, tenantID, userID int64, perms ...string) (Scope, error) {
	p, err := x.partition(ctx, tenantID)
	if err != nil {
		return Scope{}, err
	}
	u, err := x.userLocked(ctx, p, userID)
	if err != nil {
		return Scope{}, err
	}
	s := p.scope(u, perms)
	p.mu.RUnlock()
	return s, nil
}

// Visible is a scope spelled out for the host platform: everything, or these
// groups and these agent IDs (the own ones and those in the groups).
type Visible struct {
	All      bool
	GroupIDs []int64
	AgentIDs []int64
}

// VisibleTo is Scope with the agent IDs of the groups added.
func (x *Index) VisibleTo(ctx context.Context, tenantID, userID int64, perms ...string) (Visible, error) {
	p, err := x.partition(ctx, tenantID)
	if err != nil {
		return Visible{}, err
	}
	u, err := x.userLocked(ctx, p, userID)
	if err != nil {
		return Visible{}, err
	}
	defer p.mu.RUnlock()
	s := p.scope(u, perms)
	if s.All {
		return Visible{All: true, GroupIDs: []int64{}, AgentIDs: []int64{}}, nil
	}
	v := Visible{GroupIDs: s.Groups, AgentIDs: p.visibleAgents(s)}
	if v.GroupIDs == nil {
		v.GroupIDs = []int64{}
	}
	return v, nil
}

// AgentGroup returns the effective group of an agent ID (0: none) and
// whether the tenant has it.
func (x *Index) AgentGroup(ctx context.Context, tenantID, agentID int64) (int64, bool, error) {
	p, err := x.partition(ctx, tenantID)
	if err != nil {
		return 0, false, err
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	a, ok := p.agents[agentID]
	return a.group, ok, nil
}
