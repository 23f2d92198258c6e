package roster

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// GroupInput creates or changes a group. For PATCH, unset fields stay;
// ParentID set to null makes the group a level-1 (billing) group.
type GroupInput struct {
	Name     Opt[string] `json:"name"`
	ParentID Opt[int64]  `json:"parent_id"`
}

// ListGroups returns the whole tree of the actor's tenant, ordered by level
// and name. Trees are small (thousands), so callers get them whole.
func (s *Service) ListGroups(ctx context.Context, a *Actor) ([]Group, error) {
	if err := a.require(PermUsersView, PermGroupsManage, PermTeamView); err != nil {
		return nil, err
	}
	groups, err := s.store.Read().ListGroups(ctx, a.TenantID)
	if err != nil {
		return nil, err
	}
	// A scoped actor sees the groups of their scope.
	sf, err := s.scopeOf(ctx, a, PermUsersView, PermGroupsManage, PermTeamView)
	if err != nil || sf == nil {
		return groups, err
	}
	return slices.DeleteFunc(groups, func(g Group) bool { return !sf.hasGroup(g.ID) }), nil
}

// Group returns one group of the actor's tenant.
func (s *Service) Group(ctx context.Context, a *Actor, id int64) (*Group, error) {
	if err := a.require(PermUsersView, PermGroupsManage, PermTeamView); err != nil {
		return nil, err
	}
	if err := s.groupInScope(ctx, a, id, PermUsersView, PermGroupsManage, PermTeamView); err != nil {
		return nil, err
	}
	return s.store.Read().Group(ctx, a.TenantID, id)
}

// CreateGroup adds a group under in.ParentID (or at level 1), refusing to go
// beyond the tenant's group depth.
func (s *Service) CreateGroup(ctx context.Context, a *Actor, in GroupInput) (*Group, error) {
	if err := a.requireWrite(PermGroupsManage); err != nil {
		return nil, err
	}
	name := strings.TrimSpace(in.Name.V)
	var pre Validation // before the transaction
	if checkGroupName(&pre, name); !pre.OK() {
		return nil, pre.Err()
	}
	var g *Group
	err := s.inTx(ctx, func(tx Tx) error {
		var err error
		g, err = s.createGroupTx(ctx, tx, a, in, name)
		return err
	})
	return g, err
}

// createGroupTx is CreateGroup inside a transaction the caller runs, for
// name checked already (checkGroupName).
func (s *Service) createGroupTx(ctx context.Context, tx Tx, a *Actor, in GroupInput, name string) (*Group, error) {
	t, err := tx.TenantByID(ctx, a.TenantID)
	if err != nil {
		return nil, err
	}
	tree, err := loadTree(ctx, tx, a.TenantID)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	g := &Group{TenantID: a.TenantID, Level: 1, CreatedAt: now, UpdatedAt: now}
	var v Validation
	g.Name = name
	if in.ParentID.Set && !in.ParentID.Null {
		parent, ok := tree.byID[in.ParentID.V]
		if !ok {
			v.Add("parent_id", "no group with id %d", in.ParentID.V)
		} else {
			g.ParentID = &parent.ID
			g.Level = parent.Level + 1
			if g.Level > t.Settings.GroupDepth {
				v.Add("parent_id", "groups can be nested %d levels deep; %q is on level %d already", t.Settings.GroupDepth, parent.Name, parent.Level)
			}
		}
	}
	if v.OK() {
		if err := s.parentInScope(ctx, a, g.ParentID); err != nil {
			return nil, err
		}
	}
	if v.OK() && tree.siblingNamed(g.ParentID, name, 0) {
		return nil, conflictField(ReasonGroupNameTaken, "name", "a group named %q exists already at this place in the tree", name)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if err := tx.CreateGroup(ctx, g); err != nil {
		return nil, err
	}
	return g, s.audit(ctx, tx, a, "group.create", "group", g.ID, nil, g)
}

// UpdateGroup renames and/or moves a group. A move under the group itself or
// one of its descendants, or one that would push any descendant beyond the
// tenant's depth, is refused.
func (s *Service) UpdateGroup(ctx context.Context, a *Actor, id int64, in GroupInput) (*Group, error) {
	if err := a.requireWrite(PermGroupsManage); err != nil {
		return nil, err
	}
	name := strings.TrimSpace(in.Name.V)
	if in.Name.Set {
		var pre Validation // before the transaction
		if checkGroupName(&pre, name); !pre.OK() {
			return nil, s.reachableFirst(pre.Err(), func(r Reader) error {
				if _, err := r.Group(ctx, a.TenantID, id); err != nil {
					return err
				}
				return s.groupInScope(ctx, a, id, PermGroupsManage)
			})
		}
	}
	var g *Group
	err := s.inTx(ctx, func(tx Tx) error {
		var err error
		g, err = s.updateGroupTx(ctx, tx, a, id, in, name)
		return err
	})
	return g, err
}

// updateGroupTx is UpdateGroup inside a transaction the caller runs, for
// name checked already (checkGroupName).
func (s *Service) updateGroupTx(ctx context.Context, tx Tx, a *Actor, id int64, in GroupInput, name string) (*Group, error) {
	if err := s.checkVersion(ctx, tx, KindGroup, a.TenantID, id); err != nil {
		return nil, err
	}
	t, err := tx.TenantByID(ctx, a.TenantID)
	if err != nil {
		return nil, err
	}
	tree, err := loadTree(ctx, tx, a.TenantID)
	if err != nil {
		return nil, err
	}
	cur, ok := tree.byID[id]
	if !ok {
		return nil, Errorf(ENotFound, "no group with id %d", id)
	}
	if err := s.groupInScope(ctx, a, id, PermGroupsManage); err != nil {
		return nil, err
	}
	// A move changes what everyone with access above the old or the new
	// parent reaches (subtrees are included in group access), so it
	// needs a group manager who reaches the whole tenant (grant rule).
	if moved := in.ParentID.Set && !sameParent(cur.ParentID, in.ParentID); moved {
		if err := s.requireTenantWide(ctx, a, "moving a group (it changes who reaches its users)", PermGroupsManage); err != nil {
			return nil, err
		}
	}
	before := *cur
	g := new(Group)
	*g = *cur
	var v Validation
	if in.Name.Set {
		g.Name = name
	}
	if in.ParentID.Set {
		if in.ParentID.Null {
			g.ParentID, g.Level = nil, 1
		} else if parent, ok := tree.byID[in.ParentID.V]; !ok {
			v.Add("parent_id", "no group with id %d", in.ParentID.V)
		} else if parent.ID == id || tree.isDescendant(parent.ID, id) {
			v.Add("parent_id", "a group cannot be moved under itself or one of its own subgroups")
		} else {
			g.ParentID, g.Level = &parent.ID, parent.Level+1
		}
		if v.OK() {
			if deepest := g.Level + tree.height(id) - 1; deepest > t.Settings.GroupDepth {
				v.Add("parent_id", "the move would put subgroups on level %d; groups can be nested %d levels deep", deepest, t.Settings.GroupDepth)
			}
		}
	}
	if v.OK() && in.ParentID.Set {
		if err := s.parentInScope(ctx, a, g.ParentID); err != nil {
			return nil, err
		}
	}
	if v.OK() && tree.siblingNamed(g.ParentID, g.Name, id) {
		return nil, conflictField(ReasonGroupNameTaken, "name", "a group named %q exists already at this place in the tree", g.Name)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	g.UpdatedAt = s.nextUpdate(g.UpdatedAt)
	if err := tx.UpdateGroup(ctx, g); err != nil {
		return nil, err
	}
	// Levels of the subtree follow the move.
	if shift := g.Level - before.Level; shift != 0 {
		for _, d := range tree.descendants(id) {
			d.Level += shift
			d.UpdatedAt = g.UpdatedAt
			if err := tx.UpdateGroup(ctx, d); err != nil {
				return nil, err
			}
		}
	}
	return g, s.audit(ctx, tx, a, "group.update", "group", id, before, g)
}

// DeleteGroup removes an empty group: one with subgroups or users is refused
// with a message saying what is in it.
func (s *Service) DeleteGroup(ctx context.Context, a *Actor, id int64) error {
	if err := a.requireWrite(PermGroupsManage); err != nil {
		return err
	}
	return s.inTx(ctx, func(tx Tx) error {
		if err := s.checkVersion(ctx, tx, KindGroup, a.TenantID, id); err != nil {
			return err
		}
		g, err := tx.Group(ctx, a.TenantID, id)
		if err != nil {
			return err
		}
		if err := s.groupInScope(ctx, a, id, PermGroupsManage); err != nil {
			return err
		}
		children, users, err := tx.GroupUsage(ctx, a.TenantID, id)
		if err != nil {
			return err
		}
		if children > 0 || users > 0 {
			return conflict(ReasonGroupNotEmpty, "group %q still has %s and %s (home group or group access); move or delete them first", g.Name, countOf(children, "subgroup"), countOf(users, "user"))
		}
		if err := tx.DeleteGroup(ctx, a.TenantID, id); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "group.delete", "group", id, g, nil)
	})
}

func checkGroupName(v *Validation, name string) {
	switch {
	case name == "":
		v.Add("name", "is required")
	case tooLong(name, MaxGroupNameLen):
		v.Add("name", "must be at most %d characters", MaxGroupNameLen)
	}
}

// groupTree is a tenant's groups in memory, for the rules that need the
// whole tree (depth, cycles, subtrees).
type groupTree struct {
	byID     map[int64]*Group
	children map[int64][]*Group
	roots    []*Group
}

func loadTree(ctx context.Context, tx Reader, tenantID int64) (*groupTree, error) {
	groups, err := tx.ListGroups(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	return newTree(groups), nil
}

func newTree(groups []Group) *groupTree {
	t := &groupTree{byID: make(map[int64]*Group, len(groups)), children: map[int64][]*Group{}}
	for i := range groups {
		g := &groups[i]
		t.byID[g.ID] = g
		if g.ParentID == nil {
			t.roots = append(t.roots, g)
		} else {
			t.children[*g.ParentID] = append(t.children[*g.ParentID], g)
		}
	}
	return t
}

// isDescendant reports whether id lies below ancestor.
func (t *groupTree) isDescendant(id, ancestor int64) bool {
	for g := t.byID[id]; g != nil && g.ParentID != nil; g = t.byID[*g.ParentID] {
		if *g.ParentID == ancestor {
			return true
		}
	}
	return false
}

// descendants returns every group below id.
func (t *groupTree) descendants(id int64) []*Group {
	var out []*Group
	stack := []int64{id}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, c := range t.children[n] {
			out = append(out, c)
			stack = append(stack, c.ID)
		}
	}
	return out
}

// subtree returns id and all its descendants' ids.
func (t *groupTree) subtree(id int64) []int64 {
	ids := []int64{id}
	for _, d := range t.descendants(id) {
		ids = append(ids, d.ID)
	}
	return ids
}

// height is the number of levels of the subtree rooted at id (1 for a leaf).
func (t *groupTree) height(id int64) int {
	h := 1
	for _, c := range t.children[id] {
		if ch := 1 + t.height(c.ID); ch > h {
			h = ch
		}
	}
	return h
}

func (t *groupTree) siblingNamed(parent *int64, name string, except int64) bool {
	siblings := t.roots
	if parent != nil {
		siblings = t.children[*parent]
	}
	for _, g := range siblings {
		if g.ID != except && strings.EqualFold(g.Name, name) {
			return true
		}
	}
	return false
}

// sameParent reports whether a requested parent is the group's current one.
func sameParent(cur *int64, next Opt[int64]) bool {
	if next.Null || next.V == 0 {
		return cur == nil
	}
	return cur != nil && *cur == next.V
}

// countOf says "1 subgroup", "2 subgroups", "no users".
func countOf(n int, noun string) string {
	switch n {
	case 0:
		return "no " + noun + "s"
	case 1:
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
