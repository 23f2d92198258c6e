package demo_test

import (
	"context"
	"testing"

	"github.com/roster-dev/roster/internal/demo"
	"github.com/roster-dev/roster/internal/roster"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/testdb"
)

// The demo tenant shows the contact-centre details: inherited and
// overridden properties, profiles, coaching plans and a team leader's team.
func TestDemoContactCentre(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc := roster.NewService(db, roster.Options{})
		info, err := demo.Load(ctx, svc)
		if err != nil {
			t.Fatal(err)
		}
		a, err := svc.AuthenticateToken(ctx, info.AdminToken)
		if err != nil {
			t.Fatal(err)
		}
		byName := map[string]roster.User{}
		page, err := svc.ListUsers(ctx, a, roster.UserQuery{PerPage: "100"})
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range page.Items {
			byName[u.Username] = u
		}
		anna, err := svc.User(ctx, a, byName["anna.agent"].ID)
		if err != nil {
			t.Fatal(err)
		}
		if ev := anna.Properties["wrapup_timeout_phone"]; string(ev.Value) != "120" || ev.Source != "user" {
			t.Errorf("anna's phone wrap-up = %+v", ev)
		}
		if len(anna.Profiles) != 2 {
			t.Errorf("anna's profiles = %+v, want Sales basics and Nordic accounts", anna.Profiles)
		}
		aiko, err := svc.User(ctx, a, byName["aiko.agent"].ID)
		if err != nil {
			t.Fatal(err)
		}
		if ev := aiko.Properties["resource_filter"]; string(ev.Value) != `"queue:support-voice"` || ev.Source == "default" {
			t.Errorf("aiko's resource filter = %+v", ev)
		}
		plans, err := svc.ListCoachingPlans(ctx, a, roster.CoachingPlanQuery{})
		if err != nil {
			t.Fatal(err)
		}
		if plans.Total != 3 {
			t.Errorf("demo coaching plans = %d, want 3", plans.Total)
		}
		tara, err := svc.ActorForUser(ctx, info.Tenant.ID, byName["tara.lead"].ID)
		if err != nil {
			t.Fatal(err)
		}
		team, err := svc.MyTeam(ctx, tara, roster.MyTeamQuery{})
		if err != nil {
			t.Fatal(err)
		}
		if len(team.Items) != 1 || team.Items[0].User.Username != "anna.agent" || len(team.Items[0].OpenPlans) != 2 {
			t.Errorf("tara's team = %+v", team.Items)
		}
	})
}
