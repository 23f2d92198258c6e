package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/roster"
)

// TestConsoleFormLimits: a form past its route's limit is refused with 413
// before it is parsed; the invitation form takes more than a user form.
func TestConsoleFormLimits(t *testing.T) {
	a := newApp(t)
	a.user("admin", roster.RoleAdmin)
	c := a.client()
	c.signIn("admin")
	big := strings.Repeat("x", 100<<10) // past 64 KiB, within 1 MiB
	resp, body := c.post("/users/new", url.Values{"csrf": {c.csrf("/users/new")}, "name": {big}})
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(body, "64 KiB") {
		t.Errorf("100 KiB user form: %d, want 413 naming 64 KiB", resp.StatusCode)
	}
	resp, _ = c.post("/invite", url.Values{"csrf": {c.csrf("/invite")}, "invitations[0].name": {big}})
	if resp.StatusCode == http.StatusRequestEntityTooLarge {
		t.Errorf("100 KiB invitation form: 413, want it read (its limit is 1 MiB)")
	}
	resp, _ = c.post("/invite", url.Values{"csrf": {c.csrf("/invite")}, "invitations[0].name": {strings.Repeat(big, 11)}})
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("1.1 MB invitation form: %d, want 413", resp.StatusCode)
	}
}
