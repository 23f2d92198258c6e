package roster_test

import (
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/roster"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/testdb"
)

// Findings of the attacker's pass over the grant rules (issue 14). Each test
// climbs one way that was open on main.

// attackUser makes a user (by the system actor) in group holding roles with
// access to access, and signs them in as an actor.
func attackUser(t *testing.T, f *fixture, name string, group int64, access []int64, roles ...string) (*roster.User, *roster.Actor) {
	t.Helper()
	in := roster.UserInput{Username: roster.Some(name), Email: roster.Some(name + "@example.com"),
		Language: roster.Some("en"), GroupID: roster.Some(group), Roles: roster.Some(roles),
		GroupAccess: roster.Some(access)}
	u, err := f.svc.CreateUser(f.ctx, f.sys, in)
	must(t, err)
	a, err := f.svc.ActorForUser(f.ctx, f.tenant.ID, u.ID)
	must(t, err)
	return u, a
}

// A groups-scoped user manager who also holds a tenant-wide role without
// user rights (the default User role) is scoped by users.manage, not by the
// union of all their roles: a permission reaches what the roles granting it
// reach (docs/rules.md, "Data scopes").
func TestAttackMixedRolesScopeOfUserManagement(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, "mixed")
		_, err := f.svc.CreateRole(f.ctx, f.sys, roster.RoleInput{Key: roster.Some("team_manager"), Name: roster.Some("Team manager"),
			Scope: roster.Some("groups"), Permissions: roster.Some([]string{"users.view", "users.manage", "users.invite", "insights.view"})})
		must(t, err)
		other := mustGroup(t, f, "Team B", &f.root.ID)
		_, mgr := attackUser(t, f, "mgr", f.team.ID, []int64{f.team.ID}, "team_manager", "user")
		victim, _ := attackUser(t, f, "victim", other.ID, []int64{}, "user")

		if _, err := f.svc.User(f.ctx, mgr, victim.ID); roster.ErrorCode(err) != roster.ENotFound {
			t.Fatalf("read of a user outside the manager's groups: %v, want not found", err)
		}
		_, err = f.svc.UpdateUser(f.ctx, mgr, victim.ID, roster.UserInput{Email: roster.Some("attacker@example.com")})
		wantCode(t, err, roster.ENotFound)
		_, err = f.svc.DeactivateUser(f.ctx, mgr, victim.ID)
		wantCode(t, err, roster.ENotFound)
		err = f.svc.DeleteUser(f.ctx, mgr, victim.ID)
		wantCode(t, err, roster.ENotFound)

		// Placing people outside one's groups, or handing out access to them.
		in := roster.UserInput{Username: roster.Some("placed"), Email: roster.Some("placed@example.com"),
			Language: roster.Some("en"), GroupID: roster.Some(other.ID), Roles: roster.Some([]string{"user"})}
		_, err = f.svc.CreateUser(f.ctx, mgr, in)
		wantCode(t, err, roster.EInvalid)
		wantField(t, err, "group_id")
		in.GroupID = roster.Some(f.team.ID)
		in.Roles = roster.Some([]string{"team_manager"})
		in.GroupAccess = roster.Some([]int64{f.root.ID})
		_, err = f.svc.CreateUser(f.ctx, mgr, in)
		wantCode(t, err, roster.EInvalid)
		wantField(t, err, "group_access")

		// And widening one's own group access to the whole tenant.
		_, err = f.svc.UpdateUser(f.ctx, mgr, mgr.ID, roster.UserInput{GroupAccess: roster.Some([]int64{f.team.ID, f.root.ID})})
		wantCode(t, err, roster.EInvalid)
		wantField(t, err, "group_access")
		_, err = f.svc.MoveUser(f.ctx, mgr, victim.ID, roster.MoveInput{GroupID: f.team.ID})
		wantCode(t, err, roster.ENotFound)
	})
}

// A view-as lives no longer than the right that started it: a token that
// started one is revoked, or the viewed user gains rights the impersonator
// does not hold (a view as them would now be refused).
func TestAttackViewAsOutlivesItsGrant(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, "viewas")
		_, err := f.svc.CreateRole(f.ctx, f.sys, roster.RoleInput{Key: roster.Some("viewer"), Name: roster.Some("Viewer"),
			Scope: roster.Some("tenant"), Permissions: roster.Some([]string{"insights.view", "users.view", "users.impersonate"})})
		must(t, err)
		target, _ := attackUser(t, f, "target", f.team.ID, []int64{}, "user")

		// Started by a token that is then revoked.
		tok, secret, err := f.svc.CreateToken(f.ctx, f.sys, roster.TokenInput{Name: "viewer token", Role: "viewer"})
		must(t, err)
		ta, err := f.svc.AuthenticateToken(f.ctx, secret)
		must(t, err)
		_, viewSecret, err := f.svc.StartImpersonation(f.ctx, ta, target.ID)
		must(t, err)
		must(t, f.svc.RevokeToken(f.ctx, f.sys, tok.ID))
		if _, err := f.svc.AuthenticateToken(f.ctx, secret); roster.ErrorCode(err) != roster.EUnauthorized {
			t.Fatalf("revoked token: %v", err)
		}
		if _, err := f.svc.AuthenticateImpersonation(f.ctx, viewSecret); roster.ErrorCode(err) != roster.EUnauthorized {
			t.Errorf("view-as of a revoked token still works: %v", err)
		}

		// Started by a viewer; the viewed user is then made an Admin.
		_, viewer := attackUser(t, f, "viewer1", f.team.ID, []int64{}, "viewer")
		_, viewSecret, err = f.svc.StartImpersonation(f.ctx, viewer, target.ID)
		must(t, err)
		_, err = f.svc.UpdateUser(f.ctx, f.sys, target.ID, roster.UserInput{Roles: roster.Some([]string{"admin"})})
		must(t, err)
		if _, _, err := f.svc.StartImpersonation(f.ctx, viewer, target.ID); roster.ErrorCode(err) != roster.EForbidden {
			t.Fatalf("view as an admin by a viewer: %v", err)
		}
		if a, err := f.svc.AuthenticateImpersonation(f.ctx, viewSecret); err == nil {
			t.Errorf("a viewer still views as %s, now an Admin, with %v", target.Username, a.Permissions())
		}
	})
}

// A groups-scoped user manager sees the invitations of their groups only:
// an invitation carries the invited person's name, username and email.
func TestAttackInvitationsOutsideScope(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, "invscope")
		_, err := f.svc.CreateRole(f.ctx, f.sys, roster.RoleInput{Key: roster.Some("team_manager"), Name: roster.Some("Team manager"),
			Scope: roster.Some("groups"), Permissions: roster.Some([]string{"users.view", "users.manage", "users.invite", "insights.view"})})
		must(t, err)
		other := mustGroup(t, f, "Team B", &f.root.ID)
		_, mgr := attackUser(t, f, "mgr", f.team.ID, []int64{f.team.ID}, "team_manager")
		invite := func(name string, group int64) int64 {
			links, err := f.svc.InviteUsers(f.ctx, f.sys, []roster.UserInput{{Username: roster.Some(name), Email: roster.Some(name + "@example.com"),
				Language: roster.Some("en"), GroupID: roster.Some(group), Roles: roster.Some([]string{"user"})}})
			must(t, err)
			return links[0].Invitation.ID
		}
		mine := invite("mine", f.subteam.ID)
		theirs := invite("theirs", other.ID)

		page, err := f.svc.ListInvitations(f.ctx, mgr, roster.InvitationQuery{})
		must(t, err)
		if page.Total != 1 || len(page.Items) != 1 || page.Items[0].ID != mine {
			t.Errorf("a team's manager lists %d invitations (%+v), want only the one of their team", page.Total, page.Items)
		}
		if _, err := f.svc.Invitation(f.ctx, mgr, theirs); roster.ErrorCode(err) != roster.ENotFound {
			t.Errorf("a team's manager reads another team's invitation: %v", err)
		}
		if _, err := f.svc.Invitation(f.ctx, mgr, mine); err != nil {
			t.Errorf("their own team's invitation: %v", err)
		}
		// The console's door: the invitation of a user's row.
		theirsInv, err := f.svc.Invitation(f.ctx, f.admin, theirs)
		must(t, err)
		if _, err := f.svc.InvitationOfUser(f.ctx, mgr, theirsInv.UserID); roster.ErrorCode(err) != roster.ENotFound {
			t.Errorf("a team's manager reads another team's invitation by its user: %v", err)
		}
		all, err := f.svc.ListInvitations(f.ctx, f.admin, roster.InvitationQuery{})
		must(t, err)
		if all.Total != 2 {
			t.Errorf("an admin lists %d invitations, want 2", all.Total)
		}
	})
}

// The roaming flag widens a user's self-scoped roles to the groups of their
// group access (docs/rules.md, "Data scopes"), so turning it on gives those
// roles at the groups scope: a self-scoped user manager may not make
// themself roaming and so manage their groups.
func TestAttackRoamingWidensSelfScope(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, "roam")
		_, err := f.svc.CreateRole(f.ctx, f.sys, roster.RoleInput{Key: roster.Some("self_manager"), Name: roster.Some("Self manager"),
			Scope: roster.Some("self"), Permissions: roster.Some([]string{"users.view", "users.manage", "self.view"})})
		must(t, err)
		u, a := attackUser(t, f, "desk", f.team.ID, []int64{f.team.ID}, "self_manager", "identified_only")
		victim, _ := attackUser(t, f, "victim", f.team.ID, []int64{}, "identified_only")
		if _, err := f.svc.UpdateUser(f.ctx, a, victim.ID, roster.UserInput{Email: roster.Some("x@example.com")}); roster.ErrorCode(err) != roster.ENotFound {
			t.Fatalf("a self-scoped manager edits a team member: %v", err)
		}
		_, err = f.svc.UpdateUser(f.ctx, a, u.ID, roster.UserInput{Roaming: roster.Some(true)})
		wantCode(t, err, roster.EForbidden)
		if _, err := f.svc.UpdateUser(f.ctx, a, victim.ID, roster.UserInput{Email: roster.Some("x@example.com")}); roster.ErrorCode(err) != roster.ENotFound {
			t.Errorf("after making themself roaming, a self-scoped manager edits a team member: %v", err)
		}
		// Someone holding the role's permissions for the groups may.
		_, err = f.svc.UpdateUser(f.ctx, f.admin, u.ID, roster.UserInput{Roaming: roster.Some(true)})
		must(t, err)
	})
}

// A view-as shows what the viewed user sees: a user whose group access
// reaches groups the impersonator cannot see is more than theirs to view.
func TestAttackViewAsWiderGroupAccess(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, "viewwide")
		_, err := f.svc.CreateRole(f.ctx, f.sys, roster.RoleInput{Key: roster.Some("lead_viewer"), Name: roster.Some("Lead viewer"),
			Scope: roster.Some("groups"), Permissions: roster.Some([]string{"insights.view", "team.view", "coaching.manage", "users.view", "users.impersonate"})})
		must(t, err)
		other := mustGroup(t, f, "Team B", &f.root.ID)
		_, viewer := attackUser(t, f, "viewer", f.team.ID, []int64{f.team.ID}, "lead_viewer")
		narrow, _ := attackUser(t, f, "narrow", f.team.ID, []int64{f.subteam.ID}, "team_leader")
		wide, _ := attackUser(t, f, "wide", f.team.ID, []int64{f.team.ID, other.ID}, "team_leader")
		if _, _, err := f.svc.StartImpersonation(f.ctx, viewer, narrow.ID); err != nil {
			t.Fatalf("view as a team leader of one's own team: %v", err)
		}
		_, secret, err := f.svc.StartImpersonation(f.ctx, viewer, wide.ID)
		if roster.ErrorCode(err) != roster.EForbidden {
			t.Errorf("view as a team leader who also sees Team B: %v, want forbidden", err)
			if a, err := f.svc.AuthenticateImpersonation(f.ctx, secret); err == nil {
				if _, err := f.svc.Group(f.ctx, a, other.ID); err == nil {
					t.Errorf("and through it the viewer reads Team B")
				}
			}
		}
	})
}

// A token a token made outlives the revocation of its maker: a leaked
// service token can mint a child that keeps working after the leak is
// closed. docs/rules.md binds a token's child to that token's person only,
// and for a service token to nobody.
func TestAttackTokenMadeByRevokedToken(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, "tokchild")
		parent, secret, err := f.svc.CreateToken(f.ctx, f.sys, roster.TokenInput{Name: "leaked", Role: "admin"})
		must(t, err)
		pa, err := f.svc.AuthenticateToken(f.ctx, secret)
		must(t, err)
		_, childSecret, err := f.svc.CreateToken(f.ctx, pa, roster.TokenInput{Name: "backdoor", Role: "admin"})
		must(t, err)
		must(t, f.svc.RevokeToken(f.ctx, f.sys, parent.ID))
		if _, err := f.svc.AuthenticateToken(f.ctx, childSecret); roster.ErrorCode(err) != roster.EUnauthorized {
			t.Errorf("the child of a revoked token still works: %v", err)
		}
	})
}

// A link to an invitation is the account: one copied before the invited
// user was given more rights, or before their address was corrected, must
// not open the account after.
func TestAttackInvitationLinkOutlivesChange(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, "invlink")
		_, err := f.svc.CreateRole(f.ctx, f.sys, roster.RoleInput{Key: roster.Some("team_manager"), Name: roster.Some("Team manager"),
			Scope: roster.Some("groups"), Permissions: roster.Some([]string{"users.view", "users.manage", "users.invite", "insights.view"})})
		must(t, err)
		_, mgr := attackUser(t, f, "mgr", f.team.ID, []int64{f.team.ID}, "team_manager")
		invite := func(name string) (int64, int64) {
			links, err := f.svc.InviteUsers(f.ctx, mgr, []roster.UserInput{{Username: roster.Some(name), Email: roster.Some(name + "@example.com"),
				Language: roster.Some("en"), GroupID: roster.Some(f.team.ID), Roles: roster.Some([]string{"identified_only"})}})
			must(t, err)
			return links[0].Invitation.ID, links[0].Invitation.UserID
		}
		tokenOf := func(url string) string { return url[strings.LastIndex(url, "/")+1:] }

		// The manager keeps a copied link; an admin then makes the invitee an Admin.
		invID, userID := invite("newhire")
		link, err := f.svc.InvitationLinkURL(f.ctx, mgr, invID)
		must(t, err)
		_, err = f.svc.UpdateUser(f.ctx, f.admin, userID, roster.UserInput{Roles: roster.Some([]string{"admin"})})
		must(t, err)
		if _, err := f.svc.InvitationLinkURL(f.ctx, mgr, invID); roster.ErrorCode(err) != roster.EForbidden {
			t.Fatalf("a new link to an Admin's invitation by a team manager: %v", err)
		}
		if _, err := f.svc.AcceptInvitation(f.ctx, tokenOf(link.URL), "correct horse battery 9", "", ""); err == nil {
			t.Errorf("a link copied before the invitee became an Admin still opens the Admin account")
		}

		// An address corrected after the invitation went out.
		invID, userID = invite("typo")
		link, err = f.svc.InvitationLinkURL(f.ctx, f.admin, invID)
		must(t, err)
		_, err = f.svc.UpdateUser(f.ctx, f.admin, userID, roster.UserInput{Email: roster.Some("right@example.com")})
		must(t, err)
		if _, err := f.svc.AcceptInvitation(f.ctx, tokenOf(link.URL), "correct horse battery 9", "", ""); err == nil {
			t.Errorf("the link sent to the wrong address still opens the account after the address was corrected")
		}
	})
}

// The outbox holds every message of the tenant (recipients, texts): a
// groups-scoped audit viewer may not read it.
func TestAttackOutboxNeedsTenantScope(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, "outbox")
		_, err := f.svc.CreateRole(f.ctx, f.sys, roster.RoleInput{Key: roster.Some("team_auditor"), Name: roster.Some("Team auditor"),
			Scope: roster.Some("groups"), Permissions: roster.Some([]string{"audit.view", "users.view"})})
		must(t, err)
		other := mustGroup(t, f, "Team B", &f.root.ID)
		_, auditor := attackUser(t, f, "auditor", f.team.ID, []int64{f.team.ID}, "team_auditor")
		_, err = f.svc.InviteUsers(f.ctx, f.sys, []roster.UserInput{{Username: roster.Some("elsewhere"), Email: roster.Some("elsewhere@example.com"),
			Language: roster.Some("en"), GroupID: roster.Some(other.ID), Roles: roster.Some([]string{"user"})}})
		must(t, err)
		page, err := f.svc.ListOutbox(f.ctx, auditor, roster.OutboxQuery{})
		if err == nil {
			t.Errorf("a team's auditor reads the tenant's outbox (%d messages)", page.Total)
		}
		wantCode(t, err, roster.EForbidden)
		if _, err := f.svc.ListOutbox(f.ctx, f.admin, roster.OutboxQuery{}); err != nil {
			t.Fatal(err)
		}
	})
}

// A role's delegation is power too: a role whose holders may assign Admin
// is not the Environment Manager's to give, though it holds the role's
// permissions — else it takes the role, then Admin (itself or by token).
func TestAttackDelegatingRoleCarriesItsDelegation(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, "deleg")
		_, err := f.svc.CreateRole(f.ctx, f.sys, roster.RoleInput{Key: roster.Some("admin_maker"), Name: roster.Some("Admin maker"),
			Scope: roster.Some("tenant"), Permissions: roster.Some([]string{"users.view", "users.manage", "users.invite"}),
			AssignableRoles: roster.Some([]string{"admin"})})
		must(t, err)
		em, a := attackUser(t, f, "em", f.team.ID, []int64{}, "environment_manager")
		_, err = f.svc.UpdateUser(f.ctx, a, em.ID, roster.UserInput{Roles: roster.Some([]string{"environment_manager", "admin_maker"})})
		wantCode(t, err, roster.EForbidden)
		if err == nil {
			_, err = f.svc.UpdateUser(f.ctx, a, em.ID, roster.UserInput{Roles: roster.Some([]string{"environment_manager", "admin_maker", "admin"})})
			if err == nil {
				t.Errorf("the Environment Manager made itself Admin through the Admin maker role")
			}
		}
		_, _, err = f.svc.CreateToken(f.ctx, a, roster.TokenInput{Name: "maker", Role: "admin_maker"})
		wantCode(t, err, roster.EForbidden)
		other, _ := attackUser(t, f, "other", f.team.ID, []int64{}, "admin_maker")
		_, err = f.svc.UpdateUser(f.ctx, a, other.ID, roster.UserInput{Email: roster.Some("em-owned@example.com")})
		wantCode(t, err, roster.EForbidden)
		// An Admin may.
		_, admin := attackUser(t, f, "boss", f.team.ID, []int64{}, "admin")
		_, err = f.svc.UpdateUser(f.ctx, admin, em.ID, roster.UserInput{Roles: roster.Some([]string{"environment_manager", "admin_maker"})})
		must(t, err)
	})
}

// Moving a group under another widens the reach of everyone with access to
// the new parent: a group designer who holds only groups.manage hands a
// team's user manager the users of another team.
func TestAttackGroupMoveWidensOthersReach(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, "gmove")
		for _, in := range []roster.RoleInput{
			{Key: roster.Some("team_manager"), Name: roster.Some("Team manager"), Scope: roster.Some("groups"),
				Permissions: roster.Some([]string{"users.view", "users.manage", "users.invite", "insights.view"})},
			{Key: roster.Some("designer"), Name: roster.Some("Designer"), Scope: roster.Some("groups"),
				Permissions: roster.Some([]string{"groups.manage"})},
		} {
			_, err := f.svc.CreateRole(f.ctx, f.sys, in)
			must(t, err)
		}
		other := mustGroup(t, f, "Team B", &f.root.ID)
		_, designer := attackUser(t, f, "designer", f.team.ID, []int64{f.team.ID, other.ID}, "designer")
		_, mgr := attackUser(t, f, "mgr", f.team.ID, []int64{f.team.ID}, "team_manager")
		victim, _ := attackUser(t, f, "victim", other.ID, []int64{}, "identified_only")
		if _, err := f.svc.UpdateUser(f.ctx, mgr, victim.ID, roster.UserInput{Email: roster.Some("mgr-owned@example.com")}); roster.ErrorCode(err) != roster.ENotFound {
			t.Fatalf("before the move, a team's manager edits another team's user: %v", err)
		}
		_, err := f.svc.UpdateGroup(f.ctx, designer, other.ID, roster.GroupInput{ParentID: roster.Some(f.team.ID)})
		if err == nil {
			if _, err := f.svc.UpdateUser(f.ctx, mgr, victim.ID, roster.UserInput{Email: roster.Some("mgr-owned@example.com")}); err == nil {
				t.Errorf("after a designer's move, a team's manager changes the email of another team's user")
			}
		}
	})
}
