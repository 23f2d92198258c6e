package roster_test

import (
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/roster"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/testdb"
)

// TestTenantSettings: environment managers change the organisation's name
// and settings within their bounds; what would strand users or groups is
// refused naming them; the settings are honoured (a new invitation's expiry).
func TestTenantSettings(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		f := lifecycleFixture(t, db, "acme", nil)
		em := f.tokenActor(t, "environment_manager")
		got, err := f.svc.UpdateTenant(f.ctx, em, roster.TenantInput{Name: roster.Some("Acme Contact"), Settings: roster.TenantSettingsInput{
			BrandingName: roster.Some("Acme Care"), Languages: roster.Some([]string{"en", "de", "nb"}), DefaultLanguage: roster.Some("nb"),
			InvitationExpiryDays: roster.Some(14), MinPasswordLength: roster.Some(12), GroupDepth: roster.Some(4)}})
		must(t, err)
		if got.Name != "Acme Contact" || got.Settings.BrandingName != "Acme Care" || got.Settings.DefaultLanguage != "nb" ||
			got.Settings.InvitationExpiryDays != 14 || got.Settings.MinPasswordLength != 12 || got.Settings.GroupDepth != 4 {
			t.Fatalf("settings = %+v", got)
		}
		again, err := f.svc.Tenant(f.ctx, f.admin)
		must(t, err)
		if again.Settings.MinPasswordLength != 12 || strings.Join(again.Settings.Languages, ",") != "en,de,nb" {
			t.Fatalf("stored settings = %+v", again.Settings)
		}
		links := f.invite(t, f.inviteRow("ina", "nb"))
		if d := links[0].Invitation.ExpiresAt.Sub(*f.clock); d.Hours() != 14*24 {
			t.Fatalf("an invitation lasts %v, want the tenant's 14 days", d)
		}

		for _, c := range []struct {
			name  string
			in    roster.TenantSettingsInput
			field string
		}{
			{"expiry too long", roster.TenantSettingsInput{InvitationExpiryDays: roster.Some(91)}, "settings.invitation_expiry_days"},
			{"password too short", roster.TenantSettingsInput{MinPasswordLength: roster.Some(7)}, "settings.password_min_length"},
			{"depth 6", roster.TenantSettingsInput{GroupDepth: roster.Some(6)}, "settings.group_depth"},
			{"unknown language", roster.TenantSettingsInput{Languages: roster.Some([]string{"en", "xx"})}, "settings.languages"},
			{"no language", roster.TenantSettingsInput{Languages: roster.Some([]string{})}, "settings.languages"},
			{"default not offered", roster.TenantSettingsInput{DefaultLanguage: roster.Some("sv")}, "settings.default_language"},
			{"language in use", roster.TenantSettingsInput{Languages: roster.Some([]string{"en", "de"}), DefaultLanguage: roster.Some("en")}, "settings.languages"},
			{"below the deepest group", roster.TenantSettingsInput{GroupDepth: roster.Some(2)}, "settings.group_depth"},
		} {
			before := f.auditCount(t)
			_, err := f.svc.UpdateTenant(f.ctx, em, roster.TenantInput{Settings: c.in})
			wantField(t, err, c.field)
			if f.auditCount(t) != before {
				t.Errorf("%s: a refused change was written", c.name)
			}
		}
		// Only environment managers, tenant-wide.
		_, err = f.svc.UpdateTenant(f.ctx, f.readOnly, roster.TenantInput{Name: roster.Some("x")})
		wantCode(t, err, roster.EForbidden)
	})
}

// TestSelfService: a user changes their name and language at once; a new
// email takes effect only with the code sent to it, and the old address is
// told; wrong codes run out; roles and groups are not theirs to change.
func TestSelfService(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		f := lifecycleFixture(t, db, "acme", nil)
		me := f.userActor(t, "maja", "agent")
		f.delivered(t)
		got, err := f.svc.UpdateMe(f.ctx, me, roster.MeInput{Name: roster.Some("Maja Berg"), Language: roster.Some("de"),
			Email: roster.Some("Maja.Berg@Example.org")})
		must(t, err)
		if got.Name != "Maja Berg" || got.Language != "de" || got.Email != "maja@example.com" {
			t.Fatalf("after the change: %+v", got.User)
		}
		if len(got.Pending) != 1 || got.Pending[0].Field != "email" || got.Pending[0].Value != "maja.berg@example.org" {
			t.Fatalf("pending = %+v", got.Pending)
		}
		var code string
		toldOld := false
		for _, m := range f.delivered(t) {
			switch m.Recipient {
			case "maja.berg@example.org":
				code = codeOf(t, m)
			case "maja@example.com":
				toldOld = strings.Contains(m.Text, "m…@example.org")
			}
		}
		if code == "" || !toldOld {
			t.Fatalf("code %q, old address told %v", code, toldOld)
		}
		_, err = f.svc.ConfirmMe(f.ctx, me, "00000000")
		wantField(t, err, "code")
		got, err = f.svc.ConfirmMe(f.ctx, me, code)
		must(t, err)
		if got.Email != "maja.berg@example.org" || len(got.Pending) != 0 {
			t.Fatalf("after confirming: %q %+v", got.Email, got.Pending)
		}

		// Five wrong codes end a pending change.
		_, err = f.svc.UpdateMe(f.ctx, me, roster.MeInput{Email: roster.Some("third@example.org")})
		must(t, err)
		for range 5 {
			_, err = f.svc.ConfirmMe(f.ctx, me, "12345678")
			wantField(t, err, "code")
		}
		if got, _ := f.svc.Me(f.ctx, me); len(got.Pending) != 0 {
			t.Fatalf("a change survived five wrong codes: %+v", got.Pending)
		}
		// Someone else's address is taken.
		f.userActor(t, "otto", "agent")
		_, err = f.svc.UpdateMe(f.ctx, me, roster.MeInput{Email: roster.Some("otto@example.com")})
		wantCode(t, err, roster.EConflict)
		// Tokens have no profile.
		_, err = f.svc.Me(f.ctx, f.admin)
		wantCode(t, err, roster.EForbidden)
	})
}

// TestAdminSendsPasswordCode: an admin sends a user a code; the grant rule
// holds (an Environment Manager cannot send one to an Admin).
func TestAdminSendsPasswordCode(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		f := lifecycleFixture(t, db, "acme", nil)
		in := f.userInput("ana")
		in.Roles = roster.Some([]string{"admin"})
		ana, err := f.svc.CreateUser(f.ctx, f.sys, in)
		must(t, err)
		f.delivered(t)
		em := f.tokenActor(t, "environment_manager")
		wantCode(t, f.svc.SendPasswordCode(f.ctx, em, ana.ID, "email"), roster.EForbidden)
		wantField(t, f.svc.SendPasswordCode(f.ctx, f.admin, ana.ID, "sms"), "channel")
		must(t, f.svc.SendPasswordCode(f.ctx, f.admin, ana.ID, "email"))
		msgs := f.delivered(t)
		if len(msgs) != 1 || msgs[0].Recipient != "ana@example.com" {
			t.Fatalf("messages %+v", msgs)
		}
		must(t, f.svc.ResetPassword(f.ctx, roster.ResetInput{Tenant: f.tenant.Slug, Login: "ana", Code: codeOf(t, msgs[0]),
			Password: goodPassword, IP: "192.0.2.9"}))
	})
}
