package roster

import (
	"context"
	"regexp"
	"slices"
	"strings"
)

var roleKeyPattern = regexp.MustCompile(`^[a-z][a-z0-9_]{1,39}$`)

// RoleInput creates or changes a custom role.
type RoleInput struct {
	Key         Opt[string]   `json:"key"`
	Name        Opt[string]   `json:"name"`
	Description Opt[string]   `json:"description"`
	Permissions Opt[[]string] `json:"permissions"`
	Scope       Opt[string]   `json:"scope"`
	// AssignableRoles: role keys the role's holders may assign without
	// holding them; each must be one the author could assign.
	AssignableRoles Opt[[]string] `json:"assignable_roles"`
}

// ListRoles returns the tenant's roles, built-in first.
func (s *Service) ListRoles(ctx context.Context, a *Actor) ([]Role, error) {
	if err := a.require(PermUsersView, PermRolesManage, PermUsersInvite); err != nil {
		return nil, err
	}
	return s.store.Read().ListRoles(ctx, a.TenantID)
}

// Role returns one role, to whoever may list them.
func (s *Service) Role(ctx context.Context, a *Actor, id int64) (*Role, error) {
	if err := a.require(PermUsersView, PermRolesManage, PermUsersInvite); err != nil {
		return nil, err
	}
	return s.store.Read().Role(ctx, a.TenantID, id)
}

// PermissionCatalogue returns the catalogue to any signed-in actor.
func (s *Service) PermissionCatalogue(_ context.Context, _ *Actor) []Permission {
	return PermissionCatalogue()
}

// CreateRole adds a custom role.
func (s *Service) CreateRole(ctx context.Context, a *Actor, in RoleInput) (*Role, error) {
	if err := a.requireWrite(PermRolesManage); err != nil {
		return nil, err
	}
	if err := checkRoleBounds(in); err != nil { // before the transaction
		return nil, err
	}
	now := s.Now()
	r := &Role{TenantID: a.TenantID, Scope: ScopeTenant, Permissions: []string{}, AssignableRoles: []string{}, CreatedAt: now, UpdatedAt: now}
	var v Validation
	r.Key = strings.TrimSpace(in.Key.V)
	if !roleKeyPattern.MatchString(r.Key) {
		v.Add("key", "must be 2 to 40 characters of a-z, 0-9 and _, starting with a letter")
	}
	applyRoleInput(&v, r, in)
	if !in.Name.Set {
		v.Add("name", "is required")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if err := s.checkScopeGrant(ctx, a, r.Scope, PermRolesManage); err != nil {
		return nil, err
	}
	err := s.inTx(ctx, func(tx Tx) error {
		roles, err := tx.ListRoles(ctx, a.TenantID)
		if err != nil {
			return err
		}
		if err := s.checkRoleDefinition(ctx, tx, a, roles, nil, r, in); err != nil {
			return err
		}
		for _, other := range roles {
			if other.Key == r.Key {
				return conflictField(ReasonRoleKeyTaken, "key", "a role with the key %q exists already", r.Key)
			}
			if strings.EqualFold(other.Name, r.Name) {
				return conflictField(ReasonRoleNameTaken, "name", "a role named %q exists already", r.Name)
			}
		}
		if err := tx.CreateRole(ctx, r); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "role.create", "role", r.ID, nil, r)
	})
	return r, err
}

// UpdateRole changes a custom role. Built-in roles are fixed.
func (s *Service) UpdateRole(ctx context.Context, a *Actor, id int64, in RoleInput) (*Role, error) {
	if err := a.requireWrite(PermRolesManage); err != nil {
		return nil, err
	}
	if err := checkRoleBounds(in); err != nil { // before the transaction
		return nil, err
	}
	var r *Role
	err := s.inTx(ctx, func(tx Tx) error {
		if err := s.checkVersion(ctx, tx, KindRole, a.TenantID, id); err != nil {
			return err
		}
		cur, err := tx.Role(ctx, a.TenantID, id)
		if err != nil {
			return err
		}
		if cur.Builtin {
			return conflict(ReasonBuiltin, "the built-in role %q cannot be changed; create a custom role instead", cur.Name)
		}
		r = new(Role)
		*r = *cur
		r.Permissions = slices.Clone(cur.Permissions)
		var v Validation
		if in.Key.Set && in.Key.V != cur.Key {
			v.Add("key", "cannot be changed")
		}
		applyRoleInput(&v, r, in)
		if err := v.Err(); err != nil {
			return err
		}
		if err := s.checkScopeGrant(ctx, a, r.Scope, PermRolesManage); err != nil {
			return err
		}
		roles, err := tx.ListRoles(ctx, a.TenantID)
		if err != nil {
			return err
		}
		if err := s.checkRoleDefinition(ctx, tx, a, roles, cur, r, in); err != nil {
			return err
		}
		for _, other := range roles {
			if other.ID != id && strings.EqualFold(other.Name, r.Name) {
				return conflictField(ReasonRoleNameTaken, "name", "a role named %q exists already", r.Name)
			}
		}
		r.UpdatedAt = s.nextUpdate(r.UpdatedAt)
		if err := tx.UpdateRole(ctx, r); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "role.update", "role", id, cur, r)
	})
	return r, err
}

// DeleteRole removes a custom role nobody holds.
func (s *Service) DeleteRole(ctx context.Context, a *Actor, id int64) error {
	if err := a.requireWrite(PermRolesManage); err != nil {
		return err
	}
	return s.inTx(ctx, func(tx Tx) error {
		if err := s.checkVersion(ctx, tx, KindRole, a.TenantID, id); err != nil {
			return err
		}
		r, err := tx.Role(ctx, a.TenantID, id)
		if err != nil {
			return err
		}
		if r.Builtin {
			return conflict(ReasonBuiltin, "the built-in role %q cannot be deleted", r.Name)
		}
		if err := s.checkScopeGrant(ctx, a, r.Scope, PermRolesManage); err != nil {
			return err
		}
		roles, err := tx.ListRoles(ctx, a.TenantID)
		if err != nil {
			return err
		}
		if err := s.checkRoleDefinition(ctx, tx, a, roles, r, nil, RoleInput{}); err != nil {
			return err
		}
		n, err := tx.RoleHolders(ctx, a.TenantID, id)
		if err != nil {
			return err
		}
		if n > 0 {
			return conflict(ReasonRoleInUse, "the role %q is held by %d user(s) or API token(s); take it away from them first", r.Name, n)
		}
		// Other roles stop delegating it, so a later role with the same
		// key inherits nothing.
		for i := range roles {
			other := &roles[i]
			if !slices.Contains(other.AssignableRoles, r.Key) {
				continue
			}
			before := *other
			other.AssignableRoles = slices.DeleteFunc(slices.Clone(other.AssignableRoles), func(k string) bool { return k == r.Key })
			other.UpdatedAt = s.nextUpdate(other.UpdatedAt)
			if err := tx.UpdateRole(ctx, other); err != nil {
				return err
			}
			if err := s.audit(ctx, tx, a, "role.update", "role", other.ID, &before, other); err != nil {
				return err
			}
		}
		if err := tx.DeleteRole(ctx, a.TenantID, id); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "role.delete", "role", id, r, nil)
	})
}

func applyRoleInput(v *Validation, r *Role, in RoleInput) {
	if in.Name.Set {
		r.Name = strings.TrimSpace(in.Name.V)
		if r.Name == "" || len(r.Name) > 100 {
			v.Add("name", "must be 1 to 100 characters")
		}
	}
	if in.Description.Set {
		r.Description = strings.TrimSpace(in.Description.V)
		if len(r.Description) > 500 {
			v.Add("description", "must be at most 500 characters")
		}
	}
	if in.Scope.Set {
		r.Scope = in.Scope.V
		if !IsScope(r.Scope) {
			v.Add("scope", "must be one of tenant, groups, self")
		}
	}
	if in.Permissions.Set {
		perms := []string{}
		for i, p := range in.Permissions.V {
			switch {
			case !IsPermission(p):
				v.Add("permissions", "item %d: %q is not a permission; see GET /api/v1/permissions", i, p)
			case !slices.Contains(perms, p):
				perms = append(perms, p)
			}
		}
		r.Permissions = perms
	}
}
