package roster

import (
	"context"
	"slices"
	"strings"
)

// SupportedLanguages are the languages a tenant may offer its users. The
// console and the emails are written in some of them (others fall back to
// English); a user's language is always one of the tenant's.
var SupportedLanguages = []string{"en", "de", "nb", "nl", "sv", "da", "fi", "fr", "es", "it", "pt", "pl"}

// TenantInput changes a tenant's name and settings; fields left out stay.
type TenantInput struct {
	Name     Opt[string]         `json:"name"`
	Settings TenantSettingsInput `json:"settings"`
}

// TenantSettingsInput is a partial change of TenantSettings.
type TenantSettingsInput struct {
	BrandingName         Opt[string]   `json:"branding_name"`
	Languages            Opt[[]string] `json:"languages"`
	DefaultLanguage      Opt[string]   `json:"default_language"`
	InvitationExpiryDays Opt[int]      `json:"invitation_expiry_days"`
	MinPasswordLength    Opt[int]      `json:"password_min_length"`
	GroupDepth           Opt[int]      `json:"group_depth"`
	MFAPolicy            Opt[string]   `json:"mfa_policy"`
	MFARoles             Opt[[]string] `json:"mfa_roles"`
}

// Settings bounds (docs/rules.md, Tenant settings).
const (
	MinInvitationExpiryDays = 1
	MaxInvitationExpiryDays = 90
	MinPasswordMinLength    = 8
	MaxPasswordMinLength    = 128
	MinGroupDepth           = 1
	MaxGroupDepth           = 5
	MaxBrandingNameLen      = 100
	MaxTenantNameLen        = 200
)

// UpdateTenant changes the actor's tenant: its name and settings. It needs
// environment.manage through a tenant-wide role; every change is audited.
// A language still held by users cannot be taken away, nor can the group
// depth go below the deepest group.
func (s *Service) UpdateTenant(ctx context.Context, a *Actor, in TenantInput) (*Tenant, error) {
	if err := a.requireWrite(PermEnvironmentManage); err != nil {
		return nil, err
	}
	if err := s.requireTenantWide(ctx, a, "changing the organisation's settings", PermEnvironmentManage); err != nil {
		return nil, err
	}
	var v Validation
	checkTenantInput(&v, in)
	if err := v.Err(); err != nil {
		return nil, err
	}
	var t *Tenant
	err := s.inTx(ctx, func(tx Tx) error {
		before, err := tx.TenantByID(ctx, a.TenantID)
		if err != nil {
			return err
		}
		next := *before
		next.Settings.Languages = slices.Clone(before.Settings.Languages)
		applyTenantInput(&next, in)
		var v Validation
		if !slices.Contains(next.Settings.Languages, next.Settings.DefaultLanguage) {
			field := "settings.default_language"
			if !in.Settings.DefaultLanguage.Set {
				field = "settings.languages"
			}
			v.Add(field, "the default language %s must be one of the languages offered", next.Settings.DefaultLanguage)
		}
		if in.Settings.Languages.Set {
			used, err := tx.UserLanguages(ctx, a.TenantID)
			if err != nil {
				return err
			}
			for _, lang := range before.Settings.Languages {
				if n := used[lang]; n > 0 && !slices.Contains(next.Settings.Languages, lang) {
					v.Add("settings.languages", "%d user(s) use %s; give them another language first", n, lang)
				}
			}
		}
		if in.Settings.GroupDepth.Set && next.Settings.GroupDepth < before.Settings.GroupDepth {
			groups, err := tx.ListGroups(ctx, a.TenantID)
			if err != nil {
				return err
			}
			for _, g := range groups {
				if g.Level > next.Settings.GroupDepth {
					v.Add("settings.group_depth", "the group %q is on level %d; move or delete it first", g.Name, g.Level)
					break
				}
			}
		}
		if in.Settings.MFARoles.Set {
			roles, err := tx.ListRoles(ctx, a.TenantID)
			if err != nil {
				return err
			}
			checkMFARoles(&v, roles, next.Settings.MFARoles)
		}
		if err := v.Err(); err != nil {
			return err
		}
		if err := tx.UpdateTenant(ctx, &next); err != nil {
			return err
		}
		t = &next
		return s.audit(ctx, tx, a, "tenant.update", "tenant", a.TenantID, before, &next)
	})
	if err == nil {
		s.mfa.policies.Delete(a.TenantID)
	}
	return t, err
}

// checkTenantInput checks what needs no database: bounds and formats.
func checkTenantInput(v *Validation, in TenantInput) {
	if in.Name.Set {
		if n := strings.TrimSpace(in.Name.V); n == "" || len(n) > MaxTenantNameLen {
			v.Add("name", "must be 1 to %d characters", MaxTenantNameLen)
		}
	}
	st := in.Settings
	if st.BrandingName.Set && len(strings.TrimSpace(st.BrandingName.V)) > MaxBrandingNameLen {
		v.Add("settings.branding_name", "must be at most %d characters", MaxBrandingNameLen)
	}
	if st.Languages.Set {
		switch {
		case len(st.Languages.V) == 0:
			v.Add("settings.languages", "offer at least one language")
		case len(st.Languages.V) > len(SupportedLanguages):
			v.Add("settings.languages", "at most %d languages", len(SupportedLanguages))
		default:
			seen := map[string]bool{}
			for i, l := range st.Languages.V {
				switch {
				case !slices.Contains(SupportedLanguages, l):
					v.Add("settings.languages", "item %d: %s is not a language Roster offers; use one of %s", i, echo(l), strings.Join(SupportedLanguages, ", "))
				case seen[l]:
					v.Add("settings.languages", "item %d: %s is listed twice", i, l)
				}
				seen[l] = true
			}
		}
	}
	if st.DefaultLanguage.Set && !slices.Contains(SupportedLanguages, st.DefaultLanguage.V) {
		v.Add("settings.default_language", "%s is not a language Roster offers", echo(st.DefaultLanguage.V))
	}
	between := func(field string, o Opt[int], lo, hi int, what string) {
		if o.Set && (o.Null || o.V < lo || o.V > hi) {
			v.Add(field, "must be %d to %d %s", lo, hi, what)
		}
	}
	between("settings.invitation_expiry_days", st.InvitationExpiryDays, MinInvitationExpiryDays, MaxInvitationExpiryDays, "days")
	between("settings.password_min_length", st.MinPasswordLength, MinPasswordMinLength, MaxPasswordMinLength, "characters")
	between("settings.group_depth", st.GroupDepth, MinGroupDepth, MaxGroupDepth, "levels")
	checkMFASettings(v, st) // mfa_policy.go
}

func applyTenantInput(t *Tenant, in TenantInput) {
	if in.Name.Set {
		t.Name = strings.TrimSpace(in.Name.V)
	}
	st := in.Settings
	if st.BrandingName.Set {
		t.Settings.BrandingName = strings.TrimSpace(st.BrandingName.V)
	}
	if st.Languages.Set {
		t.Settings.Languages = slices.Clone(st.Languages.V)
	}
	if st.DefaultLanguage.Set {
		t.Settings.DefaultLanguage = st.DefaultLanguage.V
	}
	if st.InvitationExpiryDays.Set {
		t.Settings.InvitationExpiryDays = st.InvitationExpiryDays.V
	}
	if st.MinPasswordLength.Set {
		t.Settings.MinPasswordLength = st.MinPasswordLength.V
	}
	if st.GroupDepth.Set {
		t.Settings.GroupDepth = st.GroupDepth.V
	}
	if st.MFAPolicy.Set {
		t.Settings.MFAPolicy = st.MFAPolicy.V
	}
	if st.MFARoles.Set {
		t.Settings.MFARoles = slices.Clone(st.MFARoles.V)
	}
}

// ListTenants lists every tenant, for the platform operator (CLI).
func (s *Service) ListTenants(ctx context.Context, a *Actor) ([]Tenant, error) {
	if !a.system {
		return nil, Errorf(EForbidden, "only the platform operator lists tenants")
	}
	return s.store.Read().ListTenants(ctx)
}
