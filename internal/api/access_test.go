package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/roster"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/testdb"
)

// accessTenant is a tenant reached over HTTP, with an API token for every
// built-in role and one of everything an endpoint can name by id. Every name
// it creates carries its marker, so a response that leaks it to another
// tenant is easy to spot.
type accessTenant struct {
	t      *testing.T
	url    string
	slug   string
	marker string
	tokens map[string]string // role key -> bearer token
	ids    map[string]string // what -> id (or key) of one such thing
}

// accessServer serves the REST API over a real store.
func accessServer(t *testing.T, db *store.DB) (*roster.Service, string) {
	t.Helper()
	svc := roster.NewService(db, roster.Options{})
	mux := http.NewServeMux()
	New(svc, slog.New(slog.DiscardHandler)).Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return svc, srv.URL
}

func (at *accessTenant) call(token, method, path string, body any) (int, []byte) {
	at.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			at.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, at.url+path, rd)
	if err != nil {
		at.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		at.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// create calls an endpoint as admin, wants 200 or 201, and returns field of the answer.
func (at *accessTenant) create(path string, body any, field string) string {
	at.t.Helper()
	status, out := at.call(at.tokens["admin"], "POST", path, body)
	if status != http.StatusCreated && status != http.StatusOK {
		at.t.Fatalf("POST %s: %d %s", path, status, out)
	}
	var m map[string]any
	if err := json.Unmarshal(out, &m); err != nil {
		at.t.Fatal(err)
	}
	return fmt.Sprint(m[field])
}

func newAccessTenant(t *testing.T, svc *roster.Service, url, slug string) *accessTenant {
	t.Helper()
	ctx := context.Background()
	marker := "zq" + slug
	tn, err := svc.CreateTenant(ctx, slug, "Tenant "+marker)
	if err != nil {
		t.Fatal(err)
	}
	at := &accessTenant{t: t, url: url, slug: slug, marker: marker, tokens: map[string]string{}, ids: map[string]string{}}
	for _, br := range roster.BuiltinRoles() {
		_, secret, err := svc.CreateToken(ctx, roster.SystemActor(tn.ID), roster.TokenInput{Name: br.Key + " " + marker, Role: br.Key})
		if err != nil {
			t.Fatal(err)
		}
		at.tokens[br.Key] = secret
	}
	groups, err := svc.ListGroups(ctx, roster.SystemActor(tn.ID))
	if err != nil {
		t.Fatal(err)
	}
	root := groups[0].ID
	at.ids["group"] = at.create("/api/v1/groups", map[string]any{"name": "Team " + marker, "parent_id": root}, "id")
	at.ids["role"] = at.create("/api/v1/roles", map[string]any{"key": "custom_" + marker, "name": "Custom " + marker,
		"permissions": []string{"insights.view"}, "scope": "groups"}, "id")
	at.create("/api/v1/interactions/batch", map[string]any{"interactions": []map[string]any{
		{"source": "voice", "external_id": "call-" + marker, "agent_external_id": "agent-" + marker, "agent_name": "Agent " + marker,
			"group_id": json.Number(at.ids["group"]), "channel": "voice", "started_at": "2026-11-20T08:00:00Z", "duration_s": 60},
	}}, "inserted")
	status, out := at.call(at.tokens["admin"], "GET", "/api/v1/agents", nil)
	var agents roster.Page[roster.AgentID]
	if status != http.StatusOK || json.Unmarshal(out, &agents) != nil || len(agents.Items) != 1 {
		t.Fatalf("agents: %d %s", status, out)
	}
	at.ids["agent"] = fmt.Sprint(agents.Items[0].ID)
	user := func(name string) map[string]any {
		return map[string]any{"username": name + "." + marker, "name": "Person " + marker, "email": name + "@" + marker + ".example",
			"language": "en", "group_id": json.Number(at.ids["group"]), "roles": []string{"agent"}}
	}
	victim := user("vic")
	victim["agent_ids"] = []json.Number{json.Number(at.ids["agent"])}
	at.ids["user"] = at.create("/api/v1/users", victim, "id")
	at.ids["property"] = "wrap_" + slug // a name of B's own choosing too: not a marker
	at.create("/api/v1/properties", map[string]any{"key": at.ids["property"], "label": "Wrap-up " + marker, "type": "duration", "default": 60}, "key")
	at.ids["skill"] = at.create("/api/v1/skills", map[string]any{"name": "Skill " + marker}, "id")
	at.ids["profile"] = at.create("/api/v1/groups/"+at.ids["group"]+"/profiles", map[string]any{"name": "Profile " + marker,
		"skills": []map[string]any{{"skill_id": json.Number(at.ids["skill"]), "level": 50}}}, "id")
	at.ids["plan"] = at.create("/api/v1/coaching-plans", map[string]any{"agent_user_id": json.Number(at.ids["user"]),
		"title": "Plan " + marker, "goals": "Goals " + marker, "status": "open", "due_date": "2026-12-31"}, "id")
	status, out = at.call(at.tokens["admin"], "POST", "/api/v1/invitations", map[string]any{"invitations": []any{user("invitee")}})
	var inv struct {
		Invitations []struct {
			ID int64 `json:"id"`
		} `json:"invitations"`
	}
	if status != http.StatusCreated || json.Unmarshal(out, &inv) != nil || len(inv.Invitations) != 1 {
		t.Fatalf("invite: %d %s", status, out)
	}
	at.ids["invitation"] = fmt.Sprint(inv.Invitations[0].ID)
	at.ids["token"] = at.create("/api/v1/tokens", map[string]any{"name": "Token " + marker, "role": "environment_manager"}, "id")
	// A public address (TEST-NET-3) that is never dialled: no worker runs here.
	at.ids["webhook"] = at.create("/api/v1/webhooks", map[string]any{"url": "https://203.0.113.10/" + marker,
		"events": []string{"user.created"}, "description": "Hook " + marker}, "id")
	at.ids["sso"] = at.create("/api/v1/sso/providers", map[string]any{"kind": "oidc", "name": "IdP " + marker,
		"issuer": "https://idp.example", "client_id": "client-" + marker, "client_secret": "secret-" + marker}, "id")
	return at
}

// pathFor fills a route pattern with the tenant's ids.
func (at *accessTenant) pathFor(pattern string) string {
	kind := "user"
	switch {
	case strings.HasPrefix(pattern, "/api/v1/groups/"):
		kind = "group"
	case strings.HasPrefix(pattern, "/api/v1/roles/"):
		kind = "role"
	case strings.HasPrefix(pattern, "/api/v1/skills/"):
		kind = "skill"
	case strings.HasPrefix(pattern, "/api/v1/profiles/"):
		kind = "profile"
	case strings.HasPrefix(pattern, "/api/v1/coaching-plans/"):
		kind = "plan"
	case strings.HasPrefix(pattern, "/api/v1/invitations/"):
		kind = "invitation"
	case strings.HasPrefix(pattern, "/api/v1/tokens/"):
		kind = "token"
	case strings.HasPrefix(pattern, "/api/v1/webhooks/"):
		kind = "webhook"
	case strings.HasPrefix(pattern, "/api/v1/sso/providers/"):
		kind = "sso"
	}
	p := strings.ReplaceAll(pattern, "{id}", at.ids[kind])
	return strings.ReplaceAll(p, "{key}", at.ids["property"])
}

// accessMatrix is every endpoint and the built-in roles whose API tokens
// may use it (tokens act tenant-wide with their role's permissions). The
// others must get 403. Requests carry {} as body and ids that exist, so an
// allowed role gets an answer about the request itself (200, 201, 204, 400,
// 404, 409), never 403.
var accessMatrix = map[string]string{
	// Directory.
	"GET /api/v1/users":                     "admin read_only environment_manager",
	"POST /api/v1/users":                    "admin environment_manager",
	"POST /api/v1/users/import":             "admin environment_manager",
	"POST /api/v1/users/bulk":               "admin environment_manager",
	"GET /api/v1/users/{id}":                "admin read_only environment_manager",
	"PATCH /api/v1/users/{id}":              "admin", /* the user is an Agent: an Environment Manager may not act on them (grant rule) */
	"DELETE /api/v1/users/{id}":             "admin environment_manager",
	"POST /api/v1/users/{id}/deactivate":    "admin", /* the user is an Agent: an Environment Manager may not act on them (grant rule) */
	"POST /api/v1/users/{id}/reactivate":    "admin", /* the user is an Agent: an Environment Manager may not act on them (grant rule) */
	"GET /api/v1/agent-numbers":             "admin read_only environment_manager",
	"GET /api/v1/stats":                     "admin read_only environment_manager",
	"GET /api/v1/groups":                    "admin team_leader read_only environment_manager",
	"POST /api/v1/groups":                   "admin environment_manager",
	"GET /api/v1/groups/{id}":               "admin team_leader read_only environment_manager",
	"PATCH /api/v1/groups/{id}":             "admin environment_manager",
	"DELETE /api/v1/groups/{id}":            "admin environment_manager",
	"GET /api/v1/roles":                     "admin read_only environment_manager",
	"GET /api/v1/roles/{id}":                "admin read_only environment_manager",
	"POST /api/v1/roles":                    "admin environment_manager",
	"PATCH /api/v1/roles/{id}":              "admin", /* the user is an Agent: an Environment Manager may not act on them (grant rule) */
	"DELETE /api/v1/roles/{id}":             "admin environment_manager",
	"GET /api/v1/permissions":               "*",
	"POST /api/v1/tokens":                   "admin environment_manager",
	"GET /api/v1/tokens":                    "admin environment_manager",
	"GET /api/v1/tokens/{id}":               "admin environment_manager",
	"DELETE /api/v1/tokens/{id}":            "admin environment_manager",
	"GET /api/v1/audit":                     "admin environment_manager",
	"GET /api/v1/tenant":                    "*",
	"PATCH /api/v1/tenant":                  "admin environment_manager",
	"GET /api/v1/me":                        "", // a person's own: refused to API tokens, whatever the role
	"PATCH /api/v1/me":                      "",
	"POST /api/v1/me/confirm":               "",
	"GET /api/v1/me/sessions":               "",
	"DELETE /api/v1/me/sessions":            "",
	"POST /api/v1/users/{id}/password-code": "admin", // an Agent: not the Environment Manager's to act on
	"GET /api/v1/users/{id}/mfa":            "admin read_only environment_manager",
	"DELETE /api/v1/users/{id}/mfa":         "admin", // as the password code: resetting credentials is acting on the user
	"GET /api/v1/sso/providers":             "admin environment_manager",
	"POST /api/v1/sso/providers":            "admin environment_manager",
	"GET /api/v1/sso/providers/{id}":        "admin environment_manager",
	"PATCH /api/v1/sso/providers/{id}":      "admin environment_manager",
	"DELETE /api/v1/sso/providers/{id}":     "admin environment_manager",
	"GET /api/v1/sso/policy":                "admin environment_manager",
	"PATCH /api/v1/sso/policy":              "admin environment_manager",

	// Agents, interactions, moves, queue, decision API, view-as.
	"POST /api/v1/interactions/batch":      "admin",
	"GET /api/v1/interactions":             "admin user team_leader agent read_only identified_only analyst producer",
	"GET /api/v1/agents":                   "admin team_leader read_only environment_manager",
	"PUT /api/v1/users/{id}/agents":        "admin", /* the user is an Agent: an Environment Manager may not act on them (grant rule) */
	"POST /api/v1/users/{id}/move":         "admin", /* the user is an Agent: an Environment Manager may not act on them (grant rule) */
	"PUT /api/v1/users/{id}/queue":         "admin environment_manager",
	"POST /api/v1/authz/check":             "admin",
	"GET /api/v1/authz/scope":              "admin",
	"POST /api/v1/impersonation":           "admin environment_manager",
	"GET /api/v1/impersonation/current":    "*", // 404 unless viewing as someone
	"DELETE /api/v1/impersonation/current": "*",

	// Lifecycle.
	"POST /api/v1/invitations":             "admin environment_manager",
	"GET /api/v1/invitations":              "admin read_only environment_manager",
	"GET /api/v1/invitations/{id}":         "admin read_only environment_manager",
	"POST /api/v1/invitations/{id}/resend": "admin", /* the user is an Agent: an Environment Manager may not act on them (grant rule) */
	"GET /api/v1/invitations/{id}/link":    "admin", /* the user is an Agent: an Environment Manager may not act on them (grant rule) */
	"DELETE /api/v1/invitations/{id}":      "admin environment_manager",
	"GET /api/v1/sessions/current":         "", // needs a session: refused to API tokens, whatever the role
	"POST /api/v1/password/change":         "",
	"GET /api/v1/outbox":                   "admin environment_manager",

	// Contact centre.
	"GET /api/v1/properties":                      "admin read_only environment_manager",
	"POST /api/v1/properties":                     "admin environment_manager",
	"GET /api/v1/properties/{key}":                "admin read_only environment_manager",
	"PATCH /api/v1/properties/{key}":              "admin environment_manager",
	"DELETE /api/v1/properties/{key}":             "admin environment_manager",
	"GET /api/v1/groups/{id}/properties":          "admin team_leader read_only environment_manager",
	"PUT /api/v1/groups/{id}/properties/{key}":    "admin environment_manager",
	"DELETE /api/v1/groups/{id}/properties/{key}": "admin environment_manager",
	"PUT /api/v1/users/{id}/properties/{key}":     "admin", // an Agent: not the Environment Manager's to act on
	"DELETE /api/v1/users/{id}/properties/{key}":  "admin environment_manager",
	"GET /api/v1/skills":                          "admin team_leader read_only environment_manager",
	"GET /api/v1/skills/{id}":                     "admin team_leader read_only environment_manager",
	"POST /api/v1/skills":                         "admin environment_manager",
	"PATCH /api/v1/skills/{id}":                   "admin environment_manager",
	"DELETE /api/v1/skills/{id}":                  "admin environment_manager",
	"GET /api/v1/groups/{id}/profiles":            "admin team_leader read_only environment_manager",
	"POST /api/v1/groups/{id}/profiles":           "admin environment_manager",
	"POST /api/v1/users/{id}/profiles":            "admin", // an Agent: not the Environment Manager's to act on
	"PUT /api/v1/users/{id}/group-profiles":       "admin", // an Agent: not the Environment Manager's to act on
	"GET /api/v1/profiles/{id}":                   "admin team_leader read_only environment_manager",
	"PATCH /api/v1/profiles/{id}":                 "admin environment_manager",
	"DELETE /api/v1/profiles/{id}":                "admin environment_manager",
	"GET /api/v1/coaching-plans":                  "admin team_leader agent",
	"POST /api/v1/coaching-plans":                 "admin team_leader agent",
	"GET /api/v1/coaching-plans/{id}":             "admin team_leader agent",
	"PATCH /api/v1/coaching-plans/{id}":           "admin team_leader agent",
	"POST /api/v1/coaching-plans/{id}/notes":      "admin team_leader agent",
	"GET /api/v1/my-team":                         "admin team_leader",

	// Webhooks: webhooks.manage, which only Admin holds.
	"GET /api/v1/webhooks":                     "admin",
	"POST /api/v1/webhooks":                    "admin",
	"GET /api/v1/webhooks/{id}":                "admin",
	"PATCH /api/v1/webhooks/{id}":              "admin",
	"DELETE /api/v1/webhooks/{id}":             "admin",
	"POST /api/v1/webhooks/{id}/rotate-secret": "admin",
	"POST /api/v1/webhooks/{id}/test":          "admin",
	"GET /api/v1/webhooks/{id}/deliveries":     "admin",
}

// matrixBodies are the bodies of endpoints whose handlers need a field
// before the core looks at the permission; the rest get {}.
var matrixBodies = map[string]any{
	"PUT /api/v1/users/{id}/agents":          map[string]any{"agent_ids": []int64{}},
	"PUT /api/v1/users/{id}/queue":           map[string]any{"logged_on": false},
	"PUT /api/v1/users/{id}/group-profiles":  map[string]any{"enabled": []int64{}},
	"POST /api/v1/coaching-plans/{id}/notes": map[string]any{"text": "a note"},
}

// matrixOrder runs reads before writes and deletes last, so that what one
// role deletes does not change what the next one is asked about.
func matrixOrder(routes []string) []string {
	rank := func(r string) int {
		switch {
		case strings.HasPrefix(r, "GET "):
			return 0
		case strings.HasPrefix(r, "DELETE "):
			return 2
		}
		return 1
	}
	out := slices.Clone(routes)
	slices.SortStableFunc(out, func(a, b string) int { return rank(a) - rank(b) })
	return out
}

// TestRoleEndpointMatrix asks every endpoint as every built-in role.
func TestRoleEndpointMatrix(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		svc, url := accessServer(t, db)
		at := newAccessTenant(t, svc, url, "matrix")
		roles := roster.BuiltinRoles()
		var got strings.Builder
		for _, route := range matrixOrder(New(svc, slog.Default()).Routes()) {
			method, pattern, _ := strings.Cut(route, " ")
			want, ok := accessMatrix[route]
			if !ok {
				t.Errorf("%s is not in the access matrix; add it with the roles that may use it", route)
				continue
			}
			var allowed []string
			for _, br := range roles {
				var body any
				if method != "GET" && method != "DELETE" {
					body = map[string]any{}
				}
				if b, ok := matrixBodies[route]; ok {
					body = b
				}
				status, out := at.call(at.tokens[br.Key], method, at.pathFor(pattern), body)
				if status >= 500 {
					t.Errorf("%s as %s: %d %s", route, br.Key, status, out)
				}
				if status != http.StatusForbidden {
					allowed = append(allowed, br.Key)
				}
			}
			line := strings.Join(allowed, " ")
			if len(allowed) == len(roles) {
				line = "*"
			}
			fmt.Fprintf(&got, "\t%q: %q,\n", route, line)
			if line != want {
				t.Errorf("%s: allowed for %q, want %q", route, line, want)
			}
		}
		if t.Failed() || testing.Verbose() {
			t.Logf("observed matrix:\n%s", got.String())
		}
	})
}

// TestTenantIsolation asks every endpoint as tenant B's admin about tenant
// A's things: ids in the path answer 404, ids in bodies and queries are
// unknown, and no answer carries anything of A's.
func TestTenantIsolation(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		svc, url := accessServer(t, db)
		a := newAccessTenant(t, svc, url, "alpha")
		b := newAccessTenant(t, svc, url, "bravo")
		admin := b.tokens["admin"]
		// Bodies that name A's things where an endpoint takes ids.
		foreign := map[string]any{
			"user_id": json.Number(a.ids["user"]), "group_id": json.Number(a.ids["group"]), "parent_id": json.Number(a.ids["group"]),
			"agent_user_id": json.Number(a.ids["user"]), "agent_id": json.Number(a.ids["agent"]),
			"agent_ids": []json.Number{json.Number(a.ids["agent"])}, "group_access": []json.Number{json.Number(a.ids["group"])},
			"permission": "insights.view", "skills": []map[string]any{{"skill_id": json.Number(a.ids["skill"]), "level": 10}},
		}
		queries := "?user_id=" + a.ids["user"] + "&agent_id=" + a.ids["agent"] + "&agent_user_id=" + a.ids["user"]
		for _, route := range matrixOrder(New(svc, slog.Default()).Routes()) {
			method, pattern, _ := strings.Cut(route, " ")
			var body any
			if method != "GET" && method != "DELETE" {
				body = map[string]any{}
			}
			if b, ok := matrixBodies[route]; ok {
				body = b
			}
			if strings.Contains(pattern, "{") {
				// A's ids in the path: not found, exactly like ids that do not exist.
				path := a.pathFor(pattern)
				if strings.Contains(pattern, "{key}") && !strings.Contains(pattern, "/users/{id}") && !strings.Contains(pattern, "/groups/{id}") {
					path = strings.ReplaceAll(pattern, "{key}", a.ids["property"])
				}
				status, out := b.call(admin, method, path, body)
				if status != http.StatusNotFound {
					t.Errorf("%s with tenant A's ids: %d %s, want 404", route, status, out)
				}
				if bytes.Contains(out, []byte(a.marker)) {
					t.Errorf("%s leaks tenant A: %s", route, out)
				}
				continue
			}
			for _, q := range []string{"", queries, "?group=" + a.ids["group"]} {
				if method != "GET" && q != "" {
					continue
				}
				if method != "GET" {
					body = foreign
				}
				status, out := b.call(admin, method, pattern+q, body)
				if status >= 500 {
					t.Errorf("%s%s: %d %s", route, q, status, out)
				}
				if bytes.Contains(out, []byte(a.marker)) {
					t.Errorf("%s%s leaks tenant A: %s", route, q, out)
				}
				if status/100 == 2 && method != "GET" && !slices.Contains([]string{"/api/v1/impersonation/current"}, pattern) {
					t.Errorf("%s with tenant A's ids succeeded: %d %s", route, status, out)
				}
			}
		}
		// A's ids where B's requests take them: unknown, exactly like ids
		// that do not exist.
		for _, c := range []struct {
			method, path string
			body         any
			status       int
		}{
			{"POST", "/api/v1/authz/check", map[string]any{"user_id": json.Number(a.ids["user"]), "permission": "self.view"}, 404},
			{"GET", "/api/v1/authz/scope?user_id=" + a.ids["user"], nil, 404},
			{"POST", "/api/v1/impersonation", map[string]any{"user_id": json.Number(a.ids["user"])}, 404},
			{"PUT", "/api/v1/users/" + b.ids["user"] + "/agents", map[string]any{"agent_ids": []json.Number{json.Number(a.ids["agent"])}}, 400},
			{"POST", "/api/v1/users/" + b.ids["user"] + "/move", map[string]any{"group_id": json.Number(a.ids["group"])}, 400},
			{"PATCH", "/api/v1/users/" + b.ids["user"], map[string]any{"group_access": []json.Number{json.Number(a.ids["group"])}}, 400},
			{"GET", "/api/v1/interactions?group=" + a.ids["group"], nil, 400},
		} {
			status, out := b.call(admin, c.method, c.path, c.body)
			if status != c.status || bytes.Contains(out, []byte(a.marker)) {
				t.Errorf("%s %s: %d %s, want %d", c.method, c.path, status, out, c.status)
			}
		}
		// An ingest row in A's group is rejected; the agent list by A's id is empty.
		status, out := b.call(admin, "POST", "/api/v1/interactions/batch", map[string]any{"interactions": []map[string]any{{
			"source": "voice", "external_id": "x1", "agent_external_id": "x", "group_id": json.Number(a.ids["group"]),
			"started_at": time.Now().UTC().Format(time.RFC3339)}}})
		var res roster.IngestResult
		if status != http.StatusOK || json.Unmarshal(out, &res) != nil || res.Rejected != 1 || res.Errors[0].Field != "group_id" {
			t.Errorf("ingest into tenant A's group: %d %s", status, out)
		}
		status, out = b.call(admin, "GET", "/api/v1/interactions?agent_id="+a.ids["agent"], nil)
		if status != http.StatusOK || !bytes.Contains(out, []byte(`"total":0`)) {
			t.Errorf("interactions of tenant A's agent ID: %d %s", status, out)
		}
	})
}
