package roster_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/roster"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/testdb"
)

// The import door holds the grant rule like every other: a row giving a
// role the importer may not give, placing someone outside the importer's
// scope, or changing someone more powerful fails with the reason, and then
// nothing of the file is written.
func TestImportGrantRule(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, "acme")
		role := func(key string, scope string, perms ...string) {
			_, err := f.svc.CreateRole(f.ctx, f.sys, roster.RoleInput{Key: roster.Some(key), Name: roster.Some(key),
				Permissions: roster.Some(perms), Scope: roster.Some(scope)})
			must(t, err)
		}
		role("team_manager", roster.ScopeGroups, roster.PermUsersView, roster.PermUsersManage, roster.PermUsersInvite, roster.PermInsightsView)
		role("team_viewer", roster.ScopeGroups, roster.PermInsightsView)
		in := f.userInput("manager")
		in.Roles = roster.Some([]string{"team_manager"})
		in.GroupAccess = roster.Some([]int64{f.team.ID})
		mgr, err := f.svc.CreateUser(f.ctx, f.admin, in)
		must(t, err)
		manager, err := f.svc.ActorForUser(f.ctx, f.tenant.ID, mgr.ID)
		must(t, err)
		in = f.userInput("boss")
		in.Roles = roster.Some([]string{"admin"})
		_, err = f.svc.CreateUser(f.ctx, f.admin, in)
		must(t, err)
		envManager := f.userActor(t, "envy", "environment_manager")
		team := fmt.Sprint(f.team.ID)

		n, audits := f.userCount(t), f.auditCount(t)
		check := func(a *roster.Actor, mode, csv string, wantFailed int) *roster.ImportReport {
			t.Helper()
			rep := f.importCSV(t, a, csv, roster.ImportOptions{Mode: mode})
			if rep.Failed != wantFailed {
				t.Fatalf("failed = %d, want %d: %+v", rep.Failed, wantFailed, rep.Errors)
			}
			if wantFailed > 0 && (f.userCount(t) != n || f.auditCount(t) != audits) {
				t.Fatalf("a refused import wrote something")
			}
			return rep
		}
		// A groups-scoped user manager: Admin is not theirs to give, nor a
		// group outside their access, nor a change of the Admin in their team.
		rep := check(manager, roster.ImportCreate, "username,email,group,roles\n"+
			"v1,v1@example.com,"+team+",team_viewer\n"+
			"a1,a1@example.com,"+team+",admin\n"+
			"r1,r1@example.com,"+fmt.Sprint(f.root.ID)+",team_viewer\n", 2)
		wantRowError(t, rep, 3, "roles", "you cannot give the role \"Admin\"")
		wantRowError(t, rep, 4, "group", "no group")
		rep = check(manager, roster.ImportUpsert, "username,email\nboss,stolen@example.com\n", 1)
		wantRowError(t, rep, 2, "username", "only someone with at least their rights")
		rep = check(manager, roster.ImportCreate, "username,email,group,roles\nv1,v1@example.com,"+team+",team_viewer\n", 0)
		if rep.Created != 1 {
			t.Fatalf("the manager's own import: %+v", rep)
		}
		n, audits = f.userCount(t), f.auditCount(t)

		// An Environment Manager delegates the bot platform's roles, never Admin.
		rep = check(envManager, roster.ImportCreate, "username,email,group,roles\n"+
			"op1,op1@example.com,"+team+",operator\n"+
			"ad1,ad1@example.com,"+team+",admin;operator\n", 1)
		wantRowError(t, rep, 3, "roles", "item 0: you cannot give the role \"Admin\"")
		rep = check(envManager, roster.ImportUpsert, "username,roles\nenvy,admin\n", 1) // not to themself either
		wantRowError(t, rep, 2, "roles", "Admin")
		rep = check(envManager, roster.ImportCreate, "username,email,group,roles\nop1,op1@example.com,"+team+",operator\n", 0)
		if rep.Created != 1 || !strings.Contains(strings.Join(f.userNamed(t, "op1").Roles, ","), "operator") {
			t.Fatalf("the environment manager's import: %+v", rep)
		}
	})
}
