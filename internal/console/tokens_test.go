package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/roster"
)

var secretPattern = regexp.MustCompile(`id="token-secret" type="text" value="(rst_[A-Za-z0-9_-]+)"`)

// TestConsoleTokens: an admin makes a token (its secret shown once), it
// works, the list shows it without the secret, revoking it after a
// confirmation ends it; a token with a role the maker does not hold is
// refused with the reason next to the role.
func TestConsoleTokens(t *testing.T) {
	a := newApp(t)
	ctx := context.Background()
	a.user("admin", roster.RoleAdmin)
	a.user("emma", roster.RoleEnvironmentManager)
	c := a.client()
	c.signIn("admin")

	tok := c.csrf("/tokens")
	resp, body := c.post("/tokens", url.Values{"csrf": {tok}, "name": {"Okta provisioning"}, "role": {"environment_manager"}, "expires": {"2027-12-31"}})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create token: %d %s", resp.StatusCode, body)
	}
	m := secretPattern.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("the new token's secret is not shown: %s", body)
	}
	secret := m[1]
	actor, err := a.svc.AuthenticateToken(ctx, secret)
	if err != nil || actor.Name != "Okta provisioning" {
		t.Fatalf("the new token does not work: %v %+v", err, actor)
	}
	_, list := c.get("/tokens")
	if !strings.Contains(list, "Okta provisioning") || strings.Contains(list, secret) || !strings.Contains(list, "Active") {
		t.Fatalf("token list: %s", list)
	}
	toks, err := a.svc.ListTokens(ctx, a.sys)
	if err != nil || len(toks) != 1 || toks[0].Service || toks[0].ExpiresAt == nil || toks[0].ExpiresAt.Format("2006-01-02") != "2028-01-01" {
		t.Fatalf("stored token: %v %+v", err, toks)
	}

	_, confirm := c.get(fmt.Sprintf("/tokens/%d/revoke", toks[0].ID))
	if !strings.Contains(confirm, "What will happen") {
		t.Fatalf("no confirmation: %s", confirm)
	}
	resp, body = c.post(fmt.Sprintf("/tokens/%d/revoke", toks[0].ID), url.Values{"csrf": {c.csrf("/tokens")}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke: %d %s", resp.StatusCode, body)
	}
	if _, err := a.svc.AuthenticateToken(ctx, secret); roster.ErrorCode(err) != roster.EUnauthorized {
		t.Fatalf("a revoked token still works: %v", err)
	}
	if _, list = c.get("/tokens"); !strings.Contains(list, "Revoked") {
		t.Fatalf("the list does not show the revocation: %s", list)
	}

	// The Environment Manager may not make an Admin token: refused, with
	// the reason at the role field, and nothing made.
	em := a.client()
	em.signIn("emma")
	resp, body = em.post("/tokens", url.Values{"csrf": {em.csrf("/tokens")}, "name": {"climb"}, "role": {"admin"}})
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, `id="f-role-error"`) {
		t.Fatalf("an Environment Manager's Admin token: %d %s", resp.StatusCode, body)
	}
	if toks, _ := a.svc.ListTokens(ctx, a.sys); len(toks) != 1 {
		t.Fatalf("a refused token was made: %+v", toks)
	}
}
