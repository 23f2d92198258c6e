package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/roster"
	"github.com/roster-dev/roster/internal/ssotest"
)

// TestConsoleSAMLSettings: an Admin adds a SAML provider by pasting the
// IdP's metadata, sees what to tell the IdP (never the key), changes its
// email domains; the sign-in page routes an email of those domains to it.
func TestConsoleSAMLSettings(t *testing.T) {
	a := newApp(t)
	a.user("admin", roster.RoleAdmin)
	c := a.client()
	c.signIn("admin")
	md := ssotest.StartSAML(t).Metadata(t)

	resp, body := c.post("/settings/sso/saml", url.Values{"csrf": {c.csrf("/settings/sso/saml")}, "name": {"ADFS"}})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "address of the identity provider&#39;s metadata, or paste it") {
		t.Errorf("no metadata: %d", resp.StatusCode)
	}
	resp, body = c.post("/settings/sso/saml", url.Values{"csrf": {c.csrf("/settings/sso/saml")}, "name": {"ADFS"}, "metadata_xml": {"<nope/>"}})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "is not the SAML 2.0 metadata of an identity provider") {
		t.Errorf("bad metadata: %d %s", resp.StatusCode, body)
	}
	resp, _ = c.post("/settings/sso/saml", url.Values{"csrf": {c.csrf("/settings/sso/saml")}, "name": {"ADFS"}, "metadata_xml": {md},
		"email_domains": {"acme.example, Acme-EU.example"}, "trust_email": {"on"}, "match_claim": {"email"}})
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/settings/sso/") {
		t.Fatalf("add: %d %s", resp.StatusCode, loc)
	}
	_, body = c.get(loc)
	for _, want := range []string{"/saml/metadata", "/saml/acs", "BEGIN CERTIFICATE", "acme-eu.example, acme.example", "Try sign-in", "/try"} {
		if !strings.Contains(body, want) {
			t.Errorf("edit page without %q", want)
		}
	}
	if strings.Contains(body, "PRIVATE KEY") {
		t.Error("the edit page shows the SP key")
	}
	// Saved again without metadata: the stored metadata stays.
	resp, body = c.post(loc, url.Values{"csrf": {c.csrf(loc)}, "name": {"ADFS"}, "email_domains": {"acme.example"}, "trust_email": {"on"},
		"match_claim": {"email"}, "enabled": {"on"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("change: %d %s", resp.StatusCode, body)
	}
	_, body = c.get("/settings/sso")
	if !strings.Contains(body, "ADFS") || !strings.Contains(body, "Add a SAML 2.0 provider") {
		t.Errorf("list: %s", body)
	}

	// Routing by email on the sign-in page.
	anon := a.client()
	resp, body = anon.get("/signin/sso?tenant=acme&email=anna%40ACME.example")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `/start">Sign in with ADFS</a>`) {
		t.Errorf("routing acme.example: %d %s", resp.StatusCode, body)
	}
	_, body = anon.get("/signin/sso?tenant=acme&email=anna%40acme-eu.example")
	if !strings.Contains(body, "has no single sign-on for acme-eu.example") {
		t.Errorf("routing a domain no longer listed: %s", body)
	}
	_, body = anon.get("/signin/sso?email=anna%40acme.example")
	if !strings.Contains(body, "Enter your organisation first") {
		t.Errorf("routing without an organisation: %s", body)
	}
}
