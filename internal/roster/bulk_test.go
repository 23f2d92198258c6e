package roster_test

import (
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/roster-dev/roster/internal/roster"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/testdb"
)

// bulkWorld is a tenant where an Environment Manager (emma) acts on an
// Admin (ada), two Operators (otto; olga, logged on to a queue), a
// Developer (dev) and two invited users (ivan an Operator, ines an Admin).
type bulkWorld struct {
	*fixture
	emma  *roster.Actor
	users map[string]*roster.User
}

func newBulkWorld(t *testing.T, db *store.DB, slug string) *bulkWorld {
	t.Helper()
	w := &bulkWorld{fixture: newFixture(t, db, slug), users: map[string]*roster.User{}}
	w.emma = w.userActor(t, "emma", roster.RoleEnvironmentManager)
	w.users["emma"], _ = w.svc.User(w.ctx, w.admin, w.emma.ID)
	for name, role := range map[string]string{"ada": "admin", "otto": "operator", "olga": "operator", "dev": "developer"} {
		in := w.userInput(name)
		in.Roles = roster.Some([]string{role})
		u, err := w.svc.CreateUser(w.ctx, w.admin, in)
		must(t, err)
		w.users[name] = u
	}
	_, err := w.svc.SetQueue(w.ctx, w.admin, w.users["olga"].ID, ptr(true))
	must(t, err)
	for name, role := range map[string]string{"ivan": "operator", "ines": "admin"} {
		in := w.userInput(name)
		in.Roles = roster.Some([]string{role})
		links, err := w.svc.InviteUsers(w.ctx, w.admin, []roster.UserInput{in})
		must(t, err)
		w.users[name], err = w.svc.User(w.ctx, w.admin, links[0].Invitation.UserID)
		must(t, err)
	}
	return w
}

func (w *bulkWorld) ids(names ...string) []int64 {
	var ids []int64
	for _, n := range names {
		ids = append(ids, w.users[n].ID)
	}
	return ids
}

// bulkOutcome is a bulk result as usernames: who was done, who refused why.
func bulkOutcome(res *roster.BulkResult) (done []string, refused map[string]string) {
	refused = map[string]string{}
	for _, u := range res.Done {
		done = append(done, u.Username)
	}
	for _, r := range res.Refused {
		name := r.Username
		if name == "" {
			name = fmt.Sprint(r.ID)
		}
		refused[name] = r.Reason
	}
	slices.Sort(done)
	return done, refused
}

// Each bulk action on a selection with an Admin among others: the Admin is
// refused (an Environment Manager may not act on someone more powerful),
// so are those another rule protects, and the rest are done, each with
// its audit event. The dry run answers the same and changes nothing.
func TestBulkActions(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		cases := []struct {
			name    string
			in      roster.BulkInput
			select_ []string
			before  func(w *bulkWorld)
			done    []string
			refused map[string]string
			audit   string // the single action's audit event, one per done user
			check   func(t *testing.T, w *bulkWorld)
		}{
			{name: "deactivate", in: roster.BulkInput{Action: roster.BulkDeactivate},
				select_: []string{"ada", "otto", "olga", "dev", "emma"},
				done:    []string{"dev", "olga", "otto"},
				refused: map[string]string{"ada": roster.ReasonTargetMorePowerful, "emma": roster.ReasonSelf},
				audit:   "user.deactivate",
				check: func(t *testing.T, w *bulkWorld) {
					if u, _ := w.svc.User(w.ctx, w.admin, w.users["otto"].ID); u.Status != roster.StatusDeactivated {
						t.Errorf("otto is %s after a bulk deactivation", u.Status)
					}
					if u, _ := w.svc.User(w.ctx, w.admin, w.users["ada"].ID); u.Status != roster.StatusActive {
						t.Errorf("the refused admin is %s", u.Status)
					}
				}},
			{name: "reactivate", in: roster.BulkInput{Action: roster.BulkReactivate},
				select_: []string{"ada", "otto", "dev", "olga"},
				before: func(w *bulkWorld) {
					for _, n := range []string{"ada", "otto", "dev"} {
						_, err := w.svc.DeactivateUser(w.ctx, w.admin, w.users[n].ID)
						must(t, err)
					}
				},
				done:    []string{"dev", "otto"},
				refused: map[string]string{"ada": roster.ReasonTargetMorePowerful, "olga": roster.ReasonUserNotDeactivated},
				audit:   "user.reactivate"},
			{name: "set role", in: roster.BulkInput{Action: roster.BulkSetRole, Role: "developer"},
				select_: []string{"ada", "otto", "olga"},
				done:    []string{"olga", "otto"},
				refused: map[string]string{"ada": roster.ReasonTargetMorePowerful},
				audit:   "user.update",
				check: func(t *testing.T, w *bulkWorld) {
					if u, _ := w.svc.User(w.ctx, w.admin, w.users["otto"].ID); !slices.Equal(u.Roles, []string{"developer"}) {
						t.Errorf("otto's roles after set_role developer: %v", u.Roles)
					}
					if u, _ := w.svc.User(w.ctx, w.admin, w.users["ada"].ID); !slices.Equal(u.Roles, []string{"admin"}) {
						t.Errorf("the refused admin's roles: %v", u.Roles)
					}
				}},
			{name: "move", in: roster.BulkInput{Action: roster.BulkMove},
				select_: []string{"ada", "otto", "olga", "dev"},
				done:    []string{"dev", "otto"},
				refused: map[string]string{"ada": roster.ReasonTargetMorePowerful, "olga": roster.ReasonUserOnQueue},
				audit:   "user.move",
				check: func(t *testing.T, w *bulkWorld) {
					if u, _ := w.svc.User(w.ctx, w.admin, w.users["dev"].ID); u.GroupID != w.subteam.ID {
						t.Errorf("dev's home group after the move: %d, want %d", u.GroupID, w.subteam.ID)
					}
				}},
			{name: "delete", in: roster.BulkInput{Action: roster.BulkDelete},
				select_: []string{"ada", "otto", "olga", "dev", "ines"},
				done:    []string{"dev", "otto"},
				refused: map[string]string{"ada": roster.ReasonTargetMorePowerful, "olga": roster.ReasonUserOnQueue, "ines": roster.ReasonTargetMorePowerful},
				audit:   "user.delete",
				check: func(t *testing.T, w *bulkWorld) {
					if _, err := w.svc.User(w.ctx, w.admin, w.users["otto"].ID); roster.ErrorCode(err) != roster.ENotFound {
						t.Errorf("otto after a bulk delete: %v", err)
					}
				}},
			{name: "resend invitations", in: roster.BulkInput{Action: roster.BulkResendInvitation},
				select_: []string{"ivan", "ines", "otto"},
				done:    []string{"ivan"},
				refused: map[string]string{"ines": roster.ReasonTargetMorePowerful, "otto": roster.ReasonUserNotInvited},
				audit:   "invitation.resend"},
		}
		for i, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				w := newBulkWorld(t, db, fmt.Sprintf("bulk%d", i))
				if c.before != nil {
					c.before(w)
				}
				in := c.in
				in.IDs = w.ids(c.select_...)
				if in.Action == roster.BulkMove {
					in.GroupID = w.subteam.ID
				}
				events := w.auditCount(t)
				dry, err := w.svc.BulkUsers(w.ctx, w.emma, in, true)
				must(t, err)
				if n := w.auditCount(t); n != events {
					t.Fatalf("the dry run wrote %d audit events", n-events)
				}
				real, err := w.svc.BulkUsers(w.ctx, w.emma, in, false)
				must(t, err)
				for _, res := range []*roster.BulkResult{dry, real} {
					done, refused := bulkOutcome(res)
					if !slices.Equal(done, c.done) || !maps.Equal(refused, c.refused) || res.Total != len(c.select_) {
						t.Errorf("dry run %v: done %v, refused %v of %d; want done %v, refused %v",
							res.DryRun, done, refused, res.Total, c.done, c.refused)
					}
				}
				p, err := w.svc.ListAudit(w.ctx, w.admin, roster.AuditFilter{Action: c.audit, Actor: fmt.Sprintf("user:%d", w.emma.ID), PerPage: 50})
				must(t, err)
				if p.Total != len(c.done) {
					t.Errorf("%d %s events by the manager, want one per user done (%d)", p.Total, c.audit, len(c.done))
				}
				if c.check != nil {
					c.check(t, w)
				}
			})
		}
	})
}

// The selection: all users a filter matches (only those the actor sees),
// ids of nobody or of another tenant refused as missing, bad input refused
// whole with nothing done, and a role the actor may not give refused whole.
func TestBulkSelectionAndInput(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		w := newBulkWorld(t, db, "bulk")
		other := newFixture(t, db, "other")
		stranger, err := other.svc.CreateUser(other.ctx, other.admin, other.userInput("stranger"))
		must(t, err)

		res, err := w.svc.BulkUsers(w.ctx, w.emma, roster.BulkInput{Action: roster.BulkDeactivate, Filter: &roster.UserQuery{Role: "operator", Status: "active"}}, false)
		must(t, err)
		if done, refused := bulkOutcome(res); !slices.Equal(done, []string{"olga", "otto"}) || len(refused) != 0 {
			t.Errorf("deactivate all active operators: done %v, refused %v", done, refused)
		}

		res, err = w.svc.BulkUsers(w.ctx, w.emma, roster.BulkInput{Action: roster.BulkReactivate, IDs: []int64{w.users["otto"].ID, 999999, stranger.ID, w.users["otto"].ID}}, false)
		must(t, err)
		done, refused := bulkOutcome(res)
		if !slices.Equal(done, []string{"otto"}) || refused["999999"] != roster.ENotFound || refused[fmt.Sprint(stranger.ID)] != roster.ENotFound || res.Total != 3 {
			t.Errorf("ids with a missing one and another tenant's: done %v, refused %v, total %d", done, refused, res.Total)
		}
		if u, _ := other.svc.User(other.ctx, other.admin, stranger.ID); u.Status != roster.StatusActive {
			t.Errorf("another tenant's user is %s", u.Status)
		}

		bad := []struct {
			name  string
			in    roster.BulkInput
			field string
		}{
			{"unknown action", roster.BulkInput{Action: "promote", IDs: w.ids("otto")}, "action"},
			{"no selection", roster.BulkInput{Action: roster.BulkDelete}, "ids"},
			{"ids and filter", roster.BulkInput{Action: roster.BulkDelete, IDs: w.ids("otto"), Filter: &roster.UserQuery{}}, "ids"},
			{"too many", roster.BulkInput{Action: roster.BulkDelete, IDs: make([]int64, roster.MaxBulkUsers+1)}, "ids"},
			{"move without group", roster.BulkInput{Action: roster.BulkMove, IDs: w.ids("otto")}, "group_id"},
			{"move to nowhere", roster.BulkInput{Action: roster.BulkMove, IDs: w.ids("otto"), GroupID: 999999}, "group_id"},
			{"role on delete", roster.BulkInput{Action: roster.BulkDelete, IDs: w.ids("otto"), Role: "agent"}, "role"},
			{"unknown role", roster.BulkInput{Action: roster.BulkSetRole, IDs: w.ids("otto"), Role: "wizard"}, "role"},
			{"bad filter", roster.BulkInput{Action: roster.BulkDelete, Filter: &roster.UserQuery{Status: "gone"}}, "status"},
		}
		for _, b := range bad {
			events := w.auditCount(t)
			_, err := w.svc.BulkUsers(w.ctx, w.emma, b.in, false)
			if roster.ErrorCode(err) != roster.EInvalid || fieldMessage(err, b.field) == "" {
				t.Errorf("%s: %v, want invalid naming %s", b.name, err, b.field)
			}
			if w.auditCount(t) != events {
				t.Errorf("%s: refused input wrote audit events", b.name)
			}
		}

		// The grant rule, whole: an Environment Manager gives nobody Admin.
		_, err = w.svc.BulkUsers(w.ctx, w.emma, roster.BulkInput{Action: roster.BulkSetRole, IDs: w.ids("otto", "dev"), Role: "admin"}, false)
		if roster.ErrorCode(err) != roster.EForbidden {
			t.Errorf("set_role admin by an environment manager: %v, want forbidden", err)
		}
		if u, _ := w.svc.User(w.ctx, w.admin, w.users["dev"].ID); !slices.Equal(u.Roles, []string{"developer"}) {
			t.Errorf("dev's roles after a refused set_role admin: %v", u.Roles)
		}
		// Without users.manage, nothing at all; a read-only token too.
		if _, err := w.svc.BulkUsers(w.ctx, w.readOnly, roster.BulkInput{Action: roster.BulkDelete, IDs: w.ids("otto")}, true); roster.ErrorCode(err) != roster.EForbidden {
			t.Errorf("a read-only actor's bulk delete: %v", err)
		}
	})
}
