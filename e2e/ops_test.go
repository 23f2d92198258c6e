package e2e

// Black-box tests of operations with the real binary: a PostgreSQL outage is
// answered with 503 and heals by itself (issue 14, item 6), and the client
// address behind a trusted proxy is the forwarded one, for rate limits, the
// audit and the Secure cookie flag, and only then (item 7).

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/testdb"
)

// opsAnswer is one HTTP answer with its headers.
type opsAnswer struct {
	status int
	header http.Header
	body   string
}

// opsDo sends a request with the given headers ("Name", "value", ...).
func opsDo(t *testing.T, client *http.Client, method, u string, body any, headers ...string) opsAnswer {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case url.Values:
		rd = strings.NewReader(b.Encode())
		headers = append(headers, "Content-Type", "application/x-www-form-urlencoded")
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(j)
		headers = append(headers, "Content-Type", "application/json")
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	if client == nil {
		client = http.DefaultClient
	}
	res, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return opsAnswer{status: res.StatusCode, header: res.Header, body: string(b)}
}

// wantRetryAfter asserts a Retry-After of whole seconds, at least one.
func wantRetryAfter(t *testing.T, what string, a opsAnswer) {
	t.Helper()
	if n, err := strconv.Atoi(a.header.Get("Retry-After")); err != nil || n < 1 {
		t.Fatalf("%s: Retry-After %q, want whole seconds", what, a.header.Get("Retry-After"))
	}
}

func TestDatabaseOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := lcBuild(t)
	ctx := context.Background()

	// A database of its own, so that refusing its connections touches
	// nobody else on the shared server.
	admin, err := sql.Open("pgx", testdb.PostgresURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	dbName := "roster_outage_" + hex.EncodeToString(b)
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+dbName); err != nil {
		t.Fatalf("PostgreSQL is required (%s): %v", testdb.PostgresURL(), err)
	}
	t.Cleanup(func() {
		_, _ = admin.Exec("ALTER DATABASE " + dbName + " ALLOW_CONNECTIONS true")
		if _, err := admin.Exec("DROP DATABASE " + dbName + " WITH (FORCE)"); err != nil {
			t.Logf("drop database %s: %v", dbName, err)
		}
	})
	base, err := url.Parse(testdb.PostgresURL())
	if err != nil {
		t.Fatal(err)
	}
	base.Path = "/" + dbName
	proxy, dsn := testdb.NewProxy(t, base.String())
	env := []string{"ROSTER_DB=" + dsn, "ROSTER_LOG_LEVEL=warn"}

	lcRun(t, bin, env, "tenant", "create", "--slug", "acme", "--name", "Acme")
	out := lcRun(t, bin, env, "token", "create", "--tenant", "acme", "--name", "ops", "--role", "admin")
	token := out[len(out)-1]
	srv := lcServe(t, bin, env)
	bearer := []string{"Authorization", "Bearer " + token}
	role := func(key string) map[string]any {
		return map[string]any{"key": key, "name": key, "permissions": []string{"users.view"}, "scope": "tenant"}
	}
	if a := opsDo(t, nil, "POST", srv.url+"/api/v1/roles", role("before_outage"), bearer...); a.status != 201 {
		t.Fatalf("create a role: %d %s", a.status, a.body)
	}

	// The console's sign-in form, to post it during the outage.
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	signin := opsDo(t, browser, "GET", srv.url+"/signin", nil)
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(signin.body)
	if signin.status != 200 || csrf == nil {
		t.Fatalf("GET /signin: %d, csrf %v", signin.status, csrf)
	}

	down := func(t *testing.T) {
		t.Helper()
		for _, c := range []struct{ method, path string }{
			{"GET", "/api/v1/users"}, {"GET", "/api/v1/roles"}, {"GET", "/api/v1/audit"}, {"POST", "/api/v1/roles"},
		} {
			var body any
			if c.method == "POST" {
				body = role("during_outage")
			}
			a := opsDo(t, nil, c.method, srv.url+c.path, body, bearer...)
			what := c.method + " " + c.path
			if a.status != 503 || !strings.HasPrefix(a.header.Get("Content-Type"), "application/problem+json") {
				t.Fatalf("%s during the outage: %d %s %s; want 503 problem+json", what, a.status, a.header.Get("Content-Type"), a.body)
			}
			wantRetryAfter(t, what, a)
			if a.header.Get("Cache-Control") != "no-store" || a.header.Get("X-Content-Type-Options") != "nosniff" {
				t.Fatalf("%s: headers %v", what, a.header)
			}
			var p problem
			if err := json.Unmarshal([]byte(a.body), &p); err != nil || p.Status != 503 || p.Detail == "" {
				t.Fatalf("%s: problem %s", what, a.body)
			}
			for _, secret := range []string{dbName, "postgres", "127.0.0.1", "dial", "EOF"} {
				if strings.Contains(a.body, secret) {
					t.Fatalf("%s: the answer shows %q: %s", what, secret, a.body)
				}
			}
		}
		ready := opsDo(t, nil, "GET", srv.url+"/readyz", nil)
		if ready.status != 503 || ready.body != "not ready\n" {
			t.Fatalf("/readyz during the outage: %d %q; want 503 \"not ready\" and nothing else", ready.status, ready.body)
		}
		page := opsDo(t, browser, "POST", srv.url+"/signin", url.Values{
			"csrf": {csrf[1]}, "tenant": {"acme"}, "login": {"nobody"}, "password": {"wrong-password-1"},
		})
		if page.status != 503 || !strings.Contains(page.body, "Roster cannot reach its database right now; try again in a minute") {
			t.Fatalf("console sign-in during the outage: %d\n%s", page.status, page.body)
		}
		wantRetryAfter(t, "console sign-in", page)
		if page.header.Get("X-Content-Type-Options") != "nosniff" || strings.Contains(page.body, dbName) {
			t.Fatalf("console outage page: headers %v", page.header)
		}
	}
	backUp := func(t *testing.T) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			ready := opsDo(t, nil, "GET", srv.url+"/readyz", nil)
			if ready.status == 200 && ready.body == "ready\n" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("/readyz after the database came back: %d %q\n%s", ready.status, ready.body, srv.logs)
			}
			time.Sleep(200 * time.Millisecond)
		}
		a := opsDo(t, nil, "GET", srv.url+"/api/v1/roles", nil, bearer...)
		if a.status != 200 || !strings.Contains(a.body, `"before_outage"`) {
			t.Fatalf("GET /api/v1/roles after the outage: %d %s", a.status, a.body)
		}
		if strings.Contains(a.body, "during_outage") {
			t.Fatalf("the role posted during the outage exists: %s", a.body)
		}
		if a := opsDo(t, nil, "GET", srv.url+"/api/v1/users", nil, bearer...); a.status != 200 {
			t.Fatalf("GET /api/v1/users after the outage: %d %s", a.status, a.body)
		}
	}

	t.Run("server unreachable", func(t *testing.T) {
		proxy.Down() // connections refused, open ones cut
		down(t)
		proxy.Up()
		backUp(t)
	})
	t.Run("database refuses connections", func(t *testing.T) {
		if _, err := admin.ExecContext(ctx, "ALTER DATABASE "+dbName+" ALLOW_CONNECTIONS false"); err != nil {
			t.Fatal(err)
		}
		if _, err := admin.ExecContext(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", dbName); err != nil {
			t.Fatal(err)
		}
		down(t)
		if _, err := admin.ExecContext(ctx, "ALTER DATABASE "+dbName+" ALLOW_CONNECTIONS true"); err != nil {
			t.Fatal(err)
		}
		backUp(t)
	})
	// The detail went to the log, not to the callers.
	if logs := srv.logs.String(); !strings.Contains(logs, "database unavailable") || !strings.Contains(logs, "not ready") {
		t.Fatalf("the log does not record the outage:\n%s", logs)
	}
}

func TestTrustedProxies(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := lcBuild(t)
	env := []string{"ROSTER_DATA=" + filepath.Join(t.TempDir(), "data"), "ROSTER_LOG_LEVEL=warn"}
	out := lcRun(t, bin, env, "tenant", "create", "--slug", "acme", "--name", "Acme",
		"--admin-email", "boss@acme.example", "--admin-name", "Bea Boss")
	invite := out[len(out)-1]
	out = lcRun(t, bin, env, "token", "create", "--tenant", "acme", "--name", "ops", "--role", "admin")
	token := out[len(out)-1]
	const password = "correct-horse-battery-2026"

	trusting := lcServe(t, bin, env, "--trusted-proxies", "127.0.0.1/32")
	plain := lcServe(t, bin, append(env, "ROSTER_TRUSTED_PROXIES=")) // trusts nobody

	accept := opsDo(t, nil, "POST", trusting.url+"/api/v1/invitations/accept",
		map[string]any{"token": invite[strings.LastIndex(invite, "/")+1:], "password": password})
	if accept.status != 200 {
		t.Fatalf("accept the invitation: %d %s", accept.status, accept.body)
	}

	// auditIP creates a role through srv with the given X-Forwarded-For and
	// returns the IP its audit event records.
	n := 0
	auditIP := func(srv *lcServer, forwardedFor string) string {
		t.Helper()
		n++
		key := fmt.Sprintf("audited_%d", n)
		a := opsDo(t, nil, "POST", srv.url+"/api/v1/roles",
			map[string]any{"key": key, "name": key, "permissions": []string{"users.view"}, "scope": "tenant"},
			"Authorization", "Bearer "+token, "X-Forwarded-For", forwardedFor)
		if a.status != 201 {
			t.Fatalf("create role %s: %d %s", key, a.status, a.body)
		}
		if a.header.Get("Cache-Control") != "no-store" || a.header.Get("X-Content-Type-Options") != "nosniff" {
			t.Fatalf("API answer headers: %v", a.header)
		}
		var audit struct {
			Items []struct {
				Action string `json:"action"`
				IP     string `json:"ip"`
				After  any    `json:"after"`
			} `json:"items"`
		}
		l := opsDo(t, nil, "GET", srv.url+"/api/v1/audit?per_page=100", nil, "Authorization", "Bearer "+token)
		if err := json.Unmarshal([]byte(l.body), &audit); err != nil {
			t.Fatalf("audit: %v: %s", err, l.body)
		}
		for _, e := range audit.Items {
			if b, _ := json.Marshal(e.After); strings.Contains(string(b), key) {
				return e.IP
			}
		}
		t.Fatalf("no audit event for role %s: %s", key, l.body)
		return ""
	}
	if ip := auditIP(trusting, "198.51.100.7"); ip != "198.51.100.7" {
		t.Fatalf("audit IP behind the trusted proxy = %q, want the forwarded 198.51.100.7", ip)
	}
	if ip := auditIP(trusting, "6.6.6.6, 198.51.100.8"); ip != "198.51.100.8" {
		t.Fatalf("audit IP with a spoofed left-most entry = %q, want 198.51.100.8", ip)
	}
	if ip := auditIP(plain, "198.51.100.7"); ip != "127.0.0.1" {
		t.Fatalf("audit IP without --trusted-proxies = %q, want the peer 127.0.0.1", ip)
	}

	// exhaust signs in wrongly from forwardedFor (a new unknown login each
	// time, so only the address is limited) until the server answers 429.
	exhaust := func(srv *lcServer, forwardedFor string) {
		t.Helper()
		deadline := time.Now().Add(90 * time.Second)
		for i := 0; ; i++ {
			a := opsDo(t, nil, "POST", srv.url+"/api/v1/sessions",
				map[string]any{"tenant": "acme", "login": fmt.Sprintf("nobody-%s-%d", forwardedFor, i), "password": "wrong-password-1"},
				"X-Forwarded-For", forwardedFor)
			if a.status == 429 {
				wantRetryAfter(t, "429", a)
				return
			}
			if a.status != 401 {
				t.Fatalf("failed sign-in %d: %d %s", i, a.status, a.body)
			}
			if i > 500 || time.Now().After(deadline) {
				t.Fatalf("no 429 after %d failed sign-ins from %s", i, forwardedFor)
			}
		}
	}
	signIn := func(srv *lcServer, login, pw string, headers ...string) opsAnswer {
		t.Helper()
		return opsDo(t, nil, "POST", srv.url+"/api/v1/sessions",
			map[string]any{"tenant": "acme", "login": login, "password": pw}, headers...)
	}

	// Before the limits below: the untrusting server's peer gets limited there.
	t.Run("Secure cookie from the forwarded scheme", func(t *testing.T) {
		secure := func(a opsAnswer) bool {
			for _, c := range (&http.Response{Header: a.header}).Cookies() {
				if c.Name == "roster_session" {
					return c.Secure
				}
			}
			t.Fatalf("no session cookie: %d %v %s", a.status, a.header, a.body)
			return false
		}
		https := []string{"X-Forwarded-For", "203.0.113.5", "X-Forwarded-Proto", "https"}
		if !secure(signIn(trusting, "boss@acme.example", password, https...)) {
			t.Fatal("X-Forwarded-Proto: https from the trusted proxy: cookie not Secure")
		}
		if !secure(signIn(trusting, "boss@acme.example", password, "Forwarded", `for="[2001:db8::5]:443";proto=https`)) {
			t.Fatal("Forwarded proto=https from the trusted proxy: cookie not Secure")
		}
		if secure(signIn(trusting, "boss@acme.example", password, "X-Forwarded-For", "203.0.113.5")) {
			t.Fatal("plain http through the trusted proxy: cookie Secure")
		}
		if secure(signIn(plain, "boss@acme.example", password, "X-Forwarded-Proto", "https")) {
			t.Fatal("X-Forwarded-Proto from an untrusted peer was believed")
		}
	})
	t.Run("limits per forwarded client", func(t *testing.T) {
		exhaust(trusting, "203.0.113.1")
		if a := signIn(trusting, "someone-else", "wrong-password-1", "X-Forwarded-For", "203.0.113.2"); a.status != 401 {
			t.Fatalf("a failed sign-in of another forwarded client: %d %s; want 401, not limited", a.status, a.body)
		}
		if a := signIn(trusting, "boss@acme.example", password, "X-Forwarded-For", "203.0.113.2"); a.status != 201 {
			t.Fatalf("the admin's sign-in from another client: %d %s", a.status, a.body)
		}
		if a := signIn(trusting, "someone-else", "wrong-password-1", "X-Forwarded-For", "203.0.113.1"); a.status != 429 {
			t.Fatalf("the limited client again: %d; want 429", a.status)
		}
		// The console shares the rule: the same client is limited there too,
		// with Retry-After; another one is not.
		jar, _ := cookiejar.New(nil)
		browser := &http.Client{Jar: jar}
		form := opsDo(t, browser, "GET", trusting.url+"/signin", nil)
		csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(form.body)
		if csrf == nil {
			t.Fatalf("no CSRF token on the sign-in page: %s", form.body)
		}
		post := func(forwardedFor string) opsAnswer {
			return opsDo(t, browser, "POST", trusting.url+"/signin", url.Values{
				"csrf": {csrf[1]}, "tenant": {"acme"}, "login": {"someone-else"}, "password": {"wrong-password-1"},
			}, "X-Forwarded-For", forwardedFor)
		}
		if a := post("203.0.113.1"); a.status != 429 || a.header.Get("X-Content-Type-Options") != "nosniff" {
			t.Fatalf("console sign-in of the limited client: %d %v", a.status, a.header)
		} else {
			wantRetryAfter(t, "console 429", a)
		}
		if a := post("203.0.113.3"); a.status != 401 {
			t.Fatalf("console sign-in of another client: %d; want 401", a.status)
		}
	})
	t.Run("without the flag the header is ignored", func(t *testing.T) {
		exhaust(plain, "192.0.2.1")
		if a := signIn(plain, "someone-else", "wrong-password-1", "X-Forwarded-For", "192.0.2.2"); a.status != 429 {
			t.Fatalf("another X-Forwarded-For through an untrusted peer: %d %s; want 429 (the peer is limited)", a.status, a.body)
		}
	})
}
