package roster_test

import (
	"fmt"
	"testing"

	"github.com/roster-dev/roster/internal/roster"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/testdb"
)

// userActor creates a user with roles and returns them signed in.
func (f *fixture) userActor(t *testing.T, username string, roles ...string) *roster.Actor {
	t.Helper()
	in := f.userInput(username)
	in.Roles = roster.Some(roles)
	u, err := f.svc.CreateUser(f.ctx, f.admin, in)
	must(t, err)
	a, err := f.svc.ActorForUser(f.ctx, f.tenant.ID, u.ID)
	must(t, err)
	return a
}

func TestSavedFilters(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, "acme")
		me := f.userActor(t, "mia", "admin")
		other := f.userActor(t, "otto", "admin")
		got, err := f.svc.SavedFilter(f.ctx, me, "users")
		must(t, err)
		if got != "" {
			t.Fatalf("a new user has the saved filter %q", got)
		}
		_, err = f.svc.SaveFilter(f.ctx, me, "users", "role=agent&password=x")
		wantCode(t, err, roster.EInvalid)
		wantField(t, err, "password")
		if got, _ := f.svc.SavedFilter(f.ctx, me, "users"); got != "" {
			t.Fatalf("a refused filter was saved: %q", got)
		}
		before := f.auditCount(t)
		saved, err := f.svc.SaveFilter(f.ctx, me, "users", "status=active&role=agent&group=")
		must(t, err)
		if saved != "role=agent&status=active" {
			t.Errorf("saved %q", saved)
		}
		_, err = f.svc.SaveFilter(f.ctx, me, "users", "role=team_leader")
		must(t, err)
		if got, _ := f.svc.SavedFilter(f.ctx, me, "users"); got != "role=team_leader" {
			t.Errorf("after saving again: %q", got)
		}
		// Filters are per user.
		if got, _ := f.svc.SavedFilter(f.ctx, other, "users"); got != "" {
			t.Errorf("another user sees %q", got)
		}
		must(t, f.svc.ResetFilter(f.ctx, me, "users"))
		if got, _ := f.svc.SavedFilter(f.ctx, me, "users"); got != "" {
			t.Errorf("after reset: %q", got)
		}
		if n := f.auditCount(t) - before; n != 3 {
			t.Errorf("%d audit events for two saves and a reset", n)
		}
		// Tokens have no filters; viewing as someone changes nothing.
		_, err = f.svc.SaveFilter(f.ctx, f.admin, "users", "role=agent")
		wantCode(t, err, roster.EForbidden)
		viewing := *me
		viewing.ReadOnly = true
		_, err = f.svc.SaveFilter(f.ctx, &viewing, "users", "role=agent")
		wantCode(t, err, roster.EForbidden)
		_, err = f.svc.SavedFilter(f.ctx, me, "nope")
		wantCode(t, err, roster.ENotFound)
		// A user with a saved filter can be deleted; the filter goes with them.
		_, err = f.svc.SaveFilter(f.ctx, other, "users", "role=agent")
		must(t, err)
		must(t, f.svc.DeleteUser(f.ctx, f.admin, other.ID))
	})
}

func TestUserFlagFilters(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, "acme")
		for i, flags := range [][2]bool{{true, false}, {true, true}, {false, true}, {false, false}} {
			in := f.userInput(fmt.Sprintf("u%d", i))
			in.ScoringEnabled, in.Roaming = roster.Some(flags[0]), roster.Some(flags[1])
			_, err := f.svc.CreateUser(f.ctx, f.admin, in)
			must(t, err)
		}
		count := func(q roster.UserQuery) int {
			t.Helper()
			p, err := f.svc.ListUsers(f.ctx, f.admin, q)
			must(t, err)
			return p.Total
		}
		if n := count(roster.UserQuery{Scoring: "true"}); n != 2 {
			t.Errorf("scoring=true: %d", n)
		}
		if n := count(roster.UserQuery{Scoring: "true", Roaming: "false"}); n != 1 {
			t.Errorf("scoring=true roaming=false: %d", n)
		}
		if n := count(roster.UserQuery{Roaming: "true"}); n != 2 {
			t.Errorf("roaming=true: %d", n)
		}
		_, err := f.svc.ListUsers(f.ctx, f.admin, roster.UserQuery{Scoring: "yes"})
		wantCode(t, err, roster.EInvalid)
		wantField(t, err, "scoring")
	})
}

func TestExports(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, "acme")
		for i := range 230 {
			in := f.userInput(fmt.Sprintf("user%03d", i))
			in.Roles = roster.Some([]string{"user"})
			if i%3 == 0 {
				in.Roles = roster.Some([]string{"agent"})
			}
			_, err := f.svc.CreateUser(f.ctx, f.admin, in)
			must(t, err)
		}
		q := roster.UserQuery{Role: "user", Sort: "username", Order: "desc"}
		var exported []string
		must(t, f.svc.ExportUsers(f.ctx, f.admin, q, func(u *roster.User) error {
			exported = append(exported, u.Username)
			return nil
		}))
		var listed []string
		for page := 1; ; page++ {
			q.Page, q.PerPage = fmt.Sprint(page), "50"
			p, err := f.svc.ListUsers(f.ctx, f.admin, q)
			must(t, err)
			for _, u := range p.Items {
				listed = append(listed, u.Username)
			}
			if len(p.Items) < 50 {
				break
			}
		}
		if len(exported) != 153 || fmt.Sprint(exported) != fmt.Sprint(listed) {
			t.Fatalf("exported %d users, the list shows %d (or in another order)", len(exported), len(listed))
		}
		// Reading users is not enough to export them.
		err := f.svc.ExportUsers(f.ctx, f.readOnly, roster.UserQuery{}, func(*roster.User) error { return nil })
		wantCode(t, err, roster.EForbidden)
		err = f.svc.ExportAudit(f.ctx, f.readOnly, roster.AuditFilter{}, func(*roster.AuditEvent) error { return nil })
		wantCode(t, err, roster.EForbidden)

		n := 0
		must(t, f.svc.ExportAudit(f.ctx, f.admin, roster.AuditFilter{Action: "user.create"}, func(e *roster.AuditEvent) error {
			if e.Action != "user.create" {
				t.Fatalf("exported a %s event", e.Action)
			}
			n++
			return nil
		}))
		if n != 230 {
			t.Errorf("exported %d user.create events, want 230", n)
		}
	})
}
