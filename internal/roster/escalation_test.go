package roster_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/roster"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/testdb"
)

// The escalation matrix: every actor (each built-in role and a few custom
// ones, as signed-in users and as tokens) tries every way of granting
// (create, invite, PATCH of someone's roles, PATCH of their own, a token, a
// role's definition, a role's assignable list, view-as, acting on a holder,
// a new invitation link) with every role. The expected answer comes from an
// oracle written from docs/rules.md — not from the code under test — so a
// weakened rule (a dropped scope comparison, delegation applied to tokens,
// a missing check on one door) fails here.

// escalationRoles are the custom roles of the matrix, besides the built-ins.
var escalationRoles = []roster.RoleInput{
	// Issue 14, finding 1: a groups-scoped user manager.
	{Key: roster.Some("team_manager"), Name: roster.Some("Team manager"), Scope: roster.Some("groups"),
		Permissions: roster.Some([]string{"users.view", "users.manage", "users.invite", "insights.view"})},
	// A self-scoped one: manages, but sees no group.
	{Key: roster.Some("self_manager"), Name: roster.Some("Self manager"), Scope: roster.Some("self"),
		Permissions: roster.Some([]string{"users.view", "users.manage", "self.view"})},
	// Delegation through data: may assign agents without being one.
	{Key: roster.Some("hr"), Name: roster.Some("HR"), Scope: roster.Some("tenant"),
		Permissions:     roster.Some([]string{"users.view", "users.manage", "users.invite", "roles.manage"}),
		AssignableRoles: roster.Some([]string{"agent"})},
	// A groups-scoped delegate of a tenant-wide role: delegation may not
	// reach further than its holder's own user management.
	{Key: roster.Some("site_hr"), Name: roster.Some("Site HR"), Scope: roster.Some("groups"),
		Permissions:     roster.Some([]string{"users.view", "users.manage", "users.invite"}),
		AssignableRoles: roster.Some([]string{"operator", "agent"})},
	// Tenant-wide viewer with impersonation.
	{Key: roster.Some("viewer"), Name: roster.Some("Viewer"), Scope: roster.Some("tenant"),
		Permissions: roster.Some([]string{"insights.view", "users.view", "users.impersonate"})},
	// A role with no permissions: anyone who manages users may act on it.
	{Key: roster.Some("nobody"), Name: roster.Some("Nobody"), Scope: roster.Some("self"), Permissions: roster.Some([]string{})},
}

// oracleRole is a role as the oracle sees it.
type oracleRole struct {
	key, scope string
	perms      []string
	assignable []string
}

func rank(scope string) int { return map[string]int{"self": 0, "groups": 1, "tenant": 2}[scope] }

// oracleActor holds roles; tokens act tenant-wide with one role. all are
// the tenant's roles, to follow delegation lists.
type oracleActor struct {
	roles []oracleRole
	token bool
	all   map[string]oracleRole
}

func (o oracleActor) width(r oracleRole) int {
	if o.token {
		return 2
	}
	return rank(r.scope)
}

// heldWidth is the widest scope the actor holds perm with, -1 if not held.
func (o oracleActor) heldWidth(perm string) int {
	w := -1
	for _, r := range o.roles {
		if slices.Contains(r.perms, perm) && o.width(r) > w {
			w = o.width(r)
		}
	}
	return w
}

func (o oracleActor) has(perm string) bool { return o.heldWidth(perm) >= 0 }

// holds: every permission of r, each as far as r reaches (at least need).
func (o oracleActor) holds(r oracleRole, need int) bool {
	for _, p := range r.perms {
		if o.heldWidth(p) < need {
			return false
		}
	}
	return true
}

// mayAssign: holds r, or a role of the actor names r and the actor's own
// user management reaches as far as r; and may assign every role r names
// as assignable (a role's delegation is power too).
func (o oracleActor) mayAssign(r oracleRole) bool {
	return o.mayAssignPerms(r) && o.mayDelegate(r, map[string]bool{})
}

func (o oracleActor) mayDelegate(r oracleRole, seen map[string]bool) bool {
	seen[r.key] = true
	for _, k := range r.assignable {
		if d, ok := o.all[k]; ok && !seen[k] && (!o.mayAssignPerms(d) || !o.mayDelegate(d, seen)) {
			return false
		}
	}
	return true
}

func (o oracleActor) mayAssignPerms(r oracleRole) bool {
	if o.holds(r, rank(r.scope)) {
		return true
	}
	manage := max(o.heldWidth("users.manage"), o.heldWidth("users.invite"))
	for _, x := range o.roles {
		if slices.Contains(x.assignable, r.key) && rank(r.scope) <= manage {
			return true
		}
	}
	return false
}

// reachesTeam: some role granting one of perms (any role when none) covers
// the team, where every scoped actor and target of the matrix lives.
func (o oracleActor) reachesTeam(perms ...string) bool {
	for _, r := range o.roles {
		if len(perms) > 0 && !slices.ContainsFunc(perms, func(p string) bool { return slices.Contains(r.perms, p) }) {
			continue
		}
		if o.width(r) >= 1 {
			return true
		}
	}
	return false
}

// outcome is what a try should answer: "ok", or the error code.
func outcome(err error) string {
	if err == nil {
		return "ok"
	}
	return roster.ErrorCode(err)
}

func TestEscalationMatrix(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, "climb")
		for _, in := range escalationRoles {
			_, err := f.svc.CreateRole(f.ctx, f.sys, in)
			must(t, err)
		}
		roles, err := f.svc.ListRoles(f.ctx, f.sys)
		must(t, err)
		byKey := map[string]oracleRole{}
		var keys []string
		for _, r := range roles {
			byKey[r.Key] = oracleRole{r.Key, r.Scope, r.Permissions, r.AssignableRoles}
			keys = append(keys, r.Key)
		}
		if !slices.Equal(byKey["environment_manager"].assignable, []string{"operator", "content_manager", "analyst", "producer", "developer"}) {
			t.Fatalf("environment manager delegates %v", byKey["environment_manager"].assignable)
		}
		// Actors: each role as a signed-in user; a few as tokens; and a
		// user holding two roles (the union per permission).
		type actorCase struct {
			name  string
			roles []string
			token bool
		}
		var actors []actorCase
		for _, k := range keys {
			actors = append(actors, actorCase{k, []string{k}, false})
		}
		for _, k := range []string{"admin", "environment_manager", "team_manager", "hr", "site_hr"} {
			actors = append(actors, actorCase{k + " token", []string{k}, true})
		}
		actors = append(actors, actorCase{"team_leader+user", []string{"team_leader", "user"}, false})

		n := 0
		fresh := func(prefix string) string { n++; return fmt.Sprintf("%s%d", prefix, n) }
		// holder makes a user of the team holding roles, with access to the
		// team (the system actor is above the rule).
		invitationOf := map[int64]int64{}
		holder := func(status string, roles ...string) *roster.User {
			in := roster.UserInput{Username: roster.Some(fresh("h")), Email: roster.Some(fresh("h") + "@example.com"),
				Language: roster.Some("en"), GroupID: roster.Some(f.team.ID), Roles: roster.Some(roles),
				GroupAccess: roster.Some([]int64{f.team.ID})}
			if status == roster.StatusInvited {
				links, err := f.svc.InviteUsers(f.ctx, f.sys, []roster.UserInput{in})
				must(t, err)
				invitationOf[links[0].Invitation.UserID] = links[0].Invitation.ID
				u, err := f.svc.User(f.ctx, f.sys, links[0].Invitation.UserID)
				must(t, err)
				return u
			}
			u, err := f.svc.CreateUser(f.ctx, f.sys, in)
			must(t, err)
			return u
		}
		actorOf := func(ac actorCase) *roster.Actor {
			if ac.token {
				_, secret, err := f.svc.CreateToken(f.ctx, f.sys, roster.TokenInput{Name: fresh("t"), Role: ac.roles[0]})
				must(t, err)
				a, err := f.svc.AuthenticateToken(f.ctx, secret)
				must(t, err)
				return a
			}
			u := holder(roster.StatusActive, ac.roles...)
			a, err := f.svc.ActorForUser(f.ctx, f.tenant.ID, u.ID)
			must(t, err)
			return a
		}

		// Holders are reused until a try changes them.
		pool := map[string]*roster.User{}
		pooled := func(slot, status string, roles ...string) *roster.User {
			key := slot + "/" + strings.Join(roles, ",")
			if u := pool[key]; u != nil {
				return u
			}
			u := holder(status, roles...)
			pool[key] = u
			return u
		}
		used := func(slot string, err error, roles ...string) {
			if err == nil {
				delete(pool, slot+"/"+strings.Join(roles, ","))
			}
		}
		selves := map[string]*roster.Actor{}

		tries, failures := 0, 0
		check := func(ac actorCase, way, role, want string, err error) {
			tries++
			if got := outcome(err); got != want {
				failures++
				if failures <= 40 {
					t.Errorf("%s, %s with %q: got %s (%v), want %s", ac.name, way, role, got, err, want)
				}
			}
		}
		for _, ac := range actors {
			o := oracleActor{token: ac.token, all: byKey}
			for _, k := range ac.roles {
				o.roles = append(o.roles, byKey[k])
			}
			a := actorOf(ac)
			tenantWideRoles := o.token || slices.ContainsFunc(o.roles, func(r oracleRole) bool {
				return slices.Contains(r.perms, "roles.manage") && r.scope == "tenant"
			})
			for _, k := range keys {
				r := byKey[k]
				userIn := func() roster.UserInput {
					return roster.UserInput{Username: roster.Some(fresh("u")), Email: roster.Some(fresh("u") + "@example.com"),
						Language: roster.Some("en"), GroupID: roster.Some(f.team.ID), Roles: roster.Some([]string{k}),
						GroupAccess: roster.Some([]int64{f.team.ID})}
				}

				// 1. Create a user holding the role.
				want := "ok"
				switch {
				case !o.has("users.manage"), !o.mayAssign(r):
					want = roster.EForbidden
				case !o.reachesTeam():
					want = roster.EInvalid // the team is not theirs to place people in
				}
				_, err := f.svc.CreateUser(f.ctx, a, userIn())
				check(ac, "create", k, want, err)

				// 2. Invite one.
				want = "ok"
				switch {
				case !o.has("users.invite"), !o.mayAssign(r):
					want = roster.EForbidden
				case !o.reachesTeam():
					want = roster.EInvalid
				}
				_, err = f.svc.InviteUsers(f.ctx, a, []roster.UserInput{userIn()})
				check(ac, "invite", k, want, err)

				// 3. Add it to someone who holds nothing.
				target := pooled("target", roster.StatusActive, "nobody")
				want = "ok"
				switch {
				case !o.has("users.manage"):
					want = roster.EForbidden
				case !o.reachesTeam():
					want = roster.ENotFound
				case !o.mayAssign(r):
					want = roster.EForbidden
				}
				_, err = f.svc.UpdateUser(f.ctx, a, target.ID, roster.UserInput{Roles: roster.Some([]string{"nobody", k})})
				check(ac, "patch roles", k, want, err)
				used("target", err, "nobody")

				// 4. Add it to oneself.
				if !ac.token {
					self := selves[ac.name]
					if self == nil {
						self = actorOf(ac)
					}
					want = "ok"
					switch {
					case !o.has("users.manage"):
						want = roster.EForbidden
					case !slices.Contains(ac.roles, k) && !o.mayAssign(r):
						want = roster.EForbidden
					}
					_, err = f.svc.UpdateUser(f.ctx, self, self.ID, roster.UserInput{Roles: roster.Some(append(slices.Clone(ac.roles), k))})
					check(ac, "patch own roles", k, want, err)
					selves[ac.name] = self
					if err == nil {
						delete(selves, ac.name)
					}
				}

				// 5. Put it on a token: held tenant-wide, no delegation.
				want = "ok"
				if !o.has("roles.manage") || !tenantWideRoles || !o.holds(r, 2) || !o.mayDelegate(r, map[string]bool{}) {
					want = roster.EForbidden
				}
				_, _, err = f.svc.CreateToken(f.ctx, a, roster.TokenInput{Name: fresh("tok"), Role: k})
				check(ac, "token", k, want, err)

				// 6. Define a custom role with its permissions and scope.
				want = "ok"
				if !o.has("roles.manage") || o.heldWidth("roles.manage") < rank(r.scope) || !o.holds(r, rank(r.scope)) {
					want = roster.EForbidden
				}
				_, err = f.svc.CreateRole(f.ctx, a, roster.RoleInput{Key: roster.Some(fresh("copy_")), Name: roster.Some(fresh("Copy ")),
					Scope: roster.Some(r.scope), Permissions: roster.Some(r.perms)})
				check(ac, "define", k, want, err)

				// 7. Name it as assignable in a new role.
				want = "ok"
				if !o.has("roles.manage") || !o.mayAssign(r) {
					want = roster.EForbidden
				}
				_, err = f.svc.CreateRole(f.ctx, a, roster.RoleInput{Key: roster.Some(fresh("deleg_")), Name: roster.Some(fresh("Delegate ")),
					Scope: roster.Some("self"), Permissions: roster.Some([]string{}), AssignableRoles: roster.Some([]string{k})})
				check(ac, "assignable", k, want, err)

				// 8. View as a holder: held as far as it reaches.
				h := pooled("holder", roster.StatusActive, k)
				want = "ok"
				switch {
				case !o.has("users.impersonate"):
					want = roster.EForbidden
				case !o.reachesTeam("users.impersonate"):
					want = roster.ENotFound
				case !o.holds(r, rank(r.scope)):
					want = roster.EForbidden
				}
				_, _, err = f.svc.StartImpersonation(f.ctx, a, h.ID)
				check(ac, "view as", k, want, err)

				// 9. Act on a holder: deactivate, then change their email.
				want = "ok"
				switch {
				case !o.has("users.manage"):
					want = roster.EForbidden
				case !o.reachesTeam():
					want = roster.ENotFound
				case !o.mayAssign(r) || !o.reachesTeam("users.manage", "users.invite"):
					want = roster.EForbidden
				}
				_, err = f.svc.UpdateUser(f.ctx, a, h.ID, roster.UserInput{Email: roster.Some(fresh("new") + "@example.com")})
				check(ac, "change email of", k, want, err)
				_, err = f.svc.DeactivateUser(f.ctx, a, h.ID)
				check(ac, "deactivate", k, want, err)
				used("holder", err, k)
				err = f.svc.DeleteUser(f.ctx, a, pooled("victim", roster.StatusActive, k).ID)
				check(ac, "delete", k, want, err)
				used("victim", err, k)

				// 10. A new link to a holder's invitation is their account.
				inv := pooled("invited", roster.StatusInvited, k)
				invID := invitationOf[inv.ID]
				want = "ok"
				switch {
				case !o.has("users.invite"):
					want = roster.EForbidden
				case !o.reachesTeam("users.invite", "users.manage"):
					want = roster.ENotFound
				case !o.mayAssign(r):
					want = roster.EForbidden
				}
				_, err = f.svc.InvitationLinkURL(f.ctx, a, invID)
				check(ac, "invitation link of", k, want, err)
			}
		}
		if failures > 0 {
			t.Errorf("%d of %d tries answered otherwise than the rule says", failures, tries)
		}
		t.Logf("%d tries by %d actors with %d roles", tries, len(actors), len(keys))
		if tries < 3000 {
			t.Errorf("only %d tries: the matrix shrank", tries)
		}
		if !strings.Contains(fmt.Sprint(keys), "team_manager") {
			t.Fatal("custom roles missing")
		}
	})
}
