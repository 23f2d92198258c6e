package e2e

// Black-box tests of the trust findings of issue 14 against the built
// binary, on SQLite and PostgreSQL: a groups-scoped user manager cannot take
// over an Admin (finding 1), an Environment Manager cannot climb to Admin
// (finding 2), API tokens are listed, revoked, bound to their maker and may
// expire (finding 3). Every refusal is followed by a read that proves
// nothing changed.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/mailtest"
	"github.com/roster-dev/roster/internal/testdb"
)

func TestTrust(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := lcBuild(t)
	t.Run("sqlite", func(t *testing.T) {
		trustScenarios(t, bin, []string{"ROSTER_DATA=" + filepath.Join(t.TempDir(), "data")})
	})
	t.Run("postgres", func(t *testing.T) {
		dsn, drop := testdb.NewSchema(t)
		t.Cleanup(drop)
		trustScenarios(t, bin, []string{"ROSTER_DB=" + dsn})
	})
}

// person is someone signed in to the console: their session cookie acts
// on the API like the browser would.
type person struct {
	srv *lcServer
	hc  *http.Client
	id  int64
}

func (p *person) do(t *testing.T, method, path string, body any) apiResult {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, p.srv.url+path, rd)
	req.Header.Set("Content-Type", "application/json")
	res, err := p.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return apiResult{status: res.StatusCode, contentType: res.Header.Get("Content-Type"), body: b}
}

func (p *person) want(t *testing.T, status int, method, path string, body, out any) apiResult {
	t.Helper()
	r := p.do(t, method, path, body)
	if r.status != status {
		t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.status, status, r.body)
	}
	if out != nil {
		r.decode(t, out)
	}
	return r
}

const trustPassword = "orchard-lantern-58-quietly"

// invitePerson invites a user as admin, accepts the invitation with a
// password and signs them in.
func invitePerson(t *testing.T, srv *lcServer, admin string, user map[string]any) *person {
	t.Helper()
	var inv struct {
		Invitations []struct {
			ID     int64 `json:"id"`
			UserID int64 `json:"user_id"`
		} `json:"invitations"`
	}
	srv.want(t, 201, admin, "POST", "/api/v1/invitations", map[string]any{"invitations": []any{user}}, &inv)
	var link struct {
		URL string `json:"url"`
	}
	srv.want(t, 200, admin, "GET", fmt.Sprintf("/api/v1/invitations/%d/link", inv.Invitations[0].ID), nil, &link)
	srv.want(t, 200, "", "POST", "/api/v1/invitations/accept", map[string]any{"token": tokenOf(link.URL), "password": trustPassword}, nil)
	jar, _ := cookiejar.New(nil)
	p := &person{srv: srv, hc: &http.Client{Jar: jar}, id: inv.Invitations[0].UserID}
	p.want(t, 201, "POST", "/api/v1/sessions", map[string]any{"tenant": "acme", "login": user["username"], "password": trustPassword}, nil)
	return p
}

func trustScenarios(t *testing.T, bin string, env []string) {
	mail, err := mailtest.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(mail.Close)
	env = append(env, "ROSTER_SMTP_URL=smtp://"+mail.Addr(), "ROSTER_MAIL_FROM=roster@example.com", "ROSTER_OUTBOX_POLL=100ms",
		"ROSTER_LOG_LEVEL=warn")
	lcRun(t, bin, env, "tenant", "create", "--slug", "acme", "--name", "Acme")
	out := lcRun(t, bin, env, "token", "create", "--tenant", "acme", "--name", "operator", "--role", "admin")
	admin := out[len(out)-1]
	srv := lcServe(t, bin, env)

	var groups apiList[apiGroup]
	srv.want(t, 200, admin, "GET", "/api/v1/groups", nil, &groups)
	var team1 apiGroup
	srv.want(t, 201, admin, "POST", "/api/v1/groups", map[string]any{"name": "Team 1", "parent_id": groups.Items[0].ID}, &team1)
	user := func(name string, roles ...string) map[string]any {
		return map[string]any{"username": name, "name": strings.ToUpper(name[:1]) + name[1:], "email": name + "@acme.example",
			"language": "en", "group_id": team1.ID, "roles": roles, "group_access": []int64{team1.ID}}
	}

	t.Run("a groups-scoped user manager cannot take over an admin", func(t *testing.T) {
		srv.want(t, 201, admin, "POST", "/api/v1/roles", map[string]any{"key": "team_manager", "name": "Team manager", "scope": "groups",
			"permissions": []string{"users.view", "users.manage", "users.invite", "insights.view"}}, nil)
		vic := invitePerson(t, srv, admin, user("vic", "admin"))
		mallory := invitePerson(t, srv, admin, user("mallory", "team_manager"))
		victim := fmt.Sprintf("/api/v1/users/%d", vic.id)
		mallory.want(t, 200, "GET", victim, nil, nil) // in their scope: visible
		for _, try := range []struct {
			method, path string
			body         any
		}{
			{"PATCH", victim, map[string]any{"email": "mallory@evil.example"}},
			{"POST", victim + "/deactivate", nil}, {"POST", victim + "/reactivate", nil}, {"DELETE", victim, nil},
			{"POST", victim + "/move", map[string]any{"group_id": team1.ID}},
			{"PUT", victim + "/agents", map[string]any{"agent_ids": []string{}}},
		} {
			if r := mallory.do(t, try.method, try.path, try.body); r.status != http.StatusForbidden {
				t.Fatalf("%s %s by a team manager: %d %s", try.method, try.path, r.status, r.body)
			}
		}
		var after apiUser
		srv.want(t, 200, admin, "GET", victim, nil, &after)
		if after.Email != "vic@acme.example" || after.Status != "active" {
			t.Fatalf("the admin was changed: %+v", after)
		}
		// A forgot-password code goes to the admin's own address only.
		mail0 := len(mail.Messages())
		srv.want(t, 202, "", "POST", "/api/v1/password/forgot", map[string]any{"tenant": "acme", "login": "vic", "channel": "email"}, nil)
		msgs, err := mail.WaitFor(mail0+1, 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs[mail0:] {
			if strings.Join(m.To, ",") != "vic@acme.example" {
				t.Fatalf("a code went to %v", m.To)
			}
		}
		// An agent of the team stays theirs to manage only when their role
		// allows it: the team manager does not hold an Agent's permissions.
		agent := invitePerson(t, srv, admin, user("alf", "agent"))
		mallory.want(t, 403, "PATCH", fmt.Sprintf("/api/v1/users/%d", agent.id), map[string]any{"name": "Alf"}, nil)
	})

	t.Run("an environment manager cannot climb to admin", func(t *testing.T) {
		emma := invitePerson(t, srv, admin, user("emma", "environment_manager"))
		me := fmt.Sprintf("/api/v1/users/%d", emma.id)
		emma.want(t, 403, "PATCH", me, map[string]any{"roles": []string{"environment_manager", "admin"}}, nil)
		emma.want(t, 403, "POST", "/api/v1/invitations", map[string]any{"invitations": []any{user("boss2", "admin")}}, nil)
		emma.want(t, 403, "POST", "/api/v1/tokens", map[string]any{"name": "climb", "role": "admin"}, nil)
		emma.want(t, 403, "POST", "/api/v1/roles", map[string]any{"key": "almost_admin", "name": "Almost admin", "scope": "tenant",
			"permissions": []string{"users.manage", "export.csv"}}, nil)
		var self apiUser
		srv.want(t, 200, admin, "GET", me, nil, &self)
		if strings.Join(self.Roles, ",") != "environment_manager" {
			t.Fatalf("the environment manager now holds %v", self.Roles)
		}
		// What seed 002 says they do: invite operators and other bot roles,
		// and another environment manager.
		var op struct {
			Invitations []struct {
				UserID int64 `json:"user_id"`
			} `json:"invitations"`
		}
		emma.want(t, 201, "POST", "/api/v1/invitations", map[string]any{"invitations": []any{user("olga", "operator", "content_manager"), user("eddie", "environment_manager")}}, &op)
		emma.want(t, 200, "POST", fmt.Sprintf("/api/v1/users/%d/deactivate", op.Invitations[0].UserID), nil, nil)
	})

	t.Run("ids are never reused", func(t *testing.T) {
		type made struct {
			ID int64 `json:"id"`
		}
		for _, kind := range []struct {
			path string
			body func(i int) map[string]any
		}{
			{"/api/v1/users", func(i int) map[string]any { return user(fmt.Sprintf("idle%d", i), "agent") }},
			{"/api/v1/groups", func(i int) map[string]any {
				return map[string]any{"name": fmt.Sprintf("G%d", i), "parent_id": team1.ID}
			}},
			{"/api/v1/roles", func(i int) map[string]any {
				return map[string]any{"key": fmt.Sprintf("r%d", i), "name": fmt.Sprintf("R%d", i), "permissions": []string{}, "scope": "self"}
			}},
			{"/api/v1/skills", func(i int) map[string]any { return map[string]any{"name": fmt.Sprintf("S%d", i)} }},
		} {
			var first, second made
			srv.want(t, 201, admin, "POST", kind.path, kind.body(1), &first)
			srv.want(t, 204, admin, "DELETE", fmt.Sprintf("%s/%d", kind.path, first.ID), nil, nil)
			srv.want(t, 201, admin, "POST", kind.path, kind.body(2), &second)
			if second.ID <= first.ID {
				t.Errorf("%s: id %d after %d was deleted", kind.path, second.ID, first.ID)
			}
		}
		var inv struct {
			Invitations []struct {
				ID int64 `json:"id"`
			} `json:"invitations"`
		}
		srv.want(t, 201, admin, "POST", "/api/v1/invitations", map[string]any{"invitations": []any{user("inva", "agent")}}, &inv)
		first := inv.Invitations[0].ID
		srv.want(t, 204, admin, "DELETE", fmt.Sprintf("/api/v1/invitations/%d", first), nil, nil)
		srv.want(t, 201, admin, "POST", "/api/v1/invitations", map[string]any{"invitations": []any{user("invb", "agent")}}, &inv)
		if inv.Invitations[0].ID <= first {
			t.Errorf("invitation id %d after %d was cancelled", inv.Invitations[0].ID, first)
		}
	})

	t.Run("a hostile body is refused at once and blocks no other writer", func(t *testing.T) {
		lcRun(t, bin, env, "tenant", "create", "--slug", "other", "--name", "Other")
		out := lcRun(t, bin, env, "token", "create", "--tenant", "other", "--name", "other", "--role", "admin")
		other := out[len(out)-1]
		var og apiList[apiGroup]
		srv.want(t, 200, other, "GET", "/api/v1/groups", nil, &og)
		nicknames := make([]string, 100_000)
		for i := range nicknames {
			nicknames[i] = fmt.Sprintf("n%05d", i)
		}
		hostile := user("hostile", "agent")
		hostile["nicknames"] = nicknames
		done := make(chan apiResult, 1)
		start := time.Now()
		go func() { done <- srv.do(t, admin, "POST", "/api/v1/users", hostile) }()
		// Meanwhile another tenant writes.
		for i := range 10 {
			r := srv.do(t, other, "POST", "/api/v1/users", map[string]any{"username": fmt.Sprintf("w%d", i), "email": fmt.Sprintf("w%d@other.example", i),
				"language": "en", "group_id": og.Items[0].ID})
			if r.status != 201 {
				t.Fatalf("another tenant's write during the hostile body: %d %s", r.status, r.body)
			}
		}
		r := <-done
		took := time.Since(start)
		if r.status != http.StatusBadRequest && r.status != http.StatusRequestEntityTooLarge {
			t.Fatalf("100,000 nicknames: %d %s", r.status, r.body)
		}
		if took > 5*time.Second {
			t.Fatalf("100,000 nicknames refused after %v", took)
		}
		t.Logf("100,000 nicknames (%d bytes) refused with %d; with ten writes of another tenant alongside: %v", len(fmt.Sprint(nicknames)), r.status, took)
		var none apiList[apiUser]
		if srv.want(t, 200, admin, "GET", "/api/v1/users?q=hostile", nil, &none); none.Total != 0 {
			t.Fatalf("the refused user exists: %+v", none.Items)
		}
	})

	t.Run("tokens are listed, revoked, bound to their maker and may expire", func(t *testing.T) {
		ada := invitePerson(t, srv, admin, user("ada", "admin"))
		var made struct {
			ID        int64   `json:"id"`
			Token     string  `json:"token"`
			CreatedBy *int64  `json:"created_by"`
			ExpiresAt *string `json:"expires_at"`
		}
		ada.want(t, 201, "POST", "/api/v1/tokens", map[string]any{"name": "nightly export", "role": "read_only",
			"expires_at": time.Now().Add(48 * time.Hour).UTC().Format(time.RFC3339)}, &made)
		if made.CreatedBy == nil || *made.CreatedBy != ada.id || made.ExpiresAt == nil || !strings.HasPrefix(made.Token, "rst_") {
			t.Fatalf("token made by ada: %+v", made)
		}
		srv.want(t, 200, made.Token, "GET", "/api/v1/users", nil, nil)
		ada.want(t, 400, "POST", "/api/v1/tokens", map[string]any{"name": "past", "role": "read_only", "expires_at": "2020-01-01T00:00:00Z"}, nil)

		r := srv.want(t, 200, admin, "GET", "/api/v1/tokens", nil, nil)
		if bytes.Contains(r.body, []byte(made.Token)) || bytes.Contains(r.body, []byte(`"token"`)) {
			t.Fatalf("the token list shows a secret: %s", r.body)
		}
		var list apiList[struct {
			ID         int64   `json:"id"`
			Name       string  `json:"name"`
			Role       string  `json:"role"`
			CreatedBy  *int64  `json:"created_by"`
			Service    bool    `json:"service"`
			LastUsedAt *string `json:"last_used_at"`
			RevokedAt  *string `json:"revoked_at"`
		}]
		r.decode(t, &list)
		found := false
		for _, tok := range list.Items {
			if tok.Name == "operator" && (!tok.Service || tok.CreatedBy != nil) {
				t.Fatalf("the operator's token is not a service token: %+v", tok)
			}
			if tok.ID == made.ID {
				found = tok.Role == "read_only" && tok.CreatedBy != nil && *tok.CreatedBy == ada.id && tok.LastUsedAt != nil
			}
		}
		if !found {
			t.Fatalf("ada's token is not listed as made: %s", r.body)
		}

		// Deactivating its maker stops the token at once; reactivating
		// gives it back; deleting them revokes it for good.
		srv.want(t, 200, admin, "POST", fmt.Sprintf("/api/v1/users/%d/deactivate", ada.id), nil, nil)
		srv.wantProblem(t, 401, made.Token, "GET", "/api/v1/users", nil)
		srv.want(t, 200, admin, "POST", fmt.Sprintf("/api/v1/users/%d/reactivate", ada.id), nil, nil)
		srv.want(t, 200, made.Token, "GET", "/api/v1/users", nil, nil)
		// Losing the role's permissions stops it too.
		srv.want(t, 200, admin, "PATCH", fmt.Sprintf("/api/v1/users/%d", ada.id), map[string]any{"roles": []string{"user"}}, nil)
		srv.wantProblem(t, 401, made.Token, "GET", "/api/v1/users", nil)
		srv.want(t, 200, admin, "PATCH", fmt.Sprintf("/api/v1/users/%d", ada.id), map[string]any{"roles": []string{"admin"}}, nil)
		srv.want(t, 200, made.Token, "GET", "/api/v1/users", nil, nil)
		srv.want(t, 204, admin, "DELETE", fmt.Sprintf("/api/v1/users/%d", ada.id), nil, nil)
		srv.wantProblem(t, 401, made.Token, "GET", "/api/v1/users", nil)
		var gone struct {
			RevokedAt *string `json:"revoked_at"`
		}
		srv.want(t, 200, admin, "GET", fmt.Sprintf("/api/v1/tokens/%d", made.ID), nil, &gone)
		if gone.RevokedAt == nil {
			t.Fatal("the token of a deleted user is not revoked")
		}

		// Revoke through the API, and through the CLI.
		var second struct {
			ID    int64  `json:"id"`
			Token string `json:"token"`
		}
		srv.want(t, 201, admin, "POST", "/api/v1/tokens", map[string]any{"name": "ci", "role": "read_only"}, &second)
		srv.want(t, 204, admin, "DELETE", fmt.Sprintf("/api/v1/tokens/%d", second.ID), nil, nil)
		srv.wantProblem(t, 401, second.Token, "GET", "/api/v1/users", nil)
		srv.wantProblem(t, 409, admin, "DELETE", fmt.Sprintf("/api/v1/tokens/%d", second.ID), nil)
		srv.want(t, 201, admin, "POST", "/api/v1/tokens", map[string]any{"name": "cli-revoked", "role": "read_only"}, &second)
		listed := strings.Join(lcRun(t, bin, env, "token", "list", "--tenant", "acme"), "\n")
		if !strings.Contains(listed, "cli-revoked") || strings.Contains(listed, second.Token) {
			t.Fatalf("roster token list:\n%s", listed)
		}
		lcRun(t, bin, env, "token", "revoke", "--tenant", "acme", fmt.Sprint(second.ID))
		deadline := time.Now().Add(3 * time.Second) // another process: the change log reaches the server within a second
		for srv.do(t, second.Token, "GET", "/api/v1/users", nil).status != 401 {
			if time.Now().After(deadline) {
				t.Fatal("a token revoked with the CLI still works")
			}
			time.Sleep(100 * time.Millisecond)
		}
		var audit apiList[struct {
			Action string `json:"action"`
		}]
		srv.want(t, 200, admin, "GET", "/api/v1/audit?action=token.revoke", nil, &audit)
		if audit.Total < 3 {
			t.Fatalf("token revocations audited: %d", audit.Total)
		}
	})
}
