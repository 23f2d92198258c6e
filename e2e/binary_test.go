package e2e

// Black-box tests of the roster binary: the commands of CONTRACT.md, then the
// REST API over HTTP on SQLite and on PostgreSQL, bad input included. Each
// refused request is followed by a read that proves nothing changed.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/testdb"
)

func TestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := lcBuild(t)
	t.Run("sqlite", func(t *testing.T) {
		binaryAPI(t, bin, []string{"ROSTER_DATA=" + filepath.Join(t.TempDir(), "data"), "ROSTER_LOG_LEVEL=warn"})
	})
	t.Run("postgres", func(t *testing.T) {
		dsn, drop := testdb.NewSchema(t)
		t.Cleanup(drop)
		binaryAPI(t, bin, []string{"ROSTER_DB=" + dsn, "ROSTER_LOG_LEVEL=warn"})
	})
}

// runFail runs a roster command that must fail and returns its stderr.
func runFail(t *testing.T, bin string, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err == nil {
		t.Fatalf("roster %s succeeded; want a failure\n%s", strings.Join(args, " "), stdout.String())
	}
	return stderr.String()
}

// apiResult is one HTTP answer, body kept raw.
type apiResult struct {
	status      int
	contentType string
	body        []byte
}

func (r apiResult) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decoding %s: %v", r.body, err)
	}
}

type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
	Errors []struct {
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"errors"`
}

type apiUser struct {
	ID          int64    `json:"id"`
	Username    string   `json:"username"`
	Name        string   `json:"name"`
	Email       string   `json:"email"`
	Mobile      string   `json:"mobile"`
	Language    string   `json:"language"`
	GroupID     int64    `json:"group_id"`
	Roles       []string `json:"roles"`
	AgentNumber *int64   `json:"agent_number"`
	Status      string   `json:"status"`
	GroupAccess []int64  `json:"group_access"`
}

type apiGroup struct {
	ID       int64  `json:"id"`
	Name     string `json:"name"`
	ParentID *int64 `json:"parent_id"`
	Level    int    `json:"level"`
}

type apiList[T any] struct {
	Items   []T `json:"items"`
	Total   int `json:"total"`
	Page    int `json:"page"`
	PerPage int `json:"per_page"`
}

func (s *lcServer) do(t *testing.T, token, method, path string, body any) apiResult {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return apiResult{status: res.StatusCode, contentType: res.Header.Get("Content-Type"), body: b}
}

// want asserts the status and, for a successful answer, decodes it into out.
func (s *lcServer) want(t *testing.T, status int, token, method, path string, body, out any) apiResult {
	t.Helper()
	r := s.do(t, token, method, path, body)
	if r.status != status {
		t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.status, status, r.body)
	}
	if out != nil {
		r.decode(t, out)
	}
	return r
}

// wantProblem asserts a problem+json answer with the status and, when fields
// are given, field errors naming exactly those fields.
func (s *lcServer) wantProblem(t *testing.T, status int, token, method, path string, body any, fields ...string) problem {
	t.Helper()
	r := s.want(t, status, token, method, path, body, nil)
	if !strings.HasPrefix(r.contentType, "application/problem+json") {
		t.Fatalf("%s %s: content type %q, want application/problem+json", method, path, r.contentType)
	}
	var p problem
	r.decode(t, &p)
	if p.Status != status || p.Title == "" || p.Type == "" || p.Detail == "" {
		t.Fatalf("%s %s: incomplete problem %+v", method, path, p)
	}
	var got []string
	for _, e := range p.Errors {
		if e.Message == "" {
			t.Fatalf("%s %s: field %q without a message", method, path, e.Field)
		}
		if !slices.Contains(got, e.Field) {
			got = append(got, e.Field)
		}
	}
	slices.Sort(got)
	slices.Sort(fields)
	if len(fields) > 0 && !slices.Equal(got, fields) {
		t.Fatalf("%s %s: field errors %v, want %v: %s", method, path, got, fields, r.body)
	}
	return p
}

func binaryAPI(t *testing.T, bin string, env []string) {
	// Commands.
	if out := lcRun(t, bin, env, "migrate"); !strings.Contains(out[len(out)-1], "migration(s) applied") {
		t.Fatalf("migrate printed %q", out)
	}
	if out := lcRun(t, bin, env, "migrate"); out[len(out)-1] != "0 migration(s) applied" {
		t.Fatalf("a second migrate printed %q; want nothing applied", out)
	}
	acmeID := lcRun(t, bin, env, "tenant", "create", "--slug", "acme", "--name", "Acme Contact")
	if _, err := strconv.ParseInt(acmeID[len(acmeID)-1], 10, 64); err != nil {
		t.Fatalf("tenant create printed %q; want the tenant id", acmeID)
	}
	lcRun(t, bin, env, "tenant", "create", "--slug", "globex", "--name", "Globex")
	if msg := runFail(t, bin, env, "tenant", "create", "--slug", "acme", "--name", "Again"); !strings.Contains(msg, "slug") {
		t.Fatalf("a duplicate slug failed with %q; want it to name the slug", msg)
	}
	if msg := runFail(t, bin, env, "token", "create", "--tenant", "acme", "--name", "x", "--role", "wizard"); !strings.Contains(msg, "wizard") {
		t.Fatalf("an unknown role failed with %q; want it to name the role", msg)
	}
	runFail(t, bin, env, "token", "create", "--tenant", "nosuch", "--name", "x", "--role", "admin")
	token := func(tenant, role string) string {
		out := lcRun(t, bin, env, "token", "create", "--tenant", tenant, "--name", "e2e "+role, "--role", role)
		tok := out[len(out)-1]
		if len(tok) < 32 || strings.ContainsAny(tok, " \t") {
			t.Fatalf("token create printed %q; want the token alone on the last line", out)
		}
		return tok
	}
	admin, readOnly, other := token("acme", "admin"), token("acme", "read_only"), token("globex", "admin")

	srv := lcServe(t, bin, env)

	// Operations endpoints.
	srv.want(t, 200, "", "GET", "/healthz", nil, nil)
	srv.want(t, 200, "", "GET", "/readyz", nil, nil)
	var doc struct {
		OpenAPI string         `json:"openapi"`
		Paths   map[string]any `json:"paths"`
	}
	srv.want(t, 200, "", "GET", "/api/v1/openapi.json", nil, &doc)
	if !strings.HasPrefix(doc.OpenAPI, "3.1") || doc.Paths["/users/{id}"] == nil && doc.Paths["/api/v1/users/{id}"] == nil {
		t.Fatalf("openapi.json: version %q, %d paths", doc.OpenAPI, len(doc.Paths))
	}

	// Authentication.
	srv.wantProblem(t, 401, "", "GET", "/api/v1/users", nil)
	srv.wantProblem(t, 401, "rt_not-a-token", "GET", "/api/v1/users", nil)

	// The permission catalogue and the built-in roles.
	var perms []struct{ Key, Description string }
	srv.want(t, 200, admin, "GET", "/api/v1/permissions", nil, &perms)
	if len(perms) < 10 || perms[0].Key == "" || perms[0].Description == "" {
		t.Fatalf("permissions = %+v", perms)
	}
	var roles apiList[struct {
		ID      int64  `json:"id"`
		Key     string `json:"key"`
		BuiltIn bool   `json:"built_in"`
	}]
	srv.want(t, 200, admin, "GET", "/api/v1/roles?per_page=100", nil, &roles)
	var keys []string
	for _, r := range roles.Items {
		keys = append(keys, r.Key)
	}
	for _, k := range []string{"admin", "user", "team_leader", "agent", "read_only", "identified_only", "scorer", "operator",
		"content_manager", "analyst", "producer", "environment_manager", "developer"} {
		if !slices.Contains(keys, k) {
			t.Fatalf("built-in role %q missing from %v", k, keys)
		}
	}
	adminRole := roles.Items[slices.Index(keys, "admin")]
	srv.wantProblem(t, 409, admin, "DELETE", fmt.Sprintf("/api/v1/roles/%d", adminRole.ID), nil)
	var custom struct {
		ID    int64  `json:"id"`
		Key   string `json:"key"`
		Scope string `json:"scope"`
	}
	srv.want(t, 201, admin, "POST", "/api/v1/roles", map[string]any{"key": "qa_lead", "name": "QA lead", "permissions": []string{"users.view"}, "scope": "groups"}, &custom)
	if custom.Key != "qa_lead" || custom.Scope != "groups" {
		t.Fatalf("custom role = %+v", custom)
	}
	srv.wantProblem(t, 400, admin, "POST", "/api/v1/roles", map[string]any{"key": "x y", "name": "", "permissions": []string{"no.such"}, "scope": "planet"},
		"key", "name", "permissions", "scope")
	srv.wantProblem(t, 409, admin, "POST", "/api/v1/roles", map[string]any{"key": "qa_lead", "name": "QA lead 2", "permissions": []string{}, "scope": "self"}, "key")

	// The group tree: level 1 is the tenant's own group; depth 3.
	var groups apiList[apiGroup]
	srv.want(t, 200, admin, "GET", "/api/v1/groups", nil, &groups)
	if groups.Total != 1 || groups.Items[0].Level != 1 || groups.Items[0].Name != "Acme Contact" {
		t.Fatalf("groups of a new tenant = %+v", groups)
	}
	top := groups.Items[0]
	var site, team, team2 apiGroup
	srv.want(t, 201, admin, "POST", "/api/v1/groups", map[string]any{"name": "Berlin", "parent_id": top.ID}, &site)
	srv.want(t, 201, admin, "POST", "/api/v1/groups", map[string]any{"name": "Sales", "parent_id": site.ID}, &team)
	srv.want(t, 201, admin, "POST", "/api/v1/groups", map[string]any{"name": "Care", "parent_id": site.ID}, &team2)
	if site.Level != 2 || team.Level != 3 || *team.ParentID != site.ID {
		t.Fatalf("site %+v, team %+v", site, team)
	}
	srv.wantProblem(t, 400, admin, "POST", "/api/v1/groups", map[string]any{"name": "Too deep", "parent_id": team.ID}, "parent_id")
	srv.wantProblem(t, 400, admin, "PATCH", fmt.Sprintf("/api/v1/groups/%d", site.ID), map[string]any{"parent_id": team.ID}, "parent_id")
	srv.wantProblem(t, 409, admin, "POST", "/api/v1/groups", map[string]any{"name": "Sales", "parent_id": site.ID}, "name")
	srv.want(t, 200, admin, "GET", "/api/v1/groups", nil, &groups)
	if groups.Total != 4 {
		t.Fatalf("after refused group changes: %d groups, want 4", groups.Total)
	}

	// Users: create without invitation, read, update, list.
	userCount := func(token string) int {
		var l apiList[apiUser]
		srv.want(t, 200, token, "GET", "/api/v1/users", nil, &l)
		return l.Total
	}
	var ada apiUser
	srv.want(t, 201, admin, "POST", "/api/v1/users", map[string]any{
		"username": "ada.agent", "name": "Ada Agent", "email": "ada@acme.example", "mobile": "0049 170 5550001",
		"language": "de", "group_id": team.ID, "roles": []string{"agent"}, "agent_number": 4711,
	}, &ada)
	if ada.ID == 0 || ada.Mobile != "+491705550001" || ada.Status != "active" || !slices.Equal(ada.Roles, []string{"agent"}) || ada.AgentNumber == nil || *ada.AgentNumber != 4711 {
		t.Fatalf("created user = %+v", ada)
	}
	var got apiUser
	srv.want(t, 200, admin, "GET", fmt.Sprintf("/api/v1/users/%d", ada.ID), nil, &got)
	if got.Username != "ada.agent" || got.GroupID != team.ID {
		t.Fatalf("read user = %+v", got)
	}
	srv.want(t, 200, admin, "PATCH", fmt.Sprintf("/api/v1/users/%d", ada.ID), map[string]any{"name": "Ada Lovelace", "group_access": []int64{team2.ID}}, &got)
	if got.Name != "Ada Lovelace" || !slices.Equal(got.GroupAccess, []int64{team2.ID}) || got.Email != "ada@acme.example" {
		t.Fatalf("patched user = %+v", got)
	}
	var bob apiUser
	srv.want(t, 201, admin, "POST", "/api/v1/users", map[string]any{
		"username": "bob.lead", "name": "Bob Lead", "mobile": "+44 7911 123456", "language": "en", "group_id": site.ID,
		"roles": []string{"team_leader", "agent"}, "agent_number": 12,
	}, &bob)
	var list apiList[apiUser]
	srv.want(t, 200, admin, "GET", "/api/v1/users?q=lovel&sort=name", nil, &list)
	if list.Total != 1 || len(list.Items) != 1 || list.Items[0].ID != ada.ID {
		t.Fatalf("search for lovel = %+v", list)
	}
	srv.want(t, 200, admin, "GET", fmt.Sprintf("/api/v1/users?group=%d&sort=username&order=desc&per_page=10", site.ID), nil, &list)
	if list.Total != 2 || list.Items[0].Username != "bob.lead" || list.PerPage != 10 || list.Page != 1 {
		t.Fatalf("users of the Berlin subtree = %+v", list)
	}
	srv.want(t, 200, admin, "GET", "/api/v1/users?role=team_leader", nil, &list)
	if list.Total != 1 || list.Items[0].ID != bob.ID {
		t.Fatalf("team leaders = %+v", list)
	}
	srv.wantProblem(t, 400, admin, "GET", "/api/v1/users?per_page=7", nil, "per_page")
	srv.wantProblem(t, 400, admin, "GET", "/api/v1/users?sort=shoe_size", nil, "sort")
	var numbers struct {
		Used []int64 `json:"used"`
	}
	srv.want(t, 200, admin, "GET", "/api/v1/agent-numbers", nil, &numbers)
	if !slices.Equal(numbers.Used, []int64{12, 4711}) {
		t.Fatalf("used agent numbers = %v", numbers.Used)
	}

	// Bad input: a clear problem naming the field, and nothing written.
	before := userCount(admin)
	valid := func(change map[string]any) map[string]any {
		u := map[string]any{"username": "carl", "name": "Carl", "email": "carl@acme.example", "language": "en", "group_id": team.ID, "roles": []string{"user"}}
		for k, v := range change {
			if v == nil {
				delete(u, k)
			} else {
				u[k] = v
			}
		}
		return u
	}
	for _, c := range []struct {
		name   string
		body   map[string]any
		status int
		fields []string
	}{
		{"missing username, group and language", valid(map[string]any{"username": nil, "group_id": nil, "language": nil}), 400, []string{"group_id", "language", "username"}},
		{"neither email nor mobile", valid(map[string]any{"email": nil}), 400, []string{"email", "mobile"}},
		{"no phone number", valid(map[string]any{"mobile": "call me maybe"}), 400, []string{"mobile"}},
		{"too short for a phone number", valid(map[string]any{"mobile": "+49 12"}), 400, []string{"mobile"}},
		{"bad email", valid(map[string]any{"email": "carl.at.acme"}), 400, []string{"email"}},
		{"unknown role", valid(map[string]any{"roles": []string{"wizard"}}), 400, []string{"roles"}},
		{"group of no one", valid(map[string]any{"group_id": 999999}), 400, []string{"group_id"}},
		{"duplicate username", valid(map[string]any{"username": "ada.agent"}), 409, []string{"username"}},
		{"duplicate email, other case", valid(map[string]any{"email": "ADA@acme.example"}), 409, []string{"email"}},
		{"duplicate agent number", valid(map[string]any{"agent_number": 4711}), 409, []string{"agent_number"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv.wantProblem(t, c.status, admin, "POST", "/api/v1/users", c.body, c.fields...)
		})
	}
	srv.wantProblem(t, 409, admin, "PATCH", fmt.Sprintf("/api/v1/users/%d", bob.ID), map[string]any{"agent_number": 4711}, "agent_number")
	srv.wantProblem(t, 400, admin, "PATCH", fmt.Sprintf("/api/v1/users/%d", bob.ID), map[string]any{"mobile": "12ab"}, "mobile")
	if n := userCount(admin); n != before {
		t.Fatalf("refused writes changed the user count from %d to %d", before, n)
	}
	srv.want(t, 200, admin, "GET", fmt.Sprintf("/api/v1/users/%d", bob.ID), nil, &got)
	if got.Mobile != "+447911123456" || *got.AgentNumber != 12 {
		t.Fatalf("a refused update changed the user: %+v", got)
	}

	// A read_only token reads and cannot write.
	if n := userCount(readOnly); n != before {
		t.Fatalf("read_only sees %d users, want %d", n, before)
	}
	srv.wantProblem(t, 403, readOnly, "POST", "/api/v1/users", valid(nil))
	srv.wantProblem(t, 403, readOnly, "PATCH", fmt.Sprintf("/api/v1/users/%d", ada.ID), map[string]any{"name": "Hacked"})
	srv.wantProblem(t, 403, readOnly, "DELETE", fmt.Sprintf("/api/v1/users/%d", ada.ID), nil)
	srv.wantProblem(t, 403, readOnly, "POST", "/api/v1/groups", map[string]any{"name": "Mine", "parent_id": top.ID})
	srv.wantProblem(t, 403, readOnly, "POST", "/api/v1/roles", map[string]any{"key": "mine", "name": "Mine", "permissions": []string{}, "scope": "self"})
	srv.want(t, 200, admin, "GET", fmt.Sprintf("/api/v1/users/%d", ada.ID), nil, &got)
	if got.Name != "Ada Lovelace" || userCount(admin) != before {
		t.Fatalf("read_only writes changed something: %+v", got)
	}

	// Another tenant's ids answer 404, for reads and writes alike.
	otherCount := userCount(other)
	for _, c := range []struct {
		method, path string
		body         any
	}{
		{"GET", fmt.Sprintf("/api/v1/users/%d", ada.ID), nil},
		{"PATCH", fmt.Sprintf("/api/v1/users/%d", ada.ID), map[string]any{"name": "Taken"}},
		{"DELETE", fmt.Sprintf("/api/v1/users/%d", ada.ID), nil},
		{"POST", fmt.Sprintf("/api/v1/users/%d/deactivate", ada.ID), nil},
		{"GET", fmt.Sprintf("/api/v1/groups/%d", team.ID), nil},
		{"PATCH", fmt.Sprintf("/api/v1/groups/%d", team.ID), map[string]any{"name": "Taken"}},
		{"DELETE", fmt.Sprintf("/api/v1/groups/%d", team2.ID), nil},
		{"PATCH", fmt.Sprintf("/api/v1/roles/%d", custom.ID), map[string]any{"name": "Taken"}},
		{"DELETE", fmt.Sprintf("/api/v1/roles/%d", custom.ID), nil},
	} {
		srv.wantProblem(t, 404, other, c.method, c.path, c.body)
	}
	srv.wantProblem(t, 400, other, "POST", "/api/v1/users", valid(map[string]any{"group_id": team.ID}), "group_id")
	srv.want(t, 200, other, "GET", "/api/v1/users?q=ada", nil, &list)
	if list.Total != 0 || userCount(other) != otherCount {
		t.Fatalf("globex sees acme's users: %+v", list)
	}
	srv.want(t, 200, admin, "GET", fmt.Sprintf("/api/v1/users/%d", ada.ID), nil, &got)
	if got.Name != "Ada Lovelace" || got.Status != "active" {
		t.Fatalf("another tenant changed the user: %+v", got)
	}

	// Delete: access ends, the audit keeps the trail.
	srv.want(t, 204, admin, "DELETE", fmt.Sprintf("/api/v1/users/%d", bob.ID), nil, nil)
	srv.wantProblem(t, 404, admin, "GET", fmt.Sprintf("/api/v1/users/%d", bob.ID), nil)
	var audit apiList[struct {
		Action string          `json:"action"`
		Before json.RawMessage `json:"before"`
		After  json.RawMessage `json:"after"`
	}]
	srv.want(t, 200, admin, "GET", "/api/v1/audit?per_page=100", nil, &audit)
	var actions []string
	for _, e := range audit.Items {
		actions = append(actions, e.Action)
	}
	for _, want := range []string{"user.create", "user.update", "user.delete", "group.create", "role.create"} {
		if !slices.Contains(actions, want) {
			t.Fatalf("audit lacks %q: %v", want, actions)
		}
	}
	for _, e := range audit.Items {
		if e.Action == "user.update" && (len(e.Before) < 3 || len(e.After) < 3 || !bytes.Contains(e.After, []byte("Ada Lovelace"))) {
			t.Fatalf("user.update without before/after: %+v", e)
		}
	}
	var otherAudit apiList[struct {
		Action   string          `json:"action"`
		TargetID int64           `json:"target_id"`
		After    json.RawMessage `json:"after"`
	}]
	srv.want(t, 200, other, "GET", "/api/v1/audit?per_page=100", nil, &otherAudit)
	if otherAudit.Total == 0 {
		t.Fatal("globex's audit is empty; its tenant create wrote events")
	}
	for _, e := range otherAudit.Items {
		if strings.HasPrefix(e.Action, "user.") || bytes.Contains(e.After, []byte("Berlin")) || bytes.Contains(e.After, []byte("qa_lead")) {
			t.Fatalf("globex's audit shows %q on %d, which happened in acme", e.Action, e.TargetID)
		}
	}

	// Metrics count what was served, by route.
	metrics := srv.want(t, 200, "", "GET", "/metrics", nil, nil)
	if !bytes.Contains(metrics.body, []byte("/api/v1/users/{id}")) {
		t.Fatalf("metrics without the users route:\n%.2000s", metrics.body)
	}
}
