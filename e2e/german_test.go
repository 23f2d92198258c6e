package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/roster-dev/roster/internal/roster"
)

// speaks makes the tab's browser ask for languages (Accept-Language), as a
// browser set up in that language does.
func (b *browserTab) speaks(accept string) {
	b.t.Helper()
	if _, err := chromedp.Call(b.ctx, network.Enable, network.EnableParams{}); err != nil {
		b.t.Fatal(err)
	}
	if _, err := chromedp.Call(b.ctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Accept-Language": accept}}); err != nil {
		b.t.Fatal(err)
	}
}

// TestConsoleGermanWalk walks the console once in German, end to end: a
// German browser's sign-in page, a German admin's dashboard, users, an
// invitation (its email and its page in the invited user's language), a
// refused form with the core's complaint in German, and the roles.
func TestConsoleGermanWalk(t *testing.T) {
	env := newConsoleEnv(t)
	ctx := context.Background()
	admin := env.user("greta.admin", "Acme Ltd", []string{roster.RoleAdmin})
	if _, err := env.svc.UpdateUser(ctx, env.sys, admin.ID, roster.UserInput{Language: roster.Some("de")}); err != nil {
		t.Fatal(err)
	}
	env.user("bert.agent", "Sales", []string{roster.RoleAgent})

	b := env.browser()
	b.speaks("de-DE,de;q=0.9")
	b.open("/signin")
	if got := b.text("h1"); got != "Anmelden" {
		t.Errorf("a German browser's sign-in page says %q", got)
	}
	if got := b.eval(`document.documentElement.lang`); got != `"de"` {
		t.Errorf("sign-in page lang=%q", got)
	}
	b.signIn("greta.admin", consolePassword)
	if got := b.text("main h1"); got != "Admin-Dashboard" {
		t.Errorf("dashboard heading %q", got)
	}
	nav := strings.Join(b.texts("nav.sidenav a"), ",")
	for _, want := range []string{"Benutzer", "Benutzer einladen", "Gruppen", "Rollen", "Audit-Log", "Einstellungen"} {
		if !strings.Contains(nav, want) {
			t.Errorf("the navigation lacks %q: %s", want, nav)
		}
	}
	b.look("de-dashboard")

	b.open("/users")
	if got := b.text("#users-table caption"); got != "2 Benutzer" {
		t.Errorf("users caption %q", got)
	}
	if got := b.text(`#users-table tr[data-user="bert.agent"] .badge`); got != "Aktiv" {
		t.Errorf("the status badge says %q", got)
	}
	b.look("de-users")

	// An invitation in German: its email and its page speak German, even
	// to a browser that asks for English.
	b.open("/invite")
	b.fill("#f-inv-0-name", "Kari Nordmann")
	b.fill("#f-inv-0-email", "kari@acme.test")
	b.choose("#f-inv-0-group_id", "Support")
	b.choose("#f-inv-0-language", "Deutsch")
	b.submit("#send-invitations")
	if got := b.text(".flash"); got != "1 Einladung gesendet." {
		t.Errorf("after inviting: %q", got)
	}
	subject, body := env.mailTo("kari@acme.test")
	if subject != "Einladung zu Acme Ltd" || !strings.Contains(body, "Hallo Kari Nordmann") {
		t.Errorf("the invitation email is not German: %q\n%s", subject, body)
	}
	invited := env.browser()
	invited.speaks("en-GB,en;q=0.9")
	invited.do(chromedp.Navigate(inviteLinkPattern.FindString(body)), chromedp.WaitReady(chromedp.CSS("body")))
	if got := invited.text("main h1"); !strings.HasPrefix(got, "Willkommen") {
		t.Errorf("the invitation page is not in the invitation's language: %q", got)
	}

	// The core refuses an empty group name; the console says so in German.
	b.open("/groups")
	b.submit("#create-group")
	if got := b.text("#f-name-error"); got != "ist erforderlich" {
		t.Errorf("the refused group name says %q", got)
	}
	if got := b.text("#form-error"); got != "Bitte korrigieren Sie die unten markierten Felder." {
		t.Errorf("the form's banner says %q", got)
	}
	b.look("de-group-refused")

	b.open("/roles/new")
	if got := b.text("main h1"); got != "Neue Rolle" {
		t.Errorf("new role heading %q", got)
	}
	if !strings.Contains(b.text("main"), "Benutzer anlegen, bearbeiten, verschieben") {
		t.Error("the permission descriptions are not in German")
	}
}
