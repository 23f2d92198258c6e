package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/roster"
)

func settingsForm(csrf string, change func(url.Values)) url.Values {
	f := url.Values{"csrf": {csrf}, "name": {"Acme Contact"}, "branding_name": {"Acme Care"}, "languages": {"en", "de", "nb"},
		"default_language": {"de"}, "invitation_expiry_days": {"14"}, "password_min_length": {"12"}, "group_depth": {"4"}}
	if change != nil {
		change(f)
	}
	return f
}

// TestConsoleSettings: an admin changes the organisation's settings (saved
// and audited); a refused value is shown at its field, the form keeps what
// was typed and nothing changes; a read-only user has no Settings entry and
// is refused.
func TestConsoleSettings(t *testing.T) {
	a := newApp(t)
	ctx := context.Background()
	a.user("admin", roster.RoleAdmin)
	a.user("rita", roster.RoleReadOnly)
	c := a.client()
	c.signIn("admin")

	_, body := c.get("/settings")
	for _, want := range []string{`href="/settings"`, "Norsk bokmål", "Português", `name="group_depth"`} {
		if !strings.Contains(body, want) {
			t.Fatalf("settings page lacks %q: %s", want, body)
		}
	}
	resp, body := c.post("/settings", settingsForm(c.csrf("/settings"), nil))
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save settings: %d %s", resp.StatusCode, body)
	}
	if _, body = c.get("/settings"); !strings.Contains(body, "settings are saved") || !strings.Contains(body, `value="Acme Care"`) {
		t.Fatalf("after saving: %s", body)
	}
	tn, err := a.svc.Tenant(ctx, a.sys)
	st := tn.Settings
	if err != nil || tn.Name != "Acme Contact" || st.BrandingName != "Acme Care" || !slices.Equal(st.Languages, []string{"en", "de", "nb"}) ||
		st.DefaultLanguage != "de" || st.InvitationExpiryDays != 14 || st.MinPasswordLength != 12 || st.GroupDepth != 4 {
		t.Fatalf("stored tenant: %v %+v", err, tn)
	}
	events, err := a.svc.ListAudit(ctx, a.sys, roster.AuditFilter{Action: "tenant.update"})
	if err != nil || events.Total != 1 {
		t.Fatalf("audit of the change: %v %+v", err, events)
	}

	// Group depth 9 is past the bound: shown at its field, the typed values
	// kept, and the other changes of the same submit not saved either.
	resp, body = c.post("/settings", settingsForm(c.csrf("/settings"), func(f url.Values) {
		f.Set("name", "Renamed")
		f.Set("group_depth", "9")
	}))
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `id="f-group_depth-error"`) || !strings.Contains(body, "1 to 5 levels") ||
		!strings.Contains(body, `value="9"`) || !strings.Contains(body, `value="Renamed"`) {
		t.Fatalf("group depth 9: %d %s", resp.StatusCode, body)
	}
	// A default language not offered is named at the default language.
	resp, body = c.post("/settings", settingsForm(c.csrf("/settings"), func(f url.Values) { f.Set("default_language", "fr") }))
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `id="f-default_language-error"`) {
		t.Fatalf("default language not offered: %d %s", resp.StatusCode, body)
	}
	// No language ticked: named at the languages.
	resp, body = c.post("/settings", settingsForm(c.csrf("/settings"), func(f url.Values) { f.Del("languages") }))
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `id="f-languages-error"`) {
		t.Fatalf("no language: %d %s", resp.StatusCode, body)
	}
	if tn, _ := a.svc.Tenant(ctx, a.sys); tn.Name != "Acme Contact" || tn.Settings.GroupDepth != 4 || tn.Settings.DefaultLanguage != "de" {
		t.Fatalf("a refused submit changed the tenant: %+v", tn)
	}

	ro := a.client()
	ro.signIn("rita")
	_, body = ro.get("/account")
	if strings.Contains(body, `href="/settings"`) {
		t.Fatalf("a read-only user sees the Settings entry: %s", body)
	}
	resp, body = ro.post("/settings", settingsForm(ro.csrf("/account"), func(f url.Values) { f.Set("name", "Taken over") }))
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a read-only user's settings: %d %s", resp.StatusCode, body)
	}
	if tn, _ := a.svc.Tenant(ctx, a.sys); tn.Name != "Acme Contact" {
		t.Fatalf("a read-only user renamed the organisation: %+v", tn)
	}
}

// TestConsolePasswordCode: the user page's button sends an active user a
// one-time code by email or SMS; an Environment Manager may not send one to
// an Admin (the grant rule), and the page says so.
func TestConsolePasswordCode(t *testing.T) {
	a := newApp(t)
	ctx := context.Background()
	admin := a.user("admin", roster.RoleAdmin)
	a.user("emma", roster.RoleEnvironmentManager)
	maja := a.user("maja", roster.RoleAgent)
	if _, err := a.svc.UpdateUser(ctx, a.sys, maja.ID, roster.UserInput{Mobile: roster.Some("+47 912 34 567")}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.svc.ClaimOutbox(ctx, "test", 100, time.Minute); err != nil { // the invitations
		t.Fatal(err)
	}
	codes := func() []roster.OutboxMessage {
		t.Helper()
		msgs, err := a.svc.ClaimOutbox(ctx, "test", 100, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		return msgs
	}
	c := a.client()
	c.signIn("admin")
	majaPage := fmt.Sprintf("/users/%d", maja.ID)
	_, body := c.get(majaPage)
	if !strings.Contains(body, `id="password-code-email"`) || !strings.Contains(body, `id="password-code-sms"`) {
		t.Fatalf("no password code buttons: %s", body)
	}
	resp, body := c.post(majaPage+"/password-code", url.Values{"csrf": {c.csrf(majaPage)}, "channel": {"email"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("send a code: %d %s", resp.StatusCode, body)
	}
	if _, body = c.get(majaPage); !strings.Contains(body, "A one-time code is on its way to maja@acme.test") {
		t.Fatalf("no confirmation: %s", body)
	}
	if msgs := codes(); len(msgs) != 1 || msgs[0].Kind != "code" || msgs[0].Recipient != "maja@acme.test" || msgs[0].Channel != roster.ChannelEmail {
		t.Fatalf("outbox after the email code: %+v", msgs)
	}
	resp, _ = c.post(majaPage+"/password-code", url.Values{"csrf": {c.csrf(majaPage)}, "channel": {"sms"}})
	if msgs := codes(); resp.StatusCode != http.StatusSeeOther || len(msgs) != 1 || msgs[0].Channel != roster.ChannelSMS || msgs[0].Kind != "code" {
		t.Fatalf("SMS code: %d %+v", resp.StatusCode, msgs)
	}

	// The Environment Manager may manage users, but not an Admin.
	em := a.client()
	em.signIn("emma")
	adminPage := fmt.Sprintf("/users/%d", admin.ID)
	resp, body = em.post(adminPage+"/password-code", url.Values{"csrf": {em.csrf(adminPage)}, "channel": {"email"}})
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, `id="form-error"`) ||
		!strings.Contains(body, "with rights you do not hold") || !strings.Contains(body, "<h1>Admin") {
		t.Fatalf("an Environment Manager's code for an Admin: %d %s", resp.StatusCode, body)
	}
	if msgs := codes(); len(msgs) != 0 {
		t.Fatalf("a refused code was sent: %+v", msgs)
	}
}
