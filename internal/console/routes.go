package console

import "net/http"

// The console's one route table: every page and form the console serves,
// who may reach it, and its handler. The core still decides what a signed-in
// actor may do on each; this table only says whether a session is needed.

// handler is a console page: it gets the request's page state (actor, CSRF
// token, flash) and returns an error to be rendered as an error page.
type handler func(w http.ResponseWriter, r *http.Request, p *page) error

// access says who may reach a route. The core still decides what they may do.
type access int

const (
	signedIn access = iota // a session is required; without one: the sign-in page
	public                 // reachable without a session (sign-in, invitation ...)
)

type route struct {
	pattern string
	access  access
	h       handler
}

func (s *Server) routes() []route {
	return []route{
		// Signing in, passwords, invitations accepted, one's own account.
		{"GET /signin", public, s.signInPage},
		{"POST /signin", public, s.signIn},
		{"POST /signout", public, s.signOut},
		{"GET /signin/sso", public, s.ssoRoute},
		{"GET /signed-out/{id}", public, s.signedOutPage},
		{"GET /forgot", public, s.forgotPage},
		{"POST /forgot", public, s.forgot},
		{"GET /reset", public, s.resetPage},
		{"POST /reset", public, s.reset},
		{"GET /invite/{token}", public, s.acceptPage},
		{"POST /invite/{token}", public, s.accept},
		{"GET /account", signedIn, s.accountPage},
		{"POST /account/password", signedIn, s.changePassword},
		{"POST /account/profile", signedIn, s.updateAccount},
		{"POST /account/confirm", signedIn, s.confirmAccount},
		{"POST /account/sessions/others", signedIn, s.signOutOthers},

		// Two-step sign-in (mfa.go): the step after the first factor, public
		// but reachable only with its challenge cookie; one's own factors.
		{"GET /signin/second-factor", public, s.secondFactorPage},
		{"POST /signin/second-factor", public, s.secondFactor},
		{"POST /signin/second-factor/cancel", public, s.cancelSecondFactor},
		{"GET /signin/second-factor/qr.png", public, s.enrolmentQR},
		{"GET /account/mfa", signedIn, s.accountMFAPage},
		{"POST /account/mfa/totp", signedIn, s.startTOTP},
		{"GET /account/mfa/totp/qr.png", signedIn, s.pendingTOTPQR},
		{"POST /account/mfa/totp/confirm", signedIn, s.confirmTOTP},
		{"POST /account/mfa/totp/remove", signedIn, s.removeTOTP},
		{"POST /account/mfa/recovery-codes", signedIn, s.newRecoveryCodes},

		// Home.
		{"GET /{$}", signedIn, s.home},

		// The Users list.
		{"GET /users", signedIn, s.usersPage},
		{"GET /users.csv", signedIn, s.usersCSV},
		{"POST /users/filters", signedIn, s.saveUsersFilter},
		{"POST /users/filters/reset", signedIn, s.resetUsersFilter},

		// One user.
		{"GET /users/new", signedIn, s.newUserPage},
		{"POST /users/new", signedIn, s.createUser},
		{"GET /users/{id}", signedIn, s.userPage},
		{"GET /users/{id}/edit", signedIn, s.editUserPage},
		{"POST /users/{id}/edit", signedIn, s.updateUser},
		{"POST /users/{id}/password-code", signedIn, s.sendPasswordCode},
		{"GET /users/{id}/{action}", signedIn, s.confirmUserAction},
		{"POST /users/{id}/{action}", signedIn, s.doUserAction},

		// Inviting users.
		{"GET /invite", signedIn, s.invitePage},
		{"POST /invite", signedIn, s.invite},
		{"GET /invitations/sent", signedIn, s.invitationsSent},
		{"POST /users/{id}/invitation/resend", signedIn, s.resendInvitation},
		{"POST /users/{id}/invitation/link", signedIn, s.invitationLink},
		{"GET /users/{id}/invitation/cancel", signedIn, s.confirmCancelInvitation},
		{"POST /users/{id}/invitation/cancel", signedIn, s.cancelInvitation},

		// Agent IDs, queues and "view as".
		{"GET /agents", signedIn, s.agentsPage},
		{"GET /agents/lookup", signedIn, s.agentLookup},
		{"POST /users/{id}/queue", signedIn, s.setQueue},
		{"POST /users/{id}/view-as", signedIn, s.startViewAs},
		{"POST /view-as/end", signedIn, s.endViewAs},

		// Properties, skills and profiles; My Team, coaching and one's own page.
		{"GET /properties", signedIn, s.propertiesPage},
		{"POST /properties", signedIn, s.createProperty},
		{"GET /properties/{key}/delete", signedIn, s.deletePropertyPage},
		{"POST /properties/{key}/delete", signedIn, s.deleteProperty},
		{"POST /skills", signedIn, s.createSkill},

		{"POST /groups/{id}/properties/{key}", signedIn, s.setGroupProperty},
		{"POST /groups/{id}/properties/{key}/clear", signedIn, s.clearGroupProperty},
		{"POST /groups/{id}/profiles", signedIn, s.createGroupProfile},
		{"POST /users/{id}/properties/{key}", signedIn, s.setUserProperty},
		{"POST /users/{id}/properties/{key}/clear", signedIn, s.clearUserProperty},
		{"POST /users/{id}/group-profiles", signedIn, s.setUserGroupProfiles},
		{"POST /users/{id}/profiles", signedIn, s.createUserProfile},

		{"GET /my-team", signedIn, s.myTeamPage},
		{"GET /me", signedIn, s.mePage},
		{"GET /coaching", signedIn, s.coachingPage},
		{"POST /coaching", signedIn, s.createPlan},
		{"GET /coaching/{id}", signedIn, s.planPage},
		{"POST /coaching/{id}", signedIn, s.updatePlan},

		// Changing and deleting skills, profiles and property definitions.
		{"GET /skills/{id}/edit", signedIn, s.editSkillPage},
		{"POST /skills/{id}/edit", signedIn, s.editSkill},
		{"GET /skills/{id}/delete", signedIn, s.deleteSkillPage},
		{"POST /skills/{id}/delete", signedIn, s.deleteSkill},

		{"GET /profiles/{id}/edit", signedIn, s.editProfilePage},
		{"POST /profiles/{id}/edit", signedIn, s.editProfile},
		{"GET /profiles/{id}/delete", signedIn, s.deleteProfilePage},
		{"POST /profiles/{id}/delete", signedIn, s.deleteProfile},

		{"GET /properties/{key}/edit", signedIn, s.editPropertyPage},
		{"POST /properties/{key}/edit", signedIn, s.editProperty},

		// Groups and roles.
		{"GET /groups", signedIn, s.groupsPage},
		{"POST /groups", signedIn, s.createGroup},
		{"GET /groups/{id}", signedIn, s.groupPage},
		{"POST /groups/{id}/rename", signedIn, s.renameGroup},
		{"GET /groups/{id}/move", signedIn, s.moveGroupPage},
		{"POST /groups/{id}/move", signedIn, s.moveGroup},
		{"GET /groups/{id}/delete", signedIn, s.deleteGroupPage},
		{"POST /groups/{id}/delete", signedIn, s.deleteGroup},

		{"GET /roles", signedIn, s.rolesPage},
		{"GET /roles/new", signedIn, s.newRolePage},
		{"POST /roles/new", signedIn, s.createRole},
		{"GET /roles/{id}", signedIn, s.rolePage},
		{"POST /roles/{id}", signedIn, s.updateRole},
		{"GET /roles/{id}/delete", signedIn, s.deleteRolePage},
		{"POST /roles/{id}/delete", signedIn, s.deleteRole},

		// API tokens.
		{"GET /tokens", signedIn, s.tokensPage},
		{"POST /tokens", signedIn, s.createToken},
		{"GET /tokens/{id}/revoke", signedIn, s.revokeTokenPage},
		{"POST /tokens/{id}/revoke", signedIn, s.revokeToken},

		// Webhooks.
		{"GET /webhooks", signedIn, s.webhooksPage},
		{"POST /webhooks", signedIn, s.createWebhook},
		{"GET /webhooks/{id}", signedIn, s.webhookPage},
		{"POST /webhooks/{id}", signedIn, s.updateWebhook},
		{"POST /webhooks/{id}/test", signedIn, s.testWebhook},
		{"POST /webhooks/{id}/rotate", signedIn, s.rotateWebhook},
		{"GET /webhooks/{id}/delete", signedIn, s.deleteWebhookPage},
		{"POST /webhooks/{id}/delete", signedIn, s.deleteWebhook},

		// Importing users.
		{"GET /users/import", signedIn, s.importPage},
		{"POST /users/import", signedIn, s.importPreview},
		{"POST /users/import/run", signedIn, s.importRun},
		{"GET /users/import/progress", signedIn, s.importProgressPage},
		{"GET /users/import/progress.json", signedIn, s.importProgressJSON},
		{"GET /users/bulk", signedIn, s.confirmBulk},
		{"POST /users/bulk", signedIn, s.runBulk},

		// Single sign-on.
		{"GET /settings/sso", signedIn, s.ssoPage},
		{"GET /settings/sso/saml", signedIn, s.samlAddPage},
		{"POST /settings/sso/saml", signedIn, s.saveSAMLProvider},
		{"POST /settings/sso", signedIn, s.saveSSOProvider},
		{"GET /settings/sso/{id}", signedIn, s.ssoEditPage},
		{"POST /settings/sso/{id}", signedIn, s.saveSSOProvider},
		{"GET /settings/sso/{id}/delete", signedIn, s.deleteSSOPage},
		{"POST /settings/sso/{id}/delete", signedIn, s.deleteSSOProvider},

		// Audit log and outbox.
		{"GET /audit", signedIn, s.auditPage},
		{"GET /audit.csv", signedIn, s.auditCSV},
		{"GET /outbox", signedIn, s.outboxPage},

		// Organisation settings.
		{"GET /settings", signedIn, s.settingsPage},
		{"POST /settings", signedIn, s.saveSettings},

		// SCIM provisioning.
		{"GET /provisioning", signedIn, s.provisioningPage},
	}
}
