package roster_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/roster"
	"github.com/roster-dev/roster/internal/ssotest"
	"github.com/roster-dev/roster/internal/store"
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
	svc := roster.NewService(testdb.SQLite(t), roster.Options{Logger: slog.New(slog.DiscardHandler), Clock: func() time.Time { return now },
		SSOAllowLoopbackHTTP: true})
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

// TestSSORequired: with SSO required, password sign-in and one-time codes
// are refused to everyone but the break-glass account, and only an active
// account that can fix the sign-in may be named, by someone who may act on it.
func TestSSORequired(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc := roster.NewService(db, roster.Options{Logger: slog.New(slog.DiscardHandler)})
		tn, err := svc.CreateTenant(ctx, "acme", "Acme")
		if err != nil {
			t.Fatal(err)
		}
		sys := roster.SystemActor(tn.ID)
		groups, err := svc.ListGroups(ctx, sys)
		if err != nil {
			t.Fatal(err)
		}
		const pw = "correct horse battery staple"
		person := func(name, role string) *roster.User {
			links, err := svc.InviteUsers(ctx, sys, []roster.UserInput{{Username: roster.Some(name), Name: roster.Some(name),
				Email: roster.Some(name + "@acme.example"), Language: roster.Some("en"), GroupID: roster.Some(groups[0].ID),
				Roles: roster.Some([]string{role})}})
			if err != nil {
				t.Fatal(err)
			}
			u, err := svc.AcceptInvitation(ctx, links[0].URL[strings.LastIndex(links[0].URL, "/")+1:], pw, "127.0.0.1", "test")
			if err != nil {
				t.Fatal(err)
			}
			return u
		}
		boss, anna, emma := person("boss", "admin"), person("anna", "agent"), person("emma", "environment_manager")
		signIn := func(login string) error {
			_, err := svc.SignIn(ctx, roster.SignInInput{Tenant: "acme", Login: login, Password: pw, IP: "10.0.0.1"})
			return err
		}
		set := func(a *roster.Actor, in roster.SSOPolicyInput) error {
			_, err := svc.SetSSOPolicy(ctx, a, in)
			return err
		}
		field := func(err error) string {
			if f := roster.ErrorFields(err); len(f) > 0 {
				return f[0].Field
			}
			return ""
		}
		if err := set(sys, roster.SSOPolicyInput{Required: roster.Some(true), BreakGlassUserID: roster.Some(boss.ID)}); field(err) != "required" {
			t.Errorf("required without a provider: %v", err)
		}
		if _, err := svc.CreateSSOProvider(ctx, sys, roster.SSOProviderInput{Kind: roster.Some("oidc"), Name: roster.Some("Okta"),
			Issuer: roster.Some("https://acme.okta.example"), ClientID: roster.Some("c")}); err != nil {
			t.Fatal(err)
		}
		if err := set(sys, roster.SSOPolicyInput{Required: roster.Some(true)}); field(err) != "break_glass_user_id" {
			t.Errorf("required without a break-glass account: %v", err)
		}
		if err := set(sys, roster.SSOPolicyInput{Required: roster.Some(true), BreakGlassUserID: roster.Some(anna.ID)}); field(err) != "break_glass_user_id" {
			t.Errorf("an Agent as break-glass account: %v", err)
		}
		em, err := svc.ActorForUser(ctx, tn.ID, emma.ID)
		if err != nil {
			t.Fatal(err)
		}
		if err := set(em, roster.SSOPolicyInput{Required: roster.Some(true), BreakGlassUserID: roster.Some(boss.ID)}); roster.ErrorCode(err) != roster.EForbidden {
			t.Errorf("an Environment Manager named an Admin as break-glass account: %v", err)
		}
		if err := set(sys, roster.SSOPolicyInput{Required: roster.Some(true), BreakGlassUserID: roster.Some(boss.ID)}); err != nil {
			t.Fatal(err)
		}
		for _, login := range []string{"anna", "emma", "nobody"} {
			if err := signIn(login); roster.ErrorCode(err) != roster.EForbidden || !strings.Contains(err.Error(), "single sign-on") {
				t.Errorf("password sign-in of %s with SSO required: %v", login, err)
			}
			err := svc.ResetPassword(ctx, roster.ResetInput{Tenant: "acme", Login: login, Code: "123456", Password: pw + "!"})
			if roster.ErrorCode(err) != roster.EForbidden {
				t.Errorf("one-time code of %s with SSO required: %v", login, err)
			}
		}
		if err := svc.RequestPasswordCode(ctx, roster.CodeRequest{Tenant: "acme", Login: "anna"}); err != nil {
			t.Errorf("asking for a code answers as always: %v", err)
		}
		if err := signIn("boss"); err != nil {
			t.Errorf("the break-glass account: %v", err)
		}
		if err := set(sys, roster.SSOPolicyInput{Required: roster.Some(false)}); err != nil {
			t.Fatal(err)
		}
		if err := signIn("anna"); err != nil {
			t.Errorf("anna after SSO is no longer required: %v", err)
		}
	})
}
