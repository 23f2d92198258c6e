package store_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/roster-dev/roster/internal/authz"
	"github.com/roster-dev/roster/internal/roster"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/testdb"
)

// TestUserCounts checks that user_counts, which list totals filtered by
// status and group come from, follows every change of the users, and that
// those totals and the ones counted from other indexes agree with a count of
// the rows.
func TestUserCounts(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc := roster.NewService(db, roster.Options{})
		ten, err := svc.CreateTenant(ctx, "counts", "Counts")
		if err != nil {
			t.Fatal(err)
		}
		other, err := svc.CreateTenant(ctx, "other", "Other")
		if err != nil {
			t.Fatal(err)
		}
		a := roster.SystemActor(ten.ID)
		groups, err := svc.ListGroups(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		root := groups[0].ID
		team, err := svc.CreateGroup(ctx, a, roster.GroupInput{Name: roster.Some("Team"), ParentID: roster.Some(root)})
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for i := range 12 {
			g, roles := root, []string{roster.RoleAgent}
			if i%3 == 0 {
				g, roles = team.ID, []string{roster.RoleTeamLeader, roster.RoleAgent}
			}
			u, err := svc.CreateUser(ctx, a, roster.UserInput{Username: roster.Some(fmt.Sprintf("user%d", i)),
				Email: roster.Some(fmt.Sprintf("user%d@example.com", i)), Language: roster.Some("en"),
				GroupID: roster.Some(g), Roles: roster.Some(roles)})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, u.ID)
		}
		og, err := svc.ListGroups(ctx, roster.SystemActor(other.ID))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.CreateUser(ctx, roster.SystemActor(other.ID), roster.UserInput{Username: roster.Some("elsewhere"),
			Email: roster.Some("elsewhere@example.com"), Language: roster.Some("en"), GroupID: roster.Some(og[0].ID)}); err != nil {
			t.Fatal(err)
		}
		check := func(step string) {
			t.Helper()
			for _, q := range []roster.UserQuery{
				{}, {Status: "active"}, {Status: "deactivated"}, {Status: "active,deactivated"},
				{Group: fmt.Sprint(team.ID)}, {Group: fmt.Sprint(root)}, {Group: fmt.Sprint(team.ID), Status: "deactivated"},
				{Role: roster.RoleTeamLeader}, {Role: roster.RoleAgent, Status: "active"}, {Role: roster.RoleTeamLeader, Status: "deactivated"},
				{Role: roster.RoleAgent, Group: fmt.Sprint(team.ID)}, {Q: "ser1"}, // a substring ("user1" is a username: an exact lookup)
			} {
				p, err := svc.ListUsers(ctx, a, q)
				if err != nil {
					t.Fatal(err)
				}
				want := countRows(t, db, ten.ID, q, groups[0].ID, team.ID)
				if p.Total != want {
					t.Errorf("%s: %+v: total %d, the rows count %d", step, q, p.Total, want)
				}
			}
		}
		check("created")
		if _, err := svc.DeactivateUser(ctx, a, ids[0]); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.DeactivateUser(ctx, a, ids[1]); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.ReactivateUser(ctx, a, ids[1]); err != nil {
			t.Fatal(err)
		}
		check("deactivated")
		if _, err := svc.UpdateUser(ctx, a, ids[2], roster.UserInput{GroupID: roster.Some(team.ID)}); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.UpdateUser(ctx, a, ids[3], roster.UserInput{Name: roster.Some("Renamed")}); err != nil {
			t.Fatal(err)
		}
		check("moved")
		if _, err := svc.UpdateUser(ctx, a, ids[5], roster.UserInput{Roles: roster.Some([]string{roster.RoleTeamLeader})}); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.DeactivateUser(ctx, a, ids[5]); err != nil {
			t.Fatal(err)
		}
		check("roles changed")

		// Updates of many users in one statement, as bulk changes make: the
		// counters, the status copy in user_roles and the decision index's
		// change log follow each changed row; an update of other columns
		// (a sign-in's last login, a rename) logs no decision change.
		exec := func(query string, args ...any) int64 {
			t.Helper()
			if db.Dialect() == store.SQLite {
				query = sqliteParams(query)
			}
			res, err := db.SQL().Exec(query, args...)
			if err != nil {
				t.Fatal(err)
			}
			n, _ := res.RowsAffected()
			return n
		}
		changedUsers := func(head authz.Cursor) map[int64]int {
			t.Helper()
			changes, _, err := db.Read().AuthzChanges(ctx, head)
			if err != nil {
				t.Fatal(err)
			}
			users := map[int64]int{}
			for _, c := range changes {
				if c.Kind == "user" {
					users[c.RefID]++
				}
			}
			return users
		}
		statusCopies := func(step string) {
			t.Helper()
			var stale int
			if err := db.SQL().QueryRow(`SELECT count(*) FROM user_roles ur JOIN users u ON u.tenant_id = ur.tenant_id AND u.id = ur.user_id
				WHERE ur.status <> u.status`).Scan(&stale); err != nil {
				t.Fatal(err)
			}
			if stale != 0 {
				t.Errorf("%s: %d role rows keep a stale status", step, stale)
			}
		}
		head, err := db.Read().AuthzHead(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n := exec(`UPDATE users SET updated_at = $1, name = name || ' x' WHERE tenant_id = $2`, int64(1795000000000), ten.ID); n != 12 {
			t.Fatalf("updated %d users, want 12", n)
		}
		if got := changedUsers(head); len(got) != 0 {
			t.Errorf("an updated_at and name update logged decision changes for %v", got)
		}
		check("bulk name update")
		steps := []struct {
			name, query string
			args        []any
		}{
			{"bulk deactivate", `UPDATE users SET status = 'deactivated' WHERE tenant_id = $1 AND status = 'active' AND id % 2 = 0`, []any{ten.ID}},
			{"bulk move", `UPDATE users SET group_id = $1 WHERE tenant_id = $2 AND group_id = $3`, []any{team.ID, ten.ID, root}},
			{"bulk roaming", `UPDATE users SET roaming = NOT roaming WHERE tenant_id = $1 AND id % 3 = 0`, []any{ten.ID}},
			{"bulk reactivate", `UPDATE users SET status = 'active' WHERE tenant_id = $1 AND status = 'deactivated'`, []any{ten.ID}},
		}
		for _, st := range steps {
			head, err := db.Read().AuthzHead(ctx)
			if err != nil {
				t.Fatal(err)
			}
			n := exec(st.query, st.args...)
			if n < 2 {
				t.Fatalf("%s changed %d users; the step needs several", st.name, n)
			}
			if got := changedUsers(head); int64(len(got)) != n {
				t.Errorf("%s: %d users changed, %d logged for the decision index", st.name, n, len(got))
			}
			check(st.name)
			statusCopies(st.name)
		}
		if err := svc.DeleteUser(ctx, a, ids[4]); err != nil {
			t.Fatal(err)
		}
		check("deleted")
		if db.Dialect() == store.Postgres {
			if _, err := db.SQL().Exec(`SELECT user_counts_fold(id) FROM tenants`); err != nil {
				t.Fatal(err)
			}
			var rows int
			if err := db.SQL().QueryRow(`SELECT count(*) FROM user_counts WHERE tenant_id = $1`, ten.ID).Scan(&rows); err != nil {
				t.Fatal(err)
			}
			// After the bulk steps everyone is active in the team: one key
			// for the users, one for the team leaders, one for the agents.
			if rows != 3 {
				t.Errorf("after the fold %d rows, want one per key in use (3)", rows)
			}
			check("folded")
		}
	})
}

// countRows counts the users q selects with plain SQL.
func countRows(t *testing.T, db *store.DB, tenantID int64, q roster.UserQuery, root, team int64) int {
	t.Helper()
	where, args := "u.tenant_id = $1", []any{tenantID}
	arg := func(v any) string { args = append(args, v); return fmt.Sprintf("$%d", len(args)) }
	switch q.Status {
	case "":
	case "active,deactivated":
		where += " AND u.status IN (" + arg("active") + ", " + arg("deactivated") + ")"
	default:
		where += " AND u.status = " + arg(q.Status)
	}
	switch q.Group {
	case "":
	case fmt.Sprint(root): // the whole tree
	default:
		where += " AND u.group_id = " + arg(team)
	}
	if q.Role != "" {
		where += " AND u.id IN (SELECT ur.user_id FROM user_roles ur JOIN roles r ON r.id = ur.role_id WHERE r.key = " + arg(q.Role) + ")"
	}
	if q.Q != "" {
		where += " AND u.search LIKE " + arg("%"+q.Q+"%")
	}
	query := "SELECT count(*) FROM users u WHERE " + where
	if db.Dialect() == store.SQLite {
		query = sqliteParams(query)
	}
	var n int
	if err := db.SQL().QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// sqliteParams turns $1, $2 into SQLite's ?1, ?2.
func sqliteParams(q string) string {
	out := []byte(q)
	for i := range out {
		if out[i] == '$' {
			out[i] = '?'
		}
	}
	return string(out)
}
