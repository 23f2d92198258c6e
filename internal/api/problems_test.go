package api

import (
	"encoding/json"
	"testing"

	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/testdb"
)

// Problems tell their kind by type and the refusal by a stable code.
func TestProblemTypesAndCodes(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		svc, url := accessServer(t, db)
		at := newAccessTenant(t, svc, url, "acme")
		admin := at.tokens["admin"]
		user := "/api/v1/users/" + at.ids["user"]
		_, body := exchange(t, "GET", url+user, admin, nil)
		var victim struct {
			Username, Email string
		}
		if err := json.Unmarshal(body, &victim); err != nil {
			t.Fatal(err)
		}
		newUser := func(username, email string, agents ...json.Number) map[string]any {
			m := map[string]any{"username": username, "name": "N", "email": email, "language": "en",
				"group_id": json.Number(at.ids["group"]), "roles": []string{"agent"}}
			if agents != nil {
				m["agent_ids"] = agents
			}
			return m
		}
		steps := []struct {
			name, method, path, token string
			body                      any
			status                    int
			kind, code                string
		}{
			{"username taken", "POST", "/api/v1/users", admin, newUser(victim.Username, "other@x.example"), 409, "conflict", "username_taken"},
			{"email taken", "POST", "/api/v1/users", admin, newUser("someone.else", victim.Email), 409, "conflict", "email_taken"},
			{"agent ID held", "POST", "/api/v1/users", admin, newUser("third.one", "third@x.example", json.Number(at.ids["agent"])), 409, "conflict", "agent_id_held"},
			{"log on", "PUT", user + "/queue", admin, map[string]any{"logged_on": true}, 200, "", ""},
			{"user on queue", "DELETE", user, admin, nil, 409, "conflict", "user_on_queue"},
			{"invalid input", "POST", "/api/v1/groups", admin, map[string]any{"name": ""}, 400, "invalid-input", "invalid"},
			{"not found", "GET", "/api/v1/users/999999", admin, nil, 404, "not-found", "not_found"},
			{"permission missing", "POST", "/api/v1/groups", at.tokens["agent"], map[string]any{"name": "x"}, 403, "forbidden", "permission_missing"},
			{"unauthorized", "GET", "/api/v1/users", "wrong", nil, 401, "unauthorized", "unauthorized"},
			{"builtin role", "DELETE", "/api/v1/roles/1", admin, nil, 409, "conflict", "builtin"},
		}
		for _, s := range steps {
			resp, out := exchange(t, s.method, url+s.path, s.token, s.body)
			if resp.StatusCode != s.status {
				t.Fatalf("%s: %d %s, want %d", s.name, resp.StatusCode, out, s.status)
			}
			if s.kind == "" {
				continue
			}
			var p Problem
			if err := json.Unmarshal(out, &p); err != nil || resp.Header.Get("Content-Type") != "application/problem+json" {
				t.Fatalf("%s: not problem+json: %s", s.name, out)
			}
			if p.Type != problemTypeBase+s.kind || p.Code != s.code || p.Status != s.status {
				t.Errorf("%s: type %q code %q status %d, want %q %q %d", s.name, p.Type, p.Code, p.Status, problemTypeBase+s.kind, s.code, s.status)
			}
		}
	})
}
