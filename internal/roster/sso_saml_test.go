package roster_test

import (
	"context"
	"log/slog"
	"testing"

	"github.com/roster-dev/roster/internal/roster"
	"github.com/roster-dev/roster/internal/ssotest"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/testdb"
)

// TestSSOTryAndSAMLConfig: only someone who configures single sign-on,
// signed in as themselves, may start a try sign-in; a SAML provider's SP
// key is sealed and made once, kept when the metadata changes.
func TestSSOTryAndSAMLConfig(t *testing.T) {
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
		md := ssotest.StartSAML(t).Metadata(t)
		p, err := svc.CreateSSOProvider(ctx, sys, roster.SSOProviderInput{Kind: roster.Some("saml"), Name: roster.Some("ADFS"),
			MetadataXML: roster.Some(md)})
		if err != nil {
			t.Fatal(err)
		}
		stored, err := db.Read().SSOProvider(ctx, tn.ID, p.ID)
		if err != nil || len(stored.SealedSPKey) == 0 || len(stored.SPCert) == 0 || len(stored.IdPMetadata) == 0 {
			t.Fatalf("stored SAML provider: %+v %v", stored, err)
		}
		q, err := svc.UpdateSSOProvider(ctx, sys, p.ID, roster.SSOProviderInput{MetadataXML: roster.Some(md), Name: roster.Some("ADFS 2")})
		if err != nil || q.SPCertificate != p.SPCertificate {
			t.Errorf("the SP certificate changed with the metadata: %v", err)
		}
		person := func(name, role string) *roster.Actor {
			u, err := svc.CreateUser(ctx, sys, roster.UserInput{Username: roster.Some(name), Name: roster.Some(name),
				Email: roster.Some(name + "@acme.example"), Language: roster.Some("en"), GroupID: roster.Some(groups[0].ID),
				Roles: roster.Some([]string{role})})
			if err != nil {
				t.Fatal(err)
			}
			a, err := svc.ActorForUser(ctx, tn.ID, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			return a
		}
		for _, c := range []struct {
			what string
			a    *roster.Actor
			want string
		}{
			{"an Agent", person("agnes", "agent"), roster.EForbidden},
			{"the system (not a person)", sys, roster.EForbidden},
			{"an Environment Manager", person("emma", "environment_manager"), ""},
		} {
			_, err := svc.StartSSOTry(ctx, c.a, p.ID)
			if roster.ErrorCode(err) != c.want && !(c.want == "" && err == nil) {
				t.Errorf("try sign-in by %s: %v, want %q", c.what, err, c.want)
			}
		}
		other, err := svc.CreateTenant(ctx, "other", "Other")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.StartSSOTry(ctx, roster.SystemActor(other.ID), p.ID); roster.ErrorCode(err) != roster.EForbidden &&
			roster.ErrorCode(err) != roster.ENotFound {
			t.Errorf("try sign-in from another tenant: %v", err)
		}
	})
}
