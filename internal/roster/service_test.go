package roster_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/roster"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/testdb"
)

// fixture is a tenant with a three-level tree and an admin token actor.
type fixture struct {
	svc                  *roster.Service
	db                   *store.DB
	tenant               *roster.Tenant
	admin                *roster.Actor
	root, team, subteam  *roster.Group
	clock                *time.Time
	ctx                  context.Context
	sys                  *roster.Actor
	readOnly, teamLeader *roster.Actor
}

func newFixture(t testing.TB, db *store.DB, slug string) *fixture {
	t.Helper()
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	f := &fixture{db: db, clock: &now, ctx: context.Background()}
	f.svc = roster.NewService(db, roster.Options{Clock: func() time.Time { return *f.clock }})
	var err error
	f.tenant, err = f.svc.CreateTenant(f.ctx, slug, "Tenant "+slug)
	must(t, err)
	f.sys = roster.SystemActor(f.tenant.ID)
	groups, err := f.svc.ListGroups(f.ctx, f.sys)
	must(t, err)
	if len(groups) != 1 || groups[0].Level != 1 || groups[0].Name != "Tenant "+slug {
		t.Fatalf("new tenant groups = %+v, want one level-1 group named after the tenant", groups)
	}
	f.root = &groups[0]
	f.team = mustGroup(t, f, "Team A", &f.root.ID)
	f.subteam = mustGroup(t, f, "Team A1", &f.team.ID)
	f.admin = f.tokenActor(t, "admin")
	f.readOnly = f.tokenActor(t, "read_only")
	f.teamLeader = f.tokenActor(t, "team_leader")
	return f
}

func (f *fixture) tokenActor(t testing.TB, role string) *roster.Actor {
	t.Helper()
	_, secret, err := f.svc.CreateToken(f.ctx, f.sys, roster.TokenInput{Name: role + " token", Role: role})
	must(t, err)
	a, err := f.svc.AuthenticateToken(f.ctx, secret)
	must(t, err)
	return a
}

func mustGroup(t testing.TB, f *fixture, name string, parent *int64) *roster.Group {
	t.Helper()
	in := roster.GroupInput{Name: roster.Some(name)}
	if parent != nil {
		in.ParentID = roster.Some(*parent)
	}
	g, err := f.svc.CreateGroup(f.ctx, f.admin0(), in)
	must(t, err)
	return g
}

// admin0 is the system actor until the admin token exists.
func (f *fixture) admin0() *roster.Actor {
	if f.admin != nil {
		return f.admin
	}
	return f.sys
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if roster.ErrorCode(err) != code {
		t.Fatalf("error = %v (code %q), want code %q", err, roster.ErrorCode(err), code)
	}
}

func wantField(t *testing.T, err error, field string) {
	t.Helper()
	for _, fe := range roster.ErrorFields(err) {
		if fe.Field == field {
			return
		}
	}
	t.Fatalf("error %v does not name the field %q", err, field)
}

// fieldMessage is the message err gives for field, or "".
func fieldMessage(err error, field string) string {
	for _, fe := range roster.ErrorFields(err) {
		if fe.Field == field {
			return fe.Message
		}
	}
	return ""
}

func (f *fixture) userInput(username string) roster.UserInput {
	return roster.UserInput{
		Username: roster.Some(username),
		Name:     roster.Some(strings.ToUpper(username[:1]) + username[1:] + " Example"),
		Email:    roster.Some(username + "@example.com"),
		Language: roster.Some("en"),
		GroupID:  roster.Some(f.team.ID),
		Roles:    roster.Some([]string{"agent"}),
	}
}

func (f *fixture) auditCount(t *testing.T) int {
	t.Helper()
	p, err := f.svc.ListAudit(f.ctx, f.admin, roster.AuditFilter{PerPage: 10})
	must(t, err)
	return p.Total
}

func TestUsers(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, "acme")
		ctx := f.ctx

		in := f.userInput("anna")
		in.Mobile = roster.Some("0049 170 1234567")
		in.AgentNumber = roster.Some(int64(4711))
		in.Nicknames = roster.Some([]string{"Annie", "AK"})
		in.GroupAccess = roster.Some([]int64{f.subteam.ID})
		in.Roles = roster.Some([]string{"agent", "team_leader"})
		u, err := f.svc.CreateUser(ctx, f.admin, in)
		must(t, err)
		if u.Status != roster.StatusActive || u.Mobile != "+491701234567" || *u.AgentNumber != 4711 ||
			!slices.Equal(u.Roles, []string{"team_leader", "agent"}) || !slices.Equal(u.GroupAccess, []int64{f.subteam.ID}) {
			t.Fatalf("created user = %+v", u)
		}
		got, err := f.svc.User(ctx, f.admin, u.ID)
		must(t, err)
		if got.Username != "anna" || got.Email != "anna@example.com" || !slices.Equal(got.Nicknames, []string{"Annie", "AK"}) ||
			!slices.Equal(got.Roles, u.Roles) || got.GroupID != f.team.ID {
			t.Fatalf("read back user = %+v", got)
		}

		// Bad input: one answer names every bad field, and nothing is written.
		before := f.auditCount(t)
		bad := roster.UserInput{Mobile: roster.Some("12345"), Roles: roster.Some([]string{"wizard"}), GroupAccess: roster.Some([]int64{999999})}
		_, err = f.svc.CreateUser(ctx, f.admin, bad)
		wantCode(t, err, roster.EInvalid)
		for _, field := range []string{"username", "language", "group_id", "mobile", "roles", "group_access"} {
			wantField(t, err, field)
		}
		if f.auditCount(t) != before {
			t.Fatal("a refused create wrote an audit event")
		}

		cases := []struct {
			name  string
			edit  func(*roster.UserInput)
			code  string
			field string
		}{
			{"no email nor mobile", func(in *roster.UserInput) { in.Email = roster.Some("") }, roster.EInvalid, "email"},
			{"bad email", func(in *roster.UserInput) { in.Email = roster.Some("not-an-email") }, roster.EInvalid, "email"},
			{"bad phone", func(in *roster.UserInput) { in.Mobile = roster.Some("+49 abc") }, roster.EInvalid, "mobile"},
			{"local phone", func(in *roster.UserInput) { in.Mobile = roster.Some("0170 1234567") }, roster.EInvalid, "mobile"},
			{"bad ring-to", func(in *roster.UserInput) { in.RingTo = roster.Some("call me") }, roster.EInvalid, "ring_to"},
			{"fixed line as mobile", func(in *roster.UserInput) { in.Mobile = roster.Some("+44 20 7946 0958") }, roster.EInvalid, "mobile"},
			{"toll-free as mobile", func(in *roster.UserInput) { in.Mobile = roster.Some("+1 800 555 0199") }, roster.EInvalid, "mobile"},
			{"no such area code", func(in *roster.UserInput) { in.Mobile = roster.Some("+1 123 456 7890") }, roster.EInvalid, "mobile"},
			{"too short for its plan", func(in *roster.UserInput) { in.RingTo = roster.Some("+44 12345") }, roster.EInvalid, "ring_to"},
			{"no such country", func(in *roster.UserInput) { in.RingTo = roster.Some("+999 1234567") }, roster.EInvalid, "ring_to"},
			{"unknown language", func(in *roster.UserInput) { in.Language = roster.Some("xx") }, roster.EInvalid, "language"},
			{"missing group", func(in *roster.UserInput) { in.GroupID = roster.Opt[int64]{} }, roster.EInvalid, "group_id"},
			{"bad username", func(in *roster.UserInput) { in.Username = roster.Some("has space") }, roster.EInvalid, "username"},
			{"agent number zero", func(in *roster.UserInput) { in.AgentNumber = roster.Some(int64(0)) }, roster.EInvalid, "agent_number"},
			{"duplicate nickname", func(in *roster.UserInput) { in.Nicknames = roster.Some([]string{"a", "A"}) }, roster.EInvalid, "nicknames"},
			{"empty roles", func(in *roster.UserInput) { in.Roles = roster.Some([]string{}) }, roster.EInvalid, "roles"},
			{"duplicate username", func(in *roster.UserInput) { in.Username = roster.Some("ANNA") }, roster.EConflict, "username"},
			{"duplicate email", func(in *roster.UserInput) { in.Email = roster.Some("Anna@Example.com") }, roster.EConflict, "email"},
			{"duplicate agent number", func(in *roster.UserInput) { in.AgentNumber = roster.Some(int64(4711)) }, roster.EConflict, "agent_number"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				in := f.userInput("bert")
				c.edit(&in)
				_, err := f.svc.CreateUser(ctx, f.admin, in)
				wantCode(t, err, c.code)
				wantField(t, err, c.field)
			})
		}

		// Mobile alone is enough; roles default to the read-only User role.
		in2 := f.userInput("carl")
		in2.Email = roster.Opt[string]{}
		in2.Mobile = roster.Some("+44 (0)7911 123456")
		in2.RingTo = roster.Some("+44 (0)20 7946 0958")
		in2.Roles = roster.Opt[[]string]{}
		carl, err := f.svc.CreateUser(ctx, f.admin, in2)
		must(t, err)
		if !slices.Equal(carl.Roles, []string{"user"}) || carl.Email != "" || carl.Mobile != "+447911123456" {
			t.Fatalf("carl = %+v", carl)
		}
		// Ring-to takes any valid number, a fixed line too, trunk prefix dropped.
		if carl.RingTo != "+442079460958" {
			t.Fatalf("ring_to stored as %q", carl.RingTo)
		}
		_, err = f.svc.UpdateUser(ctx, f.admin, carl.ID, roster.UserInput{Mobile: roster.Some("+49 30 1234567")})
		if msg := fieldMessage(err, "mobile"); !strings.Contains(msg, "fixed-line") {
			t.Fatalf("fixed-line mobile refused with %q (%v)", msg, err)
		}

		// PATCH: only given fields change; null clears the agent number.
		upd, err := f.svc.UpdateUser(ctx, f.admin, u.ID, roster.UserInput{Name: roster.Some("Anna K."), AgentNumber: roster.Opt[int64]{Set: true, Null: true}})
		must(t, err)
		if upd.Name != "Anna K." || upd.AgentNumber != nil || upd.Email != "anna@example.com" {
			t.Fatalf("updated = %+v", upd)
		}
		// Taking away both contact fields is refused.
		_, err = f.svc.UpdateUser(ctx, f.admin, u.ID, roster.UserInput{Email: roster.Some(""), Mobile: roster.Some("")})
		wantField(t, err, "email")
		// Another user's email is a conflict.
		_, err = f.svc.UpdateUser(ctx, f.admin, carl.ID, roster.UserInput{Email: roster.Some("anna@example.com")})
		wantCode(t, err, roster.EConflict)

		// The used agent numbers, ascending.
		_, err = f.svc.UpdateUser(ctx, f.admin, carl.ID, roster.UserInput{AgentNumber: roster.Some(int64(12))})
		must(t, err)
		_, err = f.svc.UpdateUser(ctx, f.admin, u.ID, roster.UserInput{AgentNumber: roster.Some(int64(7))})
		must(t, err)
		nums, err := f.svc.UsedAgentNumbers(ctx, f.admin)
		must(t, err)
		if !slices.Equal(nums, []int64{7, 12}) {
			t.Fatalf("used numbers = %v", nums)
		}

		// Deactivate, reactivate, delete.
		d, err := f.svc.DeactivateUser(ctx, f.admin, carl.ID)
		must(t, err)
		if d.Status != roster.StatusDeactivated {
			t.Fatal(d.Status)
		}
		_, err = f.svc.DeactivateUser(ctx, f.admin, carl.ID)
		wantCode(t, err, roster.EConflict)
		r, err := f.svc.ReactivateUser(ctx, f.admin, carl.ID)
		must(t, err)
		if r.Status != roster.StatusActive {
			t.Fatal(r.Status)
		}
		must(t, f.svc.DeleteUser(ctx, f.admin, carl.ID))
		_, err = f.svc.User(ctx, f.admin, carl.ID)
		wantCode(t, err, roster.ENotFound)

		// Every mutation is in the audit log with before and after.
		p, err := f.svc.ListAudit(ctx, f.admin, roster.AuditFilter{Target: fmt.Sprintf("user:%d", carl.ID), PerPage: 50})
		must(t, err)
		var actions []string
		for _, e := range p.Items {
			actions = append(actions, e.Action)
		}
		want := []string{"user.delete", "user.reactivate", "user.deactivate", "user.update", "user.create"}
		if !slices.Equal(actions, want) {
			t.Fatalf("audit of carl = %v, want %v", actions, want)
		}
		del := p.Items[0]
		var snap roster.User
		must(t, json.Unmarshal(del.Before, &snap))
		if snap.Username != "carl" || del.After != nil || del.ActorKind != roster.ActorToken || del.ActorName != "admin token" {
			t.Fatalf("delete event = %+v", del)
		}
	})
}

func TestPermissionsAndIsolation(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, "one")
		g := newFixture(t, db, "two")
		ctx := f.ctx
		u, err := f.svc.CreateUser(ctx, f.admin, f.userInput("anna"))
		must(t, err)

		// Read-only may read but not write.
		_, err = f.svc.User(ctx, f.readOnly, u.ID)
		must(t, err)
		_, err = f.svc.CreateUser(ctx, f.readOnly, f.userInput("bert"))
		wantCode(t, err, roster.EForbidden)
		_, err = f.svc.UpdateUser(ctx, f.readOnly, u.ID, roster.UserInput{Name: roster.Some("x")})
		wantCode(t, err, roster.EForbidden)
		wantCode(t, f.svc.DeleteUser(ctx, f.readOnly, u.ID), roster.EForbidden)
		_, err = f.svc.CreateGroup(ctx, f.readOnly, roster.GroupInput{Name: roster.Some("x")})
		wantCode(t, err, roster.EForbidden)
		_, err = f.svc.ListAudit(ctx, f.readOnly, roster.AuditFilter{})
		wantCode(t, err, roster.EForbidden)
		// A team leader cannot see the user directory at all.
		_, err = f.svc.ListUsers(ctx, f.teamLeader, roster.UserQuery{})
		wantCode(t, err, roster.EForbidden)

		// Another tenant's ids are not found, for reads and writes alike.
		_, err = g.svc.User(ctx, g.admin, u.ID)
		wantCode(t, err, roster.ENotFound)
		_, err = g.svc.UpdateUser(ctx, g.admin, u.ID, roster.UserInput{Name: roster.Some("stolen")})
		wantCode(t, err, roster.ENotFound)
		wantCode(t, g.svc.DeleteUser(ctx, g.admin, u.ID), roster.ENotFound)
		_, err = g.svc.Group(ctx, g.admin, f.team.ID)
		wantCode(t, err, roster.ENotFound)
		_, err = g.svc.UpdateGroup(ctx, g.admin, f.team.ID, roster.GroupInput{Name: roster.Some("stolen")})
		wantCode(t, err, roster.ENotFound)
		// ... and cannot be referenced either.
		in := g.userInput("anna")
		in.GroupID = roster.Some(f.team.ID)
		_, err = g.svc.CreateUser(ctx, g.admin, in)
		wantField(t, err, "group_id")
		// The same username may exist in both tenants.
		_, err = g.svc.CreateUser(ctx, g.admin, g.userInput("anna"))
		must(t, err)
		list, err := g.svc.ListUsers(ctx, g.admin, roster.UserQuery{})
		must(t, err)
		if list.Total != 1 {
			t.Fatalf("tenant two sees %d users", list.Total)
		}

		// Nobody can hand out administrative rights they do not hold: a user
		// manager without roles.manage cannot make an admin, but an agent.
		_, err = f.svc.CreateRole(ctx, f.admin, roster.RoleInput{Key: roster.Some("hr"), Name: roster.Some("HR"),
			Permissions: roster.Some([]string{"users.view", "users.manage"}), AssignableRoles: roster.Some([]string{"agent"})})
		must(t, err)
		_, secret, err := f.svc.CreateToken(ctx, f.admin, roster.TokenInput{Name: "hr token", Role: "hr"})
		must(t, err)
		hr, err := f.svc.AuthenticateToken(ctx, secret)
		must(t, err)
		in = f.userInput("eve")
		in.Roles = roster.Some([]string{"admin"})
		_, err = f.svc.CreateUser(ctx, hr, in)
		wantCode(t, err, roster.EForbidden)
		in.Roles = roster.Some([]string{"agent"})
		eve, err := f.svc.CreateUser(ctx, hr, in)
		must(t, err)
		_, err = f.svc.UpdateUser(ctx, hr, eve.ID, roster.UserInput{Roles: roster.Some([]string{"agent", "environment_manager"})})
		wantCode(t, err, roster.EForbidden)
		// An environment manager invites operators and content managers (seed 002).
		em := f.tokenActor(t, "environment_manager")
		in = f.userInput("olga")
		in.Roles = roster.Some([]string{"operator", "content_manager"})
		_, err = f.svc.CreateUser(ctx, em, in)
		must(t, err)

		// Bad tokens.
		_, err = f.svc.AuthenticateToken(ctx, "rst_nonsense")
		wantCode(t, err, roster.EUnauthorized)
		_, err = f.svc.AuthenticateToken(ctx, "")
		wantCode(t, err, roster.EUnauthorized)
	})
}

func TestGroups(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, "acme")
		ctx := f.ctx
		if f.team.Level != 2 || f.subteam.Level != 3 {
			t.Fatalf("levels %d %d", f.team.Level, f.subteam.Level)
		}
		// A fourth level is refused.
		_, err := f.svc.CreateGroup(ctx, f.admin, roster.GroupInput{Name: roster.Some("Too deep"), ParentID: roster.Some(f.subteam.ID)})
		wantField(t, err, "parent_id")
		// Sibling names are unique, case-insensitively.
		_, err = f.svc.CreateGroup(ctx, f.admin, roster.GroupInput{Name: roster.Some("team a"), ParentID: roster.Some(f.root.ID)})
		wantCode(t, err, roster.EConflict)
		_, err = f.svc.CreateGroup(ctx, f.admin, roster.GroupInput{Name: roster.Some("  ")})
		wantField(t, err, "name")
		_, err = f.svc.CreateGroup(ctx, f.admin, roster.GroupInput{Name: roster.Some("x"), ParentID: roster.Some(int64(999999))})
		wantField(t, err, "parent_id")

		// Moving a group under itself or its descendant is refused.
		_, err = f.svc.UpdateGroup(ctx, f.admin, f.team.ID, roster.GroupInput{ParentID: roster.Some(f.subteam.ID)})
		wantField(t, err, "parent_id")
		_, err = f.svc.UpdateGroup(ctx, f.admin, f.team.ID, roster.GroupInput{ParentID: roster.Some(f.team.ID)})
		wantField(t, err, "parent_id")
		// Moving Team A (with a child) under another level-2 group would put
		// Team A1 on level 4.
		b := mustGroup(t, f, "Team B", &f.root.ID)
		_, err = f.svc.UpdateGroup(ctx, f.admin, f.team.ID, roster.GroupInput{ParentID: roster.Some(b.ID)})
		wantField(t, err, "parent_id")
		// Moving the leaf is fine, and lifting Team A to level 1 lifts its subtree.
		moved, err := f.svc.UpdateGroup(ctx, f.admin, f.subteam.ID, roster.GroupInput{ParentID: roster.Some(b.ID), Name: roster.Some("B1")})
		must(t, err)
		if moved.Level != 3 || *moved.ParentID != b.ID || moved.Name != "B1" {
			t.Fatalf("moved = %+v", moved)
		}
		c := mustGroup(t, f, "A2", &f.team.ID)
		_, err = f.svc.UpdateGroup(ctx, f.admin, f.team.ID, roster.GroupInput{ParentID: roster.Opt[int64]{Set: true, Null: true}})
		must(t, err)
		c2, err := f.svc.Group(ctx, f.admin, c.ID)
		must(t, err)
		if c2.Level != 2 {
			t.Fatalf("child level after lifting parent = %d", c2.Level)
		}

		// A group with users cannot be deleted; an empty one can.
		u, err := f.svc.CreateUser(ctx, f.admin, f.userInput("anna"))
		must(t, err)
		wantCode(t, f.svc.DeleteGroup(ctx, f.admin, f.team.ID), roster.EConflict)
		must(t, f.svc.DeleteGroup(ctx, f.admin, c.ID))
		// Renaming a group shows in the users' group sort.
		_, err = f.svc.UpdateGroup(ctx, f.admin, f.team.ID, roster.GroupInput{Name: roster.Some("Renamed")})
		must(t, err)
		must(t, f.svc.DeleteUser(ctx, f.admin, u.ID))
		must(t, f.svc.DeleteGroup(ctx, f.admin, f.team.ID))
	})
}

func TestRoles(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, "acme")
		ctx := f.ctx
		roles, err := f.svc.ListRoles(ctx, f.admin)
		must(t, err)
		var keys []string
		for _, r := range roles {
			keys = append(keys, r.Key)
			if r.Key == "scorer" && !r.Hidden {
				t.Error("scorer must be hidden from pickers")
			}
		}
		for _, k := range []string{"admin", "user", "team_leader", "agent", "read_only", "identified_only", "scorer",
			"operator", "content_manager", "analyst", "producer", "environment_manager", "developer"} {
			if !slices.Contains(keys, k) {
				t.Errorf("built-in role %q missing", k)
			}
		}
		admin := roles[0]
		wantCode(t, f.svc.DeleteRole(ctx, f.admin, admin.ID), roster.EConflict)
		_, err = f.svc.UpdateRole(ctx, f.admin, admin.ID, roster.RoleInput{Name: roster.Some("Boss")})
		wantCode(t, err, roster.EConflict)

		r, err := f.svc.CreateRole(ctx, f.admin, roster.RoleInput{Key: roster.Some("qa_lead"), Name: roster.Some("QA lead"),
			Permissions: roster.Some([]string{"insights.view", "scoring.access", "insights.view"}), Scope: roster.Some("groups")})
		must(t, err)
		if !slices.Equal(r.Permissions, []string{"insights.view", "scoring.access"}) || r.Scope != "groups" {
			t.Fatalf("role = %+v", r)
		}
		_, err = f.svc.CreateRole(ctx, f.admin, roster.RoleInput{Key: roster.Some("qa_lead"), Name: roster.Some("Other")})
		wantCode(t, err, roster.EConflict)
		_, err = f.svc.CreateRole(ctx, f.admin, roster.RoleInput{Key: roster.Some("Bad Key"), Name: roster.Some("x"),
			Permissions: roster.Some([]string{"fly"}), Scope: roster.Some("world")})
		wantField(t, err, "key")
		wantField(t, err, "permissions")
		wantField(t, err, "scope")

		in := f.userInput("anna")
		in.Roles = roster.Some([]string{"qa_lead"})
		u, err := f.svc.CreateUser(ctx, f.admin, in)
		must(t, err)
		wantCode(t, f.svc.DeleteRole(ctx, f.admin, r.ID), roster.EConflict)
		r2, err := f.svc.UpdateRole(ctx, f.admin, r.ID, roster.RoleInput{Permissions: roster.Some([]string{"audit.view"})})
		must(t, err)
		if !slices.Equal(r2.Permissions, []string{"audit.view"}) || r2.Name != "QA lead" {
			t.Fatalf("updated role = %+v", r2)
		}
		must(t, f.svc.DeleteUser(ctx, f.admin, u.ID))
		must(t, f.svc.DeleteRole(ctx, f.admin, r.ID))
	})
}

// startsWith is the rule for search terms of one or two characters.
func startsWith(p string) func(*roster.User) bool {
	return func(u *roster.User) bool { return strings.HasPrefix(strings.ToLower(u.Name), p) }
}

// TestListUsers checks filters, every sort in both directions and every page
// against a list sorted in Go, so the reversed reading of late pages and the
// SQL of both dialects agree with one definition of the order.
func TestListUsers(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, "acme")
		ctx := f.ctx
		b := mustGroup(t, f, "Bravo", &f.root.ID)
		names := []string{"anna", "Bert", "carla", "Dieter", "emil", "Frida", "gustav", "Hanna", "ingo", "Jana", "karl", "Lena", "mia"}
		var all []*roster.User
		for i := 0; i < 37; i++ {
			n := names[i%len(names)]
			in := f.userInput(fmt.Sprintf("%s%02d", strings.ToLower(n), i))
			in.Name = roster.Some(fmt.Sprintf("%s %c", n, 'A'+i%5))
			if i%3 == 0 {
				in.GroupID = roster.Some(f.subteam.ID)
			}
			if i%4 == 0 {
				in.GroupID = roster.Some(b.ID)
			}
			if i%5 == 0 {
				in.Roles = roster.Some([]string{"team_leader"})
			}
			if i%6 == 0 {
				in.Email = roster.Opt[string]{}
				in.Mobile = roster.Some(fmt.Sprintf("+49170555%04d", i))
			}
			*f.clock = f.clock.Add(time.Minute)
			u, err := f.svc.CreateUser(ctx, f.admin, in)
			must(t, err)
			if i%7 == 0 {
				u, err = f.svc.DeactivateUser(ctx, f.admin, u.ID)
				must(t, err)
			}
			all = append(all, u)
		}
		// Renames reach every copy of the name (user_roles keeps one for
		// the role filter's name order).
		for i := 0; i < len(all); i += 5 {
			u, err := f.svc.UpdateUser(ctx, f.admin, all[i].ID, roster.UserInput{Name: roster.Some(fmt.Sprintf("Zed %02d", 40-i))})
			must(t, err)
			all[i] = u
		}
		groupName := map[int64]string{f.team.ID: f.team.Name, f.subteam.ID: f.subteam.Name, b.ID: b.Name}
		keyOf := map[string]func(u *roster.User) []string{
			"name":     func(u *roster.User) []string { return []string{strings.ToLower(u.Name)} },
			"username": func(u *roster.User) []string { return []string{strings.ToLower(u.Username)} },
			"email":    func(u *roster.User) []string { return []string{u.Email} },
			"status":   func(u *roster.User) []string { return []string{u.Status, strings.ToLower(u.Name)} },
			"group": func(u *roster.User) []string {
				return []string{strings.ToLower(groupName[u.GroupID]), strings.ToLower(u.Name)}
			},
			"created_at": func(u *roster.User) []string { return nil },
		}
		expect := func(filter func(*roster.User) bool, sortKey string, desc bool) []int64 {
			var sel []*roster.User
			for _, u := range all {
				if filter(u) {
					sel = append(sel, u)
				}
			}
			sort.SliceStable(sel, func(i, j int) bool {
				a, b := keyOf[sortKey](sel[i]), keyOf[sortKey](sel[j])
				for k := range a {
					if a[k] != b[k] {
						return (a[k] < b[k]) != desc
					}
				}
				return (sel[i].ID < sel[j].ID) != desc
			})
			ids := make([]int64, len(sel))
			for i, u := range sel {
				ids[i] = u.ID
			}
			return ids
		}
		filters := []struct {
			q  roster.UserQuery
			fn func(*roster.User) bool
		}{
			{roster.UserQuery{}, func(*roster.User) bool { return true }},
			{roster.UserQuery{Status: "active"}, func(u *roster.User) bool { return u.Status == "active" }},
			{roster.UserQuery{Status: "deactivated,invited"}, func(u *roster.User) bool { return u.Status != "active" }},
			{roster.UserQuery{Role: "team_leader"}, func(u *roster.User) bool { return slices.Contains(u.Roles, "team_leader") }},
			{roster.UserQuery{Role: "team_leader", Status: "active"}, func(u *roster.User) bool {
				return slices.Contains(u.Roles, "team_leader") && u.Status == "active"
			}},
			{roster.UserQuery{Group: fmt.Sprint(f.team.ID)}, func(u *roster.User) bool { return u.GroupID == f.team.ID || u.GroupID == f.subteam.ID }},
			{roster.UserQuery{Q: "ANNA"}, func(u *roster.User) bool { return strings.Contains(strings.ToLower(u.Name+u.Username), "anna") }},
			{roster.UserQuery{Q: "55500"}, func(u *roster.User) bool { return strings.Contains(u.Mobile, "55500") }},
			{roster.UserQuery{Q: "a_"}, func(u *roster.User) bool { return false }}, // LIKE wildcards are literal
			{roster.UserQuery{Q: "nna"}, func(u *roster.User) bool {
				return strings.Contains(strings.ToLower(u.Name+" "+u.Username+" "+u.Email+" "+u.Mobile), "nna")
			}},
			// One or two characters match the start of the name.
			{roster.UserQuery{Q: "Mi"}, startsWith("mi")},
			{roster.UserQuery{Q: "z"}, startsWith("z")},
			{roster.UserQuery{Q: "ka"}, startsWith("ka")},
		}
		for _, fl := range filters {
			for sortKey := range keyOf {
				for _, order := range []string{"asc", "desc"} {
					want := expect(fl.fn, sortKey, order == "desc")
					var got []int64
					for page := 1; ; page++ {
						q := fl.q
						q.Sort, q.Order, q.Page, q.PerPage = sortKey, order, fmt.Sprint(page), "10"
						p, err := f.svc.ListUsers(ctx, f.admin, q)
						must(t, err)
						if p.Total != len(want) {
							t.Fatalf("%+v: total %d, want %d", q, p.Total, len(want))
						}
						if len(p.Items) == 0 {
							break
						}
						for _, u := range p.Items {
							got = append(got, u.ID)
						}
					}
					if !slices.Equal(got, want) {
						t.Fatalf("filter %+v sort %s %s:\n got %v\nwant %v", fl.q, sortKey, order, got, want)
					}
				}
			}
		}
		// Pages carry roles and group access.
		p, err := f.svc.ListUsers(ctx, f.admin, roster.UserQuery{Role: "team_leader", PerPage: "10"})
		must(t, err)
		for _, u := range p.Items {
			if !slices.Equal(u.Roles, []string{"team_leader"}) {
				t.Fatalf("roles on page: %+v", u)
			}
		}
		// Bad list parameters are field errors.
		_, err = f.svc.ListUsers(ctx, f.admin, roster.UserQuery{Sort: "password", Order: "up", PerPage: "7", Page: "0", Status: "gone", Role: "nope", Group: "abc"})
		for _, field := range []string{"sort", "order", "per_page", "page", "status", "role", "group"} {
			wantField(t, err, field)
		}
	})
}

func TestStats(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, "acme")
		in := f.userInput("anna")
		in.Roles = roster.Some([]string{"admin"})
		_, err := f.svc.CreateUser(f.ctx, f.admin, in)
		must(t, err)
		_, err = f.svc.CreateUser(f.ctx, f.admin, f.userInput("bert"))
		must(t, err)
		st, err := f.svc.Stats(f.ctx, f.admin)
		must(t, err)
		// Neither has signed in yet: both count as standard or admin users, not active.
		if st.Active != 0 || st.Admin != 1 || st.Standard != 1 || st.Invited != 0 {
			t.Fatalf("stats = %+v", st)
		}
	})
}

func TestCreateTenant(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		svc := roster.NewService(db, roster.Options{})
		ctx := context.Background()
		_, err := svc.CreateTenant(ctx, "acme", "Acme")
		must(t, err)
		_, err = svc.CreateTenant(ctx, "ACME", "Acme again")
		wantCode(t, err, roster.EConflict)
		_, err = svc.CreateTenant(ctx, "-", "")
		wantField(t, err, "slug")
		wantField(t, err, "name")
	})
}
