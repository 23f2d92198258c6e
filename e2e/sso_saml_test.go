package e2e

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/roster"
	"github.com/roster-dev/roster/internal/ssotest"
)

// TestConsoleSAMLSignIn: in real Chromium, a person types their
// organisation and work email on the sign-in page, is sent to their SAML
// identity provider (crewjam/saml's samlidp, in-process), signs in at its
// login form, and its page posts the signed answer back into the console.
// Then an admin's "try sign-in" from the settings page shows what the IdP
// sent without signing anyone in.
func TestConsoleSAMLSignIn(t *testing.T) {
	env := newConsoleEnv(t)
	idp := ssotest.StartSAML(t)
	p, err := env.svc.CreateSSOProvider(context.Background(), env.sys, roster.SSOProviderInput{Kind: roster.Some("saml"),
		Name: roster.Some("ADFS"), MetadataURL: roster.Some(idp.MetadataURL), EmailDomains: roster.Some([]string{"acme.test"})})
	if err != nil {
		t.Fatal(err)
	}
	idp.AddSP(t, "roster", p.SPMetadataURL)
	u := env.plainUser("anna.k", "Sales", roster.RoleAdmin)
	idp.AddUser(t, "anna", "adfs-pw", u.Email, "Anna", "K")

	b := env.browser()
	b.open("/signin")
	b.fill("#f-tenant", "acme")
	b.fill("#f-email", u.Email)

	b.click("#sso-route button")
	b.waitFor(`location.href.startsWith("` + idp.URL + `/sso")`)
	if !strings.HasPrefix(b.location(), idp.URL+"/sso") {
		t.Fatalf("not at the IdP's login page: %s", b.location())
	}
	b.fill("input[name=user]", "anna")
	b.fill("input[name=password]", "adfs-pw")
	b.evalOK(`(() => { document.querySelector("input[type=submit]").click(); return true; })()`, "log in")
	b.waitFor(`location.origin === "` + env.url + `" && location.pathname === "/" && document.readyState === "complete"`)
	b.open("/users")
	if b.path() != "/users" {
		t.Fatalf("after SAML sign-in the console sent the browser to %s", b.path())
	}

	// Try sign-in, from the settings page: a report, and still anna.
	b.open("/settings/sso/" + strconv.FormatInt(p.ID, 10))
	b.follow("#try-" + strconv.FormatInt(p.ID, 10))
	b.waitFor(`location.origin === "` + env.url + `" && document.querySelector("#outcome") !== null`)
	if got := b.text("#outcome"); !strings.Contains(got, "Would sign in") || !strings.Contains(got, "(anna.k) would be signed in") {
		t.Errorf("try sign-in: %q", got)
	}
	if body := b.text("main"); !strings.Contains(body, "mail (urn:oid:0.9.2342.19200300.100.1.3)") {
		t.Errorf("try sign-in shows no attributes: %s", body)
	}
	b.open("/users")
	if b.path() != "/users" {
		t.Fatalf("after try sign-in: %s", b.path())
	}
}

// TestConsoleSSOLogout: signing out of a session an OpenID Connect IdP
// began ends Roster's session and sends the browser on to the IdP's
// end_session_endpoint (RP-initiated logout), with the client ID.
func TestConsoleSSOLogout(t *testing.T) {
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
	b.open("/sso/" + strconv.FormatInt(p.ID, 10) + "/start")
	b.fill("input[name=username]", "anna@okta")
	b.fill("input[name=password]", "okta-pw")
	b.submit("form button")
	b.waitFor(`location.origin === "` + env.url + `" && location.pathname === "/"`)
	b.click("form[action='/signout'] button")
	b.waitFor(`location.href.startsWith("` + op.Issuer + `")`)
	if loc := b.location(); !strings.Contains(loc, "client_id=roster") || !strings.Contains(loc, "post_logout_redirect_uri=") {
		t.Errorf("at the IdP's logout: %s", loc)
	}
	b.open("/users")
	if !strings.HasPrefix(b.path(), "/signin") {
		t.Errorf("after signing out, /users went to %s", b.path())
	}
}
