package roster

import (
	"context"
	"slices"
	"time"
)

// "SSO required" (docs/rules.md, "Single sign-on"): with it on, password
// sign-in and one-time codes are refused to everyone but the break-glass
// user the admin names, so that a broken IdP does not lock the tenant out.

// SSOPolicy is a tenant's sign-in policy.
type SSOPolicy struct {
	Required         bool       `json:"required"`
	BreakGlassUserID *int64     `json:"break_glass_user_id"`
	UpdatedAt        *time.Time `json:"updated_at"`
}

// SSOPolicyInput changes the policy; absent fields keep their value.
type SSOPolicyInput struct {
	Required         Opt[bool]  `json:"required"`
	BreakGlassUserID Opt[int64] `json:"break_glass_user_id"`
}

// ssoPolicyTTL: how long a replica believes a policy it read. A change made
// here is seen here at once; other replicas see it within this time.
const ssoPolicyTTL = 10 * time.Second

type cachedPolicy struct {
	p  SSOPolicy
	at time.Time
}

// GetSSOPolicy returns the tenant's policy.
func (s *Service) GetSSOPolicy(ctx context.Context, a *Actor) (*SSOPolicy, error) {
	if err := s.requireSSOAdmin(ctx, a, false); err != nil {
		return nil, err
	}
	return s.store.Read().SSOPolicy(ctx, a.TenantID)
}

// SetSSOPolicy changes the policy. Requiring SSO needs an enabled identity
// provider and a break-glass user: active, holding environment.manage, and
// someone the actor may act on.
func (s *Service) SetSSOPolicy(ctx context.Context, a *Actor, in SSOPolicyInput) (*SSOPolicy, error) {
	if err := s.requireSSOAdmin(ctx, a, true); err != nil {
		return nil, err
	}
	var out *SSOPolicy
	err := s.inTx(ctx, func(tx Tx) error {
		before, err := tx.SSOPolicy(ctx, a.TenantID)
		if err != nil {
			return err
		}
		next := *before
		if in.Required.Set {
			next.Required = in.Required.V
		}
		if in.BreakGlassUserID.Set {
			next.BreakGlassUserID = nil
			if !in.BreakGlassUserID.Null {
				id := in.BreakGlassUserID.V
				next.BreakGlassUserID = &id
			}
		}
		if err := s.checkSSOPolicy(ctx, tx, a, &next); err != nil {
			return err
		}
		now := s.Now()
		next.UpdatedAt = &now
		if err := tx.PutSSOPolicy(ctx, a.TenantID, &next); err != nil {
			return err
		}
		out = &next
		return s.audit(ctx, tx, a, "sso_policy.update", "tenant", a.TenantID, before, &next)
	})
	if err == nil {
		s.sso.policies.Delete(a.TenantID)
	}
	return out, err
}

func (s *Service) checkSSOPolicy(ctx context.Context, tx Tx, a *Actor, p *SSOPolicy) error {
	if p.BreakGlassUserID != nil {
		u, err := tx.User(ctx, a.TenantID, *p.BreakGlassUserID)
		if ErrorCode(err) == ENotFound {
			return badField("break_glass_user_id", "no user with id %d", *p.BreakGlassUserID)
		}
		if err != nil {
			return err
		}
		roles, err := tx.ListRoles(ctx, a.TenantID)
		if err != nil {
			return err
		}
		perms := permissionsOf(roles, u.Roles)
		switch {
		case u.Status != StatusActive:
			return badField("break_glass_user_id", "%s is %s; the break-glass account must be active", u.Username, u.Status)
		case !slices.Contains(perms, PermEnvironmentManage):
			return badField("break_glass_user_id", "%s cannot manage the environment; the break-glass account must be able to fix the sign-in", u.Username)
		}
		if err := s.actOn(ctx, tx, a, u); err != nil {
			return forbidden(oneFieldError("break_glass_user_id", "%s", ErrorMessage(err)))
		}
	}
	if !p.Required {
		return nil
	}
	if p.BreakGlassUserID == nil {
		return badField("break_glass_user_id", "is required when SSO is required: name the account that may still sign in with a password")
	}
	ps, err := tx.ListSSOProviders(ctx, a.TenantID)
	if err != nil {
		return err
	}
	for _, pr := range ps {
		if pr.Enabled {
			return nil
		}
	}
	return badField("required", "add and enable an identity provider first")
}

// policyOf reads the tenant's policy, through a short-lived cache (sign-in
// is hot: the policy costs no round trip most of the time).
func (s *Service) policyOf(ctx context.Context, tenantID int64) (SSOPolicy, error) {
	if c, ok := s.sso.policies.Load(tenantID); ok && time.Since(c.(cachedPolicy).at) < ssoPolicyTTL {
		return c.(cachedPolicy).p, nil
	}
	p, err := s.store.Read().SSOPolicy(ctx, tenantID)
	if err != nil {
		return SSOPolicy{}, err
	}
	s.sso.policies.Store(tenantID, cachedPolicy{p: *p, at: time.Now()})
	return *p, nil
}

// passwordAllowed refuses password sign-in and one-time codes when the
// tenant requires SSO, to all but the break-glass user (u nil: an unknown
// login, refused alike).
func (s *Service) passwordAllowed(ctx context.Context, tenantID int64, u *User) error {
	p, err := s.policyOf(ctx, tenantID)
	if err != nil || !p.Required {
		return err
	}
	if u != nil && p.BreakGlassUserID != nil && *p.BreakGlassUserID == u.ID {
		return nil
	}
	return Errorf(EForbidden, "your organisation signs in with single sign-on: use the \"Sign in with ...\" button instead of a password")
}
