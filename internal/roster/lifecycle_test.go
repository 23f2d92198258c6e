package roster_test

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/auth"
	"github.com/roster-dev/roster/internal/roster"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/testdb"
)

// fastArgon2 keeps the tests quick; the production parameters are checked in
// internal/auth and measured in the sign-in benchmark.
var fastArgon2 = auth.Params{Memory: 1024, Time: 1, Threads: 1}

// lifecycleFixture is the usual fixture with a service that hashes cheaply
// and does not pad forgot-password answers. edit may change the options.
func lifecycleFixture(t *testing.T, db *store.DB, slug string, edit func(*roster.LifecycleOptions)) *fixture {
	t.Helper()
	f := newFixture(t, db, slug)
	o := roster.LifecycleOptions{PublicURL: "https://roster.example.com/", Argon2: fastArgon2, ForgotMinDuration: time.Nanosecond,
		// Sign-in delays are not waited out here (throttle_test.go checks them).
		Wait: func(context.Context, time.Duration) error { return nil }}
	if edit != nil {
		edit(&o)
	}
	f.svc = roster.NewService(db, roster.Options{Clock: func() time.Time { return *f.clock }, Lifecycle: o})
	return f
}

// delivered claims every due message, marks it sent and returns it with its
// secret filled in, as a sender would see it.
func (f *fixture) delivered(t *testing.T) []roster.OutboxMessage {
	t.Helper()
	msgs, err := f.svc.ClaimOutbox(f.ctx, "test", 1000, time.Minute)
	must(t, err)
	for i := range msgs {
		m := msgs[i]
		must(t, f.svc.FinishOutbox(f.ctx, &m, "test", roster.DeliveryOutcome{Status: roster.OutboxSent}))
		msgs[i].Subject, msgs[i].Text, msgs[i].HTML = msgs[i].Rendered()
	}
	return msgs
}

var inviteLink = regexp.MustCompile(`https://roster\.example\.com/invite/(inv_[A-Za-z0-9_-]+)`)

func tokenOf(t *testing.T, m roster.OutboxMessage) string {
	t.Helper()
	match := inviteLink.FindStringSubmatch(m.Text)
	if match == nil {
		t.Fatalf("no invitation link in %q", m.Text)
	}
	if !strings.Contains(m.HTML, match[0]) {
		t.Fatalf("the HTML part lacks the link %s", match[0])
	}
	return match[1]
}

var codePattern = regexp.MustCompile(`\b(\d{8})\b`)

func codeOf(t *testing.T, m roster.OutboxMessage) string {
	t.Helper()
	match := codePattern.FindStringSubmatch(m.Text)
	if match == nil {
		t.Fatalf("no code in %q", m.Text)
	}
	return match[1]
}

func (f *fixture) invite(t *testing.T, rows ...roster.UserInput) []roster.InvitationLink {
	t.Helper()
	links, err := f.svc.InviteUsers(f.ctx, f.admin, rows)
	must(t, err)
	return links
}

func (f *fixture) inviteRow(name, lang string) roster.UserInput {
	return roster.UserInput{
		Name:     roster.Some(strings.ToUpper(name[:1]) + name[1:] + " Example"),
		Email:    roster.Some(name + "@example.com"),
		Language: roster.Some(lang),
		GroupID:  roster.Some(f.team.ID),
		Roles:    roster.Some([]string{"agent"}),
	}
}

func (f *fixture) signIn(login, password string) (*roster.SignedIn, error) {
	return f.svc.SignIn(f.ctx, roster.SignInInput{Tenant: f.tenant.Slug, Login: login, Password: password, IP: "192.0.2.1", UserAgent: "test"})
}

const goodPassword = "violet-harbour-7-lanterns"

func TestInvitationAcceptAndSignIn(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		f := lifecycleFixture(t, db, "acme", nil)
		ctx := f.ctx
		links := f.invite(t, f.inviteRow("anna", "en"), f.inviteRow("bert", "de"))
		if len(links) != 2 || !strings.HasPrefix(links[0].URL, "https://roster.example.com/invite/inv_") {
			t.Fatalf("links = %+v", links)
		}
		// The invited users are listed with status invited; the username defaults to the email.
		p, err := f.svc.ListUsers(ctx, f.admin, roster.UserQuery{Status: "invited"})
		must(t, err)
		if p.Total != 2 || p.Items[0].Username != "anna@example.com" || p.Items[0].Status != roster.StatusInvited {
			t.Fatalf("invited users = %+v", p.Items)
		}
		invs, err := f.svc.ListInvitations(ctx, f.admin, roster.InvitationQuery{Status: "pending"})
		must(t, err)
		if invs.Total != 2 || invs.Items[0].InvitedByName != "admin token" || invs.Items[1].ExpiresAt != f.clock.Add(7*24*time.Hour).UTC() {
			t.Fatalf("invitations = %+v", invs.Items)
		}
		st, err := f.svc.Stats(ctx, f.admin)
		must(t, err)
		if st.Invited != 2 || st.Active != 0 {
			t.Fatalf("stats = %+v", st)
		}

		// One email each, in the user's language, text and HTML, the token only in the link.
		msgs := f.delivered(t)
		if len(msgs) != 2 {
			t.Fatalf("%d messages queued, want 2", len(msgs))
		}
		byTo := map[string]roster.OutboxMessage{}
		for _, m := range msgs {
			byTo[m.Recipient] = m
		}
		en, de := byTo["anna@example.com"], byTo["bert@example.com"]
		if en.Subject != "You are invited to Tenant acme" || !strings.Contains(en.Text, "Your username is anna@example.com") {
			t.Fatalf("English invitation: %q\n%s", en.Subject, en.Text)
		}
		if de.Subject != "Einladung zu Tenant acme" || !strings.Contains(de.Text, "Ihr Benutzername ist bert@example.com") ||
			!strings.Contains(de.HTML, `lang="de"`) {
			t.Fatalf("German invitation: %q\n%s", de.Subject, de.Text)
		}
		token := tokenOf(t, en)
		if links[0].URL != "https://roster.example.com/invite/"+token {
			t.Fatalf("the mailed link %s is not the returned one %s", token, links[0].URL)
		}
		// The outbox keeps no usable secret once the message is sent.
		ob, err := f.svc.ListOutbox(ctx, f.admin, roster.OutboxQuery{})
		must(t, err)
		for _, m := range ob.Items {
			if m.Status != roster.OutboxSent || strings.Contains(m.Text, token) || !strings.Contains(m.Text, "/invite/[hidden]") || m.Secret != "" {
				t.Fatalf("outbox item = %+v", m)
			}
		}

		info, err := f.svc.InspectInvitation(ctx, token)
		must(t, err)
		if info.Username != "anna@example.com" || info.TenantSlug != "acme" || info.MinPasswordLength != 10 {
			t.Fatalf("info = %+v", info)
		}
		// The password rules: length, common passwords, the user's own names.
		for pw, why := range map[string]string{"short": "length", "password123": "common", "anna@example.com": "own email"} {
			_, err := f.svc.AcceptInvitation(ctx, token, pw, "192.0.2.9", "test")
			if roster.ErrorCode(err) != roster.EInvalid {
				t.Fatalf("%s password %q: %v", why, pw, err)
			}
			wantField(t, err, "password")
		}
		// Before accepting, the user cannot sign in.
		_, err = f.signIn("anna@example.com", goodPassword)
		wantCode(t, err, roster.EUnauthorized)

		u, err := f.svc.AcceptInvitation(ctx, token, goodPassword, "192.0.2.9", "test")
		must(t, err)
		if u.Status != roster.StatusActive || u.Username != "anna@example.com" {
			t.Fatalf("accepted user = %+v", u)
		}
		// The link works once.
		_, err = f.svc.AcceptInvitation(ctx, token, goodPassword, "192.0.2.9", "test")
		wantCode(t, err, roster.EConflict)
		_, err = f.svc.InspectInvitation(ctx, token)
		wantCode(t, err, roster.EConflict)
		inv, err := f.svc.Invitation(ctx, f.admin, links[0].Invitation.ID)
		must(t, err)
		if inv.Status != roster.InvitationAccepted || inv.AcceptedAt == nil {
			t.Fatalf("invitation after accept = %+v", inv)
		}

		// Sign in by username and by email (any case), with last login recorded.
		*f.clock = f.clock.Add(time.Hour)
		s1, err := f.signIn("ANNA@example.com", goodPassword)
		must(t, err)
		if s1.Session.UserID != u.ID || !strings.HasPrefix(s1.Token, "rss_") {
			t.Fatalf("sign-in = %+v", s1)
		}
		me, perms, err := f.svc.SessionUser(ctx, s1.Session)
		must(t, err)
		if me.LastLoginAt == nil || !me.LastLoginAt.Equal(*f.clock) || !slices.Equal(me.Roles, []string{"agent"}) || !slices.Contains(perms, "self.view") {
			t.Fatalf("session user = %+v %v", me, perms)
		}
		a, sess, err := f.svc.AuthenticateSession(ctx, s1.Token)
		must(t, err)
		if a.ID != u.ID || a.Kind != roster.ActorUser || !a.Can("self.view") || a.Can("users.manage") || sess.UserID != u.ID {
			t.Fatalf("session actor = %+v", a)
		}
		got, err := f.svc.User(ctx, f.admin, u.ID)
		must(t, err)
		if got.LastLoginAt == nil || !got.LastLoginAt.Equal(*f.clock) {
			t.Fatalf("last_login_at = %v", got.LastLoginAt)
		}
		st, err = f.svc.Stats(ctx, f.admin)
		must(t, err)
		if st.Active != 1 || st.Invited != 1 || st.Standard != 1 {
			t.Fatalf("stats after sign-in = %+v", st)
		}
		// The audit log has the story.
		ev, err := f.svc.ListAudit(ctx, f.admin, roster.AuditFilter{Target: fmt.Sprintf("user:%d", u.ID), PerPage: 50})
		must(t, err)
		var actions []string
		for _, e := range ev.Items {
			actions = append(actions, e.Action)
		}
		if !slices.Equal(actions, []string{"session.create", "user.activate", "user.create"}) {
			t.Fatalf("audit = %v", actions)
		}
	})
}

func TestInvitationBatchAllOrNothing(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		f := lifecycleFixture(t, db, "acme", nil)
		ctx := f.ctx
		existing, err := f.svc.CreateUser(ctx, f.admin, f.userInput("carl"))
		must(t, err)
		before := f.auditCount(t)

		bad1 := f.inviteRow("bert", "en")
		bad1.Email = roster.Some("")
		bad1.Username = roster.Some("bert")
		bad2 := f.inviteRow("dora", "en")
		bad2.Roles = roster.Some([]string{"wizard"})
		bad2.Language = roster.Some("xx")
		_, err = f.svc.InviteUsers(ctx, f.admin, []roster.UserInput{f.inviteRow("anna", "en"), bad1, bad2})
		wantCode(t, err, roster.EInvalid)
		for _, field := range []string{"invitations[1].email", "invitations[2].roles", "invitations[2].language"} {
			wantField(t, err, field)
		}
		for _, fe := range roster.ErrorFields(err) {
			if strings.HasPrefix(fe.Field, "invitations[0]") {
				t.Fatalf("the valid row got an error: %+v", fe)
			}
		}
		// Nothing was written: no user, no invitation, no message, no audit event.
		p, err := f.svc.ListUsers(ctx, f.admin, roster.UserQuery{})
		must(t, err)
		invs, err := f.svc.ListInvitations(ctx, f.admin, roster.InvitationQuery{})
		must(t, err)
		ob, err := f.svc.ListOutbox(ctx, f.admin, roster.OutboxQuery{})
		must(t, err)
		if p.Total != 1 || invs.Total != 0 || ob.Total != 0 || f.auditCount(t) != before {
			t.Fatalf("a refused batch wrote: %d users, %d invitations, %d messages", p.Total, invs.Total, ob.Total)
		}

		// Duplicates alone are a conflict, named by row and field: one within
		// the batch (on its email, which is also its username), one with an
		// existing user.
		dup := f.inviteRow("carl", "en")
		dup.Email = roster.Some(existing.Email)
		_, err = f.svc.InviteUsers(ctx, f.admin, []roster.UserInput{f.inviteRow("anna", "en"), f.inviteRow("anna", "en"), dup})
		wantCode(t, err, roster.EConflict)
		wantField(t, err, "invitations[1].email")
		wantField(t, err, "invitations[2].email")
		for _, fe := range roster.ErrorFields(err) {
			if fe.Field == "invitations[1].email" && !strings.Contains(fe.Message, "invitation 1 of this batch") {
				t.Errorf("the duplicate inside the batch says %q", fe.Message)
			}
			if fe.Field == "invitations[1].username" {
				t.Errorf("the duplicate email is also reported on the username: %q", fe.Message)
			}
		}
		// A duplicate username with distinct emails is named on the username,
		// along with every other problem of the batch at once.
		sameName := f.inviteRow("dora", "en")
		sameName.Username = roster.Some("anna.x")
		other := f.inviteRow("erik", "en")
		other.Username = roster.Some("anna.x")
		other.Language = roster.Some("xx")
		_, err = f.svc.InviteUsers(ctx, f.admin, []roster.UserInput{sameName, other})
		wantCode(t, err, roster.EInvalid)
		wantField(t, err, "invitations[1].username")
		wantField(t, err, "invitations[1].language")

		// A Team Leader is invited with at least one team.
		for _, tc := range []struct {
			name  string
			teams []int64
			ok    bool
		}{{"no teams", nil, false}, {"one team", []int64{f.team.ID}, true}} {
			lead := f.inviteRow("lea"+strings.ReplaceAll(tc.name, " ", ""), "en")
			lead.Roles = roster.Some([]string{roster.RoleTeamLeader})
			lead.GroupAccess = roster.Some(tc.teams)
			_, err = f.svc.InviteUsers(ctx, f.admin, []roster.UserInput{lead})
			if tc.ok {
				must(t, err)
				continue
			}
			wantCode(t, err, roster.EInvalid)
			wantField(t, err, "invitations[0].group_access")
		}

		_, err = f.svc.InviteUsers(ctx, f.admin, nil)
		wantField(t, err, "invitations")
		// Inviting needs users.invite, and granting admin needs admin rights.
		_, err = f.svc.InviteUsers(ctx, f.readOnly, []roster.UserInput{f.inviteRow("anna", "en")})
		wantCode(t, err, roster.EForbidden)
	})
}

func TestInvitationLinksExpireResendCancel(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		f := lifecycleFixture(t, db, "acme", nil)
		ctx := f.ctx
		links := f.invite(t, f.inviteRow("anna", "en"), f.inviteRow("bert", "en"), f.inviteRow("cleo", "en"))
		msgs := f.delivered(t)
		first := tokenOf(t, msgs[0])
		anna, bert, cleo := links[0].Invitation, links[1].Invitation, links[2].Invitation

		// Eight days later the links have expired: they say so, and offer nothing else.
		*f.clock = f.clock.Add(8 * 24 * time.Hour)
		info, err := f.svc.InspectInvitation(ctx, first)
		wantCode(t, err, roster.EGone)
		if info != nil || !strings.Contains(roster.ErrorMessage(err), "expired") {
			t.Fatalf("expired link: %v %v", info, err)
		}
		_, err = f.svc.AcceptInvitation(ctx, first, goodPassword, "", "")
		wantCode(t, err, roster.EGone)
		exp, err := f.svc.ListInvitations(ctx, f.admin, roster.InvitationQuery{Status: "expired"})
		must(t, err)
		if exp.Total != 3 || exp.Items[0].Status != roster.InvitationExpired {
			t.Fatalf("expired list = %+v", exp)
		}

		// Resend: a new link, emailed again; the old link is dead.
		re, err := f.svc.ResendInvitation(ctx, f.admin, anna.ID)
		must(t, err)
		if re.SendCount != 2 || re.Status != roster.InvitationPending || !re.ExpiresAt.After(*f.clock) {
			t.Fatalf("resent = %+v", re)
		}
		_, err = f.svc.InspectInvitation(ctx, first)
		wantCode(t, err, roster.ENotFound)
		resent := f.delivered(t)
		if len(resent) != 1 || resent[0].Recipient != "anna@example.com" {
			t.Fatalf("resend mailed %+v", resent)
		}
		second := tokenOf(t, resent[0])

		// Copy link: a fresh working link; the emailed one stops, and an unsent email is cancelled.
		_, err = f.svc.ResendInvitation(ctx, f.admin, anna.ID) // queued, not yet delivered
		must(t, err)
		copied, err := f.svc.InvitationLinkURL(ctx, f.admin, anna.ID)
		must(t, err)
		_, err = f.svc.InspectInvitation(ctx, second)
		wantCode(t, err, roster.ENotFound)
		if pending := f.delivered(t); len(pending) != 0 {
			t.Fatalf("the superseded email was still sent: %+v", pending)
		}
		cancelled, err := f.svc.ListOutbox(ctx, f.admin, roster.OutboxQuery{Status: "cancelled"})
		must(t, err)
		if cancelled.Total != 1 {
			t.Fatalf("cancelled messages = %d", cancelled.Total)
		}
		token := strings.TrimPrefix(copied.URL, "https://roster.example.com/invite/")
		_, err = f.svc.AcceptInvitation(ctx, token, goodPassword, "", "")
		must(t, err)
		// Accepted invitations cannot be resent or cancelled.
		_, err = f.svc.ResendInvitation(ctx, f.admin, anna.ID)
		wantCode(t, err, roster.EConflict)
		wantCode(t, f.svc.CancelInvitation(ctx, f.admin, anna.ID), roster.EConflict)

		// Cancel: the user leaves the lists, the invitation is listed as cancelled, the link is dead.
		_, err = f.svc.ResendInvitation(ctx, f.admin, bert.ID)
		must(t, err)
		bertToken := tokenOf(t, f.delivered(t)[0])
		must(t, f.svc.CancelInvitation(ctx, f.admin, bert.ID))
		_, err = f.svc.AcceptInvitation(ctx, bertToken, goodPassword, "", "")
		wantCode(t, err, roster.EGone)
		users, err := f.svc.ListUsers(ctx, f.admin, roster.UserQuery{Q: "bert"})
		must(t, err)
		if users.Total != 0 {
			t.Fatalf("a cancelled invitee is still listed: %+v", users.Items)
		}
		_, err = f.svc.User(ctx, f.admin, bert.UserID)
		wantCode(t, err, roster.ENotFound)
		c, err := f.svc.ListInvitations(ctx, f.admin, roster.InvitationQuery{Status: "cancelled"})
		must(t, err)
		if c.Total != 1 || c.Items[0].ID != bert.ID || c.Items[0].CancelledAt == nil {
			t.Fatalf("cancelled list = %+v", c.Items)
		}
		wantCode(t, f.svc.CancelInvitation(ctx, f.admin, bert.ID), roster.EConflict)
		ev, err := f.svc.ListAudit(ctx, f.admin, roster.AuditFilter{Target: fmt.Sprintf("user:%d", bert.UserID)})
		must(t, err)
		if ev.Total != 2 || ev.Items[0].Action != "user.delete" || ev.Items[0].Before == nil {
			t.Fatalf("the audit log lost the cancelled user: %+v", ev.Items)
		}
		// The same address can be invited again.
		f.invite(t, f.inviteRow("bert", "en"))

		// Deactivating an invited user cancels the invitation too.
		_, err = f.svc.DeactivateUser(ctx, f.admin, cleo.UserID)
		must(t, err)
		got, err := f.svc.Invitation(ctx, f.admin, cleo.ID)
		must(t, err)
		if got.Status != roster.InvitationCancelled {
			t.Fatalf("invitation of a deactivated invitee = %s", got.Status)
		}

		// Another tenant sees none of it.
		g := lifecycleFixture(t, db, "other", nil)
		_, err = g.svc.Invitation(ctx, g.admin, anna.ID)
		wantCode(t, err, roster.ENotFound)
		_, err = g.svc.ResendInvitation(ctx, g.admin, anna.ID)
		wantCode(t, err, roster.ENotFound)
		wantCode(t, g.svc.CancelInvitation(ctx, g.admin, cleo.ID), roster.ENotFound)
	})
}

// activeUser creates a user without invitation and gives them a password
// through a one-time code.
func (f *fixture) activeUser(t *testing.T, username string) *roster.User {
	t.Helper()
	in := f.userInput(username)
	in.Mobile = roster.Some("+491701234567" + fmt.Sprint(len(username)%10))
	u, err := f.svc.CreateUser(f.ctx, f.admin, in)
	must(t, err)
	must(t, f.svc.RequestPasswordCode(f.ctx, roster.CodeRequest{Tenant: f.tenant.Slug, Login: username, Channel: "email"}))
	msgs := f.delivered(t)
	must(t, f.svc.ResetPassword(f.ctx, roster.ResetInput{Tenant: f.tenant.Slug, Login: username, Code: codeOf(t, msgs[len(msgs)-1]), Password: goodPassword}))
	return u
}

func TestSignInRules(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		f := lifecycleFixture(t, db, "acme", func(o *roster.LifecycleOptions) {
			o.SignInPerIP = auth.Limit{Max: 8, Window: 15 * time.Minute}
		})
		ctx := f.ctx
		anna := f.activeUser(t, "anna")
		otto := f.activeUser(t, "otto")
		noPassword, err := f.svc.CreateUser(ctx, f.admin, f.userInput("nopw"))
		must(t, err)

		// A wrong password, an unknown login, an account without a password
		// and an unknown tenant all get the same answer.
		_, errWrong := f.signIn("anna", "not-the-password")
		_, errUnknown := f.signIn("nobody", "not-the-password")
		_, errNoPw := f.signIn(noPassword.Username, "not-the-password")
		_, errTenant := f.svc.SignIn(ctx, roster.SignInInput{Tenant: "nope", Login: "anna", Password: goodPassword})
		for _, err := range []error{errWrong, errUnknown, errNoPw, errTenant} {
			wantCode(t, err, roster.EUnauthorized)
			if err.Error() != errWrong.Error() {
				t.Fatalf("answers differ: %q vs %q", err, errWrong)
			}
		}
		_, err = f.svc.SignIn(ctx, roster.SignInInput{})
		wantField(t, err, "tenant")
		wantField(t, err, "login")
		wantField(t, err, "password")

		// Five failures from one address stop that address for the account,
		// the right password included; the owner elsewhere gets in.
		for i := 0; i < 4; i++ {
			_, err := f.signIn("anna", "wrong")
			wantCode(t, err, roster.EUnauthorized)
		}
		_, err = f.signIn("anna", goodPassword)
		wantCode(t, err, roster.ELimited)
		_, err = f.svc.SignIn(ctx, roster.SignInInput{Tenant: "acme", Login: "anna", Password: goodPassword, IP: "203.0.113.9"})
		must(t, err)
		// An unknown login is stopped the same way after five failures.
		for i := 0; i < 5; i++ {
			_, err := f.svc.SignIn(ctx, roster.SignInInput{Tenant: "acme", Login: "nobody", Password: "x", IP: "198.51.100.7"})
			wantCode(t, err, roster.EUnauthorized)
		}
		_, err = f.svc.SignIn(ctx, roster.SignInInput{Tenant: "acme", Login: "nobody", Password: "x", IP: "198.51.100.7"})
		wantCode(t, err, roster.ELimited)
		// The address 192.0.2.1 has 7 failures; one more blocks it for every account.
		_, err = f.signIn(noPassword.Username, "wrong")
		wantCode(t, err, roster.EUnauthorized)
		_, err = f.signIn("someone-else", "wrong")
		wantCode(t, err, roster.ELimited)
		// ... a known account with the right password too, and an
		// account without failures of its own from that address.
		_, err = f.signIn(noPassword.Username, "wrong")
		wantCode(t, err, roster.ELimited)
		_, err = f.signIn(otto.Username, goodPassword)
		wantCode(t, err, roster.ELimited)
		// The windows end.
		*f.clock = f.clock.Add(16 * time.Minute)
		s1, err := f.signIn("anna", goodPassword)
		must(t, err)

		// Rotation: signing in again with the old cookie ends the old session.
		s2, err := f.svc.SignIn(ctx, roster.SignInInput{Tenant: "acme", Login: "anna@example.com", Password: goodPassword, Previous: s1.Token})
		must(t, err)
		_, _, err = f.svc.AuthenticateSession(ctx, s1.Token)
		wantCode(t, err, roster.EUnauthorized)
		s3, err := f.signIn("anna", goodPassword) // a second browser
		must(t, err)

		// Idle expiry: used within 8 hours it lives on; unused for 8 hours it ends.
		*f.clock = f.clock.Add(7 * time.Hour)
		_, _, err = f.svc.AuthenticateSession(ctx, s2.Token)
		must(t, err)
		*f.clock = f.clock.Add(7 * time.Hour)
		_, _, err = f.svc.AuthenticateSession(ctx, s2.Token)
		must(t, err)
		_, _, err = f.svc.AuthenticateSession(ctx, s3.Token)
		wantCode(t, err, roster.EUnauthorized)
		// Absolute expiry: 7 days after sign-in, however busy.
		for i := 0; i < 40; i++ {
			*f.clock = f.clock.Add(6 * time.Hour)
			_, _, err = f.svc.AuthenticateSession(ctx, s2.Token)
			if err != nil {
				break
			}
		}
		wantCode(t, err, roster.EUnauthorized)
		if f.clock.Sub(s2.Session.CreatedAt) < 7*24*time.Hour || f.clock.Sub(s2.Session.CreatedAt) > 7*24*time.Hour+6*time.Hour {
			t.Fatalf("the session ended %s after sign-in", f.clock.Sub(s2.Session.CreatedAt))
		}

		// Password change keeps this session and ends the others.
		here, err := f.signIn("anna", goodPassword)
		must(t, err)
		there, err := f.signIn("anna", goodPassword)
		must(t, err)
		a, _, err := f.svc.AuthenticateSession(ctx, here.Token)
		must(t, err)
		err = f.svc.ChangePassword(ctx, a, here.Token, "wrong", "another-long-passphrase")
		wantField(t, err, "current_password")
		err = f.svc.ChangePassword(ctx, a, here.Token, goodPassword, "qwertyuiop")
		wantField(t, err, "new_password")
		must(t, f.svc.ChangePassword(ctx, a, here.Token, goodPassword, "another-long-passphrase"))
		_, _, err = f.svc.AuthenticateSession(ctx, here.Token)
		must(t, err)
		_, _, err = f.svc.AuthenticateSession(ctx, there.Token)
		wantCode(t, err, roster.EUnauthorized)
		_, err = f.signIn("anna", goodPassword)
		wantCode(t, err, roster.EUnauthorized)
		// API tokens have no password to change.
		wantCode(t, f.svc.ChangePassword(ctx, f.admin, "", "x", "y"), roster.EForbidden)

		// Deactivation ends every session at once, and sign-in is refused.
		_, err = f.svc.DeactivateUser(ctx, f.admin, anna.ID)
		must(t, err)
		_, _, err = f.svc.AuthenticateSession(ctx, here.Token)
		wantCode(t, err, roster.EUnauthorized)
		_, err = f.signIn("anna", "another-long-passphrase")
		wantCode(t, err, roster.EForbidden)
		// Reactivated, the password works again.
		_, err = f.svc.ReactivateUser(ctx, f.admin, anna.ID)
		must(t, err)
		again, err := f.signIn("anna", "another-long-passphrase")
		must(t, err)

		// Sign-out ends the session; signing out twice is harmless.
		must(t, f.svc.SignOut(ctx, again.Token, "", ""))
		_, _, err = f.svc.AuthenticateSession(ctx, again.Token)
		wantCode(t, err, roster.EUnauthorized)
		must(t, f.svc.SignOut(ctx, again.Token, "", ""))

		// Deleting the user ends their sessions too.
		last, err := f.signIn("anna", "another-long-passphrase")
		must(t, err)
		must(t, f.svc.DeleteUser(ctx, f.admin, anna.ID))
		_, _, err = f.svc.AuthenticateSession(ctx, last.Token)
		wantCode(t, err, roster.EUnauthorized)
		_, _, err = f.svc.AuthenticateSession(ctx, "rss_made-up")
		wantCode(t, err, roster.EUnauthorized)
	})
}

func TestOneTimeCodes(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		f := lifecycleFixture(t, db, "acme", nil)
		ctx := f.ctx
		in := f.userInput("olga")
		in.Mobile = roster.Some("0049 170 5550001")
		in.Language = roster.Some("de")
		olga, err := f.svc.CreateUser(ctx, f.admin, in)
		must(t, err)
		req := func(login, channel string) error {
			return f.svc.RequestPasswordCode(ctx, roster.CodeRequest{Tenant: "acme", Login: login, Channel: channel, IP: "192.0.2.5"})
		}
		reset := func(login, code, pw string) error {
			return f.svc.ResetPassword(ctx, roster.ResetInput{Tenant: "acme", Login: login, Code: code, Password: pw, IP: "192.0.2.5"})
		}

		// Unknown accounts, invited ones and unknown tenants get the same (empty) answer and nothing is sent.
		f.invite(t, f.inviteRow("ivan", "en"))
		f.delivered(t)
		for _, login := range []string{"nobody", "ivan@example.com"} {
			must(t, req(login, "email"))
		}
		must(t, f.svc.RequestPasswordCode(ctx, roster.CodeRequest{Tenant: "nope", Login: "olga"}))
		if m := f.delivered(t); len(m) != 0 {
			t.Fatalf("codes were sent for accounts that cannot have them: %+v", m)
		}
		err = req("olga", "fax")
		wantField(t, err, "channel")

		// By SMS, to the mobile number, in German.
		must(t, req("olga", "sms"))
		sms := f.delivered(t)
		if len(sms) != 1 || sms[0].Channel != roster.ChannelSMS || sms[0].Recipient != "+491705550001" || !strings.Contains(sms[0].Text, "Einmalcode") {
			t.Fatalf("sms = %+v", sms)
		}
		code := codeOf(t, sms[0])
		// The wrong code, and the right code for the wrong login, fail alike.
		wrong := fmt.Sprintf("%08d", (mustAtoi(code)+1)%100_000_000)
		err = reset("olga", wrong, goodPassword)
		wantField(t, err, "code")
		errUnknown := reset("nobody", code, goodPassword)
		if err.Error() != errUnknown.Error() {
			t.Fatalf("wrong code %q vs unknown login %q", err, errUnknown)
		}
		// A weak password costs no try; the right code sets the password.
		err = reset("olga", code, "1234567890")
		wantField(t, err, "password")
		must(t, reset("olga", code[:4]+" "+code[4:], goodPassword))
		// Used once only.
		wantField(t, reset("olga", code, goodPassword), "code")
		s, err := f.signIn("olga", goodPassword)
		must(t, err)

		// By email; a reset ends every session.
		must(t, req("olga@example.com", "email"))
		mail := f.delivered(t)
		if len(mail) != 1 || mail[0].Recipient != "olga@example.com" || mail[0].Subject != "Ihr Einmalcode für Tenant acme" || !strings.Contains(mail[0].HTML, codeOf(t, mail[0])) {
			t.Fatalf("mail = %+v", mail)
		}
		must(t, reset("olga", codeOf(t, mail[0]), "a-whole-new-passphrase"))
		_, _, err = f.svc.AuthenticateSession(ctx, s.Token)
		wantCode(t, err, roster.EUnauthorized)

		// Codes expire after 10 minutes.
		must(t, req("olga", "email"))
		late := codeOf(t, f.delivered(t)[0])
		*f.clock = f.clock.Add(11 * time.Minute)
		wantField(t, reset("olga", late, goodPassword), "code")

		// Wrong codes until throttled: a code dies after 5 wrong tries, and
		// after 10 wrong tries the account is blocked for the hour.
		*f.clock = f.clock.Add(time.Hour)
		must(t, req("olga", "email"))
		c1 := codeOf(t, f.delivered(t)[0])
		for i := 0; i < 5; i++ {
			wantField(t, reset("olga", fmt.Sprintf("%08d", i), goodPassword), "code")
		}
		wantField(t, reset("olga", c1, goodPassword), "code") // burnt (the 6th failure)
		must(t, req("olga", "email"))
		c2 := codeOf(t, f.delivered(t)[0])
		for i := 0; i < 4; i++ {
			wantField(t, reset("olga", fmt.Sprintf("%08d", i), goodPassword), "code")
		}
		err = reset("olga", c2, goodPassword)
		wantCode(t, err, roster.ELimited)
		// ... and so is an unknown login after as many failures.
		for i := 0; i < 10; i++ {
			wantField(t, f.svc.ResetPassword(ctx, roster.ResetInput{Tenant: "acme", Login: "ghost", Code: "12345678", Password: goodPassword, IP: "198.51.100.1"}), "code")
		}
		wantCode(t, f.svc.ResetPassword(ctx, roster.ResetInput{Tenant: "acme", Login: "ghost", Code: "12345678", Password: goodPassword, IP: "198.51.100.1"}), roster.ELimited)

		// Too many code requests: the account limit is silent (same answer, nothing sent) ...
		*f.clock = f.clock.Add(2 * time.Hour)
		for i := 0; i < 7; i++ {
			must(t, req("olga", "email"))
		}
		if n := len(f.delivered(t)); n != 5 {
			t.Fatalf("%d codes sent for 7 requests, want 5", n)
		}
		// ... the address limit answers 429.
		var last error
		for i := 0; i < 40 && last == nil; i++ {
			last = req(fmt.Sprintf("someone%d", i), "email")
		}
		wantCode(t, last, roster.ELimited)

		// A deactivated user gets no code; reactivated without a password, they can.
		nopw, err := f.svc.CreateUser(ctx, f.admin, f.userInput("paul"))
		must(t, err)
		_, err = f.svc.DeactivateUser(ctx, f.admin, nopw.ID)
		must(t, err)
		*f.clock = f.clock.Add(2 * time.Hour)
		must(t, f.svc.RequestPasswordCode(ctx, roster.CodeRequest{Tenant: "acme", Login: "paul", IP: "192.0.2.77"}))
		if n := len(f.delivered(t)); n != 0 {
			t.Fatalf("a deactivated user got %d codes", n)
		}
		_, err = f.svc.ReactivateUser(ctx, f.admin, nopw.ID)
		must(t, err)
		must(t, f.svc.RequestPasswordCode(ctx, roster.CodeRequest{Tenant: "acme", Login: "paul", IP: "192.0.2.77"}))
		pc := f.delivered(t)
		if len(pc) != 1 {
			t.Fatalf("a reactivated user got %d codes", len(pc))
		}
		must(t, f.svc.ResetPassword(ctx, roster.ResetInput{Tenant: "acme", Login: "paul", Code: codeOf(t, pc[0]), Password: goodPassword, IP: "192.0.2.77"}))
		_ = olga
	})
}

func mustAtoi(s string) int {
	n := 0
	for _, r := range s {
		n = n*10 + int(r-'0')
	}
	return n
}

// TestOutboxClaims checks what the delivery worker relies on: a claim is
// exclusive until its lease ends, outcomes need the claim, retries wait.
func TestOutboxClaims(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		f := lifecycleFixture(t, db, "acme", nil)
		ctx := f.ctx
		f.invite(t, f.inviteRow("anna", "en"), f.inviteRow("bert", "en"), f.inviteRow("cleo", "en"))
		a, err := f.svc.ClaimOutbox(ctx, "worker-a", 2, time.Minute)
		must(t, err)
		b, err := f.svc.ClaimOutbox(ctx, "worker-b", 10, time.Minute)
		must(t, err)
		if len(a) != 2 || len(b) != 1 || a[0].ID == b[0].ID || a[1].ID == b[0].ID {
			t.Fatalf("claims overlap: a=%d b=%d", len(a), len(b))
		}
		// Only the holder records an outcome.
		wantCode(t, f.svc.FinishOutbox(ctx, &b[0], "worker-a", roster.DeliveryOutcome{Status: roster.OutboxSent}), roster.ENotFound)
		// A retry waits for its time; a lease that runs out frees the message.
		must(t, f.svc.FinishOutbox(ctx, &a[0], "worker-a", roster.DeliveryOutcome{Status: roster.OutboxPending, Retry: f.clock.Add(time.Minute), Error: "451 try later"}))
		c, err := f.svc.ClaimOutbox(ctx, "worker-c", 10, time.Minute)
		must(t, err)
		if len(c) != 0 {
			t.Fatalf("claimed %d messages that are leased or waiting", len(c))
		}
		*f.clock = f.clock.Add(61 * time.Second)
		c, err = f.svc.ClaimOutbox(ctx, "worker-c", 10, time.Minute)
		must(t, err)
		if len(c) != 3 {
			t.Fatalf("after the leases ended, claimed %d of 3", len(c))
		}
		for _, m := range c {
			if m.ID == a[0].ID && (m.Attempts != 1 || m.LastError != "451 try later" || m.Secret == "") {
				t.Fatalf("retried message = %+v", m)
			}
		}
		must(t, f.svc.FinishOutbox(ctx, &c[0], "worker-c", roster.DeliveryOutcome{Status: roster.OutboxFailed, Error: "550 no such user"}))
		failed, err := f.svc.ListOutbox(ctx, f.admin, roster.OutboxQuery{Status: "failed"})
		must(t, err)
		if failed.Total != 1 || failed.Items[0].LastError != "550 no such user" {
			t.Fatalf("failed = %+v", failed.Items)
		}
		_, err = f.svc.ListOutbox(ctx, f.readOnly, roster.OutboxQuery{})
		wantCode(t, err, roster.EForbidden)
		_, err = f.svc.ListOutbox(ctx, f.admin, roster.OutboxQuery{Status: "lost", Channel: "fax"})
		wantField(t, err, "status")
		wantField(t, err, "channel")
		must(t, f.svc.PruneLifecycle(ctx))
	})
}

// A sign-in writes the session, the last-login time and its audit event
// together; the common case takes one write (one statement on PostgreSQL),
// a sign-in that also ends a previous session a transaction. Both leave
// the same records.
func TestSignInRecords(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		f := lifecycleFixture(t, db, "acme", nil)
		anna := f.activeUser(t, "anna")
		*f.clock = f.clock.Add(time.Minute)
		first, err := f.signIn("anna", goodPassword) // the one-write path
		must(t, err)
		firstAt := *f.clock
		u, err := f.svc.User(f.ctx, f.admin, anna.ID)
		must(t, err)
		if u.LastLoginAt == nil || !u.LastLoginAt.Equal(firstAt) {
			t.Fatalf("last login %v, want %v", u.LastLoginAt, firstAt)
		}
		*f.clock = f.clock.Add(time.Minute)
		second, err := f.svc.SignIn(f.ctx, roster.SignInInput{Tenant: "acme", Login: "anna", Password: goodPassword, Previous: first.Token})
		must(t, err)
		u, err = f.svc.User(f.ctx, f.admin, anna.ID)
		must(t, err)
		if u.LastLoginAt == nil || !u.LastLoginAt.Equal(*f.clock) {
			t.Fatalf("last login %v, want %v", u.LastLoginAt, *f.clock)
		}
		_, _, err = f.svc.AuthenticateSession(f.ctx, first.Token)
		wantCode(t, err, roster.EUnauthorized)
		_, _, err = f.svc.AuthenticateSession(f.ctx, second.Token)
		must(t, err)

		page, err := f.svc.ListAudit(f.ctx, f.admin, roster.AuditFilter{Action: "session.create", Target: fmt.Sprintf("user:%d", anna.ID)})
		must(t, err)
		if len(page.Items) != 2 {
			t.Fatalf("%d session.create events, want 2", len(page.Items))
		}
		for _, s := range []*roster.SignedIn{first, second} {
			want, err := json.Marshal(map[string]any{"session_id": s.Session.ID, "expires_at": s.Session.ExpiresAt})
			must(t, err)
			found := false
			for _, e := range page.Items {
				if string(e.After) == string(want) {
					found = true
					if e.ID == 0 || e.ActorID != anna.ID || e.TargetID != anna.ID || e.IP != "192.0.2.1" && s == first {
						t.Fatalf("event %+v", e)
					}
				}
			}
			if !found {
				t.Fatalf("no session.create event with after %s in %+v", want, page.Items)
			}
		}
		stats, err := f.svc.Stats(f.ctx, f.admin)
		must(t, err)
		if stats.Active < 1 {
			t.Fatalf("stats %+v: anna has signed in", stats)
		}
	})
}

// Sign-in, sign-out, session use and failed attempts skip the decision
// index's sync after commit (inTxOutsideDecisions, RecordSignIn): that is
// only right while none of them writes anything the index follows. The
// change log must stay empty through each of those paths.
func TestSessionWritesChangeNoDecisions(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		f := lifecycleFixture(t, db, "acme", nil)
		ctx := f.ctx
		anna := f.activeUser(t, "anna")
		head, err := db.Read().AuthzHead(ctx)
		must(t, err)

		_, err = f.signIn("anna", "wrong") // a failed attempt is counted
		wantCode(t, err, roster.EUnauthorized)
		first, err := f.signIn("anna", goodPassword) // resets the count: the transaction path
		must(t, err)
		second, err := f.signIn("anna", goodPassword) // the one-write path
		must(t, err)
		third, err := f.svc.SignIn(ctx, roster.SignInInput{Tenant: "acme", Login: "anna", Password: goodPassword, Previous: first.Token})
		must(t, err)
		// A hasher with other parameters stores a fresh hash at sign-in.
		rehashing := roster.NewService(db, roster.Options{Clock: func() time.Time { return *f.clock },
			Lifecycle: roster.LifecycleOptions{Argon2: auth.Params{Memory: 2048, Time: 1, Threads: 1}, ForgotMinDuration: time.Nanosecond}})
		_, err = rehashing.SignIn(ctx, roster.SignInInput{Tenant: "acme", Login: "anna", Password: goodPassword})
		must(t, err)
		*f.clock = f.clock.Add(2 * time.Minute) // past the touch interval
		_, _, err = f.svc.AuthenticateSession(ctx, second.Token)
		must(t, err)
		must(t, f.svc.SignOut(ctx, second.Token, "192.0.2.1", "test"))
		*f.clock = f.clock.Add(9 * time.Hour) // idle: the session is deleted on use
		_, _, err = f.svc.AuthenticateSession(ctx, third.Token)
		wantCode(t, err, roster.EUnauthorized)

		changes, _, err := db.Read().AuthzChanges(ctx, head)
		must(t, err)
		if len(changes) != 0 {
			t.Fatalf("session writes logged decision changes: %+v", changes)
		}
		// The log does record what the index follows.
		_, err = f.svc.DeactivateUser(ctx, f.admin, anna.ID)
		must(t, err)
		changes, _, err = db.Read().AuthzChanges(ctx, head)
		must(t, err)
		if len(changes) == 0 {
			t.Fatal("a deactivation logged no decision change")
		}
	})
}

// User agents and addresses come from clients: they are stored as valid
// UTF-8, cut at a character boundary (PostgreSQL refuses invalid UTF-8).
func TestSignInOddUserAgent(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		f := lifecycleFixture(t, db, "acme", nil)
		f.activeUser(t, "anna")
		ua := strings.Repeat("a", 399) + "é and more \xff"
		s, err := f.svc.SignIn(f.ctx, roster.SignInInput{Tenant: "acme", Login: "anna", Password: goodPassword, IP: "192.0.2.1\xfe", UserAgent: ua})
		must(t, err)
		if got := s.Session.UserAgent; got != strings.Repeat("a", 399) {
			t.Fatalf("stored user agent %q (%d bytes)", got, len(got))
		}
		page, err := f.svc.ListAudit(f.ctx, f.admin, roster.AuditFilter{Action: "session.create"})
		must(t, err)
		if len(page.Items) != 1 || page.Items[0].IP != "192.0.2.1\uFFFD" || !strings.HasPrefix(page.Items[0].UserAgent, strings.Repeat("a", 399)) ||
			len(page.Items[0].UserAgent) > 400 {
			t.Fatalf("audit events %+v", page.Items)
		}
		// A login or tenant that is not UTF-8 is simply unknown.
		_, err = f.signIn("anna\xff", goodPassword)
		wantCode(t, err, roster.EUnauthorized)
		_, err = f.svc.SignIn(f.ctx, roster.SignInInput{Tenant: "acme\xff", Login: "anna", Password: goodPassword})
		wantCode(t, err, roster.EUnauthorized)
		must(t, f.svc.RequestPasswordCode(f.ctx, roster.CodeRequest{Tenant: "acme", Login: "anna\xff", IP: "\xff"}))
	})
}
