package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/api"
	"github.com/roster-dev/roster/internal/auth"
	"github.com/roster-dev/roster/internal/delivery"
	"github.com/roster-dev/roster/internal/mailtest"
	"github.com/roster-dev/roster/internal/roster"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/testdb"
)

// lifecycleServer is the REST API over a real database, with the outbox
// worker sending through a real SMTP server and a real HTTP SMS provider.
type lifecycleServer struct {
	t      *testing.T
	url    string
	svc    *roster.Service
	mail   *mailtest.Server
	sms    *smsGateway
	admin  string // bearer token
	group  int64
	tenant string
}

type smsGateway struct {
	mu   sync.Mutex
	msgs []delivery.SMSRequest
	srv  *httptest.Server
}

func (g *smsGateway) wait(t *testing.T, n int) []delivery.SMSRequest {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		g.mu.Lock()
		got := append([]delivery.SMSRequest(nil), g.msgs...)
		g.mu.Unlock()
		if len(got) >= n {
			return got
		}
	}
	t.Fatalf("fewer than %d SMS arrived", n)
	return nil
}

func newLifecycleServer(t *testing.T, db *store.DB) *lifecycleServer {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	svc := roster.NewService(db, roster.Options{Logger: log, Lifecycle: roster.LifecycleOptions{
		Argon2: auth.Params{Memory: 1024, Time: 1, Threads: 1}, ForgotMinDuration: 20 * time.Millisecond}})
	mux := http.NewServeMux()
	api.New(svc, log).Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	svc.SetPublicURL(srv.URL)

	mail, err := mailtest.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(mail.Close)
	gw := &smsGateway{}
	gw.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m delivery.SMSRequest
		if r.Header.Get("Authorization") != "Bearer sms-token" || json.NewDecoder(r.Body).Decode(&m) != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		gw.mu.Lock()
		gw.msgs = append(gw.msgs, m)
		gw.mu.Unlock()
	}))
	t.Cleanup(gw.srv.Close)
	smtp, err := delivery.NewSMTP(mail.URL(), "roster@example.com", 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	sms, err := delivery.NewHTTPSMS(gw.srv.URL, "sms-token")
	if err != nil {
		t.Fatal(err)
	}
	w := delivery.New(svc, delivery.Options{Email: smtp, SMS: sms, Log: log, Poll: 50 * time.Millisecond})
	svc.OnOutbox(w.Kick)
	w.Start()
	t.Cleanup(w.Stop)

	tenant, err := svc.CreateTenant(ctx, "acme", "Acme")
	if err != nil {
		t.Fatal(err)
	}
	sys := roster.SystemActor(tenant.ID)
	_, token, err := svc.CreateToken(ctx, sys, roster.TokenInput{Name: "admin", Role: "admin"})
	if err != nil {
		t.Fatal(err)
	}
	groups, err := svc.ListGroups(ctx, sys)
	if err != nil {
		t.Fatal(err)
	}
	return &lifecycleServer{t: t, url: srv.URL, svc: svc, mail: mail, sms: gw, admin: token, group: groups[0].ID, tenant: "acme"}
}

// response is an answer with its body read.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("%s: %v", r.body, err)
	}
}

// call sends a JSON request. token "" sends none; client carries cookies.
func (s *lifecycleServer) call(client *http.Client, method, path, token string, body any, header ...string) response {
	s.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.url+path, rd)
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	if client == nil {
		client = http.DefaultClient
	}
	res, err := client.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{status: res.StatusCode, header: res.Header, body: b}
}

func (s *lifecycleServer) want(r response, status int) response {
	s.t.Helper()
	if r.status != status {
		s.t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	return r
}

func browser(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar}
}

var codeInText = regexp.MustCompile(`\b(\d{8})\b`)

// TestInvitationOverHTTP: invite by the API, read the mail from a real SMTP
// server, follow its link, set the password, sign in with a cookie.
func TestInvitationOverHTTP(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		s := newLifecycleServer(t, db)
		r := s.want(s.call(nil, "POST", "/api/v1/invitations", s.admin, map[string]any{"invitations": []map[string]any{
			{"name": "Anna Admin", "email": "anna@example.com", "language": "en", "group_id": s.group, "roles": []string{"admin"}},
			{"name": "Bert", "email": "bert@example.com", "language": "de", "group_id": s.group},
		}}), http.StatusCreated)
		var created struct {
			Invitations []struct {
				ID        int64     `json:"id"`
				UserID    int64     `json:"user_id"`
				Email     string    `json:"email"`
				ExpiresAt time.Time `json:"expires_at"`
			} `json:"invitations"`
		}
		r.decode(t, &created)
		if len(created.Invitations) != 2 || created.Invitations[0].Email != "anna@example.com" {
			t.Fatalf("created = %s", r.body)
		}
		var users roster.Page[roster.User]
		s.want(s.call(nil, "GET", "/api/v1/users?status=invited", s.admin, nil), 200).decode(t, &users)
		if users.Total != 2 {
			t.Fatalf("%d invited users listed", users.Total)
		}
		// A bad row names itself; nothing is created.
		r = s.want(s.call(nil, "POST", "/api/v1/invitations", s.admin, map[string]any{"invitations": []map[string]any{
			{"email": "carl@example.com", "language": "en", "group_id": s.group},
			{"email": "not-an-address", "language": "en", "group_id": s.group},
		}}), http.StatusBadRequest)
		if !strings.Contains(string(r.body), `"field":"invitations[1].email"`) {
			t.Fatalf("batch error = %s", r.body)
		}

		msgs, err := s.mail.WaitFor(2, 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		var anna mailtest.Message
		for _, m := range msgs {
			if m.To[0] == "anna@example.com" {
				anna = m
			}
		}
		links := anna.Links()
		if len(links) != 1 || !strings.HasPrefix(links[0], s.url+"/invite/") || anna.HTML == "" {
			t.Fatalf("invitation mail: %v\n%s", links, anna.Text)
		}
		link, _ := url.Parse(links[0])
		token := strings.TrimPrefix(link.Path, "/invite/")

		var info roster.InvitationInfo
		s.want(s.call(nil, "POST", "/api/v1/invitations/inspect", "", map[string]string{"token": token}), 200).decode(t, &info)
		if info.Email != "anna@example.com" || info.TenantSlug != "acme" {
			t.Fatalf("info = %+v", info)
		}
		r = s.want(s.call(nil, "POST", "/api/v1/invitations/accept", "", map[string]string{"token": token, "password": "123456789012"}), 400)
		if !strings.Contains(string(r.body), `"field":"password"`) {
			t.Fatalf("weak password answer = %s", r.body)
		}
		var accepted roster.User
		s.want(s.call(nil, "POST", "/api/v1/invitations/accept", "", map[string]string{"token": token, "password": "silver-kettle-42-moon"}), 200).decode(t, &accepted)
		if accepted.Status != "active" {
			t.Fatalf("accepted = %+v", accepted)
		}
		s.want(s.call(nil, "POST", "/api/v1/invitations/accept", "", map[string]string{"token": token, "password": "silver-kettle-42-moon"}), http.StatusConflict)

		// Sign in: the session cookie is HttpOnly and SameSite=Lax.
		b := browser(t)
		r = s.want(s.call(b, "POST", "/api/v1/sessions", "", map[string]string{"tenant": "acme", "login": "anna@example.com", "password": "silver-kettle-42-moon"}), http.StatusCreated)
		cookie := r.header.Get("Set-Cookie")
		if !strings.HasPrefix(cookie, api.SessionCookie+"=rss_") || !strings.Contains(cookie, "HttpOnly") || !strings.Contains(cookie, "SameSite=Lax") || strings.Contains(cookie, "Secure") {
			t.Fatalf("Set-Cookie: %s", cookie)
		}
		var me api.SessionInfo
		s.want(s.call(b, "GET", "/api/v1/sessions/current", "", nil), 200).decode(t, &me)
		if me.User.ID != accepted.ID || me.User.LastLoginAt == nil || len(me.Permissions) == 0 {
			t.Fatalf("me = %+v", me)
		}
		var stats roster.UserCounts
		s.want(s.call(b, "GET", "/api/v1/stats", "", nil), 200).decode(t, &stats)
		if stats.Active != 1 || stats.Invited != 1 || stats.Admin != 1 {
			t.Fatalf("stats = %+v", stats)
		}

		// With the cookie, a change must come from the console's own origin.
		group := map[string]any{"name": "Team", "parent_id": s.group}
		s.want(s.call(b, "POST", "/api/v1/groups", "", group, "Sec-Fetch-Site", "cross-site"), http.StatusForbidden)
		s.want(s.call(b, "POST", "/api/v1/groups", "", group, "Origin", "https://evil.example"), http.StatusForbidden)
		s.want(s.call(b, "POST", "/api/v1/groups", "", group, "Sec-Fetch-Site", "same-origin"), http.StatusCreated)
		// Login CSRF is refused too.
		s.want(s.call(nil, "POST", "/api/v1/sessions", "", map[string]string{"tenant": "acme", "login": "x", "password": "y"},
			"Sec-Fetch-Site", "cross-site"), http.StatusForbidden)

		// Cancel Bert's invitation: his link is dead, he leaves the list.
		bertToken := ""
		for _, m := range msgs {
			if m.To[0] == "bert@example.com" {
				if !strings.Contains(m.Subject, "Einladung") {
					t.Fatalf("Bert's mail is not German: %q", m.Subject)
				}
				u, _ := url.Parse(m.Links()[0])
				bertToken = strings.TrimPrefix(u.Path, "/invite/")
			}
		}
		s.want(s.call(b, "DELETE", fmt.Sprintf("/api/v1/invitations/%d", created.Invitations[1].ID), "", nil, "Sec-Fetch-Site", "same-origin"), http.StatusNoContent)
		s.want(s.call(nil, "POST", "/api/v1/invitations/accept", "", map[string]string{"token": bertToken, "password": "silver-kettle-42-moon"}), http.StatusGone)
		var invs roster.Page[roster.Invitation]
		s.want(s.call(nil, "GET", "/api/v1/invitations?status=cancelled", s.admin, nil), 200).decode(t, &invs)
		if invs.Total != 1 {
			t.Fatalf("cancelled invitations = %d", invs.Total)
		}
		// Copy link gives a working URL.
		r = s.want(s.call(nil, "POST", "/api/v1/invitations", s.admin, map[string]any{"invitations": []map[string]any{
			{"email": "cleo@example.com", "language": "en", "group_id": s.group}}}), http.StatusCreated)
		r.decode(t, &created)
		var link2 struct {
			URL string `json:"url"`
		}
		s.want(s.call(nil, "GET", fmt.Sprintf("/api/v1/invitations/%d/link", created.Invitations[0].ID), s.admin, nil), 200).decode(t, &link2)
		u2, _ := url.Parse(link2.URL)
		s.want(s.call(nil, "POST", "/api/v1/invitations/inspect", "", map[string]string{"token": strings.TrimPrefix(u2.Path, "/invite/")}), 200)

		// Deactivation ends the session at once.
		s.want(s.call(nil, "POST", fmt.Sprintf("/api/v1/users/%d/deactivate", accepted.ID), s.admin, nil), 200)
		r = s.want(s.call(b, "GET", "/api/v1/sessions/current", "", nil), http.StatusUnauthorized)
		if !strings.Contains(r.header.Get("Set-Cookie"), "Max-Age=0") {
			t.Fatalf("the dead cookie was not cleared: %v", r.header)
		}
		// And sign-in is refused.
		s.want(s.call(nil, "POST", "/api/v1/sessions", "", map[string]string{"tenant": "acme", "login": "anna@example.com", "password": "silver-kettle-42-moon"}), http.StatusForbidden)
	})
}

// TestOneTimeCodesOverHTTP: a user created without invitation asks for a
// code by email and by SMS and sets a password with it.
func TestOneTimeCodesOverHTTP(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		s := newLifecycleServer(t, db)
		s.want(s.call(nil, "POST", "/api/v1/users", s.admin, map[string]any{"username": "olga", "email": "olga@example.com",
			"mobile": "+44 7911 123456", "language": "en", "group_id": s.group}), http.StatusCreated)

		// The answer is the same, byte for byte, for a known and an unknown login.
		known := s.want(s.call(nil, "POST", "/api/v1/password/forgot", "", map[string]string{"tenant": "acme", "login": "olga", "channel": "email"}), http.StatusAccepted)
		unknown := s.want(s.call(nil, "POST", "/api/v1/password/forgot", "", map[string]string{"tenant": "acme", "login": "ghost", "channel": "email"}), http.StatusAccepted)
		noTenant := s.want(s.call(nil, "POST", "/api/v1/password/forgot", "", map[string]string{"tenant": "nope", "login": "olga", "channel": "email"}), http.StatusAccepted)
		if !bytes.Equal(known.body, unknown.body) || !bytes.Equal(known.body, noTenant.body) {
			t.Fatalf("answers differ:\n%s\n%s\n%s", known.body, unknown.body, noTenant.body)
		}
		msgs, err := s.mail.WaitFor(1, 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		code := codeInText.FindString(msgs[0].Text)
		if msgs[0].To[0] != "olga@example.com" || code == "" {
			t.Fatalf("code mail: %+v", msgs[0])
		}
		// Signing in before a password exists fails like a wrong password.
		s.want(s.call(nil, "POST", "/api/v1/sessions", "", map[string]string{"tenant": "acme", "login": "olga", "password": "fern-lantern-88-q"}), http.StatusUnauthorized)
		s.want(s.call(nil, "POST", "/api/v1/password/reset", "", map[string]string{"tenant": "acme", "login": "olga", "code": "00000000", "password": "fern-lantern-88-q"}), http.StatusBadRequest)
		s.want(s.call(nil, "POST", "/api/v1/password/reset", "", map[string]string{"tenant": "acme", "login": "olga", "code": code, "password": "fern-lantern-88-q"}), http.StatusNoContent)
		s.want(s.call(nil, "POST", "/api/v1/sessions", "", map[string]string{"tenant": "acme", "login": "olga", "password": "fern-lantern-88-q"}), http.StatusCreated)

		// By SMS through the HTTP provider.
		s.want(s.call(nil, "POST", "/api/v1/password/forgot", "", map[string]string{"tenant": "acme", "login": "olga@example.com", "channel": "sms"}), http.StatusAccepted)
		sms := s.sms.wait(t, 1)
		if sms[0].To != "+447911123456" {
			t.Fatalf("sms to %q", sms[0].To)
		}
		smsCode := codeInText.FindString(sms[0].Text)
		s.want(s.call(nil, "POST", "/api/v1/password/reset", "", map[string]string{"tenant": "acme", "login": "olga", "code": smsCode, "password": "granite-owl-19-sky"}), http.StatusNoContent)
		s.want(s.call(nil, "POST", "/api/v1/sessions", "", map[string]string{"tenant": "acme", "login": "olga", "password": "granite-owl-19-sky"}), http.StatusCreated)

		// Wrong codes until throttled: 429.
		var last response
		for i := 0; i < 12; i++ {
			last = s.call(nil, "POST", "/api/v1/password/reset", "", map[string]string{"tenant": "acme", "login": "olga", "code": fmt.Sprintf("%08d", i), "password": "granite-owl-19-sky"})
			if last.status == http.StatusTooManyRequests {
				break
			}
		}
		s.want(last, http.StatusTooManyRequests)
		wantRetryAfter(t, last, 3600)
		// Failed sign-ins too (from this address; the account is only delayed).
		for i := 0; i < 6; i++ {
			last = s.call(nil, "POST", "/api/v1/sessions", "", map[string]string{"tenant": "acme", "login": "olga", "password": "wrong"})
		}
		s.want(last, http.StatusTooManyRequests)
		wantRetryAfter(t, last, 900)
		// The admin sees the messages, secrets hidden.
		var out roster.Page[roster.OutboxMessage]
		s.want(s.call(nil, "GET", "/api/v1/outbox", s.admin, nil), 200).decode(t, &out)
		if out.Total != 2 || strings.Contains(string(mustJSON(out)), code) || strings.Contains(string(mustJSON(out)), smsCode) {
			t.Fatalf("outbox = %s", mustJSON(out))
		}
	})
}

// wantRetryAfter checks a 429 says when to try again: 1..most seconds.
func wantRetryAfter(t *testing.T, r response, most int) {
	t.Helper()
	secs, err := strconv.Atoi(r.header.Get("Retry-After"))
	if err != nil || secs < 1 || secs > most {
		t.Fatalf("Retry-After = %q, want 1..%d seconds", r.header.Get("Retry-After"), most)
	}
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}
