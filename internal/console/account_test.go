package console_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/roster"
)

var eightDigits = regexp.MustCompile(`\b(\d{8})\b`)

// TestConsoleAccount: a user renames themself, asks for a new email (used
// only after the code sent to it), and signs out their other sessions.
func TestConsoleAccount(t *testing.T) {
	a := newApp(t)
	ctx := context.Background()
	a.user("maja", roster.RoleAgent)
	other := a.client()
	other.signIn("maja")
	c := a.client()
	c.signIn("maja")

	resp, body := c.post("/account/profile", url.Values{"csrf": {c.csrf("/account")}, "name": {"Maja Berg"}, "email": {"maja.berg@acme.test"},
		"mobile": {""}, "language": {"en"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d %s", resp.StatusCode, body)
	}
	_, page := c.get("/account")
	if !strings.Contains(page, "Waiting for your code") || !strings.Contains(page, "maja.berg@acme.test") || !strings.Contains(page, "Maja Berg") {
		t.Fatalf("account page after the change: %s", page)
	}
	msgs, err := a.svc.ClaimOutbox(ctx, "test", 100, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	var code string
	for _, m := range msgs {
		if m.Recipient == "maja.berg@acme.test" {
			_, text, _ := m.Rendered()
			code = eightDigits.FindString(text)
		}
	}
	if code == "" {
		t.Fatalf("no code sent to the new address: %+v", msgs)
	}
	resp, body = c.post("/account/confirm", url.Values{"csrf": {c.csrf("/account")}, "code": {"11111111"}})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `id="f-code-error"`) {
		t.Fatalf("a wrong code: %d", resp.StatusCode)
	}
	resp, _ = c.post("/account/confirm", url.Values{"csrf": {c.csrf("/account")}, "code": {code}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("confirm: %d", resp.StatusCode)
	}
	users, _ := a.svc.ListUsers(ctx, a.sys, roster.UserQuery{Q: "maja"})
	if users.Total != 1 || users.Items[0].Email != "maja.berg@acme.test" {
		t.Fatalf("after confirming: %+v", users.Items)
	}

	resp, _ = c.post("/account/sessions/others", url.Values{"csrf": {c.csrf("/account")}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign out others: %d", resp.StatusCode)
	}
	if resp, _ := other.get("/account"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the other session still works: %d", resp.StatusCode)
	}
	if resp, _ := c.get("/account"); resp.StatusCode != http.StatusOK {
		t.Fatalf("this session ended too: %d", resp.StatusCode)
	}
}
