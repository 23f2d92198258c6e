package roster

import "slices"

// Permission keys. The catalogue is fixed in code; roles pick from it.
const (
	PermInsightsView       = "insights.view"
	PermTeamView           = "team.view"
	PermSelfView           = "self.view"
	PermCoachingManage     = "coaching.manage"
	PermUsersView          = "users.view"
	PermUsersInvite        = "users.invite"
	PermUsersManage        = "users.manage"
	PermUsersImpersonate   = "users.impersonate"
	PermRolesManage        = "roles.manage"
	PermGroupsManage       = "groups.manage"
	PermExportCSV          = "export.csv"
	PermAuditView          = "audit.view"
	PermReportingAccess    = "reporting.access"
	PermAudioAccess        = "audio.access"
	PermScoringAccess      = "scoring.access"
	PermInboxOperate       = "inbox.operate"
	PermContentManage      = "content.manage"
	PermEnvironmentManage  = "environment.manage"
	PermBotDevelop         = "bot.develop"
	PermInteractionsIngest = "interactions.ingest"
	PermAuthzCheck         = "authz.check"
	PermWebhooksManage     = "webhooks.manage"
)

// Permission is one entry of the catalogue.
type Permission struct {
	Key         string `json:"key"`
	Description string `json:"description"`
}

// Permissions is the fixed catalogue, in display order.
var permissionCatalogue = []Permission{
	{PermInsightsView, "View the insights pages (dashboards, charts, interaction lists) within the role's data scope."},
	{PermTeamView, "Open the My Team page: performance and coaching plans of the agents in the user's groups."},
	{PermSelfView, "Open the agent's own performance page, limited to the agent IDs assigned to the user."},
	{PermCoachingManage, "Create, edit and track coaching plans within the role's data scope."},
	{PermUsersView, "See the user list, user details, groups and the last logins of other users."},
	{PermUsersInvite, "Invite new users, resend, copy or cancel invitations."},
	{PermUsersManage, "Create, edit, move, deactivate, reactivate and delete users and assign agent IDs."},
	{PermUsersImpersonate, "View the product as another user sees it (read-only), every start and stop audited."},
	{PermRolesManage, "Create, edit and delete custom roles and create API tokens."},
	{PermGroupsManage, "Create, rename, move and delete groups and set their properties and profiles."},
	{PermExportCSV, "Download lists and chart data as CSV."},
	{PermAuditView, "Read the audit log and the outbox of messages."},
	{PermReportingAccess, "Open the reporting section."},
	{PermAudioAccess, "Listen to call recordings."},
	{PermScoringAccess, "Score conversations and be assigned conversations to score."},
	{PermInboxOperate, "Work the live-support inbox as an operator."},
	{PermContentManage, "Edit content in the content management system."},
	{PermEnvironmentManage, "Manage the environment and its users."},
	{PermBotDevelop, "Develop and configure bots."},
	{PermInteractionsIngest, "Send interaction metadata to Roster (integrations)."},
	{PermAuthzCheck, "Ask the decision API what any user may see and do (host platforms)."},
	{PermWebhooksManage, "Create, change and delete the webhooks that send the organisation's events to other systems, and read their delivery log."},
}

// PermissionCatalogue returns a copy of the catalogue.
func PermissionCatalogue() []Permission { return slices.Clone(permissionCatalogue) }

// IsPermission reports whether key is in the catalogue.
func IsPermission(key string) bool {
	for _, p := range permissionCatalogue {
		if p.Key == key {
			return true
		}
	}
	return false
}

// Data scopes of roles.
const (
	ScopeTenant = "tenant" // all data of the tenant
	ScopeGroups = "groups" // the user's group access, subtrees included
	ScopeSelf   = "self"   // only the user's own agent IDs
)

// Built-in role keys (CONTRACT.md).
const (
	RoleAdmin              = "admin"
	RoleUser               = "user"
	RoleTeamLeader         = "team_leader"
	RoleAgent              = "agent"
	RoleReadOnly           = "read_only"
	RoleIdentifiedOnly     = "identified_only"
	RoleScorer             = "scorer"
	RoleOperator           = "operator"
	RoleContentManager     = "content_manager"
	RoleAnalyst            = "analyst"
	RoleProducer           = "producer"
	RoleEnvironmentManager = "environment_manager"
	RoleDeveloper          = "developer"
)

// BuiltinRole describes a role seeded into every tenant.
type BuiltinRole struct {
	Key         string
	Name        string
	Description string
	Scope       string
	Permissions []string
	Hidden      bool // not offered in the console's role pickers
}

// builtinAssignable are the roles a built-in role's holders may assign
// without holding their permissions (the grant rule's delegation,
// grants.go). Seed 002: the Environment Manager invites the bot platform's
// people; it holds every permission of its own role, so it assigns
// Environment Manager by the plain rule. No other built-in role delegates:
// Admin holds everything, the others cannot manage users.
var builtinAssignable = map[string][]string{
	RoleEnvironmentManager: {RoleOperator, RoleContentManager, RoleAnalyst, RoleProducer, RoleDeveloper},
}

// Assignable returns the role keys this built-in role delegates.
func (br BuiltinRole) Assignable() []string {
	return slices.Clone(builtinAssignable[br.Key])
}

func allPermissionKeys() []string {
	keys := make([]string, len(permissionCatalogue))
	for i, p := range permissionCatalogue {
		keys[i] = p.Key
	}
	return keys
}

var builtinRoles = []BuiltinRole{
	{RoleAdmin, "Admin", "Everything: all insights, user administration, last logins, CSV export.", ScopeTenant, allPermissionKeys(), false},
	{RoleUser, "User", "All insights pages, read-only.", ScopeTenant, []string{PermInsightsView}, false},
	{RoleTeamLeader, "Team Leader", "All insights plus My Team for their groups.", ScopeGroups,
		[]string{PermInsightsView, PermTeamView, PermCoachingManage}, false},
	{RoleAgent, "Agent", "Their own performance page and their own coaching plans.", ScopeSelf,
		[]string{PermSelfView, PermCoachingManage}, false},
	{RoleReadOnly, "Read-only", "Insights, reporting and user lists, without changing anything.", ScopeTenant,
		[]string{PermInsightsView, PermReportingAccess, PermUsersView}, false},
	{RoleIdentifiedOnly, "Identified-only", "Insights limited to the groups they are given access to.", ScopeGroups,
		[]string{PermInsightsView}, false},
	{RoleScorer, "Scorer", "Scores conversations; assignable through the API only.", ScopeGroups,
		[]string{PermScoringAccess, PermAudioAccess}, true},
	{RoleOperator, "Operator", "Live support operator and inbox access.", ScopeTenant, []string{PermInboxOperate}, false},
	{RoleContentManager, "Content manager", "Access to the content management system.", ScopeTenant, []string{PermContentManage}, false},
	{RoleAnalyst, "Analyst", "Access to analytics and CRM (read-only).", ScopeTenant,
		[]string{PermInsightsView, PermReportingAccess}, false},
	{RoleProducer, "Producer", "Full access to CRM, CMS and analytics.", ScopeTenant,
		[]string{PermInsightsView, PermReportingAccess, PermContentManage, PermExportCSV}, false},
	{RoleEnvironmentManager, "Environment manager", "Manage the environment and its users.", ScopeTenant,
		[]string{PermEnvironmentManage, PermUsersView, PermUsersInvite, PermUsersManage, PermUsersImpersonate, PermRolesManage, PermGroupsManage, PermAuditView}, false},
	{RoleDeveloper, "Developer", "Bot development and configuration.", ScopeTenant, []string{PermBotDevelop}, false},
}

// BuiltinRoles returns the roles seeded into every tenant.
func BuiltinRoles() []BuiltinRole { return slices.Clone(builtinRoles) }

// IsScope reports whether s is a known data scope.
func IsScope(s string) bool { return s == ScopeTenant || s == ScopeGroups || s == ScopeSelf }
