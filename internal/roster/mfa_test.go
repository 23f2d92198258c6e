package roster_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/roster-dev/roster/internal/roster"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/testdb"
)

// TestMFARequirement: who must use a second factor, policies × roles.
func TestMFARequirement(t *testing.T) {
	admin := []string{roster.PermUsersManage, roster.PermUsersView}
	envManager := []string{roster.PermEnvironmentManage}
	reader := []string{roster.PermInsightsView, roster.PermUsersView, roster.PermAuditView}
	for _, tc := range []struct {
		policy   string
		required []string
		roles    []string
		perms    []string
		want     bool
	}{
		{roster.MFAOff, nil, []string{"admin"}, admin, false},
		{roster.MFAOff, []string{"agent"}, []string{"agent"}, nil, false}, // off is off
		{roster.MFAOptional, nil, []string{"admin"}, admin, false},
		{roster.MFAOptional, []string{"agent"}, []string{"agent"}, nil, true},
		{roster.MFAOptional, []string{"agent"}, []string{"user"}, reader, false},
		{roster.MFAAdmins, nil, []string{"admin"}, admin, true},
		{roster.MFAAdmins, nil, []string{"environment_manager"}, envManager, true},
		{roster.MFAAdmins, nil, []string{"user"}, reader, false}, // reading the audit log is not administering
		{roster.MFAAdmins, []string{"user"}, []string{"user"}, reader, true},
		{roster.MFAAdmins, nil, []string{"agent"}, []string{roster.PermSelfView}, false},
		{roster.MFAAll, nil, []string{"agent"}, []string{roster.PermSelfView}, true},
		{roster.MFAAll, nil, []string{"admin"}, admin, true},
	} {
		if got := roster.MFARequirement(tc.policy, tc.required, tc.roles, tc.perms); got != tc.want {
			t.Errorf("policy %s, required roles %v, roles %v: required = %v, want %v", tc.policy, tc.required, tc.roles, got, tc.want)
		}
	}
}

// codeAt is the authenticator app's code for the manual key at t.
func codeAt(t *testing.T, manualKey string, at time.Time) string {
	t.Helper()
	code, err := totp.GenerateCodeCustom(strings.ReplaceAll(manualKey, " ", ""), at,
		totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	must(t, err)
	return code
}

func (f *fixture) setMFAPolicy(t *testing.T, policy string, roles ...string) {
	t.Helper()
	in := roster.TenantInput{Settings: roster.TenantSettingsInput{MFAPolicy: roster.Some(policy)}}
	if roles != nil {
		in.Settings.MFARoles = roster.Some(roles)
	}
	_, err := f.svc.UpdateTenant(f.ctx, f.admin, in)
	must(t, err)
}

// TestMFASignIn: enrolment forced by the policy at the first sign-in, then
// the second-factor step: codes work once, recovery codes once, and a
// wrong password meets the same step and the same answer as a wrong code.
func TestMFASignIn(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		f := lifecycleFixture(t, db, "acme", nil)
		anna := f.activeUser(t, "anna")
		f.setMFAPolicy(t, roster.MFAAll)

		// Must enrol: the password leads to the enrol stage, no session.
		in, err := f.signIn("anna", goodPassword)
		must(t, err)
		if in.MFA == nil || in.MFA.Stage != roster.MFAStageEnrol || in.Token != "" {
			t.Fatalf("sign-in of a user who must enrol = %+v", in)
		}
		if _, _, err := f.svc.AuthenticateSession(f.ctx, in.MFA.Token); err == nil {
			t.Fatal("the challenge token works as a session")
		}
		step, err := f.svc.SecondFactorStep(f.ctx, in.MFA.Token)
		must(t, err)
		key := step.Enrolment.ManualKey
		png, err := f.svc.EnrolmentQR(f.ctx, in.MFA.Token)
		must(t, err)
		if !strings.HasPrefix(string(png), "\x89PNG") {
			t.Fatal("the QR code is not a PNG")
		}
		_, _, err = f.svc.CompleteEnrolment(f.ctx, roster.SecondFactorInput{Token: in.MFA.Token, Code: "000000"})
		wantField(t, err, "code")
		signedIn, recovery, err := f.svc.CompleteEnrolment(f.ctx, roster.SecondFactorInput{Token: in.MFA.Token, Code: codeAt(t, key, *f.clock)})
		must(t, err)
		if signedIn.Token == "" || len(recovery) != roster.RecoveryCodeCount {
			t.Fatalf("enrolment = %+v, %d recovery codes", signedIn, len(recovery))
		}
		if _, _, err := f.svc.AuthenticateSession(f.ctx, signedIn.Token); err != nil {
			t.Fatal(err)
		}

		verify := func(password, code string) (*roster.SignedIn, error) {
			t.Helper()
			in, err := f.signIn("anna", password)
			must(t, err)
			if in.MFA == nil || in.MFA.Stage != roster.MFAStageVerify {
				t.Fatalf("sign-in with MFA = %+v, want the verify step", in)
			}
			return f.svc.CompleteSecondFactor(f.ctx, roster.SecondFactorInput{Token: in.MFA.Token, Code: code, IP: "192.0.2.1"})
		}
		// The enrolment's code was its step: the same code does not work again.
		_, err = verify(goodPassword, codeAt(t, key, *f.clock))
		wantCode(t, err, roster.EUnauthorized)
		*f.clock = f.clock.Add(30 * time.Second)
		code := codeAt(t, key, *f.clock)
		// A wrong password with the right code: the same answer as a wrong code.
		_, errWrongPassword := verify("wrong password", code)
		_, errWrongCode := verify(goodPassword, "123456")
		if errWrongPassword == nil || errWrongCode == nil || errWrongPassword.Error() != errWrongCode.Error() {
			t.Fatalf("wrong password: %v; wrong code: %v; want one answer", errWrongPassword, errWrongCode)
		}
		s, err := verify(goodPassword, code)
		must(t, err)
		if s.Session.UserID != anna.ID {
			t.Fatalf("session of user %d", s.Session.UserID)
		}
		_, err = verify(goodPassword, code) // used
		wantCode(t, err, roster.EUnauthorized)
		// Recovery codes: each once, in any case and with or without the dash.
		_, err = verify(goodPassword, strings.ToUpper(recovery[0]))
		must(t, err)
		_, err = verify(goodPassword, recovery[0])
		wantCode(t, err, roster.EUnauthorized)
		_, err = verify(goodPassword, strings.ReplaceAll(recovery[1], "-", ""))
		must(t, err)
		// An unknown login meets the step too.
		ghost, err := f.signIn("ghost", goodPassword)
		must(t, err)
		if ghost.MFA == nil {
			t.Fatal("an unknown login was answered before the second factor")
		}
		// Policy off: the password alone signs in again.
		f.setMFAPolicy(t, roster.MFAOff)
		plain, err := f.signIn("anna", goodPassword)
		must(t, err)
		if plain.MFA != nil || plain.Token == "" {
			t.Fatalf("with MFA off, sign-in = %+v", plain)
		}
		_, err = f.signIn("anna", "wrong password")
		wantCode(t, err, roster.EUnauthorized)
	})
}

// TestMFAThrottle: wrong codes stop the source on the account, whether
// the password before them was right or not, so the throttle tells nothing.
func TestMFAThrottle(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		f := lifecycleFixture(t, db, "acme", nil)
		anna := f.activeUser(t, "anna")
		f.setMFAPolicy(t, roster.MFAAll)
		f.enrolTOTP(t, anna)
		for _, password := range []string{"wrong password", goodPassword} {
			t.Run(map[bool]string{true: "right password", false: "wrong password"}[password == goodPassword], func(t *testing.T) {
				codeIP := "198.51.100." + fmt.Sprint(len(password))
				for i := 0; i <= 10; i++ {
					// Each attempt from another address, so the password's own
					// throttle stays out of the way.
					in, err := f.svc.SignIn(f.ctx, roster.SignInInput{Tenant: "acme", Login: "anna", Password: password, IP: fmt.Sprintf("203.0.113.%d", i)})
					must(t, err)
					if in.MFA == nil {
						t.Fatalf("attempt %d: %+v", i, in)
					}
					_, err = f.svc.CompleteSecondFactor(f.ctx, roster.SecondFactorInput{Token: in.MFA.Token, Code: "123456", IP: codeIP})
					if want := map[bool]string{true: roster.ELimited, false: roster.EUnauthorized}[i == 10]; roster.ErrorCode(err) != want {
						t.Fatalf("attempt %d: %v, want %s", i, err, want)
					}
				}
			})
		}
	})
}

// enrolTOTP sets up an authenticator app for u from their account page and
// returns its manual key.
func (f *fixture) enrolTOTP(t *testing.T, u *roster.User) string {
	t.Helper()
	a, err := f.svc.ActorForUser(f.ctx, f.tenant.ID, u.ID)
	must(t, err)
	e, err := f.svc.StartTOTPEnrolment(f.ctx, a)
	must(t, err)
	_, err = f.svc.ConfirmTOTPEnrolment(f.ctx, a, "000000")
	wantField(t, err, "code")
	codes, err := f.svc.ConfirmTOTPEnrolment(f.ctx, a, codeAt(t, e.ManualKey, *f.clock))
	must(t, err)
	if len(codes) != roster.RecoveryCodeCount {
		t.Fatalf("%d recovery codes", len(codes))
	}
	_, err = f.svc.StartTOTPEnrolment(f.ctx, a)
	wantCode(t, err, roster.EConflict)
	st, err := f.svc.MyMFA(f.ctx, a)
	must(t, err)
	if !st.TOTP || st.RecoveryCodes != roster.RecoveryCodeCount {
		t.Fatalf("after enrolment: %+v", st)
	}
	*f.clock = f.clock.Add(30 * time.Second) // the next code is a new step
	return e.ManualKey
}

// TestResetMFAEscalation: resetting someone's factors is acting on them:
// users.manage, the target in scope and no more powerful than the actor.
// The reset is audited, ends the user's sessions and tells them by email.
func TestResetMFAEscalation(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		f := lifecycleFixture(t, db, "acme", nil)
		f.setMFAPolicy(t, roster.MFAOptional)
		_, err := f.svc.CreateRole(f.ctx, f.sys, roster.RoleInput{Key: roster.Some("helpdesk"), Name: roster.Some("Helpdesk"),
			Permissions: roster.Some([]string{roster.PermSelfView, roster.PermCoachingManage, roster.PermUsersView, roster.PermUsersManage}), Scope: roster.Some("tenant")})
		must(t, err)
		anna := f.activeUser(t, "anna") // an agent
		boss := f.activeUser(t, "boss")
		_, err = f.svc.UpdateUser(f.ctx, f.admin, boss.ID, roster.UserInput{Roles: roster.Some([]string{"admin"})})
		must(t, err)
		f.enrolTOTP(t, anna)
		f.enrolTOTP(t, boss)
		helpdesk := f.userActor(t, "hilde", "helpdesk")
		agent := f.userActor(t, "otto", "agent")
		session, err := f.signIn("anna", goodPassword)
		must(t, err)
		for _, tc := range []struct {
			name   string
			actor  *roster.Actor
			target int64
			want   string
		}{
			{"an agent, without users.manage", agent, anna.ID, roster.EForbidden},
			{"the helpdesk on an admin, more powerful", helpdesk, boss.ID, roster.EForbidden},
			{"read-only token", f.readOnly, anna.ID, roster.EForbidden},
			{"the helpdesk on an agent", helpdesk, anna.ID, ""},
			{"again: nothing left to reset", helpdesk, anna.ID, roster.EConflict},
			{"the admin on the admin", f.admin, boss.ID, ""},
		} {
			before := f.auditCount(t)
			err := f.svc.ResetMFA(f.ctx, tc.actor, tc.target)
			if roster.ErrorCode(err) != tc.want {
				t.Fatalf("%s: %v, want %q", tc.name, err, tc.want)
			}
			if grew := f.auditCount(t) - before; (tc.want == "") != (grew == 1) {
				t.Fatalf("%s: %d audit events", tc.name, grew)
			}
		}
		if _, _, err := f.svc.AuthenticateSession(f.ctx, session.Token); err == nil {
			t.Fatal("anna's session survived the reset")
		}
		st, err := f.svc.UserMFA(f.ctx, f.admin, anna.ID)
		must(t, err)
		if st.Enrolled() || st.RecoveryCodes != 0 {
			t.Fatalf("after the reset: %+v", st)
		}
		told := 0
		for _, m := range f.delivered(t) {
			if m.Kind == "mfa_reset" {
				told++
				if m.Recipient != "anna@example.com" && m.Recipient != "boss@example.com" {
					t.Fatalf("reset notice to %s", m.Recipient)
				}
			}
		}
		if told != 2 {
			t.Fatalf("%d reset notices, want 2", told)
		}
		// Optional policy, nothing set up: the password alone signs anna in.
		in, err := f.signIn("anna", goodPassword)
		must(t, err)
		if in.MFA != nil {
			t.Fatalf("after the reset: %+v", in)
		}
	})
}

func TestMFAAdminsPolicy(t *testing.T) {
	f := lifecycleFixture(t, testdb.SQLite(t), "acme", nil)
	u := f.activeUser(t, "ada")
	_, err := f.svc.UpdateUser(f.ctx, f.admin, u.ID, roster.UserInput{Roles: roster.Some([]string{"admin"})})
	must(t, err)
	f.setMFAPolicy(t, roster.MFAAdmins)
	in, err := f.signIn("ada", goodPassword)
	must(t, err)
	if in.MFA == nil || in.MFA.Stage != roster.MFAStageEnrol {
		t.Fatalf("an admin under the admins policy: %+v", in)
	}
}
