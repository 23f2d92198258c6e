package api

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/roster"
	"github.com/roster-dev/roster/internal/ssotest"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/testdb"
)

// TestSAMLProvidersAPI: SAML providers are added by metadata, show what the
// IdP must be told (never the SP key), route email domains, and bad input
// is named.
func TestSAMLProvidersAPI(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		svc, base := accessServer(t, db)
		at := newAccessTenant(t, svc, base, "samlapi")
		admin := at.tokens["admin"]
		idp := ssotest.StartSAML(t)
		md := idp.Metadata(t)
		status, out := at.call(admin, "POST", "/api/v1/sso/providers", map[string]any{"kind": "saml", "name": "ADFS",
			"metadata_xml": md, "email_domains": []string{"@Acme.example", "acme-eu.example"}, "idp_initiated": true})
		if status != http.StatusCreated || !strings.Contains(string(out), `"sp_certificate":"-----BEGIN CERTIFICATE`) ||
			strings.Contains(string(out), "PRIVATE KEY") || !strings.Contains(string(out), `"email_domains":["acme-eu.example","acme.example"]`) ||
			!strings.Contains(string(out), `/saml/acs"`) || !strings.Contains(string(out), `"issuer":"`+idp.MetadataURL+`"`) {
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
			{"GET", path, nil, 200, `"idp_initiated":true`},
			{"POST", "/api/v1/sso/providers", map[string]any{"kind": "saml", "name": "S2"}, 400, `"field":"metadata_xml"`},
			{"POST", "/api/v1/sso/providers", map[string]any{"kind": "saml", "name": "S3", "metadata_xml": "<html/>"}, 400, `"field":"metadata_xml"`},
			{"POST", "/api/v1/sso/providers", map[string]any{"kind": "saml", "name": "S4", "metadata_xml": md, "issuer": "https://x.example"}, 400, `"field":"issuer"`},
			// Plain http only when the server allows it (tests), before anything is fetched.
			{"POST", "/api/v1/sso/providers", map[string]any{"kind": "saml", "name": "S5", "metadata_url": idp.MetadataURL}, 400, `"field":"metadata_url"`},
			{"POST", "/api/v1/sso/providers", map[string]any{"kind": "saml", "name": "S6", "metadata_xml": md, "email_domains": []string{"not a domain"}}, 400, `"field":"email_domains"`},
			{"POST", "/api/v1/sso/providers", map[string]any{"kind": "saml", "name": "S7", "metadata_xml": md, "email_domains": []string{"acme.example"}}, 409, `"field":"email_domains"`},
			{"POST", "/api/v1/sso/providers", map[string]any{"kind": "oidc", "name": "O1", "issuer": "https://o.example", "client_id": "o", "metadata_xml": md}, 400, `"field":"metadata_xml"`},
			{"GET", "/api/v1/sso/route?tenant=samlapi&email=Anna@ACME.example", nil, 200, `"start_url":"/sso/` + strconv.FormatInt(p.ID, 10) + `/start"`},
			{"GET", "/api/v1/sso/route?tenant=samlapi&email=anna@other.example", nil, 404, "no single sign-on for other.example"},
			{"GET", "/api/v1/sso/route?tenant=nosuch&email=anna@acme.example", nil, 404, ""},
			{"GET", "/api/v1/sso/route?tenant=samlapi&email=nonsense", nil, 400, `"field":"email"`},
			{"PATCH", path, map[string]any{"name": "ADFS EU", "email_domains": []string{"acme-eu.example"}, "enabled": false}, 200, `"email_domains":["acme-eu.example"]`},
			{"GET", "/api/v1/sso/route?tenant=samlapi&email=anna@acme-eu.example", nil, 404, ""}, // switched off
			{"GET", "/api/v1/sso/options?tenant=samlapi", nil, 200, `"items":[{"id":1,`},         // the access tenant's own; ADFS EU is off
			{"DELETE", path, nil, 204, ""},
			{"GET", path, nil, 404, ""},
		} {
			status, out := at.call(admin, c.method, c.path, c.body)
			if status != c.status || !strings.Contains(string(out), c.words) {
				t.Errorf("%s %s: %d %s, want %d with %s", c.method, c.path, status, out, c.status, c.words)
			}
		}
	})
}

// TestSAMLMetadataAndTry: the SP metadata is served for the IdP; an admin's
// try sign-in shows what came and whom it would sign in, and makes,
// links and signs in nobody; starts are rate-limited.
func TestSAMLMetadataAndTry(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		w := newSAMLWorld(t, db)
		ctx := context.Background()
		sys := roster.SystemActor(w.tenant.ID)
		p := w.provider(sys, "Okta", roster.SSOProviderInput{JIT: roster.Some(true), DefaultRole: roster.Some("agent"),
			DefaultGroupID: roster.Some(w.root), Enabled: roster.Some(false)})
		resp, err := http.Get(p.SPMetadataURL)
		if err != nil {
			t.Fatal(err)
		}
		md, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.Header.Get("Content-Type") != "application/samlmetadata+xml" || !strings.Contains(string(md), `entityID="`+p.SPEntityID+`"`) ||
			!strings.Contains(string(md), `Location="`+p.RedirectURI+`"`) {
			t.Errorf("SP metadata: %s %s", resp.Header.Get("Content-Type"), md)
		}

		// The admin signs in to the console with a password.
		const pw = "correct horse battery staple"
		links, err := w.svc.InviteUsers(ctx, sys, []roster.UserInput{{Username: roster.Some("boss"), Name: roster.Some("Boss"),
			Email: roster.Some("boss@acme.example"), Language: roster.Some("en"), GroupID: roster.Some(w.root), Roles: roster.Some([]string{"admin"})}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.AcceptInvitation(ctx, links[0].URL[strings.LastIndex(links[0].URL, "/")+1:], pw, "127.0.0.1", "test"); err != nil {
			t.Fatal(err)
		}
		c := ssotest.Browser(t, w.url)
		body, _ := json.Marshal(map[string]string{"tenant": "acme", "login": "boss", "password": pw})
		req, _ := http.NewRequest("POST", w.url+"/api/v1/sessions", strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "application/json")
		if resp, err := c.Do(req); err != nil || resp.StatusCode != http.StatusCreated {
			t.Fatalf("console sign-in: %v %v", resp, err)
		}
		anna := w.user("anna", "agent")
		w.idpUser("anna")
		w.idpUser("newbie")
		try := w.url + "/sso/" + strconv.FormatInt(p.ID, 10) + "/try"
		for _, tc := range []struct{ who, words string }{
			{"anna", "anna (anna) would be signed in, and their account would be linked to this Okta account (once the provider is switched on)"},
			{"newbie", "a new account newbie@acme.example would be created with the role &#34;agent&#34;"},
		} {
			w.idp.ForgetSession(c)
			resp, page := w.idp.SignIn(t, c, try, tc.who, "pw-"+tc.who)
			if resp.StatusCode != http.StatusOK || !strings.Contains(page, tc.words) || !strings.Contains(page, "urn:oid:0.9.2342.19200300.100.1.3") {
				t.Errorf("try sign-in as %s: %d %s", tc.who, resp.StatusCode, page)
			}
			if who := w.whoami(c); who != "boss" {
				t.Errorf("after a try sign-in the browser is signed in as %q, want still boss", who)
			}
		}
		if id, _ := db.Read().UserIDByField(ctx, w.tenant.ID, "email", "newbie@acme.example"); id != 0 {
			t.Errorf("the try sign-in created a user")
		}
		if sub, _ := db.Read().SSOUserSubject(ctx, w.tenant.ID, p.ID, anna.ID); sub != "" {
			t.Errorf("the try sign-in linked anna")
		}
		// Nobody else may try, and the provider is still off for real sign-ins.
		resp, page, who := w.signIn(p, "anna")
		wantRefused(t, "a real sign-in with a provider switched off", resp, page, who, http.StatusNotFound, "does not exist")
		resp, err = http.Get(try)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("try sign-in without a session: %d", resp.StatusCode)
		}

		// Starts are limited per client address.
		if _, err := w.svc.UpdateSSOProvider(ctx, sys, p.ID, roster.SSOProviderInput{Enabled: roster.Some(true)}); err != nil {
			t.Fatal(err)
		}
		nc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		last := 0
		for i := 0; i < 40 && last != http.StatusTooManyRequests; i++ {
			resp, err := nc.Get(w.start(p))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			last = resp.StatusCode
			if last == http.StatusTooManyRequests && resp.Header.Get("Retry-After") == "" {
				t.Errorf("429 without Retry-After")
			}
		}
		if last != http.StatusTooManyRequests {
			t.Errorf("40 starts from one address: last answer %d, want 429", last)
		}
	})
}

// TestOIDCTry: a try sign-in through an OpenID Provider shows its claims
// and signs nobody in.
func TestOIDCTry(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		w := newSSOWorld(t, db)
		ctx := context.Background()
		sys := roster.SystemActor(w.tenant.ID)
		p := w.provider(sys, "Okta", roster.SSOProviderInput{})
		const pw = "correct horse battery staple"
		links, err := w.svc.InviteUsers(ctx, sys, []roster.UserInput{{Username: roster.Some("boss"), Name: roster.Some("Boss"),
			Email: roster.Some("boss@acme.example"), Language: roster.Some("en"), GroupID: roster.Some(w.root), Roles: roster.Some([]string{"admin"})}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.AcceptInvitation(ctx, links[0].URL[strings.LastIndex(links[0].URL, "/")+1:], pw, "127.0.0.1", "test"); err != nil {
			t.Fatal(err)
		}
		c := w.op.Browser(t, w.url)
		body, _ := json.Marshal(map[string]string{"tenant": "acme", "login": "boss", "password": pw})
		req, _ := http.NewRequest("POST", w.url+"/api/v1/sessions", strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "application/json")
		if resp, err := c.Do(req); err != nil || resp.StatusCode != http.StatusCreated {
			t.Fatalf("console sign-in: %v %v", resp, err)
		}
		w.idpUser("zed", "zed@acme.example", true)
		resp, page := w.op.SignIn(t, c, w.url+"/sso/"+strconv.FormatInt(p.ID, 10)+"/try", "zed", "pw-zed")
		if resp.StatusCode != http.StatusOK || !strings.Contains(page, "Would not sign in") || !strings.Contains(page, "no account of Acme matches") ||
			!strings.Contains(page, "<td>email_verified</td><td>true</td>") {
			t.Errorf("try sign-in: %d %s", resp.StatusCode, page)
		}
		if who := w.whoami(c); who != "boss" {
			t.Errorf("after the try the browser is %q", who)
		}
	})
}
