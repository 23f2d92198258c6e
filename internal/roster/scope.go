package roster

import (
	"context"
	"errors"
	"slices"

	"github.com/roster-dev/roster/internal/authz"
)

// Data scopes in the core. A role's scope limits the data its permissions
// reach: tenant (all), groups (the user's group access, subtrees included)
// or self (the user's own agent IDs; a roaming agent's also reaches the
// groups of their group access). A user with several roles gets the union,
// per permission: a permission reaches what the roles granting it reach.
//
// Signed-in users (and impersonations, which act as the viewed user) are
// scoped by their roles, answered from the decision index. API tokens act
// tenant-wide with their role's permissions (CONTRACT.md); the system actor
// sees everything.

// scopeOf returns what the actor may see through the roles granting any of
// perms (all their roles when none are given); nil means the whole tenant.
func (s *Service) scopeOf(ctx context.Context, a *Actor, perms ...string) (*ScopeFilter, error) {
	if a.system || a.Kind != ActorUser {
		return nil, nil
	}
	sc, err := s.authz.Scope(ctx, a.TenantID, a.ID, perms...)
	if errors.Is(err, authz.ErrUnknownUser) {
		return &ScopeFilter{}, nil
	}
	if err != nil {
		return nil, err
	}
	if sc.All {
		return nil, nil
	}
	return &ScopeFilter{GroupIDs: sc.Groups, AgentIDs: sc.Agents, UserID: sc.User}, nil
}

func sortedHas(ids []int64, id int64) bool {
	_, ok := slices.BinarySearch(ids, id)
	return ok
}

// hasGroup reports whether the scope covers group id.
func (sf *ScopeFilter) hasGroup(id int64) bool {
	return sf == nil || sortedHas(sf.GroupIDs, id)
}

// userVisible: the user's home group is in scope, or it is the actor.
func (sf *ScopeFilter) userVisible(u *User) bool {
	return sf == nil || sortedHas(sf.GroupIDs, u.GroupID) || (sf.UserID != 0 && u.ID == sf.UserID)
}

// agentVisible: one of the actor's own agent IDs, or its group is in scope.
func (sf *ScopeFilter) agentVisible(g *AgentID) bool {
	return sf == nil || sortedHas(sf.AgentIDs, g.ID) || (g.GroupID != nil && sortedHas(sf.GroupIDs, *g.GroupID))
}

// widthRank orders scopes by how much they reach.
func widthRank(scope string) int {
	switch scope {
	case ScopeTenant:
		return 2
	case ScopeGroups:
		return 1
	case ScopeSelf:
		return 0
	}
	return -1
}

// widestScope is the widest scope among the actor's roles granting perms.
func (s *Service) widestScope(ctx context.Context, a *Actor, perms ...string) (string, error) {
	if a.system || a.Kind != ActorUser {
		return ScopeTenant, nil
	}
	sc, err := s.authz.Scope(ctx, a.TenantID, a.ID, perms...)
	if errors.Is(err, authz.ErrUnknownUser) {
		return "", nil
	}
	return sc.Widest, err
}

// checkScopeGrant refuses to let an actor hand out a role whose scope
// reaches further than their own (through the roles granting perms): a team
// leader who may manage users can make agents, not tenant-wide viewers.
func (s *Service) checkScopeGrant(ctx context.Context, a *Actor, roleScope string, perms ...string) error {
	own, err := s.widestScope(ctx, a, perms...)
	if err != nil {
		return err
	}
	if widthRank(roleScope) > widthRank(own) {
		return Errorf(EForbidden, "a role with the %s scope reaches further than your own (%s); ask someone with tenant-wide rights", roleScope, scopeLabel(own))
	}
	return nil
}

func scopeLabel(scope string) string {
	if scope == "" {
		return "none"
	}
	return scope
}

// requireTenantWide refuses actors whose perms do not reach the whole tenant
// (for tenant-wide things: API tokens, statistics, ingest).
func (s *Service) requireTenantWide(ctx context.Context, a *Actor, what string, perms ...string) error {
	own, err := s.widestScope(ctx, a, perms...)
	if err != nil {
		return err
	}
	if own != ScopeTenant {
		return Errorf(EForbidden, "%s needs a role with the tenant scope", what)
	}
	return nil
}

// userInScope answers ENotFound for a user the actor may not see (through
// the roles granting perms), exactly like an id that does not exist.
func (s *Service) userInScope(ctx context.Context, a *Actor, u *User, perms ...string) error {
	sf, err := s.scopeOf(ctx, a, perms...)
	if err != nil {
		return err
	}
	if !sf.userVisible(u) {
		return Errorf(ENotFound, "no user with id %d", u.ID)
	}
	return nil
}

// groupsInScope checks that a user's home group and group access (as set by
// a change) lie in the actor's scope of user management (users.manage,
// users.invite — not of every role, or a tenant-wide viewer role would let
// a team's manager place people anywhere): nobody places people where they
// cannot see them, or hands out access beyond their own.
func (s *Service) groupsInScope(ctx context.Context, a *Actor, u, before *User) error {
	sf, err := s.scopeOf(ctx, a, PermUsersManage, PermUsersInvite)
	if err != nil || sf == nil {
		return err
	}
	var v Validation
	if (before == nil || before.GroupID != u.GroupID) && !sf.hasGroup(u.GroupID) {
		v.Add("group_id", "no group with id %d", u.GroupID)
	}
	for i, g := range u.GroupAccess {
		if (before == nil || !slices.Contains(before.GroupAccess, g)) && !sf.hasGroup(g) {
			v.Add("group_access", "item %d: no group with id %d", i, g)
		}
	}
	return v.Err()
}

// oneFieldError is a validation error of a single field.
func oneFieldError(field, format string, args ...any) error {
	var v Validation
	v.Add(field, format, args...)
	return v.Err()
}

// groupInScope answers ENotFound for a group the actor may not see.
func (s *Service) groupInScope(ctx context.Context, a *Actor, id int64, perms ...string) error {
	sf, err := s.scopeOf(ctx, a, perms...)
	if err != nil {
		return err
	}
	if !sf.hasGroup(id) {
		return Errorf(ENotFound, "no group with id %d", id)
	}
	return nil
}

// parentInScope: a scoped group manager creates and moves groups only below
// groups of their scope; level 1 (the billing level) needs the tenant scope.
func (s *Service) parentInScope(ctx context.Context, a *Actor, parent *int64) error {
	sf, err := s.scopeOf(ctx, a, PermGroupsManage)
	if err != nil || sf == nil {
		return err
	}
	if parent == nil {
		return oneFieldError("parent_id", "level-1 groups need a group manager with the tenant scope")
	}
	if !sf.hasGroup(*parent) {
		return oneFieldError("parent_id", "no group with id %d", *parent)
	}
	return nil
}
