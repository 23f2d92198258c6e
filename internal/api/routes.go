package api

import (
	"net/http"
	"slices"
	"strings"

	"github.com/roster-dev/roster/internal/roster"
)

// The API's one route table. Every authenticated endpoint is a route here;
// the OpenAPI tests, the access matrix and the body limits walk the same
// table, so a route added here and nowhere else fails them.

// handlerFunc is an endpoint that runs for an authenticated actor.
type handlerFunc func(w http.ResponseWriter, r *http.Request, a *roster.Actor)

// route is one entry of the route table.
type route struct {
	method, path string
	h            handlerFunc
}

func (s *Server) routes() []route {
	return []route{
		// Directory: users, groups, roles, permissions, tokens, audit.
		{"GET", "/api/v1/users", s.listUsers},
		{"POST", "/api/v1/users", s.createUser},
		{"GET", "/api/v1/users/{id}", s.getUser},
		{"PATCH", "/api/v1/users/{id}", s.updateUser},
		// Second factors (mfa.go); before the user's delete, which the
		// access matrix runs in this order.
		{"GET", "/api/v1/users/{id}/mfa", s.getUserMFA},
		{"DELETE", "/api/v1/users/{id}/mfa", s.resetUserMFA},
		{"DELETE", "/api/v1/users/{id}", s.deleteUser},
		{"POST", "/api/v1/users/{id}/deactivate", s.deactivateUser},
		{"POST", "/api/v1/users/{id}/reactivate", s.reactivateUser},
		{"GET", "/api/v1/agent-numbers", s.agentNumbers},
		{"GET", "/api/v1/stats", s.stats},

		{"GET", "/api/v1/groups", s.listGroups},
		{"POST", "/api/v1/groups", s.createGroup},
		{"GET", "/api/v1/groups/{id}", s.getGroup},
		{"PATCH", "/api/v1/groups/{id}", s.updateGroup},
		{"DELETE", "/api/v1/groups/{id}", s.deleteGroup},

		{"GET", "/api/v1/roles", s.listRoles},
		{"POST", "/api/v1/roles", s.createRole},
		{"GET", "/api/v1/roles/{id}", s.getRole},
		{"PATCH", "/api/v1/roles/{id}", s.updateRole},
		{"DELETE", "/api/v1/roles/{id}", s.deleteRole},
		{"GET", "/api/v1/permissions", s.permissions},
		{"GET", "/api/v1/tokens", s.listTokens},
		{"POST", "/api/v1/tokens", s.createToken},
		{"GET", "/api/v1/tokens/{id}", s.getToken},
		{"DELETE", "/api/v1/tokens/{id}", s.revokeToken},

		{"GET", "/api/v1/audit", s.listAudit},

		// The organisation's settings; one's own profile and sessions
		// (tenant.go, me.go); an admin's password help for a user.
		{"GET", "/api/v1/tenant", s.getTenant},
		{"PATCH", "/api/v1/tenant", s.updateTenant},
		{"GET", "/api/v1/me", s.getMe},
		{"PATCH", "/api/v1/me", s.updateMe},
		{"POST", "/api/v1/me/confirm", s.confirmMe},
		{"GET", "/api/v1/me/sessions", s.mySessions},
		{"DELETE", "/api/v1/me/sessions", s.signOutOthers},
		{"POST", "/api/v1/users/{id}/password-code", s.sendPasswordCode},
		{"POST", "/api/v1/users/import", s.importUsers},
		{"POST", "/api/v1/users/bulk", s.bulkUsers},

		// Identity providers and "SSO required".
		{"GET", "/api/v1/sso/providers", s.listSSOProviders},
		{"POST", "/api/v1/sso/providers", s.createSSOProvider},
		{"GET", "/api/v1/sso/providers/{id}", s.getSSOProvider},
		{"PATCH", "/api/v1/sso/providers/{id}", s.updateSSOProvider},
		{"DELETE", "/api/v1/sso/providers/{id}", s.deleteSSOProvider},
		{"GET", "/api/v1/sso/policy", s.getSSOPolicy},
		{"PATCH", "/api/v1/sso/policy", s.setSSOPolicy},

		// Webhooks to the host platform.
		{"GET", "/api/v1/webhooks", s.listWebhooks},
		{"POST", "/api/v1/webhooks", s.createWebhook},
		{"GET", "/api/v1/webhooks/{id}", s.getWebhook},
		{"PATCH", "/api/v1/webhooks/{id}", s.updateWebhook},
		{"DELETE", "/api/v1/webhooks/{id}", s.deleteWebhook},
		{"POST", "/api/v1/webhooks/{id}/rotate-secret", s.rotateWebhookSecret},
		{"POST", "/api/v1/webhooks/{id}/test", s.testWebhook},
		{"GET", "/api/v1/webhooks/{id}/deliveries", s.webhookDeliveries},

		// Lifecycle: invitations, the current session, passwords, outbox.
		{"POST", "/api/v1/invitations", s.inviteUsers},
		{"GET", "/api/v1/invitations", s.listInvitations},
		{"GET", "/api/v1/invitations/{id}", s.getInvitation},
		{"POST", "/api/v1/invitations/{id}/resend", s.resendInvitation},
		{"GET", "/api/v1/invitations/{id}/link", s.invitationLink},
		{"DELETE", "/api/v1/invitations/{id}", s.cancelInvitation},
		{"GET", "/api/v1/sessions/current", s.currentSession},
		{"POST", "/api/v1/password/change", s.changePassword},
		{"GET", "/api/v1/outbox", s.listOutbox},

		// Agents: interactions, agent IDs, moves, queue state, the decision
		// API, impersonation ("view as").
		{"POST", "/api/v1/interactions/batch", s.ingestInteractions},
		{"GET", "/api/v1/interactions", s.listInteractions},
		{"GET", "/api/v1/agents", s.listAgents},
		{"PUT", "/api/v1/users/{id}/agents", s.setUserAgents},
		{"POST", "/api/v1/users/{id}/move", s.moveUser},
		{"PUT", "/api/v1/users/{id}/queue", s.setQueue},

		{"POST", "/api/v1/authz/check", s.authzCheck},
		{"GET", "/api/v1/authz/scope", s.authzScope},

		{"POST", "/api/v1/impersonation", s.startImpersonation},
		{"GET", "/api/v1/impersonation/current", s.currentImpersonation},
		{"DELETE", "/api/v1/impersonation/current", s.stopImpersonation},

		// Contact centre: properties, skills, profiles, coaching, My Team.
		{"GET", "/api/v1/properties", s.listProperties},
		{"POST", "/api/v1/properties", s.createProperty},
		{"GET", "/api/v1/properties/{key}", s.getProperty},
		{"PATCH", "/api/v1/properties/{key}", s.updateProperty},
		{"DELETE", "/api/v1/properties/{key}", s.deleteProperty},
		{"GET", "/api/v1/groups/{id}/properties", s.groupProperties},
		{"PUT", "/api/v1/groups/{id}/properties/{key}", s.setGroupProperty},
		{"DELETE", "/api/v1/groups/{id}/properties/{key}", s.clearGroupProperty},
		{"PUT", "/api/v1/users/{id}/properties/{key}", s.setUserProperty},
		{"DELETE", "/api/v1/users/{id}/properties/{key}", s.clearUserProperty},

		{"GET", "/api/v1/skills", s.listSkills},
		{"POST", "/api/v1/skills", s.createSkill},
		{"GET", "/api/v1/skills/{id}", s.getSkill},
		{"PATCH", "/api/v1/skills/{id}", s.updateSkill},
		{"DELETE", "/api/v1/skills/{id}", s.deleteSkill},
		{"GET", "/api/v1/groups/{id}/profiles", s.groupProfiles},
		{"POST", "/api/v1/groups/{id}/profiles", s.createGroupProfile},
		{"POST", "/api/v1/users/{id}/profiles", s.createUserProfile},
		{"PUT", "/api/v1/users/{id}/group-profiles", s.setUserGroupProfiles},
		{"GET", "/api/v1/profiles/{id}", s.getProfile},
		{"PATCH", "/api/v1/profiles/{id}", s.updateProfile},
		{"DELETE", "/api/v1/profiles/{id}", s.deleteProfile},

		{"GET", "/api/v1/coaching-plans", s.listCoachingPlans},
		{"POST", "/api/v1/coaching-plans", s.createCoachingPlan},
		{"GET", "/api/v1/coaching-plans/{id}", s.getCoachingPlan},
		{"PATCH", "/api/v1/coaching-plans/{id}", s.updateCoachingPlan},
		{"POST", "/api/v1/coaching-plans/{id}/notes", s.addCoachingNote},
		{"GET", "/api/v1/my-team", s.myTeam},
	}
}

// publicRoutes are served without authentication: signing in and out,
// asking for and using a one-time code, and opening an invitation.
func (s *Server) publicRoutes() map[string]http.HandlerFunc {
	return map[string]http.HandlerFunc{
		"POST /api/v1/sessions":               s.signIn,
		"POST /api/v1/sessions/second-factor": s.secondFactor, // mfa.go
		"DELETE /api/v1/sessions/current":     s.signOut,
		"POST /api/v1/password/forgot":        s.forgotPassword,
		"POST /api/v1/password/reset":         s.resetPassword,
		"POST /api/v1/invitations/accept":     s.acceptInvitation,
		"POST /api/v1/invitations/inspect":    s.inspectInvitation,
	}
}

// Routes lists every authenticated endpoint as "METHOD /path".
func (s *Server) Routes() []string {
	var out []string
	for _, rt := range s.routes() {
		out = append(out, rt.method+" "+rt.path)
	}
	return out
}

// Register adds the API's routes to mux. Each authenticated route runs
// apiHeaders (no-store, nosniff, X-Request-Id), its body limit,
// authentication, If-Match for changes and its query check; the public
// ones must come from the console's origin when a browser sends them
// (login CSRF).
func (s *Server) Register(mux *http.ServeMux) {
	for _, rt := range s.routes() {
		pattern := rt.method + " " + rt.path
		inner := rt.h
		if idempotentRoutes[pattern] {
			inner = s.idempotent(pattern, inner)
		}
		var h http.Handler = s.authenticated(s.checkQuery(pattern, s.withCSV(pattern, inner)))
		if takesIfMatch(rt.method, rt.path) {
			h = s.ifMatch(h)
		}
		mux.Handle(pattern, s.apiHeaders(s.limitBody(bodyLimit(pattern), h)))
	}
	for pattern, h := range s.publicRoutes() {
		mux.Handle(pattern, s.apiHeaders(s.limitBody(bodyLimit(pattern), s.sameOrigin(h))))
	}
	s.registerSSO(mux) // public: sign-in buttons, the round trip through the IdP
	mux.Handle("GET /api/v1/openapi.json", s.apiHeaders(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(openAPIDocument)
	})))
	// Anything else under /api/: 405 with Allow when the path is known but
	// not with this method, else a JSON 404 (not the console's HTML). The
	// catch-all matches every method, so the ServeMux never answers 405
	// itself: the methods the path has are asked of the mux.
	mux.Handle("/api/", s.apiHeaders(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if allow := allowedMethods(mux, r); len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			s.problem(w, r, http.StatusMethodNotAllowed, r.Method+" is not a method of "+r.URL.Path+"; it takes "+strings.Join(allow, ", "), nil)
			return
		}
		s.problem(w, r, http.StatusNotFound, "no such endpoint: "+r.Method+" "+r.URL.Path, nil)
	})))
}

// allowedMethods are the methods some route of mux other than the
// catch-all takes for r's path.
func allowedMethods(mux *http.ServeMux, r *http.Request) []string {
	var allow []string
	for _, m := range []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"} {
		probe := &http.Request{Method: m, URL: r.URL, Host: r.Host, Header: http.Header{}}
		if _, pattern := mux.Handler(probe); pattern != "" && pattern != "/api/" && strings.HasPrefix(pattern, m+" ") ||
			m == "HEAD" && slices.Contains(allow, "GET") {
			allow = append(allow, m)
		}
	}
	return allow
}
