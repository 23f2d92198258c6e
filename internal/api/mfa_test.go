package api_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/roster-dev/roster/internal/roster"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/testdb"
)

// TestMFAOverHTTP: with two-step sign-in on, POST /api/v1/sessions answers
// 202 with a challenge (for a wrong password too), the second factor
// finishes it, and an admin reads and resets a user's factors.
func TestMFAOverHTTP(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		s := newLifecycleServer(t, db)
		ctx := context.Background()
		const password = "fern-lantern-88-q"
		var olga roster.User
		s.want(s.call(nil, "POST", "/api/v1/users", s.admin, map[string]any{"username": "olga", "email": "olga@example.com",
			"language": "en", "group_id": s.group}), http.StatusCreated).decode(t, &olga)
		s.want(s.call(nil, "POST", "/api/v1/password/forgot", "", map[string]string{"tenant": "acme", "login": "olga", "channel": "email"}), http.StatusAccepted)
		msgs, err := s.mail.WaitFor(1, 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		s.want(s.call(nil, "POST", "/api/v1/password/reset", "", map[string]string{"tenant": "acme", "login": "olga",
			"code": codeInText.FindString(msgs[0].Text), "password": password}), http.StatusNoContent)

		bad := s.want(s.call(nil, "PATCH", "/api/v1/tenant", s.admin, map[string]any{"settings": map[string]any{"mfa_roles": []string{"nope"}}}), http.StatusBadRequest)
		if !strings.Contains(string(bad.body), "settings.mfa_roles") {
			t.Fatalf("bad mfa_roles: %s", bad.body)
		}
		var tn roster.Tenant
		s.want(s.call(nil, "PATCH", "/api/v1/tenant", s.admin, map[string]any{"settings": map[string]any{"mfa_policy": "optional"}}), http.StatusOK).decode(t, &tn)
		if tn.Settings.MFAPolicy != roster.MFAOptional {
			t.Fatalf("settings = %+v", tn.Settings)
		}
		// Optional and nothing set up: the password signs in.
		s.want(s.call(nil, "POST", "/api/v1/sessions", "", map[string]string{"tenant": "acme", "login": "olga", "password": password}), http.StatusCreated)

		a, err := s.svc.ActorForUser(ctx, tn.ID, olga.ID)
		if err != nil {
			t.Fatal(err)
		}
		e, err := s.svc.StartTOTPEnrolment(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		code := func(at time.Time) string {
			c, err := totp.GenerateCodeCustom(strings.ReplaceAll(e.ManualKey, " ", ""), at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		if _, err := s.svc.ConfirmTOTPEnrolment(ctx, a, code(time.Now().Add(-30*time.Second))); err != nil {
			t.Fatal(err)
		}
		step := func(pw string) roster.MFAStep {
			var st roster.MFAStep
			s.want(s.call(nil, "POST", "/api/v1/sessions", "", map[string]string{"tenant": "acme", "login": "olga", "password": pw}), http.StatusAccepted).decode(t, &st)
			if st.Stage != roster.MFAStageVerify || st.Token == "" {
				t.Fatalf("step = %+v", st)
			}
			return st
		}
		// A wrong password gets the step too, and the same 401 after it.
		wrong := s.want(s.call(nil, "POST", "/api/v1/sessions/second-factor", "", map[string]string{"challenge": step("wrong").Token, "code": code(time.Now())}), http.StatusUnauthorized)
		wrongCode := s.want(s.call(nil, "POST", "/api/v1/sessions/second-factor", "", map[string]string{"challenge": step(password).Token, "code": "000000"}), http.StatusUnauthorized)
		if detail := func(b []byte) string { return string(b[strings.Index(string(b), `"detail"`):]) }; detail(wrong.body) != detail(wrongCode.body) {
			t.Fatalf("answers differ:\n%s\n%s", wrong.body, wrongCode.body)
		}
		jar := browser(t)
		ok := s.want(s.call(jar, "POST", "/api/v1/sessions/second-factor", "", map[string]string{"challenge": step(password).Token, "code": code(time.Now())}), http.StatusCreated)
		if !strings.Contains(ok.header.Get("Set-Cookie"), "roster_session=") {
			t.Fatal("no session cookie after the second factor")
		}
		s.want(s.call(jar, "GET", "/api/v1/sessions/current", "", nil), http.StatusOK)

		var st roster.MFAStatus
		s.want(s.call(nil, "GET", "/api/v1/users/"+strconv.FormatInt(olga.ID, 10)+"/mfa", s.admin, nil), http.StatusOK).decode(t, &st)
		if !st.TOTP || st.RecoveryCodes != roster.RecoveryCodeCount {
			t.Fatalf("status = %+v", st)
		}
		s.want(s.call(nil, "DELETE", "/api/v1/users/"+strconv.FormatInt(olga.ID, 10)+"/mfa", s.admin, nil), http.StatusNoContent)
		s.want(s.call(jar, "GET", "/api/v1/sessions/current", "", nil), http.StatusUnauthorized)
		s.want(s.call(nil, "DELETE", "/api/v1/users/"+strconv.FormatInt(olga.ID, 10)+"/mfa", s.admin, nil), http.StatusConflict)
		s.want(s.call(nil, "DELETE", "/api/v1/users/999999/mfa", s.admin, nil), http.StatusNotFound)
		msgs, err = s.mail.WaitFor(2, 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(msgs[1].Subject, "two-step sign-in") || msgs[1].To[0] != "olga@example.com" {
			t.Fatalf("reset notice: %+v", msgs[1])
		}
		s.want(s.call(nil, "POST", "/api/v1/sessions", "", map[string]string{"tenant": "acme", "login": "olga", "password": password}), http.StatusCreated)
	})
}
