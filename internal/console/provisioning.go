package console

import (
	"encoding/json"
	"net/http"
	"slices"

	"github.com/roster-dev/roster/internal/roster"
)

// The provisioning page: what an admin needs to connect an identity
// provider over SCIM (the base URL, a token, the defaults new users get) and
// what the provider's tokens changed lately. Everything comes from existing
// core calls; the core decides who may see it (SCIMSettings needs users.manage).

// recentTokenChanges is how many token-made changes the page lists.
const recentTokenChanges = 20

type provisioningData struct {
	BaseURL  string
	Defaults provisioningDefaults
	Roles    []roster.Role // roles that can manage users, for the token form
	CanToken bool          // the actor may make tokens
	CanAudit bool          // the actor may read the audit log
	Changes  []tokenChange
}

// provisioningDefaults are the tenant's SCIM defaults, named.
type provisioningDefaults struct {
	Group, GroupParent, Role, Language string
}

// tokenChange is one audit event made by a token, in words.
type tokenChange struct {
	Event    roster.AuditEvent
	Action   string
	Target   string // the user's name or username, or "kind:id"
	TargetID int64  // the user to link to; 0: none
}

func (s *Server) provisioningPage(w http.ResponseWriter, r *http.Request, p *page) error {
	ctx := r.Context()
	def, err := s.svc.SCIMDefaults(ctx, p.Actor) // the core checks the permission

	if err != nil {
		return err
	}
	groups, err := s.groupNames(r, p.Actor)
	if err != nil {
		return err
	}
	roles, err := s.svc.ListRoles(ctx, p.Actor)
	if err != nil {
		return err
	}
	d := &provisioningData{BaseURL: s.publicBase(r) + "/scim/v2", CanToken: p.Actor.Can(roster.PermRolesManage),
		CanAudit: p.Actor.Can(roster.PermAuditView)}
	d.Defaults = provisioningDefaults{Group: "none yet", GroupParent: "none yet", Role: roleNames(roles)[def.DefaultRole],
		Language: languageLabel(def.Language)}
	if def.DefaultGroup != 0 {
		d.Defaults.Group = groups.Name(def.DefaultGroup)
	}
	if def.GroupParent != 0 {
		d.Defaults.GroupParent = groups.Name(def.GroupParent)
	}
	if d.Defaults.Role == "" {
		d.Defaults.Role = def.DefaultRole
	}
	// A SCIM token needs users.manage, else every SCIM request gets 403.
	for _, ro := range roles {
		if slices.Contains(ro.Permissions, roster.PermUsersManage) {
			d.Roles = append(d.Roles, ro)
		}
	}
	if d.CanAudit {
		events, err := s.svc.ListAudit(ctx, p.Actor, roster.AuditFilter{Actor: roster.ActorToken, PerPage: recentTokenChanges})
		if err != nil {
			return err
		}
		for _, e := range events.Items {
			d.Changes = append(d.Changes, describeTokenChange(e, groups))
		}
	}
	p.Title, p.Section, p.Data = p.T("Provisioning"), "provisioning", d
	return s.show(w, r, "provisioning", p)
}

// publicBase is the console's public URL, or the request's scheme and host.
func (s *Server) publicBase(r *http.Request) string {
	if s.opts.PublicURL != "" {
		return s.opts.PublicURL
	}
	scheme := "http"
	if s.opts.Proxies.Secure(r) {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// languageLabel names a default language in words, with its code.
func languageLabel(code string) string {
	if code == "" {
		return msg("none set")
	}
	return languageName(code) + " (" + code + ")"
}

// tokenActions say what an audit action did, for the actions SCIM makes.
var tokenActions = map[string]string{
	"user.create":       msg("Created the user"),
	"user.update":       msg("Changed the user"),
	"user.move":         msg("Moved the user"),
	"user.deactivate":   msg("Deactivated the user"),
	"user.reactivate":   msg("Reactivated the user"),
	"user.delete":       msg("Deleted the user"),
	"user.external_id":  msg("Linked the user to the identity provider"),
	"user.password_set": msg("Set the user's password"),
	"user.agents":       msg("Changed the user's agent IDs"),
	"group.create":      msg("Created the group"),
	"group.update":      msg("Changed the group"),
	"group.delete":      msg("Deleted the group"),
}

func describeTokenChange(e roster.AuditEvent, groups groupNames) tokenChange {
	c := tokenChange{Event: e, Action: tokenActions[e.Action], Target: e.TargetKind + ":" + itoa(e.TargetID)}
	if c.Action == "" {
		c.Action = e.Action
	}
	switch e.TargetKind {
	case "user":
		c.TargetID = e.TargetID
		var who struct{ Name, Username string }
		for _, snap := range []json.RawMessage{e.After, e.Before} {
			if len(snap) > 0 && json.Unmarshal(snap, &who) == nil && (who.Name != "" || who.Username != "") {
				break
			}
		}
		if who.Username != "" {
			c.Target = who.Username
			if who.Name != "" && who.Name != who.Username {
				c.Target = who.Name + " (" + who.Username + ")"
			}
		}
	case "group":
		if _, ok := groups[e.TargetID]; ok {
			c.Target = groups.Name(e.TargetID)
		}
	}
	return c
}
