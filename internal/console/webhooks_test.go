package console_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/roster"
)

var webhookSecretPattern = regexp.MustCompile(`id="webhook-secret" type="text" value="(whsec_[^"]+)"`)

// TestConsoleWebhooks: an admin makes a webhook (its secret shown once),
// sends a test event that appears in the delivery log, disables it, rotates
// its secret and deletes it after a confirmation; bad input is shown at
// its field; without webhooks.manage the page is refused.
func TestConsoleWebhooks(t *testing.T) {
	a := newApp(t)
	ctx := context.Background()
	a.user("admin", roster.RoleAdmin)
	a.user("emma", roster.RoleEnvironmentManager)
	c := a.client()
	c.signIn("admin")

	// TEST-NET-3: a public address nothing dials here (no worker runs).
	const hookURL = "https://203.0.113.9/roster"
	resp, body := c.post("/webhooks", url.Values{"csrf": {c.csrf("/webhooks")}, "url": {hookURL}})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `id="f-events-error"`) {
		t.Fatalf("no events: %d %s", resp.StatusCode, body)
	}
	resp, body = c.post("/webhooks", url.Values{"csrf": {c.csrf("/webhooks")}, "url": {"http://127.0.0.1/x"}, "events": {"user.created"}})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `id="f-url-error"`) || !strings.Contains(body, "loopback") {
		t.Fatalf("a loopback address: %d %s", resp.StatusCode, body)
	}
	resp, body = c.post("/webhooks", url.Values{"csrf": {c.csrf("/webhooks")}, "url": {hookURL}, "description": {"Platform"},
		"events": {"user.created", "role.changed"}})
	m := webhookSecretPattern.FindStringSubmatch(body)
	if resp.StatusCode != http.StatusCreated || m == nil {
		t.Fatalf("create: %d %s", resp.StatusCode, body)
	}
	secret := html.UnescapeString(m[1]) // "+" is written &#43;
	hooks, err := a.svc.ListWebhooks(ctx, a.sys)
	if err != nil || len(hooks) != 1 || strings.Join(hooks[0].Events, ",") != "role.changed,user.created" {
		t.Fatalf("stored: %v %+v", err, hooks)
	}
	id := hooks[0].ID
	page := fmt.Sprintf("/webhooks/%d", id)
	if _, list := c.get("/webhooks"); !strings.Contains(list, hookURL) || strings.Contains(list, secret) {
		t.Fatalf("list: %s", list)
	}

	resp, body = c.post(page+"/test", url.Values{"csrf": {c.csrf(page)}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("test event: %d %s", resp.StatusCode, body)
	}
	if _, view := c.get(page); !strings.Contains(view, "webhook.test") || !strings.Contains(view, "Pending") || strings.Contains(view, secret) {
		t.Fatalf("the delivery log does not show the test event: %s", view)
	}

	resp, _ = c.post(page, url.Values{"csrf": {c.csrf(page)}, "url": {hookURL}, "description": {"Platform"}, "events": {"user.created"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("disable: %d", resp.StatusCode)
	}
	if h, _ := a.svc.Webhook(ctx, a.sys, id); h.Enabled || strings.Join(h.Events, ",") != "user.created" {
		t.Fatalf("after saving: %+v", h)
	}
	resp, body = c.post(page+"/test", url.Values{"csrf": {c.csrf(page)}})
	if resp.StatusCode != http.StatusConflict || !strings.Contains(body, "disabled") {
		t.Fatalf("test event of a disabled webhook: %d %s", resp.StatusCode, body)
	}

	resp, body = c.post(page+"/rotate", url.Values{"csrf": {c.csrf(page)}})
	if m := webhookSecretPattern.FindStringSubmatch(body); resp.StatusCode != http.StatusOK || m == nil || html.UnescapeString(m[1]) == secret {
		t.Fatalf("rotate: %d %s", resp.StatusCode, body)
	}

	if _, confirm := c.get(page + "/delete"); !strings.Contains(confirm, "What will happen") {
		t.Fatalf("no confirmation: %s", confirm)
	}
	if resp, _ = c.post(page+"/delete", url.Values{"csrf": {c.csrf(page)}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("delete: %d", resp.StatusCode)
	}
	if hooks, _ := a.svc.ListWebhooks(ctx, a.sys); len(hooks) != 0 {
		t.Fatalf("not deleted: %+v", hooks)
	}

	em := a.client()
	em.signIn("emma")
	if resp, _ := em.get("/webhooks"); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("an Environment Manager opens webhooks: %d", resp.StatusCode)
	}
}
