package roster

import (
	"context"
	"slices"
	"strings"
)

// The grant rule, the heart of Roster (docs/rules.md, "The grant rule"):
//
//   - Nobody gives a person a role they do not hold themselves: every
//     permission of the role must be the actor's, through a role whose scope
//     reaches at least as far as the given role's. The one exception is
//     explicit and data-driven: a role names the roles its holders may
//     assign (Role.AssignableRoles), as the Environment Manager assigns the
//     bot platform's roles (seed 002) — never Admin.
//   - A token acts tenant-wide, so a role goes on a token only when the actor
//     holds every permission of it tenant-wide; delegation does not apply.
//   - Nobody acts on someone more powerful: editing, deactivating,
//     reactivating, moving, deleting, re-inviting, or changing the contact of
//     a user needs that the actor could give every role the user holds, and
//     that the user's home group and group access lie in the actor's scope.
//
// Every door calls these functions through the core's use cases.

// grantor is what an actor may hand on, read in the transaction of the
// change: for each permission the widest scope the actor holds it with, and
// the roles their roles delegate.
type grantor struct {
	system     bool
	widths     map[string]int  // permission -> widthRank of the widest role granting it
	assignable map[string]bool // role keys delegated by the actor's roles
	assignBy   int             // widest scope of users.manage / users.invite; -1: none
	roles      map[string]*Role
}

// grantorOf reads the actor's grants. roles are the tenant's roles.
func (s *Service) grantorOf(ctx context.Context, tx Reader, a *Actor, roles []Role) (*grantor, error) {
	g := &grantor{system: a.system, widths: map[string]int{}, assignable: map[string]bool{}, assignBy: -1,
		roles: rolesByKey(roles)}
	if a.system {
		return g, nil
	}
	var held []*Role
	tokenWide := false
	switch a.Kind {
	case ActorUser:
		u, err := tx.User(ctx, a.TenantID, a.ID)
		if ErrorCode(err) == ENotFound {
			return g, nil // gone meanwhile: grants nothing
		}
		if err != nil {
			return nil, err
		}
		if u.Status != StatusActive {
			return g, nil
		}
		for _, k := range u.Roles {
			if r := g.roles[k]; r != nil {
				held = append(held, r)
			}
		}
	case ActorToken:
		for i := range roles {
			if roles[i].ID == a.roleID {
				held = append(held, &roles[i])
			}
		}
		tokenWide = true
	}
	for _, r := range held {
		rank := widthRank(r.Scope)
		if tokenWide {
			rank = widthRank(ScopeTenant)
		}
		for _, p := range r.Permissions {
			if w, ok := g.widths[p]; !ok || rank > w {
				g.widths[p] = rank
			}
		}
		for _, k := range r.AssignableRoles {
			g.assignable[k] = true
		}
	}
	for _, p := range []string{PermUsersManage, PermUsersInvite} {
		if w, ok := g.widths[p]; ok && w > g.assignBy {
			g.assignBy = w
		}
	}
	return g, nil
}

// shortfall names the first permission of r the grantor does not hold with
// a scope of at least need ("" when it holds them all), and whether it holds
// it at all.
func (g *grantor) shortfall(r *Role, need int) (perm string, heldNarrower bool) {
	if g.system {
		return "", false
	}
	for _, p := range r.Permissions {
		w, ok := g.widths[p]
		if !ok {
			return p, false
		}
		if w < need {
			return p, true
		}
	}
	return "", false
}

// mayAssign reports why the grantor may not give role r to a person (nil:
// it may): it holds every permission of r as far as r reaches, or one of
// its roles delegates r and its own user management reaches as far as r;
// and it could give every role r delegates (a role's delegation is power
// too: a role whose holders may make Admins is an Admin's to give).
func (g *grantor) mayAssign(r *Role) error {
	return g.mayAssignSeen(r, map[string]bool{})
}

func (g *grantor) mayAssignSeen(r *Role, seen map[string]bool) error {
	if err := g.mayAssignPerms(r); err != nil {
		return err
	}
	return g.mayDelegate(r, seen)
}

// mayDelegate reports why the grantor could not give a role r delegates.
func (g *grantor) mayDelegate(r *Role, seen map[string]bool) error {
	seen[r.Key] = true
	for _, k := range r.AssignableRoles {
		d := g.roles[k]
		if d == nil || seen[k] {
			continue
		}
		if err := g.mayAssignSeen(d, seen); err != nil {
			return Errorf(EForbidden, "you cannot give the role %q: its holders may give the role %q, which you cannot give", r.Name, d.Name)
		}
	}
	return nil
}

func (g *grantor) mayAssignPerms(r *Role) error {
	need := widthRank(r.Scope)
	perm, narrower := g.shortfall(r, need)
	if perm == "" {
		return nil
	}
	if g.assignable[r.Key] && need <= g.assignBy {
		return nil
	}
	if narrower {
		return forbiddenBy(ReasonRoleNotGrantable, "you cannot give the role %q: it has the %s scope, and your own %q reaches less far",
			r.Name, r.Scope, perm)
	}
	return forbiddenBy(ReasonRoleNotGrantable, "you cannot give the role %q: it carries the permission %q, which you do not hold", r.Name, perm)
}

// mayPutOnToken reports why the grantor may not make a token with role r:
// a token acts tenant-wide, so every permission must be held tenant-wide.
func (g *grantor) mayPutOnToken(r *Role) error {
	perm, narrower := g.shortfall(r, widthRank(ScopeTenant))
	switch {
	case perm == "":
		// A token holding r delegates what r delegates.
		if err := g.mayDelegate(r, map[string]bool{}); err != nil {
			return forbidden(oneFieldError("role", "%s", ErrorMessage(err)))
		}
		return nil
	case narrower:
		return forbidden(oneFieldError("role", "a token acts tenant-wide, and your own %q does not reach the whole tenant", perm))
	}
	return forbidden(oneFieldError("role", "the role %q carries the permission %q, which you do not hold; a token gets only what you hold", r.Name, perm))
}

// mayDefine reports why the grantor may not define a role with these
// permissions and this scope (a custom role's create or change, or the
// role as it was before a change): it must hold every permission as far
// as the role reaches. Delegation does not apply to definitions.
func (g *grantor) mayDefine(field string, perms []string, scope string) error {
	r := &Role{Permissions: perms, Scope: scope}
	perm, narrower := g.shortfall(r, widthRank(scope))
	switch {
	case perm == "":
		return nil
	case narrower:
		return forbidden(oneFieldError(field, "your own %q reaches less far than the %s scope", perm, scope))
	}
	return forbidden(oneFieldError(field, "%q is a permission you do not hold yourself", perm))
}

// mayActOn reports why the grantor may not act on user u: u holds a role the
// grantor could not give. Scope is checked by the caller (userInScope) and
// by coversAccess.
func (g *grantor) mayActOn(u *User) error {
	if g.system {
		return nil
	}
	for _, k := range u.Roles {
		r := g.roles[k]
		if r == nil {
			continue
		}
		if u.Roaming && r.Scope == ScopeSelf {
			r = roamingRole(r)
		}
		if err := g.mayAssign(r); err != nil {
			return forbiddenBy(ReasonTargetMorePowerful, "%s holds the role %q, with rights you do not hold; only someone with at least their rights can change them",
				u.Username, r.Name)
		}
	}
	return nil
}

// actOn checks the "more powerful target" rule in tx for actor a and user u:
// u's roles, and u's group access, which must lie inside the actor's scope
// (a target seeing groups the actor cannot see is more powerful too).
func (s *Service) actOn(ctx context.Context, tx Reader, a *Actor, u *User) error {
	if a.system || (a.Kind == ActorUser && a.ID == u.ID) {
		// Nobody is more powerful than themself: their own roles and group
		// access do not count against them (new grants to oneself are
		// checked by checkRoleGrant and groupsInScope).
		return nil
	}
	roles, err := tx.ListRoles(ctx, a.TenantID)
	if err != nil {
		return err
	}
	g, err := s.grantorOf(ctx, tx, a, roles)
	if err != nil {
		return err
	}
	if err := g.mayActOn(u); err != nil {
		return err
	}
	sf, err := s.scopeOf(ctx, a, PermUsersManage, PermUsersInvite)
	if err != nil || sf == nil {
		return err
	}
	for _, gid := range u.GroupAccess {
		if !sf.hasGroup(gid) {
			return forbiddenBy(ReasonTargetMorePowerful, "%s has access to groups outside your own; only someone who sees them can change %s",
				u.Username, u.Username)
		}
	}
	return nil
}

// checkRoleGrant is the grant rule for a user's roles: the actor may give
// every role that is new (before is nil on create). Taking a role away is
// acting on its holder: changeUser checks actOn for every role held before.
func (s *Service) checkRoleGrant(ctx context.Context, tx Tx, a *Actor, u, before *User) error {
	if a.system {
		return nil
	}
	roles, err := tx.ListRoles(ctx, a.TenantID)
	if err != nil {
		return err
	}
	g, err := s.grantorOf(ctx, tx, a, roles)
	if err != nil {
		return err
	}
	var old []string
	if before != nil {
		old = before.Roles // changeUser checked actOn(before)
	}
	// A roaming user's self-scoped roles reach the groups of their group
	// access: turning roaming on gives those roles anew, at that width —
	// to oneself too, or a self-scoped manager could widen their own reach.
	roamingOn := u.Roaming && (before == nil || !before.Roaming)
	var v Validation
	for i, k := range u.Roles {
		r := g.roles[k]
		if r == nil {
			continue
		}
		if u.Roaming && r.Scope == ScopeSelf {
			if !roamingOn && slices.Contains(old, k) {
				continue
			}
			if err := g.mayAssign(roamingRole(r)); err != nil {
				if slices.Contains(old, k) {
					v.Add("roaming", "would widen the role %q to the groups of the user's group access: %s", r.Name, ErrorMessage(err))
				} else {
					v.Add("roles", "item %d: for a roaming user: %s", i, ErrorMessage(err))
				}
			}
			continue
		}
		if slices.Contains(old, k) {
			continue
		}
		if err := g.mayAssign(r); err != nil {
			v.Add("roles", "item %d: %s", i, ErrorMessage(err))
		}
	}
	return forbidden(v.Err())
}

// roamingRole is a self-scoped role as a roaming user holds it: reaching
// the groups of their group access too.
func roamingRole(r *Role) *Role {
	wide := *r
	wide.Scope = ScopeGroups
	return &wide
}

// forbidden turns a validation error into a refusal (403) naming its fields.
func forbidden(err error) error {
	if e, ok := err.(*Error); ok {
		e.Code = EForbidden
		if len(e.Fields) > 0 {
			e.Message = e.Fields[0].Message
		}
	}
	return err
}

// checkAssignableRoles is the grant rule for a role's delegation list: an
// actor names only roles they could give themselves (so delegation never
// reaches past its author). It returns the keys, each once, in order.
func checkAssignableRoles(v *Validation, g *grantor, keys []string) []string {
	out := make([]string, 0, len(keys))
	seen := make(map[string]bool, len(keys))
	for i, k := range keys {
		r := g.roles[k]
		switch {
		case r == nil:
			v.Add("assignable_roles", "item %d: no role with the key %q", i, k)
		case seen[k]:
		default:
			if err := g.mayAssign(r); err != nil {
				v.Add("assignable_roles", "item %d: %s", i, ErrorMessage(err))
			}
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}

// checkRoleDefinition is the grant rule for defining roles: the actor must
// hold, as far as the role reaches, every permission of the role as it was
// (cur; nil on create) — changing a role changes what its holders have —
// and as it becomes (next; nil on delete), and may name as assignable only
// roles they could assign themselves.
func (s *Service) checkRoleDefinition(ctx context.Context, tx Tx, a *Actor, roles []Role, cur, next *Role, in RoleInput) error {
	if a.system {
		if next != nil && in.AssignableRoles.Set {
			var v Validation
			next.AssignableRoles = checkAssignableRoles(&v, &grantor{system: true, roles: rolesByKey(roles)}, in.AssignableRoles.V)
			return v.Err()
		}
		return nil
	}
	g, err := s.grantorOf(ctx, tx, a, roles)
	if err != nil {
		return err
	}
	if cur != nil {
		if err := g.mayDefine("permissions", cur.Permissions, cur.Scope); err != nil {
			return forbiddenBy(ReasonRoleNotGrantable, "the role %q carries rights you do not hold; only someone holding them can change or delete it", cur.Name)
		}
		if next == nil {
			return nil
		}
	}
	if err := g.mayDefine("permissions", next.Permissions, next.Scope); err != nil {
		return err
	}
	if in.AssignableRoles.Set {
		var v Validation
		next.AssignableRoles = checkAssignableRoles(&v, g, in.AssignableRoles.V)
		return forbiddenOrInvalid(v.Err())
	}
	return nil
}

func rolesByKey(roles []Role) map[string]*Role {
	m := make(map[string]*Role, len(roles))
	for i := range roles {
		m[roles[i].Key] = &roles[i]
	}
	return m
}

// forbiddenOrInvalid: a list naming unknown roles is invalid input (400);
// one naming only known roles the actor may not assign is a refusal (403).
func forbiddenOrInvalid(err error) error {
	e, ok := err.(*Error)
	if !ok {
		return err
	}
	for _, f := range e.Fields {
		if !strings.Contains(f.Message, "cannot give") {
			return err
		}
	}
	return forbidden(err)
}
