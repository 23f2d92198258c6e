package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/roster-dev/roster/internal/api"
	"github.com/roster-dev/roster/internal/auth"
	"github.com/roster-dev/roster/internal/roster"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/testdb"
)

// accessLine is the access log line of the request with id.
func (l *syncBuffer) accessLine(t *testing.T, id string) map[string]any {
	t.Helper()
	for _, line := range strings.Split(l.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m["msg"] == "request" && m["request_id"] == id {
			return m
		}
	}
	t.Fatalf("no access log line with request_id %q in:\n%s", id, l.String())
	return nil
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// Every door's requests get the same access log line through the binary's
// wiring: method, route pattern, status, duration, request id, and tenant
// and actor once the door authenticated someone (a console session, an API
// token, a SCIM token).
func TestAccessLogOfEveryDoor(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		var logs syncBuffer
		log := slog.New(api.RequestIDLogHandler(slog.NewJSONHandler(&logs, nil)))
		svc := roster.NewService(db, roster.Options{Logger: log, Lifecycle: roster.LifecycleOptions{
			PublicURL: "http://roster.test", Argon2: auth.Params{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}}})
		h := newHandlers(Config{}, db, svc, log, prometheus.NewRegistry(), false)
		srv := httptest.NewServer(h.root)
		t.Cleanup(srv.Close)

		tn, err := svc.CreateTenant(ctx, "acme", "Acme")
		if err != nil {
			t.Fatal(err)
		}
		sys := roster.SystemActor(tn.ID)
		groups, err := svc.ListGroups(ctx, sys)
		if err != nil {
			t.Fatal(err)
		}
		links, err := svc.InviteUsers(ctx, sys, []roster.UserInput{{Username: roster.Some("ada"), Name: roster.Some("Ada"),
			Email: roster.Some("ada@acme.test"), Language: roster.Some("en"), GroupID: roster.Some(groups[0].ID), Roles: roster.Some([]string{"admin"})}})
		if err != nil {
			t.Fatal(err)
		}
		const password = "correct horse battery staple"
		ada, err := svc.AcceptInvitation(ctx, links[0].URL[strings.LastIndex(links[0].URL, "/")+1:], password, "127.0.0.1", "test")
		if err != nil {
			t.Fatal(err)
		}
		tok, secret, err := svc.CreateToken(ctx, sys, roster.TokenInput{Name: "door", Role: "admin"})
		if err != nil {
			t.Fatal(err)
		}

		jar, _ := cookiejar.New(nil)
		browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		send := func(c *http.Client, method, path, bearer string, form url.Values) (*http.Response, string) {
			t.Helper()
			var body io.Reader
			if form != nil {
				body = strings.NewReader(form.Encode())
			}
			req, _ := http.NewRequest(method, srv.URL+path, body)
			if form != nil {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("Sec-Fetch-Site", "same-origin")
			}
			if bearer != "" {
				req.Header.Set("Authorization", "Bearer "+bearer)
			}
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp, string(b)
		}

		resp, page := send(browser, "GET", "/signin", "", nil)
		anonymous := logs.accessLine(t, resp.Header.Get("X-Request-Id"))
		if anonymous["route"] != "GET /signin" || anonymous["status"] != 200.0 || anonymous["actor"] != nil {
			t.Errorf("the sign-in page's line: %v", anonymous)
		}
		m := csrfField.FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("no CSRF token on /signin: %s", page)
		}
		if resp, body := send(browser, "POST", "/signin", "", url.Values{"csrf": {m[1]}, "tenant": {"acme"}, "login": {"ada"}, "password": {password}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("sign in: %d %s", resp.StatusCode, body)
		}

		cases := []struct {
			door, method, path, bearer, route, actor string
			status                                   float64
		}{
			{"console", "GET", "/users", "", "GET /users", "user:" + strconv.FormatInt(ada.ID, 10), 200},
			{"console", "GET", "/users/999999", "", "GET /users/{id}", "user:" + strconv.FormatInt(ada.ID, 10), 404},
			{"api", "GET", "/api/v1/groups", secret, "GET /api/v1/groups", "token:" + strconv.FormatInt(tok.ID, 10), 200},
			{"scim", "GET", "/scim/v2/Users", secret, "GET /scim/v2/Users", "token:" + strconv.FormatInt(tok.ID, 10), 200},
		}
		for _, c := range cases {
			client := browser
			if c.bearer != "" {
				client = http.DefaultClient
			}
			resp, body := send(client, c.method, c.path, c.bearer, nil)
			if resp.StatusCode != int(c.status) {
				t.Fatalf("%s %s %s: %d %s", c.door, c.method, c.path, resp.StatusCode, body)
			}
			line := logs.accessLine(t, resp.Header.Get("X-Request-Id"))
			want := map[string]any{"method": c.method, "route": c.route, "status": c.status, "tenant": float64(tn.ID), "actor": c.actor}
			for k, v := range want {
				if line[k] != v {
					t.Errorf("%s %s: access log %s = %v, want %v (line %v)", c.door, c.path, k, line[k], v, line)
				}
			}
			if _, ok := line["duration_ms"]; !ok {
				t.Errorf("%s %s: no duration in %v", c.door, c.path, line)
			}
		}
	})
}
