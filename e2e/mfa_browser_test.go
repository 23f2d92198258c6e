package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/roster-dev/roster/internal/roster"
)

// totpCode is what an authenticator app with the manual key shows at t.
func totpCode(t *testing.T, manualKey string, at time.Time) string {
	t.Helper()
	code, err := totp.GenerateCodeCustom(strings.ReplaceAll(manualKey, " ", ""), at,
		totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// TestConsoleTOTP: with two-step sign-in required of administrators, an
// admin's first sign-in leads to enrolment (QR code and manual key), with
// nothing else reachable until a code confirms it; the recovery codes are
// shown once; the next sign-in asks for a code, a wrong one sends the
// person back, a recovery code works once.
func TestConsoleTOTP(t *testing.T) {
	env := newConsoleEnv(t)
	ctx := context.Background()
	env.user("ada", "Acme Ltd", []string{roster.RoleAdmin})
	if _, err := env.svc.UpdateTenant(ctx, env.sys, roster.TenantInput{Settings: roster.TenantSettingsInput{MFAPolicy: roster.Some(roster.MFAAdmins)}}); err != nil {
		t.Fatal(err)
	}
	b := env.browser()
	b.signIn("ada", consolePassword)
	if b.path() != "/signin/second-factor" {
		t.Fatalf("after the password: %s", b.path())
	}
	b.look("mfa-enrol")
	b.waitFor(`document.getElementById("totp-qr").complete && document.getElementById("totp-qr").naturalWidth > 100`)
	// Nothing else is reachable: the console sends the half-signed-in person to sign in.
	b.open("/users")
	if !strings.HasPrefix(b.path(), "/signin") || strings.HasPrefix(b.path(), "/signin/second-factor") {
		t.Fatalf("with the step pending, /users led to %s", b.path())
	}
	b.open("/signin/second-factor")
	key := b.text("#totp-key")
	b.fill("#f-code", "000000")
	b.submit("#confirm-code")
	if !strings.Contains(b.text("main"), "not the code your app shows") {
		t.Fatalf("a wrong first code: %s", b.text("main"))
	}
	b.fill("#f-code", totpCode(t, key, time.Now()))
	b.submit("#confirm-code")
	codes := b.texts("#recovery-codes li")
	if len(codes) != roster.RecoveryCodeCount {
		t.Fatalf("recovery codes shown: %v", codes)
	}
	b.look("mfa-recovery-codes")
	b.follow("#continue")
	if b.path() != "/" {
		t.Fatalf("after enrolment: %s", b.path())
	}
	b.open("/account/mfa")
	if !strings.Contains(b.text("#totp-state"), "10 recovery codes left") {
		t.Fatalf("account page: %s", b.text("#totp-section"))
	}

	// The next sign-in, in a fresh browser: the code step.
	b2 := env.browser()
	b2.signIn("ada", consolePassword)
	if b2.path() != "/signin/second-factor" {
		t.Fatalf("second sign-in: %s", b2.path())
	}
	b2.look("mfa-verify")
	b2.fill("#f-code", "123456")
	b2.submit("#verify-code")
	if b2.path() != "/signin" || !strings.Contains(b2.text("main"), "password or code is wrong") {
		t.Fatalf("a wrong code: %s %s", b2.path(), b2.text("main"))
	}
	b2.signIn("ada", consolePassword)
	// The enrolment used this step's code: the app's next one (accepted a step early).
	b2.fill("#f-code", totpCode(t, key, time.Now().Add(30*time.Second)))
	b2.submit("#verify-code")
	if b2.path() != "/" {
		t.Fatalf("with the right code: %s %s", b2.path(), b2.text("main"))
	}
	// A recovery code, once.
	b3 := env.browser()
	b3.signIn("ada", consolePassword)
	b3.fill("#f-code", strings.TrimSpace(codes[0]))
	b3.submit("#verify-code")
	if b3.path() != "/" {
		t.Fatalf("with a recovery code: %s %s", b3.path(), b3.text("main"))
	}
	b4 := env.browser()
	b4.signIn("ada", consolePassword)
	b4.fill("#f-code", strings.TrimSpace(codes[0]))
	b4.submit("#verify-code")
	if b4.path() != "/signin" {
		t.Fatalf("a used recovery code: %s", b4.path())
	}
}
