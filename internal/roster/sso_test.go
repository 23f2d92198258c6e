package roster_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/roster"
	"github.com/roster-dev/roster/internal/ssotest"
	"github.com/roster-dev/roster/internal/testdb"
)

// TestSSOIDTokenChecks feeds ID tokens a real OP issued to the check a
// sign-in runs: the right one passes; another nonce, another audience, an
// expired or a tampered token are refused, each said plainly.
func TestSSOIDTokenChecks(t *testing.T) {
	op := ssotest.Start(t)
	const redirect = "http://127.0.0.1:1/cb"
	op.AddClient("roster", "s1", redirect)
	op.AddClient("other-app", "s2", redirect)
	op.AddUser(ssotest.User{Subject: "sub-anna", Username: "anna", Password: "pw", Email: "anna@acme.example", EmailVerified: true})
	raw := op.IDToken(t, "roster", "s1", redirect, "nonce-1", "anna", "pw")
	foreign := op.IDToken(t, "other-app", "s2", redirect, "nonce-1", "anna", "pw")

	now := time.Now()
	svc := roster.NewService(testdb.SQLite(t), roster.Options{Logger: slog.New(slog.DiscardHandler), Clock: func() time.Time { return now }})
	ctx := context.Background()
	check := func(what, token, client, nonce, want string) {
		t.Helper()
		err := svc.VerifySSOIDToken(ctx, op.Issuer, client, token, nonce)
		switch {
		case want == "" && err != nil:
			t.Errorf("%s: %v", what, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("%s: %v, want an error saying %q", what, err, want)
		}
	}
	check("the right token", raw, "roster", "nonce-1", "")
	check("another nonce", raw, "roster", "nonce-2", "does not belong to this sign-in")
	check("another audience", foreign, "roster", "nonce-1", "wrong audience")
	tampered := raw[:len(raw)-4] + map[bool]string{true: "AAAA", false: "BBBB"}[!strings.HasSuffix(raw, "AAAA")]
	check("a tampered signature", tampered, "roster", "nonce-1", "could not be verified")
	parts := strings.Split(raw, ".")
	check("a token with another's claims", parts[0]+"."+strings.Split(foreign, ".")[1]+"."+parts[2], "roster", "nonce-1", "could not be verified")
	now = now.Add(2 * time.Hour) // the OP's tokens live an hour
	check("an expired token", raw, "roster", "nonce-1", "has expired")
}
