package console_test

import (
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
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/auth"
	"github.com/roster-dev/roster/internal/console"
	"github.com/roster-dev/roster/internal/roster"
	"github.com/roster-dev/roster/internal/testdb"
)

// app is a console over a real SQLite database, served by a real HTTP server.
type app struct {
	t      *testing.T
	svc    *roster.Service
	srv    *httptest.Server
	tenant *roster.Tenant
	sys    *roster.Actor
	group  int64
}

func newApp(t *testing.T) *app {
	t.Helper()
	db := testdb.SQLite(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	// Cheap password hashing: the tests are about pages, not argon2's cost.
	svc := roster.NewService(db, roster.Options{Logger: log, Lifecycle: roster.LifecycleOptions{
		PublicURL: "http://roster.test", Argon2: auth.Params{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}}})
	mux := http.NewServeMux()
	console.New(svc, log, console.Options{}).Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	ctx := context.Background()
	tn, err := svc.CreateTenant(ctx, "acme", "Acme Ltd")
	if err != nil {
		t.Fatal(err)
	}
	a := &app{t: t, svc: svc, srv: srv, tenant: tn, sys: roster.SystemActor(tn.ID)}
	groups, err := svc.ListGroups(ctx, a.sys)
	if err != nil {
		t.Fatal(err)
	}
	a.group = groups[0].ID
	return a
}

// client is a browser-like HTTP client with its own cookie jar that does
// not follow redirects, so tests see them.
type client struct {
	t    *testing.T
	base string
	hc   *http.Client
}

func (a *app) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: a.t, base: a.srv.URL, hc: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

func (c *client) get(path string) (*http.Response, string) {
	c.t.Helper()
	resp, err := c.hc.Get(c.base + path)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// post submits a form the way a browser on this site does.
func (c *client) post(path string, form url.Values) (*http.Response, string) {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, c.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

var csrfPattern = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf reads the form token from a page.
func (c *client) csrf(path string) string {
	c.t.Helper()
	_, body := c.get(path)
	m := csrfPattern.FindStringSubmatch(body)
	if m == nil {
		c.t.Fatalf("no CSRF token on %s", path)
	}
	return m[1]
}

// password is what every test user signs in with.
const password = "correct horse battery staple"

// user invites a user with roles and accepts the invitation, so they have
// a password.
func (a *app) user(username string, roles ...string) *roster.User {
	a.t.Helper()
	ctx := context.Background()
	links, err := a.svc.InviteUsers(ctx, a.sys, []roster.UserInput{{
		Username: roster.Some(username), Name: roster.Some(strings.ToUpper(username[:1]) + username[1:]),
		Email: roster.Some(username + "@acme.test"), Language: roster.Some("en"), GroupID: roster.Some(a.group),
		Roles: roster.Some(roles),
	}})
	if err != nil {
		a.t.Fatal(err)
	}
	token := links[0].URL[strings.LastIndex(links[0].URL, "/")+1:]
	u, err := a.svc.AcceptInvitation(ctx, token, password, "127.0.0.1", "test")
	if err != nil {
		a.t.Fatal(err)
	}
	return u
}

// signIn signs c in as username through the sign-in form.
func (c *client) signIn(username string) {
	c.t.Helper()
	tok := c.csrf("/signin")
	resp, body := c.post("/signin", url.Values{"csrf": {tok}, "tenant": {"acme"}, "login": {username}, "password": {password}})
	if resp.StatusCode != http.StatusSeeOther {
		c.t.Fatalf("sign in as %s: %d %s", username, resp.StatusCode, body)
	}
}

// TestConsoleEveryPageRenders opens each page as an admin, so a template that
// breaks fails here rather than in front of someone.
func TestConsoleEveryPageRenders(t *testing.T) {
	a, pages := everyPage(t)
	c := a.client()
	c.signIn("admin")
	for _, p := range pages {
		resp, body := c.get(p)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s: %d\n%s", p, resp.StatusCode, body)
		}
	}
	if _, body := c.get("/agents"); !strings.Contains(body, "Anna (anna)") || !strings.Contains(body, "not assigned") {
		t.Error("the agents list does not say who holds which agent ID")
	}
}

// everyPage fills a console with one of everything (an admin "admin", an
// agent "anna", an invited user, agent IDs, a plan, a skill and profiles)
// and lists the address of every page an admin can open.
func everyPage(t *testing.T) (*app, []string) {
	t.Helper()
	a := newApp(t)
	ctx := context.Background()
	a.user("admin", roster.RoleAdmin)
	anna := a.user("anna", roster.RoleAgent)
	if _, err := a.svc.InviteUsers(ctx, a.sys, []roster.UserInput{{Email: roster.Some("ivy@acme.test"), Language: roster.Some("en"), GroupID: roster.Some(a.group)}}); err != nil {
		t.Fatal(err)
	}
	invited, err := a.svc.ListUsers(ctx, a.sys, roster.UserQuery{Status: "invited"})
	if err != nil || invited.Total != 1 {
		t.Fatalf("invited: %v %v", err, invited)
	}
	// An agent ID held by anna, one held by nobody.
	var rows []json.RawMessage
	for i, agent := range []string{"4711", "4712"} {
		rows = append(rows, json.RawMessage(fmt.Sprintf(`{"source": "voice", "external_id": "call-%d", "agent_external_id": %q,
			"agent_name": "Agent %s", "group_id": %d, "channel": "voice", "started_at": "2026-11-20T10:00:00Z", "duration_s": 60}`, i, agent, agent, a.group)))
	}
	if _, err := a.svc.IngestInteractions(ctx, a.sys, rows); err != nil {
		t.Fatal(err)
	}
	if _, err := a.svc.SetUserAgents(ctx, a.sys, anna.ID, []roster.AgentRef{roster.ParseAgentRef("voice:4711")}); err != nil {
		t.Fatal(err)
	}
	plan, err := a.svc.CreateCoachingPlan(ctx, a.sys, roster.CoachingPlanInput{AgentUserID: roster.Some(anna.ID), Title: roster.Some("Listen more")})
	if err != nil {
		t.Fatal(err)
	}
	skill, err := a.svc.CreateSkill(ctx, a.sys, roster.SkillInput{Name: roster.Some("Chat")})
	if err != nil {
		t.Fatal(err)
	}
	levels := roster.Some([]roster.ProfileSkillInput{{SkillID: skill.ID, Level: 50}})
	gprof, err := a.svc.CreateGroupProfile(ctx, a.sys, a.group, roster.ProfileInput{Name: roster.Some("Frontline"), Skills: levels})
	if err != nil {
		t.Fatal(err)
	}
	pprof, err := a.svc.CreateUserProfile(ctx, a.sys, anna.ID, roster.ProfileInput{Name: roster.Some("Evenings"), Skills: levels})
	if err != nil {
		t.Fatal(err)
	}
	pages := []string{"/", "/users", "/users?tab=invited", "/users?tab=inactive", "/users?sort=bad", "/users.csv",
		"/users/new", "/invite", "/account", "/agents", "/agents/lookup?q=a", "/properties", "/groups", "/roles", "/roles/new",
		"/audit", "/audit.csv", "/outbox", "/my-team", "/coaching", "/me", "/tokens", "/settings", "/provisioning",
		fmt.Sprintf("/users/%d", anna.ID), fmt.Sprintf("/users/%d/edit", anna.ID), fmt.Sprintf("/users/%d/move", anna.ID),
		fmt.Sprintf("/users/%d/deactivate", anna.ID), fmt.Sprintf("/users/%d/delete", anna.ID),
		fmt.Sprintf("/users/%d/invitation/cancel", invited.Items[0].ID), fmt.Sprintf("/groups/%d", a.group),
		fmt.Sprintf("/groups/%d/move", a.group), fmt.Sprintf("/groups/%d/delete", a.group), "/roles/1", "/roles/1/delete",
		fmt.Sprintf("/coaching/%d", plan.ID), fmt.Sprintf("/coaching?agent=%d", anna.ID), "/properties/resource_filter/delete",
		"/properties/resource_filter/edit", fmt.Sprintf("/skills/%d/edit", skill.ID), fmt.Sprintf("/skills/%d/delete", skill.ID),
		fmt.Sprintf("/profiles/%d/edit", gprof.ID), fmt.Sprintf("/profiles/%d/delete", gprof.ID),
		fmt.Sprintf("/profiles/%d/edit", pprof.ID), fmt.Sprintf("/profiles/%d/delete", pprof.ID),
	}
	return a, pages
}

// TestConsoleSecurityHeaders: a strict Content-Security-Policy and friends on every
// page, and cookies only the server reads.
func TestConsoleSecurityHeaders(t *testing.T) {
	a := newApp(t)
	a.user("admin", roster.RoleAdmin)
	c := a.client()
	resp, _ := c.get("/signin")
	h := resp.Header
	if got := h.Get("Content-Security-Policy"); !strings.Contains(got, "script-src 'self'") || !strings.Contains(got, "default-src 'none'") ||
		strings.Contains(got, "unsafe-inline") || !strings.Contains(got, "frame-ancestors 'none'") {
		t.Errorf("Content-Security-Policy: %q", got)
	}
	for k, want := range map[string]string{"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer", "Cache-Control": "no-store"} {
		if got := h.Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	pre := cookieNamed(resp, "roster_csrf")
	if pre == nil || !pre.HttpOnly || pre.SameSite != http.SameSiteLaxMode {
		t.Errorf("anonymous CSRF cookie: %+v", pre)
	}
	tok := c.csrf("/signin")
	resp, _ = c.post("/signin", url.Values{"csrf": {tok}, "tenant": {"acme"}, "login": {"admin"}, "password": {password}})
	sess := cookieNamed(resp, "roster_session")
	if sess == nil || !sess.HttpOnly || sess.SameSite != http.SameSiteLaxMode || sess.Secure {
		t.Errorf("session cookie over plain HTTP: %+v", sess)
	}

	// Behind https, cookies are Secure and HSTS is on.
	db := testdb.SQLite(t)
	svc := roster.NewService(db, roster.Options{})
	mux := http.NewServeMux()
	console.New(svc, nil, console.Options{PublicURL: "https://roster.example"}).Register(mux)
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/signin", nil))
	if c := cookieNamed(&http.Response{Header: rec.Header()}, "roster_csrf"); c == nil || !c.Secure {
		t.Errorf("cookie behind https: %+v", c)
	}
	if rec.Header().Get("Strict-Transport-Security") == "" {
		t.Error("no Strict-Transport-Security behind https")
	}

	// Scripts and styles come from /static, versioned and cacheable.
	_, body := c.get("/")
	for _, asset := range regexp.MustCompile(`(?:src|href)="(/static/[^"]+)"`).FindAllStringSubmatch(body, -1) {
		resp, _ := c.get(strings.ReplaceAll(asset[1], "&amp;", "&"))
		if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Cache-Control"), "immutable") {
			t.Errorf("%s: %d %q", asset[1], resp.StatusCode, resp.Header.Get("Cache-Control"))
		}
	}
	if strings.Contains(body, "<script>") || strings.Contains(body, " style=") || strings.Contains(body, "<style") {
		t.Error("a page has an inline script or style, which the policy forbids")
	}
}

func cookieNamed(resp *http.Response, name string) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// TestConsoleCSRF: a form post without the page's token, or from another site, is
// refused and changes nothing.
func TestConsoleCSRF(t *testing.T) {
	a := newApp(t)
	a.user("admin", roster.RoleAdmin)
	c := a.client()
	c.signIn("admin")
	tok := c.csrf("/groups")
	form := func(token string) url.Values {
		return url.Values{"csrf": {token}, "name": {"Night shift"}}
	}
	if resp, _ := c.post("/groups", form("")); resp.StatusCode != http.StatusForbidden {
		t.Errorf("no token: %d", resp.StatusCode)
	}
	if resp, _ := c.post("/groups", form(tok+"x")); resp.StatusCode != http.StatusForbidden {
		t.Errorf("wrong token: %d", resp.StatusCode)
	}
	// Another site's page posting with a (leaked) token: the browser says so.
	req, _ := http.NewRequest(http.MethodPost, c.base+"/groups", strings.NewReader(form(tok).Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := c.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site post: %d", resp.StatusCode)
	}
	// An old browser without Sec-Fetch-Site, with a foreign Origin.
	req, _ = http.NewRequest(http.MethodPost, c.base+"/groups", strings.NewReader(form(tok).Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	resp, err = c.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("foreign origin: %d", resp.StatusCode)
	}
	groups, err := a.svc.ListGroups(context.Background(), a.sys)
	if err != nil || len(groups) != 1 {
		t.Fatalf("a refused post created a group: %v %v", err, groups)
	}
	if resp, _ := c.post("/groups", form(tok)); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("with the token: %d", resp.StatusCode)
	}
	// The skill, profile and property forms need the token too.
	ctx := context.Background()
	skill, err := a.svc.CreateSkill(ctx, a.sys, roster.SkillInput{Name: roster.Some("Chat")})
	if err != nil {
		t.Fatal(err)
	}
	prof, err := a.svc.CreateGroupProfile(ctx, a.sys, a.group, roster.ProfileInput{Name: roster.Some("Frontline")})
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{fmt.Sprintf("/skills/%d/edit", skill.ID), fmt.Sprintf("/skills/%d/delete", skill.ID),
		fmt.Sprintf("/profiles/%d/edit", prof.ID), fmt.Sprintf("/profiles/%d/delete", prof.ID), "/properties/resource_filter/edit"} {
		if resp, _ := c.post(path, url.Values{"name": {"Changed"}, "label": {"Changed"}}); resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s without a token: %d", path, resp.StatusCode)
		}
	}
	if skills, _ := a.svc.ListSkills(ctx, a.sys); len(skills) != 1 || skills[0].Name != "Chat" {
		t.Errorf("a post without a token changed the skills: %v", skills)
	}
	if p, err := a.svc.Profile(ctx, a.sys, prof.ID); err != nil || p.Name != "Frontline" {
		t.Errorf("a post without a token changed the profile: %v %v", p, err)
	}
	if p, _ := a.svc.Property(ctx, a.sys, "resource_filter"); p.Label != "Resource filter" {
		t.Errorf("a post without a token changed the property: %s", p.Label)
	}
	// Another session's token does not work in this one.
	other := a.client()
	a.user("bob", roster.RoleAdmin)
	other.signIn("bob")
	if resp, _ := other.post("/groups", url.Values{"csrf": {tok}, "name": {"Weekend"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("another session's token: %d", resp.StatusCode)
	}
}

// TestConsoleSignIn: wrong passwords are refused without saying which part was
// wrong, "next" never leaves the site, and signing out ends the session.
func TestConsoleSignIn(t *testing.T) {
	a := newApp(t)
	a.user("admin", roster.RoleAdmin)
	c := a.client()
	tok := c.csrf("/signin")
	resp, body := c.post("/signin", url.Values{"csrf": {tok}, "tenant": {"acme"}, "login": {"admin"}, "password": {"wrong password"}})
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "username, email or password is wrong") || cookieNamed(resp, "roster_session") != nil {
		t.Errorf("wrong password: %d", resp.StatusCode)
	}
	if !strings.Contains(body, `value="admin"`) || strings.Contains(body, "wrong password") {
		t.Error("the refused form should keep the login and drop the password")
	}
	resp, _ = c.post("/signin", url.Values{"csrf": {tok}, "tenant": {"acme"}, "login": {"admin"}, "password": {password}, "next": {"//evil.example/x"}})
	if loc := resp.Header.Get("Location"); loc != "/" {
		t.Errorf("next=//evil.example led to %q", loc)
	}
	resp, _ = c.get("/users")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("signed in: /users %d", resp.StatusCode)
	}
	resp, _ = c.post("/signout", url.Values{"csrf": {c.csrf("/users")}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign out: %d", resp.StatusCode)
	}
	resp, _ = c.get("/users")
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/signin?next=") {
		t.Errorf("after sign-out /users answers %d %s", resp.StatusCode, loc)
	}
	// Forgot password answers the same for an account that does not exist.
	for _, login := range []string{"admin", "nobody"} {
		resp, _ = c.post("/forgot", url.Values{"csrf": {c.csrf("/forgot")}, "tenant": {"acme"}, "login": {login}, "channel": {"email"}})
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/reset?") {
			t.Errorf("forgot %s: %d %s", login, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
}

// TestConsoleEscaping: what users type is shown as text, never run.
func TestConsoleEscaping(t *testing.T) {
	a := newApp(t)
	a.user("admin", roster.RoleAdmin)
	evil := `<script>alert("x")</script>`
	if _, err := a.svc.CreateUser(context.Background(), a.sys, roster.UserInput{Username: roster.Some("eve"), Name: roster.Some(evil),
		Email: roster.Some("eve@acme.test"), Language: roster.Some("en"), GroupID: roster.Some(a.group)}); err != nil {
		t.Fatal(err)
	}
	c := a.client()
	c.signIn("admin")
	for _, p := range []string{"/users", "/users?q=eve", "/"} {
		_, body := c.get(p)
		if strings.Contains(body, evil) {
			t.Errorf("%s shows the name unescaped", p)
		}
	}
	_, body := c.get("/users?q=" + url.QueryEscape(`"><img src=x>`))
	if strings.Contains(body, `"><img src=x>`) {
		t.Error("the search term is echoed unescaped")
	}
}

// TestConsoleInviteFieldErrors: a batch with one bad row creates nobody and puts
// each message next to its row's field.
func TestConsoleInviteFieldErrors(t *testing.T) {
	a := newApp(t)
	a.user("admin", roster.RoleAdmin)
	c := a.client()
	c.signIn("admin")
	tok := c.csrf("/invite")
	g := fmt.Sprint(a.group)
	resp, body := c.post("/invite", url.Values{"csrf": {tok},
		"invitations[0].email": {"ok@acme.test"}, "invitations[0].group_id": {g}, "invitations[0].language": {"en"}, "invitations[0].roles": {"user"},
		"invitations[5].email": {"not-an-email"}, "invitations[5].group_id": {g}, "invitations[5].language": {"en"}, "invitations[5].roles": {"user"},
	})
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("bad batch: %d", resp.StatusCode)
	}
	if !strings.Contains(body, `id="f-inv-1-email-error"`) || strings.Contains(body, `id="f-inv-0-email-error"`) {
		t.Error("the email error is not next to the second row's email field")
	}
	if !strings.Contains(body, `value="ok@acme.test"`) || !strings.Contains(body, `value="not-an-email"`) {
		t.Error("the refused form lost what was typed")
	}
	page, err := a.svc.ListUsers(context.Background(), a.sys, roster.UserQuery{Status: "invited"})
	if err != nil || page.Total != 0 {
		t.Errorf("a refused batch invited %d users (%v)", page.Total, err)
	}
}

// TestConsoleExportNeedsPermission: the core decides who may download; the console
// only hides the button from those who may not.
func TestConsoleExportNeedsPermission(t *testing.T) {
	a := newApp(t)
	a.user("rita", roster.RoleReadOnly)
	c := a.client()
	c.signIn("rita")
	_, body := c.get("/users")
	if strings.Contains(body, "Download CSV") {
		t.Error("a user without export.csv is offered the download")
	}
	if resp, _ := c.get("/users.csv"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("/users.csv without export.csv: %d", resp.StatusCode)
	}
	if strings.Contains(body, "/invite") {
		t.Error("a read-only user is offered the invite page")
	}
}

// TestConsoleInvitedUserActions: resend, copy a fresh link (as text for the
// clipboard script, or as a page), and cancel with a confirmation.
func TestConsoleInvitedUserActions(t *testing.T) {
	a := newApp(t)
	a.user("admin", roster.RoleAdmin)
	ctx := context.Background()
	links, err := a.svc.InviteUsers(ctx, a.sys, []roster.UserInput{{Name: roster.Some("Ivy"), Email: roster.Some("ivy@acme.test"),
		Language: roster.Some("en"), GroupID: roster.Some(a.group)}})
	if err != nil {
		t.Fatal(err)
	}
	ivy := links[0].Invitation.UserID
	c := a.client()
	c.signIn("admin")
	_, body := c.get("/users?tab=invited")
	for _, action := range []string{"/invitation/resend", "/invitation/link", "/invitation/cancel"} {
		if !strings.Contains(body, fmt.Sprintf("/users/%d%s", ivy, action)) {
			t.Errorf("the Invited tab offers no %s", action)
		}
	}
	tok := c.csrf("/users?tab=invited")
	resp, _ := c.post(fmt.Sprintf("/users/%d/invitation/resend", ivy), url.Values{"csrf": {tok}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("resend: %d", resp.StatusCode)
	}
	if _, err := a.svc.InspectInvitation(ctx, links[0].URL[strings.LastIndex(links[0].URL, "/")+1:]); err == nil {
		t.Error("the link of the first email still works after a resend")
	}
	req, _ := http.NewRequest(http.MethodPost, c.base+fmt.Sprintf("/users/%d/invitation/link", ivy), strings.NewReader(url.Values{"csrf": {tok}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("Accept", "text/plain")
	resp, err = c.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	link, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if info, err := a.svc.InspectInvitation(ctx, string(link[strings.LastIndex(string(link), "/")+1:])); err != nil || info.Name != "Ivy" {
		t.Errorf("copied link %q: %v", link, err)
	}
	resp, body = c.post(fmt.Sprintf("/users/%d/invitation/link", ivy), url.Values{"csrf": {tok}})
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "http://roster.test/invite/inv_") {
		t.Errorf("the link page: %d", resp.StatusCode)
	}
	if _, body := c.get(fmt.Sprintf("/users/%d/invitation/cancel", ivy)); !strings.Contains(body, "stops working") {
		t.Error("the cancel confirmation does not say what happens")
	}
	resp, _ = c.post(fmt.Sprintf("/users/%d/invitation/cancel", ivy), url.Values{"csrf": {tok}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("cancel: %d", resp.StatusCode)
	}
	if _, err := a.svc.User(ctx, a.sys, ivy); roster.ErrorCode(err) != roster.ENotFound {
		t.Errorf("the cancelled invitee is still listed: %v", err)
	}
}

// TestConsoleUserForms: create a user without an invitation (seed 003),
// edit them, set a property, move them (refused while on a queue), and
// deactivate; each refusal comes back next to its field or on its page.
func TestConsoleUserForms(t *testing.T) {
	a := newApp(t)
	ctx := context.Background()
	admin := a.user("admin", roster.RoleAdmin)
	sales, err := a.svc.CreateGroup(ctx, a.sys, roster.GroupInput{Name: roster.Some("Sales"), ParentID: roster.Some(a.group)})
	if err != nil {
		t.Fatal(err)
	}
	c := a.client()
	c.signIn("admin")
	tok := c.csrf("/users/new")

	resp, body := c.post("/users/new", url.Values{"csrf": {tok}, "mobile": {"0170 1234567"}, "agent_number": {"12x"}})
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("an empty form: %d", resp.StatusCode)
	}
	for _, field := range []string{"username", "group_id", "mobile", "agent_number"} {
		if !strings.Contains(body, `id="f-`+field+`-error"`) {
			t.Errorf("no error next to %s", field)
		}
	}
	resp, _ = c.post("/users/new", url.Values{"csrf": {tok}, "username": {"bert"}, "mobile": {"0049 170 1234567"},
		"language": {"de"}, "group_id": {fmt.Sprint(a.group)}, "roles": {"agent"}, "agent_number": {"4711"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("create: %d", resp.StatusCode)
	}
	page, err := a.svc.ListUsers(ctx, a.sys, roster.UserQuery{Q: "bert"})
	if err != nil || page.Total != 1 {
		t.Fatalf("bert: %v %v", err, page)
	}
	bert := page.Items[0]
	if bert.Status != roster.StatusActive || bert.Mobile != "+491701234567" || bert.AgentNumber == nil || *bert.AgentNumber != 4711 {
		t.Errorf("created %+v", bert)
	}
	// The number is taken now: "see used IDs" lists it, a second user cannot have it.
	if _, body := c.get("/users/new"); !strings.Contains(body, "<li>4711</li>") {
		t.Error("the used agent numbers do not list 4711")
	}

	// Edit: nicknames and flags; a property set on the user shows its source.
	id := fmt.Sprint(bert.ID)
	resp, _ = c.post("/users/"+id+"/edit", url.Values{"csrf": {tok}, "username": {"bert"}, "name": {"Bert B"}, "mobile": {"+491701234567"},
		"language": {"de"}, "roles": {"agent"}, "nicknames": {"Bertie\nB."}, "roaming": {"on"}, "agent_number": {"4711"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("edit: %d", resp.StatusCode)
	}
	resp, _ = c.post("/users/"+id+"/properties/wrapup_timeout_phone", url.Values{"csrf": {tok}, "value": {"90"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("set property: %d", resp.StatusCode)
	}
	_, body = c.get("/users/" + id)
	for _, want := range []string{"Bertie, B.", "90 s", "set on this user", "Acme Ltd"} {
		if !strings.Contains(body, want) {
			t.Errorf("the user page lacks %q", want)
		}
	}

	// Move: refused while on a queue, with the reason on the page.
	on := true
	if _, err := a.svc.SetQueue(ctx, a.sys, bert.ID, &on); err != nil {
		t.Fatal(err)
	}
	resp, body = c.post("/users/"+id+"/move", url.Values{"csrf": {tok}, "group_id": {fmt.Sprint(sales.ID)}, "move_interactions": {"on"}})
	if resp.StatusCode != http.StatusConflict || !strings.Contains(body, "logged on to a queue") {
		t.Errorf("move while on a queue: %d", resp.StatusCode)
	}
	resp, _ = c.post("/users/"+id+"/queue", url.Values{"csrf": {tok}, "logged_on": {"false"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("log off the queue: %d", resp.StatusCode)
	}
	resp, _ = c.post("/users/"+id+"/move", url.Values{"csrf": {tok}, "group_id": {fmt.Sprint(sales.ID)}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("move: %d", resp.StatusCode)
	}
	if u, _ := a.svc.User(ctx, a.sys, bert.ID); u.GroupID != sales.ID || string(u.Properties["wrapup_timeout_phone"].Value) != "90" {
		t.Errorf("after the move: group %d, property %+v", u.GroupID, u.Properties["wrapup_timeout_phone"])
	}

	// Nobody deactivates themself; the page says so.
	resp, body = c.post(fmt.Sprintf("/users/%d/deactivate", admin.ID), url.Values{"csrf": {tok}})
	if resp.StatusCode != http.StatusConflict || !strings.Contains(body, "cannot deactivate yourself") {
		t.Errorf("deactivating oneself: %d", resp.StatusCode)
	}
}

// TestConsoleSignInWithSSO: the sign-in page offers the organisation's
// enabled identity providers once the organisation is known, as text.
func TestConsoleSignInWithSSO(t *testing.T) {
	a := newApp(t)
	ctx := context.Background()
	for _, in := range []roster.SSOProviderInput{
		{Name: roster.Some("Okta <b>EU</b>")},
		{Name: roster.Some("Old IdP"), Enabled: roster.Some(false)},
	} {
		in.Kind, in.Issuer, in.ClientID = roster.Some("oidc"), roster.Some("https://idp.example"), roster.Some("c")
		if _, err := a.svc.CreateSSOProvider(ctx, a.sys, in); err != nil {
			t.Fatal(err)
		}
	}
	c := a.client()
	_, body := c.get("/signin")
	if strings.Contains(body, ">Sign in with ") { // a button; console.js's word for them is on <body>
		t.Error("SSO buttons without an organisation")
	}
	_, body = c.get("/signin?tenant=acme")
	if !strings.Contains(body, "Sign in with Okta &lt;b&gt;EU&lt;/b&gt;</a>") || !strings.Contains(body, `href="/sso/`) || strings.Contains(body, "Old IdP") {
		t.Errorf("sign-in page of acme: %s", body)
	}
	_, body = c.get("/signin?tenant=nosuch")
	if strings.Contains(body, ">Sign in with ") {
		t.Error("SSO buttons for an unknown organisation")
	}
}

// TestConsoleSSOSettings: an Admin adds, reads (with the redirect URI to
// copy, never the secret) and removes an identity provider; an Agent may not.
func TestConsoleSSOSettings(t *testing.T) {
	a := newApp(t)
	a.user("admin", roster.RoleAdmin)
	a.user("agnes", roster.RoleAgent)
	c := a.client()
	c.signIn("admin")
	resp, body := c.post("/settings/sso", url.Values{"csrf": {c.csrf("/settings/sso")}, "name": {"Okta"}, "issuer": {"http://evil.example"}, "client_id": {"abc"}})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "must start with https://") {
		t.Errorf("bad issuer: %d", resp.StatusCode)
	}
	resp, _ = c.post("/settings/sso", url.Values{"csrf": {c.csrf("/settings/sso")}, "name": {"Okta"}, "issuer": {"https://acme.okta.example"},
		"client_id": {"abc"}, "client_secret": {"s3cr3t-value"}, "match_claim": {"email"}})
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/settings/sso/") {
		t.Fatalf("add: %d %s", resp.StatusCode, loc)
	}
	_, body = c.get(loc)
	if !strings.Contains(body, "/callback") || !strings.Contains(body, "A secret is stored") || strings.Contains(body, "s3cr3t") {
		t.Errorf("edit page: %s", body)
	}
	resp, _ = c.post(loc+"/delete", url.Values{"csrf": {c.csrf(loc + "/delete")}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("delete: %d", resp.StatusCode)
	}
	agent := a.client()
	agent.signIn("agnes")
	if resp, _ := agent.get("/settings/sso"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("an Agent opened the SSO settings: %d", resp.StatusCode)
	}
}
