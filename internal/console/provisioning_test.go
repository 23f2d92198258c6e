package console_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/roster"
)

// TestConsoleProvisioning: an admin sees the SCIM base URL, the defaults
// new users get in words, a token form, and what an identity provider's
// token changed; a provisioned user's page warns that edits may be
// overwritten; an agent has no entry and is refused the page.
func TestConsoleProvisioning(t *testing.T) {
	a := newApp(t)
	ctx := context.Background()
	a.user("admin", roster.RoleAdmin)
	anna := a.user("anna", roster.RoleAgent)
	_, secret, err := a.svc.CreateToken(ctx, a.sys, roster.TokenInput{Name: "Okta SCIM", Role: roster.RoleAdmin})
	if err != nil {
		t.Fatal(err)
	}
	okta, err := a.svc.AuthenticateToken(ctx, secret)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.svc.SetSCIMSettings(ctx, a.sys, roster.SCIMSettings{DefaultRole: roster.RoleAgent}); err != nil {
		t.Fatal(err)
	}
	in := roster.UserInput{Username: roster.Some("zoe"), Name: roster.Some("Zoe Ng"), Email: roster.Some("zoe@acme.test")}
	zoe, err := a.svc.CreateUserSCIM(ctx, okta, in, roster.SCIMCreate{ExternalID: "00u1okta"})
	if err != nil {
		t.Fatal(err)
	}

	groups, err := a.svc.ListGroups(ctx, a.sys)
	if err != nil {
		t.Fatal(err)
	}
	c := a.client()
	c.signIn("admin")
	resp, body := c.get("/provisioning")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/provisioning: %d %s", resp.StatusCode, body)
	}
	for _, want := range []string{
		`value="` + a.srv.URL + `/scim/v2"`, `data-copy-from="scim-base-url"`, // the base URL from the request, to copy
		"<dt>Home group</dt><dd>" + groups[0].Name + "</dd>", "<dt>Role</dt><dd>Agent</dd>", "<dt>Language</dt><dd>English (en)</dd>", // defaults in words
		`action="/tokens"`, `value="SCIM provisioning"`, `<option value="admin">`,
		"Created the user", "Linked the user to the identity provider", "Zoe Ng (zoe)", "Okta SCIM", // the token's changes
		`href="/provisioning"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/provisioning lacks %q", want)
		}
	}
	if strings.Contains(body, `<option value="agent">`) {
		t.Error("the token form offers a role that cannot manage users")
	}

	_, userPage := c.get(fmt.Sprintf("/users/%d", zoe.ID))
	if !strings.Contains(userPage, "Provisioned by your identity provider (external id <code>00u1okta</code>)") {
		t.Errorf("a provisioned user's page has no notice: %s", userPage)
	}
	if _, other := c.get("/users"); strings.Contains(other, "provisioned-notice") {
		t.Error("the notice shows where it does not belong")
	}
	if _, annaPage := c.get(fmt.Sprintf("/users/%d", anna.ID)); strings.Contains(annaPage, "provisioned-notice") {
		t.Error("a user without an external id is marked as provisioned")
	}

	agent := a.client()
	agent.signIn("anna")
	if _, me := agent.get("/me"); strings.Contains(me, `href="/provisioning"`) {
		t.Error("an agent's navigation links to provisioning")
	}
	if resp, body := agent.get("/provisioning"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("an agent's /provisioning: %d %s", resp.StatusCode, body)
	}
}
