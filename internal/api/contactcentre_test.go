package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/api"
	"github.com/roster-dev/roster/internal/roster"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/testdb"
)

// ccClient calls the REST API with one bearer token.
type ccClient struct {
	t     *testing.T
	url   string
	token string
}

// do sends body as JSON and decodes the answer into a generic map (or list).
func (c *ccClient) do(method, path string, body any) (int, map[string]any) {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			c.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.url+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := map[string]any{}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			c.t.Fatalf("%s %s: answer is not a JSON object: %s", method, path, raw)
		}
	}
	if res.StatusCode >= 400 && res.Header.Get("Content-Type") != "application/problem+json" {
		c.t.Fatalf("%s %s: error answer with Content-Type %q", method, path, res.Header.Get("Content-Type"))
	}
	return res.StatusCode, out
}

func (c *ccClient) ok(want int, method, path string, body any) map[string]any {
	c.t.Helper()
	status, out := c.do(method, path, body)
	if status != want {
		c.t.Fatalf("%s %s = %d %v, want %d", method, path, status, out, want)
	}
	return out
}

// badField checks a 400 that names field.
func (c *ccClient) badField(field, method, path string, body any) {
	c.t.Helper()
	status, out := c.do(method, path, body)
	if status != http.StatusBadRequest {
		c.t.Fatalf("%s %s = %d %v, want 400", method, path, status, out)
	}
	errs, _ := out["errors"].([]any)
	for _, e := range errs {
		if e.(map[string]any)["field"] == field {
			return
		}
	}
	c.t.Fatalf("%s %s: errors %v do not name %q", method, path, errs, field)
}

func id(m map[string]any) int64 { return int64(m["id"].(float64)) }

func TestContactCentreAPI(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		log := slog.New(slog.DiscardHandler)
		svc := roster.NewService(db, roster.Options{Logger: log})
		mux := http.NewServeMux()
		api.New(svc, log).Register(mux)
		srv := httptest.NewServer(mux)
		t.Cleanup(srv.Close)
		tenant, err := svc.CreateTenant(ctx, "acme", "Acme")
		if err != nil {
			t.Fatal(err)
		}
		_, token, err := svc.CreateToken(ctx, roster.SystemActor(tenant.ID), roster.TokenInput{Name: "admin", Role: "admin"})
		if err != nil {
			t.Fatal(err)
		}
		c := &ccClient{t: t, url: srv.URL, token: token}
		groups := c.ok(200, "GET", "/api/v1/groups", nil)["items"].([]any)
		root := id(groups[0].(map[string]any))
		team := id(c.ok(201, "POST", "/api/v1/groups", map[string]any{"name": "Team A", "parent_id": root}))
		other := id(c.ok(201, "POST", "/api/v1/groups", map[string]any{"name": "Team B", "parent_id": root}))

		// Properties: the built-in ones, a new one, values with their sources.
		props := c.ok(200, "GET", "/api/v1/properties", nil)
		if props["total"].(float64) != 3 {
			t.Fatalf("properties = %v", props)
		}
		p := c.ok(201, "POST", "/api/v1/properties", map[string]any{"key": "tier", "label": "Tier", "type": "choice", "choices": []string{"gold", "silver"}, "default": "silver"})
		if p["default"] != "silver" || p["builtin"] != false {
			t.Fatalf("new property = %v", p)
		}
		c.badField("type", "POST", "/api/v1/properties", map[string]any{"key": "x_y", "type": "float"})
		g := c.ok(200, "PUT", fmt.Sprintf("/api/v1/groups/%d/properties/wrapup_timeout_phone", root), map[string]any{"value": "90s"})
		if ev := g["properties"].(map[string]any)["wrapup_timeout_phone"].(map[string]any); ev["value"] != 90.0 || ev["source"] != fmt.Sprintf("group:%d", root) || g["name"] != "Acme" {
			t.Fatalf("group answer = %v", g)
		}
		u := c.ok(201, "POST", "/api/v1/users", map[string]any{"username": "anna", "email": "anna@example.com", "language": "en",
			"group_id": team, "roles": []string{"agent"}, "scoring_enabled": true, "nicknames": []string{"Annie", "AK"}, "ring_to": "0049 30 1234567"})
		userPath := fmt.Sprintf("/api/v1/users/%d", id(u))
		if u["properties"] == nil || u["profiles"] == nil || u["ring_to"] != "+49301234567" {
			t.Fatalf("created user = %v", u)
		}
		u = c.ok(200, "PUT", userPath+"/properties/tier", map[string]any{"value": "gold"})
		if ev := u["properties"].(map[string]any)["tier"].(map[string]any); ev["value"] != "gold" || ev["source"] != "user" {
			t.Fatalf("user answer = %v", u["properties"])
		}
		c.badField("value", "PUT", userPath+"/properties/tier", map[string]any{"value": "bronze"})
		c.badField("value", "PUT", userPath+"/properties/wrapup_timeout_chat", map[string]any{"value": true})
		c.badField("key", "PUT", userPath+"/properties/no_such_key", map[string]any{"value": 1})
		c.badField("value", "PUT", userPath+"/properties/tier", map[string]any{})
		u = c.ok(200, "DELETE", userPath+"/properties/tier", nil)
		if ev := u["properties"].(map[string]any)["tier"].(map[string]any); ev["value"] != "silver" || ev["source"] != "default" {
			t.Fatalf("after removing the override = %v", ev)
		}
		u = c.ok(200, "GET", userPath, nil)
		if ev := u["properties"].(map[string]any)["wrapup_timeout_phone"].(map[string]any); ev["value"] != 90.0 || ev["source"] != fmt.Sprintf("group:%d", root) {
			t.Fatalf("user read = %v", ev)
		}
		// Lists leave the computed fields out; the seed-004 flags filter.
		list := c.ok(200, "GET", "/api/v1/users?scoring_enabled=true", nil)
		if list["total"].(float64) != 1 || list["items"].([]any)[0].(map[string]any)["properties"] != nil {
			t.Fatalf("scoring users = %v", list)
		}
		if list := c.ok(200, "GET", "/api/v1/users?roaming=true", nil); list["total"].(float64) != 0 {
			t.Fatalf("roaming users = %v", list)
		}
		c.badField("roaming", "GET", "/api/v1/users?roaming=maybe", nil)
		// A complete mobile number in another typed form finds its user exactly.
		bert := c.ok(201, "POST", "/api/v1/users", map[string]any{"username": "bert", "mobile": "+49 151 12345678", "language": "en",
			"group_id": team, "roles": []string{"agent"}})
		if list := c.ok(200, "GET", "/api/v1/users?q="+url.QueryEscape("0049 (151) 1234-5678"), nil); list["total"].(float64) != 1 ||
			list["items"].([]any)[0].(map[string]any)["username"] != "bert" {
			t.Fatalf("q=typed mobile = %v", list)
		}
		c.ok(204, "DELETE", fmt.Sprintf("/api/v1/users/%d", id(bert)), nil) // the rest of the test counts the team without him

		// Skills and profiles.
		sales := id(c.ok(201, "POST", "/api/v1/skills", map[string]any{"name": "Sales"}))
		c.ok(409, "POST", "/api/v1/skills", map[string]any{"name": "SALES"})
		c.badField("skills[0].level", "POST", fmt.Sprintf("/api/v1/groups/%d/profiles", team), map[string]any{"name": "P", "skills": []any{map[string]any{"skill_id": sales, "level": 101}}})
		c.badField("skills[0].skill_id", "POST", fmt.Sprintf("/api/v1/groups/%d/profiles", team), map[string]any{"name": "P", "skills": []any{map[string]any{"skill_id": 999999, "level": 5}}})
		pa := c.ok(201, "POST", fmt.Sprintf("/api/v1/groups/%d/profiles", team), map[string]any{"name": "Team A calls", "skills": []any{map[string]any{"skill_id": sales, "level": 70}}})
		c.ok(201, "POST", fmt.Sprintf("/api/v1/groups/%d/profiles", other), map[string]any{"name": "Team B chats"})
		c.ok(201, "POST", userPath+"/profiles", map[string]any{"name": "Mine"})
		// A profile read from the API can be sent back as it is.
		c.ok(200, "PATCH", fmt.Sprintf("/api/v1/profiles/%d", id(pa)), map[string]any{"name": pa["name"], "skills": pa["skills"]})
		u = c.ok(200, "PUT", userPath+"/group-profiles", map[string]any{"enabled": []int64{}})
		got := fmt.Sprint(u["profiles"])
		if !strings.Contains(got, "enabled:false") || !strings.Contains(got, "kind:personal") {
			t.Fatalf("profiles after switching off = %v", got)
		}
		c.badField("enabled", "PUT", userPath+"/group-profiles", map[string]any{})

		// The move warns that the profiles changed.
		moved := c.ok(200, "POST", userPath+"/move", map[string]any{"group_id": other})
		warnings, _ := moved["warnings"].([]any)
		if len(warnings) != 1 || !strings.Contains(warnings[0].(string), "Team B chats") {
			t.Fatalf("move answer = %v", moved)
		}

		// Coaching plans and My Team.
		plan := c.ok(201, "POST", "/api/v1/coaching-plans", map[string]any{"agent_user_id": id(u), "title": "Upselling", "goals": "Two per day", "due_date": "2026-12-31"})
		if plan["status"] != "open" || plan["due_date"] != "2026-12-31" {
			t.Fatalf("plan = %v", plan)
		}
		c.badField("status", "PATCH", fmt.Sprintf("/api/v1/coaching-plans/%d", id(plan)), map[string]any{"status": "finished"})
		plan = c.ok(201, "POST", fmt.Sprintf("/api/v1/coaching-plans/%d/notes", id(plan)), map[string]any{"text": "Good start"})
		if notes := plan["notes"].([]any); len(notes) != 1 || notes[0].(map[string]any)["author"] != "admin" {
			t.Fatalf("plan with note = %v", plan)
		}
		if l := c.ok(200, "GET", "/api/v1/coaching-plans?status=open", nil); l["total"].(float64) != 1 {
			t.Fatalf("open plans = %v", l)
		}
		c.ok(404, "GET", "/api/v1/coaching-plans/999999", nil)
		mt := c.ok(200, "GET", "/api/v1/my-team?from=2026-01-01", nil)
		items := mt["items"].([]any)
		if len(items) != 1 || len(items[0].(map[string]any)["open_plans"].([]any)) != 1 {
			t.Fatalf("my team = %v", mt)
		}
		c.badField("from", "GET", "/api/v1/my-team?from=soon", nil)
	})
}
