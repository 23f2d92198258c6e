package roster

import (
	"context"
	"regexp"
	"strings"
)

var slugPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,62}$`)

// CreateTenant creates a tenant with its built-in roles and one level-1 group
// named after it. Only the platform operator (CLI) calls it.
func (s *Service) CreateTenant(ctx context.Context, slug, name string) (*Tenant, error) {
	slug = strings.TrimSpace(strings.ToLower(slug))
	name = strings.TrimSpace(name)
	var v Validation
	if !slugPattern.MatchString(slug) {
		v.Add("slug", "must be 2 to 63 characters of a-z, 0-9 and -, starting with a letter or digit")
	}
	if name == "" {
		v.Add("name", "is required")
	} else if len(name) > 200 {
		v.Add("name", "must be at most 200 characters")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	t := &Tenant{Slug: slug, Name: name, Settings: DefaultTenantSettings(), CreatedAt: s.Now()}
	err := s.inTx(ctx, func(tx Tx) error {
		if _, err := tx.TenantBySlug(ctx, slug); err == nil {
			return conflictField(ReasonSlugTaken, "slug", "a tenant with the slug %q exists already", slug)
		} else if ErrorCode(err) != ENotFound {
			return err
		}
		if err := tx.CreateTenant(ctx, t); err != nil {
			return err
		}
		a := SystemActor(t.ID)
		if err := s.audit(ctx, tx, a, "tenant.create", "tenant", t.ID, nil, t); err != nil {
			return err
		}
		for _, br := range builtinRoles {
			r := &Role{TenantID: t.ID, Key: br.Key, Name: br.Name, Description: br.Description, Scope: br.Scope,
				Permissions: br.Permissions, AssignableRoles: br.Assignable(), Builtin: true, Hidden: br.Hidden, CreatedAt: t.CreatedAt, UpdatedAt: t.CreatedAt}
			if err := tx.CreateRole(ctx, r); err != nil {
				return err
			}
		}
		if err := s.seedProperties(ctx, tx, t.ID, t.CreatedAt); err != nil {
			return err
		}
		g := &Group{TenantID: t.ID, Name: name, Level: 1, CreatedAt: t.CreatedAt, UpdatedAt: t.CreatedAt}
		if err := tx.CreateGroup(ctx, g); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "group.create", "group", g.ID, nil, g)
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

// TenantBySlug looks a tenant up for sign-in pages and the CLI.
func (s *Service) TenantBySlug(ctx context.Context, slug string) (*Tenant, error) {
	return s.store.Read().TenantBySlug(ctx, strings.ToLower(strings.TrimSpace(slug)))
}

// tenantIDBySlug is TenantBySlug's id, from the cache when it can.
func (s *Service) tenantIDBySlug(ctx context.Context, slug string) (int64, error) {
	slug = strings.ToLower(strings.TrimSpace(slug))
	if id, ok := s.tenantIDs.Load(slug); ok {
		return id.(int64), nil
	}
	t, err := s.store.Read().TenantBySlug(ctx, slug)
	if err != nil {
		return 0, err
	}
	s.tenantIDs.Store(slug, t.ID)
	return t.ID, nil
}

// Tenant returns the actor's tenant.
func (s *Service) Tenant(ctx context.Context, a *Actor) (*Tenant, error) {
	return s.store.Read().TenantByID(ctx, a.TenantID)
}
