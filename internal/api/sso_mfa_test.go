package api

import (
	"context"
	"testing"

	"github.com/roster-dev/roster/internal/roster"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/testdb"
)

// TestSSOSecondFactor: with a second factor required, an SSO sign-in whose
// IdP asserts no MFA (the OP says amr ["pwd"]) goes on to Roster's step,
// with no session, even when the provider is trusted to assert MFA.
func TestSSOSecondFactor(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		w := newSSOWorld(t, db)
		ctx := context.Background()
		sys := roster.SystemActor(w.tenant.ID)
		w.user("ida", roster.RoleAgent)
		w.idpUser("ida", "ida@acme.example", true)
		for _, trusted := range []bool{false, true} {
			p := w.provider(sys, map[bool]string{true: "Trusted", false: "Plain"}[trusted], roster.SSOProviderInput{MFAFromIdP: roster.Some(trusted)})
			if p.MFAFromIdP != trusted {
				t.Fatalf("mfa_from_idp = %v", p.MFAFromIdP)
			}
			if _, err := w.svc.UpdateTenant(ctx, sys, roster.TenantInput{Settings: roster.TenantSettingsInput{MFAPolicy: roster.Some(roster.MFAOptional)}}); err != nil {
				t.Fatal(err)
			}
			if _, _, who := w.signIn(p, "ida"); who != "ida" {
				t.Fatalf("optional, nothing set up: signed in as %q", who)
			}
			if _, err := w.svc.UpdateTenant(ctx, sys, roster.TenantInput{Settings: roster.TenantSettingsInput{MFAPolicy: roster.Some(roster.MFAAll)}}); err != nil {
				t.Fatal(err)
			}
			resp, _, who := w.signIn(p, "ida")
			if loc := resp.Header.Get("Location"); who != "" || loc != "/signin/second-factor" {
				t.Fatalf("required (trusted %v): %d to %q, signed in as %q", trusted, resp.StatusCode, loc, who)
			}
		}
	})
}

func TestOIDCAssertsMFA(t *testing.T) {
	for _, tc := range []struct {
		amr  []string
		acr  string
		want bool
	}{
		{nil, "", false},
		{[]string{"pwd"}, "", false},
		{[]string{"pwd", "mfa"}, "", true},
		{[]string{"pwd", "otp"}, "", true},
		{[]string{"hwk"}, "", true},
		{nil, "http://schemas.openid.net/pape/policies/2007/06/multi-factor", true},
		{nil, "https://refeds.org/profile/mfa", true},
		{nil, "urn:okta:loa:1fa:pwd", false},
	} {
		if got := roster.OIDCAssertsMFA(tc.amr, tc.acr); got != tc.want {
			t.Errorf("amr %v acr %q: %v, want %v", tc.amr, tc.acr, got, tc.want)
		}
	}
}
