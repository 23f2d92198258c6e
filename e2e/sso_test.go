package e2e

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/roster"
	"github.com/roster-dev/roster/internal/ssotest"
)

// TestConsoleSSOSignIn: in real Chromium, the sign-in page offers "Sign in
// with Okta" once the organisation is typed; the IdP's (a real OpenID
// Provider's) login page signs the person in and sends them back into the
// console, signed in.
func TestConsoleSSOSignIn(t *testing.T) {
	env := newConsoleEnv(t)
	op := ssotest.Start(t)
	p, err := env.svc.CreateSSOProvider(context.Background(), env.sys, roster.SSOProviderInput{Kind: roster.Some("oidc"),
		Name: roster.Some("Okta"), Issuer: roster.Some(op.Issuer), ClientID: roster.Some("roster"), ClientSecret: roster.Some("s3cret")})
	if err != nil {
		t.Fatal(err)
	}
	op.AddClient("roster", "s3cret", p.RedirectURI)
	u := env.plainUser("anna.k", "Sales", roster.RoleAdmin)
	op.AddUser(ssotest.User{Subject: "okta-anna", Username: "anna@okta", Password: "okta-pw", Email: u.Email, EmailVerified: true})

	b := env.browser()
	b.open("/signin")
	b.fill("#f-tenant", "acme")
	b.waitFor(`document.querySelector("#sso-options a") !== null`)
	if got := b.text("#sso-options a"); got != "Sign in with Okta" {
		t.Fatalf("SSO button: %q", got)
	}
	b.follow("#sso-options a")
	if !strings.HasPrefix(b.location(), op.Issuer+"/login/") {
		t.Fatalf("not at the IdP's login page: %s", b.location())
	}
	b.fill("input[name=username]", "anna@okta")
	b.fill("input[name=password]", "okta-pw")
	b.submit("form button")
	b.waitFor(`location.origin === "` + env.url + `" && location.pathname === "/"`)
	b.open("/users")
	if b.path() != "/users" {
		t.Fatalf("after SSO the console sent the browser to %s", b.path())
	}
	// A sign-in the browser did not start is refused, in words.
	b.open("/sso/" + strconv.FormatInt(p.ID, 10) + "/callback?state=forged&code=x")
	if body := b.text("main"); !strings.Contains(body, "not started in this browser") {
		t.Errorf("forged callback: %s", body)
	}
}
