package roster

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"
)

// Who must use a second factor (docs/rules.md, "Multi-factor
// authentication"). The tenant's policy says it for everyone; the roles it
// names (MFARoles) add their holders, whatever the policy says, unless it
// is off. Off turns the second factor off altogether: nobody is asked,
// factors already set up are kept for when it is turned on again.
const (
	MFAOff      = "off"      // no second factor asked, none offered
	MFAOptional = "optional" // asked of those who set one up
	MFAAdmins   = "admins"   // required of holders of administrative permissions
	MFAAll      = "all"      // required of everyone
)

// MFAPolicies are the policies, in order of strictness.
var MFAPolicies = []string{MFAOff, MFAOptional, MFAAdmins, MFAAll}

// administrativePermissions make a role administrative for MFAAdmins: they
// change who may do what, or the organisation's configuration.
var administrativePermissions = []string{PermUsersInvite, PermUsersManage, PermUsersImpersonate, PermRolesManage,
	PermGroupsManage, PermEnvironmentManage, PermWebhooksManage}

// IsAdministrative reports whether a role with perms is administrative.
func IsAdministrative(perms []string) bool {
	for _, p := range perms {
		if slices.Contains(administrativePermissions, p) {
			return true
		}
	}
	return false
}

// mfaState is what the process keeps for MFA: the tenants' policies.
type mfaState struct {
	policies sync.Map // tenant id -> cachedMFAPolicy
}

func (s *Service) initMFA() {}

type mfaPolicy struct {
	policy string
	roles  []string
}

type cachedMFAPolicy struct {
	p  mfaPolicy
	at time.Time
}

// tenantMFAPolicy is the tenant's policy, believed for ssoPolicyTTL: a
// change made here is seen here at once, on other replicas within that time.
func (s *Service) tenantMFAPolicy(ctx context.Context, tenantID int64) (mfaPolicy, error) {
	if c, ok := s.mfa.policies.Load(tenantID); ok && time.Since(c.(cachedMFAPolicy).at) < ssoPolicyTTL {
		return c.(cachedMFAPolicy).p, nil
	}
	t, err := s.store.Read().TenantByID(ctx, tenantID)
	if err != nil {
		return mfaPolicy{}, err
	}
	p := mfaPolicy{policy: t.Settings.MFAPolicy, roles: t.Settings.MFARoles}
	if p.policy == "" {
		p.policy = MFAOff
	}
	s.mfa.policies.Store(tenantID, cachedMFAPolicy{p: p, at: time.Now()})
	return p, nil
}

// MFARequirement says whether the holder of roles (with the union of their
// permissions perms) must use a second factor under the policy.
func MFARequirement(policy string, requiredRoles, roles, perms []string) bool {
	switch policy {
	case MFAOff, "":
		return false
	case MFAAll:
		return true
	case MFAAdmins:
		if IsAdministrative(perms) {
			return true
		}
	}
	for _, r := range roles {
		if slices.Contains(requiredRoles, r) {
			return true
		}
	}
	return false
}

// mfaRequiredFor reads what MFARequirement needs for u in r.
func (s *Service) mfaRequiredFor(ctx context.Context, r Reader, p mfaPolicy, u *User) (bool, error) {
	switch p.policy {
	case MFAOff:
		return false, nil
	case MFAAll:
		return true, nil
	}
	roles, err := r.ListRoles(ctx, u.TenantID)
	if err != nil {
		return false, err
	}
	return MFARequirement(p.policy, p.roles, u.Roles, permissionsOf(roles, u.Roles)), nil
}

func checkMFASettings(v *Validation, st TenantSettingsInput) {
	if st.MFAPolicy.Set && !slices.Contains(MFAPolicies, st.MFAPolicy.V) {
		v.Add("settings.mfa_policy", "must be one of %s", strings.Join(MFAPolicies, ", "))
	}
	if st.MFARoles.Set && len(st.MFARoles.V) > MaxRolesPerTenantMFA {
		v.Add("settings.mfa_roles", "at most %d roles", MaxRolesPerTenantMFA)
	}
}

// MaxRolesPerTenantMFA bounds settings.mfa_roles.
const MaxRolesPerTenantMFA = 200

// checkMFARoles checks that every role named exists, once.
func checkMFARoles(v *Validation, roles []Role, keys []string) {
	byKey := rolesByKey(roles)
	seen := map[string]bool{}
	for i, k := range keys {
		switch {
		case byKey[k] == nil:
			v.Add("settings.mfa_roles", "item %d: there is no role %s", i, echo(k))
		case seen[k]:
			v.Add("settings.mfa_roles", "item %d: %s is listed twice", i, k)
		}
		seen[k] = true
	}
}
