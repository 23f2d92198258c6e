package scim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/api"
	"github.com/roster-dev/roster/internal/roster"
	"github.com/roster-dev/roster/internal/scim"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/testdb"
)

// env is a server with the API and SCIM doors wired as cmd/roster wires
// them, over a real database, and one tenant with an admin token.
type env struct {
	t      testing.TB
	svc    *roster.Service
	url    string
	tenant *roster.Tenant
	token  string // admin
}

func newServer(t testing.TB, db *store.DB) (*roster.Service, string) {
	t.Helper()
	svc := roster.NewService(db, roster.Options{})
	mux := http.NewServeMux()
	log := slog.New(slog.DiscardHandler)
	api.New(svc, log).Register(mux)
	scim.New(svc, log, scim.Options{}).Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	svc.SetPublicURL(srv.URL) // as cmd/roster does once it listens
	return svc, srv.URL
}

func newEnv(t testing.TB, db *store.DB) *env {
	t.Helper()
	svc, url := newServer(t, db)
	return tenantEnv(t, svc, url, "acme")
}

func tenantEnv(t testing.TB, svc *roster.Service, url, slug string) *env {
	t.Helper()
	ten, err := svc.CreateTenant(context.Background(), slug, strings.ToUpper(slug))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, svc: svc, url: url, tenant: ten}
	e.token = e.makeToken("admin")
	return e
}

func (e *env) makeToken(role string) string {
	e.t.Helper()
	_, secret, err := e.svc.CreateToken(context.Background(), roster.SystemActor(e.tenant.ID), roster.TokenInput{Name: "scim " + role, Role: role})
	if err != nil {
		e.t.Fatal(err)
	}
	return secret
}

// reply is an answer: status, headers and the JSON body.
type reply struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

// call sends body (a string is sent as is) with the admin token unless a
// header "Authorization" is given in hdr ("Name: value" pairs).
func (e *env) call(method, path string, body any, hdr ...string) reply {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.url+"/scim/v2"+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+e.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	for _, h := range hdr {
		k, v, _ := strings.Cut(h, ": ")
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := reply{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &r.body); err != nil {
			e.t.Fatalf("%s %s: %d, not JSON: %s", method, path, resp.StatusCode, raw)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/scim+json" {
			e.t.Errorf("%s %s: Content-Type %q", method, path, ct)
		}
	}
	return r
}

// want fails unless the answer has status.
func (r reply) want(t testing.TB, status int) reply {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.raw)
	}
	return r
}

// wantError checks an RFC 7644 §3.12 error body.
func (r reply) wantError(t *testing.T, status int, scimType string) {
	t.Helper()
	r.want(t, status)
	if r.body["status"] != fmt.Sprint(status) {
		t.Errorf("error status %v, want the string %q", r.body["status"], fmt.Sprint(status))
	}
	if s, _ := r.body["schemas"].([]any); len(s) != 1 || s[0] != "urn:ietf:params:scim:api:messages:2.0:Error" {
		t.Errorf("error schemas %v", r.body["schemas"])
	}
	if got, _ := r.body["scimType"].(string); got != scimType {
		t.Errorf("scimType %q, want %q (%s)", got, scimType, r.raw)
	}
	if d, _ := r.body["detail"].(string); d == "" {
		t.Errorf("error without detail: %s", r.raw)
	}
}

// str reads a string at a dotted path of the body ("name.givenName").
func (r reply) str(path string) string {
	var v any = r.body
	for _, k := range strings.Split(path, ".") {
		m, _ := v.(map[string]any)
		v = m[k]
	}
	s, _ := v.(string)
	return s
}

func (r reply) total() int {
	n, _ := r.body["totalResults"].(float64)
	return int(n)
}

// ids lists the ids of a ListResponse's resources in order.
func (r reply) ids() []string {
	var out []string
	list, _ := r.body["Resources"].([]any)
	for _, el := range list {
		m, _ := el.(map[string]any)
		out = append(out, fmt.Sprint(m["id"]))
	}
	return out
}

func (r reply) ext() map[string]any {
	m, _ := r.body[scim.SchemaRoster].(map[string]any)
	return m
}

// userBody is a minimal SCIM user.
func userBody(userName, email string) map[string]any {
	return map[string]any{
		"schemas":  []string{scim.SchemaUser},
		"userName": userName,
		"name":     map[string]any{"givenName": "Ann", "familyName": strings.ToUpper(userName[:1]) + userName[1:]},
		"emails":   []any{map[string]any{"value": email, "type": "work", "primary": true}},
		"active":   true,
	}
}

func (e *env) createUser(userName, email string) string {
	e.t.Helper()
	r := e.call("POST", "/Users", userBody(userName, email)).want(e.t, http.StatusCreated)
	return r.str("id")
}

func patchBody(ops ...map[string]any) map[string]any {
	return map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"}, "Operations": ops}
}

func op(o, path string, value any) map[string]any {
	m := map[string]any{"op": o}
	if path != "" {
		m["path"] = path
	}
	if value != nil {
		m["value"] = value
	}
	return m
}

func each(t *testing.T, fn func(t *testing.T, e *env)) {
	testdb.Each(t, func(t *testing.T, db *store.DB) { fn(t, newEnv(t, db)) })
}
