package api

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/roster"
	"github.com/roster-dev/roster/internal/ssotest"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/testdb"
)

// ssoWorld is a tenant served over HTTP with a real OpenID Provider beside it.
type ssoWorld struct {
	t      *testing.T
	svc    *roster.Service
	url    string
	op     *ssotest.OP
	tenant *roster.Tenant
	root   int64
}

func newSSOWorld(t *testing.T, db *store.DB) *ssoWorld {
	t.Helper()
	svc := roster.NewService(db, roster.Options{Logger: slog.New(slog.DiscardHandler), SSOAllowLoopbackHTTP: true})
	mux := http.NewServeMux()
	New(svc, slog.New(slog.DiscardHandler)).Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	svc.SetPublicURL(srv.URL)
	ctx := context.Background()
	tn, err := svc.CreateTenant(ctx, "acme", "Acme")
	if err != nil {
		t.Fatal(err)
	}
	groups, err := svc.ListGroups(ctx, roster.SystemActor(tn.ID))
	if err != nil {
		t.Fatal(err)
	}
	return &ssoWorld{t: t, svc: svc, url: srv.URL, op: ssotest.Start(t), tenant: tn, root: groups[0].ID}
}

// provider configures an OIDC provider as actor a and registers its client at the OP.
func (w *ssoWorld) provider(a *roster.Actor, name string, in roster.SSOProviderInput) *roster.SSOProvider {
	w.t.Helper()
	clientID := "roster-" + strings.ToLower(name)
	in.Kind, in.Name, in.Issuer = roster.Some("oidc"), roster.Some(name), roster.Some(w.op.Issuer)
	in.ClientID, in.ClientSecret = roster.Some(clientID), roster.Some("secret-"+clientID)
	p, err := w.svc.CreateSSOProvider(context.Background(), a, in)
	if err != nil {
		w.t.Fatal(err)
	}
	w.op.AddClient(clientID, "secret-"+clientID, p.RedirectURI)
	return p
}

func (w *ssoWorld) user(name string, roles ...string) *roster.User {
	w.t.Helper()
	u, err := w.svc.CreateUser(context.Background(), roster.SystemActor(w.tenant.ID), roster.UserInput{Username: roster.Some(name),
		Name: roster.Some(name), Email: roster.Some(name + "@acme.example"), Language: roster.Some("en"),
		GroupID: roster.Some(w.root), Roles: roster.Some(roles)})
	if err != nil {
		w.t.Fatal(err)
	}
	return u
}

// signIn runs the whole flow in a fresh browser; it returns the final
// answer, its body, and the signed-in username ("" when none).
func (w *ssoWorld) signIn(p *roster.SSOProvider, login string) (*http.Response, string, string) {
	w.t.Helper()
	c := w.op.Browser(w.t, w.url)
	resp, body := w.op.SignIn(w.t, c, w.url+"/sso/"+strconv.FormatInt(p.ID, 10)+"/start", login, "pw-"+login)
	return resp, body, w.whoami(c)
}

func (w *ssoWorld) whoami(c *http.Client) string {
	w.t.Helper()
	resp, err := c.Get(w.url + "/api/v1/sessions/current")
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	var info SessionInfo
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&info) != nil {
		return ""
	}
	return info.User.Username
}

func (w *ssoWorld) idpUser(login, email string, verified bool) {
	w.op.AddUser(ssotest.User{Subject: "sub-" + login, Username: login, Password: "pw-" + login, Email: email,
		EmailVerified: verified, Name: "IdP " + login})
}

func wantRefused(t *testing.T, what string, resp *http.Response, body, who string, status int, words string) {
	t.Helper()
	if resp.StatusCode != status || !strings.Contains(body, words) || who != "" {
		t.Errorf("%s: %d %q signed in as %q; want %d saying %q", what, resp.StatusCode, body, who, status, words)
	}
}

func TestSSOSignIn(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		w := newSSOWorld(t, db)
		ctx := context.Background()
		sys := roster.SystemActor(w.tenant.ID)
		p := w.provider(sys, "Okta", roster.SSOProviderInput{})

		// Linking by verified email, then by the subject alone.
		w.user("anna", "agent")
		w.idpUser("anna", "anna@acme.example", true)
		resp, body, who := w.signIn(p, "anna")
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" || who != "anna" {
			t.Fatalf("sign-in by verified email: %d %s as %q", resp.StatusCode, body, who)
		}
		w.idpUser("anna", "anna.new@elsewhere.example", true)
		if _, body, who := w.signIn(p, "anna"); who != "anna" {
			t.Errorf("sign-in by linked subject: %s as %q", body, who)
		}
		audit, err := w.svc.ListAudit(ctx, sys, roster.AuditFilter{Action: "sso.link"})
		if err != nil || audit.Total != 1 {
			t.Errorf("sso.link audited %v times (%v), want once", audit, err)
		}

		// An unverified email finds nobody.
		w.user("bob", "agent")
		w.idpUser("bob", "bob@acme.example", false)
		resp, body, who = w.signIn(p, "bob")
		wantRefused(t, "unverified email", resp, body, who, http.StatusForbidden, "has not verified your email address")
		entra := w.provider(sys, "Entra", roster.SSOProviderInput{TrustEmail: roster.Some(true)})
		if _, body, who := w.signIn(entra, "bob"); who != "bob" {
			t.Errorf("a provider trusted with its emails: %s", body)
		}

		// Nobody of that email, and no just-in-time creation.
		w.idpUser("zed", "zed@acme.example", true)
		resp, body, who = w.signIn(p, "zed")
		wantRefused(t, "unknown user", resp, body, who, http.StatusForbidden, "no account of Acme matches")

		// Deactivated users never get in, linked or not.
		dora := w.user("dora", "agent")
		w.idpUser("dora", "dora@acme.example", true)
		if _, _, who := w.signIn(p, "dora"); who != "dora" {
			t.Fatalf("dora could not sign in")
		}
		if _, err := w.svc.DeactivateUser(ctx, sys, dora.ID); err != nil {
			t.Fatal(err)
		}
		resp, body, who = w.signIn(p, "dora")
		wantRefused(t, "deactivated user", resp, body, who, http.StatusForbidden, "deactivated")

		// An invited user is activated by the first sign-in.
		links, err := w.svc.InviteUsers(ctx, sys, []roster.UserInput{{Username: roster.Some("erin"), Name: roster.Some("Erin"),
			Email: roster.Some("erin@acme.example"), Language: roster.Some("en"), GroupID: roster.Some(w.root), Roles: roster.Some([]string{"agent"})}})
		if err != nil {
			t.Fatal(err)
		}
		w.idpUser("erin", "erin@acme.example", true)
		if _, body, who := w.signIn(p, "erin"); who != "erin" {
			t.Fatalf("invited erin: %s", body)
		}
		if u, err := w.svc.User(ctx, sys, links[0].Invitation.UserID); err != nil || u.Status != roster.StatusActive {
			t.Errorf("erin after SSO: %+v %v, want active", u, err)
		}

		// Key rotation: the new key is fetched when a token names it.
		w.op.RotateKey()
		if _, body, who := w.signIn(p, "anna"); who != "anna" {
			t.Errorf("after key rotation: %s", body)
		}

		// A disabled provider sends nobody anywhere.
		if _, err := w.svc.UpdateSSOProvider(ctx, sys, p.ID, roster.SSOProviderInput{Enabled: roster.Some(false)}); err != nil {
			t.Fatal(err)
		}
		resp, body, who = w.signIn(p, "anna")
		wantRefused(t, "disabled provider", resp, body, who, http.StatusNotFound, "does not exist")
	})
}

func TestSSOState(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		w := newSSOWorld(t, db)
		p := w.provider(roster.SystemActor(w.tenant.ID), "Okta", roster.SSOProviderInput{})
		w.user("anna", "agent")
		w.idpUser("anna", "anna@acme.example", true)
		start := w.url + "/sso/" + strconv.FormatInt(p.ID, 10) + "/start"

		// The start sends the browser to the IdP with PKCE S256, state and nonce.
		c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := c.Get(start)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc := resp.Header.Get("Location")
		for _, want := range []string{w.op.Issuer + "/authorize?", "code_challenge_method=S256", "code_challenge=", "nonce=", "state="} {
			if resp.StatusCode != http.StatusFound || !strings.Contains(loc, want) {
				t.Errorf("start: %d %s, want it to contain %s", resp.StatusCode, loc, want)
			}
		}

		// A callback whose state is not the browser's (login CSRF): refused.
		b := w.op.Browser(t, w.url)
		if _, _, who := w.signIn(p, "anna"); who != "anna" {
			t.Fatal("anna could not sign in")
		}
		resp, err = b.Get(w.url + "/sso/" + strconv.FormatInt(p.ID, 10) + "/callback?code=x&" + loc[strings.Index(loc, "state="):])
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		wantRefused(t, "state of another browser", resp, string(body), w.whoami(b), http.StatusUnauthorized, "not started in this browser")

		// A replayed callback: the state was used already.
		b = w.op.Browser(t, w.url)
		var callback string
		b.CheckRedirect = func(req *http.Request, _ []*http.Request) error {
			if strings.Contains(req.URL.Path, "/callback") && strings.HasPrefix(req.URL.String(), w.url) {
				callback = req.URL.String()
			}
			if strings.HasPrefix(req.URL.String(), w.url) && !strings.HasPrefix(req.URL.Path, "/sso/") {
				return http.ErrUseLastResponse
			}
			return nil
		}
		w.op.SignIn(t, b, start, "anna", "pw-anna")
		if w.whoami(b) != "anna" || callback == "" {
			t.Fatal("anna could not sign in")
		}
		resp, err = b.Get(callback)
		if err != nil {
			t.Fatal(err)
		}
		body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(body), "not started in this browser") {
			t.Errorf("replayed callback: %d %s", resp.StatusCode, body)
		}
	})
}

// TestSSOJustInTime: unknown people are created with the provider's role
// and group, through CreateUser as the person who configured the provider,
// with that person's rights of today (the grant rule).
func TestSSOJustInTime(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		w := newSSOWorld(t, db)
		ctx := context.Background()
		sys := roster.SystemActor(w.tenant.ID)
		jit := func(role string) roster.SSOProviderInput {
			return roster.SSOProviderInput{JIT: roster.Some(true), DefaultRole: roster.Some(role), DefaultGroupID: roster.Some(w.root)}
		}
		actor := func(u *roster.User) *roster.Actor {
			a, err := w.svc.ActorForUser(ctx, w.tenant.ID, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			return a
		}

		// An Environment Manager may set up the roles they may give...
		em := w.user("emma", "environment_manager")
		p := w.provider(actor(em), "Okta", jit("operator"))
		w.idpUser("carl", "carl@acme.example", true)
		if _, body, who := w.signIn(p, "carl"); who != "carl@acme.example" {
			t.Fatalf("JIT creation: %s", body)
		}
		id, err := db.Read().UserIDByField(ctx, w.tenant.ID, "email", "carl@acme.example")
		if err != nil {
			t.Fatal(err)
		}
		if u, err := w.svc.User(ctx, sys, id); err != nil || u.Status != roster.StatusActive || len(u.Roles) != 1 || u.Roles[0] != "operator" || u.GroupID != w.root {
			t.Errorf("JIT user: %+v %v", u, err)
		}
		// ...but not Admin.
		_, err = w.svc.CreateSSOProvider(ctx, actor(em), roster.SSOProviderInput{Kind: roster.Some("oidc"), Name: roster.Some("Admins"),
			Issuer: roster.Some(w.op.Issuer), ClientID: roster.Some("x"), JIT: roster.Some(true), DefaultRole: roster.Some("admin"),
			DefaultGroupID: roster.Some(w.root)})
		if roster.ErrorCode(err) != roster.EForbidden {
			t.Errorf("an Environment Manager configured JIT Admins: %v", err)
		}

		// An Admin's provider that makes Admins, once the Admin is an
		// Environment Manager, makes nobody.
		boss := w.user("boss", "admin")
		p2 := w.provider(actor(boss), "Entra", jit("admin"))
		if _, err := w.svc.UpdateUser(ctx, sys, boss.ID, roster.UserInput{Roles: roster.Some([]string{"environment_manager"})}); err != nil {
			t.Fatal(err)
		}
		w.idpUser("mallory", "mallory@acme.example", true)
		resp, body, who := w.signIn(p2, "mallory")
		wantRefused(t, "JIT Admin after the configurer lost Admin", resp, body, who, http.StatusForbidden, "may not give the role")
		if id, _ := db.Read().UserIDByField(ctx, w.tenant.ID, "email", "mallory@acme.example"); id != 0 {
			t.Errorf("mallory was created (user %d)", id)
		}

		// JIT needs a verified email.
		w.idpUser("vera", "vera@acme.example", false)
		resp, body, who = w.signIn(p, "vera")
		wantRefused(t, "JIT without verified email", resp, body, who, http.StatusForbidden, "has not verified")
	})
}

// TestSSOProvidersAPI: secrets are never shown back; bad input is named.
func TestSSOProvidersAPI(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		svc, url := accessServer(t, db)
		at := newAccessTenant(t, svc, url, "sso")
		admin := at.tokens["admin"]
		status, out := at.call(admin, "POST", "/api/v1/sso/providers", map[string]any{"kind": "oidc", "name": "Okta",
			"issuer": "https://acme.okta.example", "client_id": "abc", "client_secret": "s3cr3t-value"})
		if status != http.StatusCreated || strings.Contains(string(out), "s3cr3t") || !strings.Contains(string(out), `"client_secret_set":true`) ||
			!strings.Contains(string(out), `/callback"`) {
			t.Fatalf("create: %d %s", status, out)
		}
		var p roster.SSOProvider
		_ = json.Unmarshal(out, &p)
		path := "/api/v1/sso/providers/" + strconv.FormatInt(p.ID, 10)
		for _, c := range []struct {
			method, path string
			body         any
			status       int
			words        string
		}{
			{"GET", path, nil, 200, `"client_secret_set":true`},
			{"GET", "/api/v1/sso/providers", nil, 200, `"total":2`}, // the access tenant has one already
			{"POST", "/api/v1/sso/providers", map[string]any{"kind": "oidc", "name": "Okta", "issuer": "https://x.example", "client_id": "d"}, 409, `"field":"name"`},
			{"POST", "/api/v1/sso/providers", map[string]any{"kind": "ldap", "issuer": "http://evil.example", "client_id": ""}, 400, `"field":"issuer"`},
			// Plain http to this machine only when the server allows it (tests).
			{"POST", "/api/v1/sso/providers", map[string]any{"kind": "oidc", "name": "L", "issuer": "http://127.0.0.1:9", "client_id": "l"}, 400, `"field":"issuer"`},
			{"POST", "/api/v1/sso/providers", map[string]any{"kind": "oidc", "name": "J", "issuer": "https://j.example", "client_id": "j", "jit": true}, 400, `"field":"default_role"`},
			{"PATCH", path, map[string]any{"kind": "saml"}, 400, `"field":"kind"`},
			{"PATCH", path, map[string]any{"client_secret": nil, "name": "Okta EU"}, 200, `"client_secret_set":false`},
			{"DELETE", path, nil, 204, ""},
			{"GET", path, nil, 404, ""},
		} {
			status, out := at.call(admin, c.method, c.path, c.body)
			if status != c.status || !strings.Contains(string(out), c.words) || strings.Contains(string(out), "s3cr3t") {
				t.Errorf("%s %s: %d %s, want %d with %s", c.method, c.path, status, out, c.status, c.words)
			}
		}
	})
}
