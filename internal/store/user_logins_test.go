package store_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/roster"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/testdb"
)

// setLastLogin writes a sign-in time as a sign-in does.
func setLastLogin(t *testing.T, db *store.DB, tenantID, userID int64, at time.Time) {
	t.Helper()
	sess := &roster.Session{TenantID: tenantID, UserID: userID, TokenHash: []byte(fmt.Sprintf("token-%d-%d", userID, at.UnixNano())),
		CreatedAt: at, LastSeenAt: at, ExpiresAt: at.Add(time.Hour), IP: "192.0.2.1"}
	e := &roster.AuditEvent{TenantID: tenantID, ActorKind: "user", ActorID: userID, ActorName: "u", Action: "session.create",
		TargetKind: "user", TargetID: userID, After: []byte(`{}`), At: at}
	if err := db.RecordSignIn(context.Background(), sess, e); err != nil {
		t.Fatal(err)
	}
}

// TestLastLoginOrder pages through users in last sign-in order, both ways,
// with and without filters: users who never signed in come first ascending
// and last descending, ties go by id, and the pages past the middle (read
// from the other end) continue the ones before.
func TestLastLoginOrder(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc := roster.NewService(db, roster.Options{})
		a, top := newTenant(t, svc, "logins")
		tenantID := a.TenantID
		team, err := svc.CreateGroup(ctx, a, roster.GroupInput{Name: roster.Some("Team"), ParentID: roster.Some(top)})
		if err != nil {
			t.Fatal(err)
		}
		base := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
		var users []user
		for i := range 23 {
			in := roster.UserInput{Username: roster.Some(fmt.Sprintf("u%02d", i)), Email: roster.Some(fmt.Sprintf("u%02d@example.com", i)),
				Language: roster.Some("en"), GroupID: roster.Some(top), Roaming: roster.Some(i%7 == 1)}
			if i%3 == 0 {
				in.Roles = roster.Some([]string{roster.RoleAgent})
			}
			u, err := svc.CreateUser(ctx, a, in)
			if err != nil {
				t.Fatal(err)
			}
			x := user{id: u.ID, agent: i%3 == 0, roaming: i%7 == 1}
			if i%4 != 0 { // every fourth never signs in
				at := base.Add(time.Duration((i*7)%5) * time.Hour) // ties on purpose
				setLastLogin(t, db, tenantID, u.ID, at)
				x.last = &at
			}
			if i%5 == 0 {
				if _, err := svc.DeactivateUser(ctx, a, u.ID); err != nil {
					t.Fatal(err)
				}
				x.inactive = true
			}
			if i%2 == 1 { // half move into the team after they were made
				if _, err := svc.UpdateUser(ctx, a, u.ID, roster.UserInput{GroupID: roster.Some(team.ID)}); err != nil {
					t.Fatal(err)
				}
				x.inTeam = true
			}
			users = append(users, x)
		}
		// Another tenant's sign-ins never show.
		o := newUser(t, svc, "other", "o")
		setLastLogin(t, db, o.TenantID, o.ID, base)

		for _, c := range []struct {
			name string
			q    roster.UserQuery
			keep func(user) bool
		}{
			{"all", roster.UserQuery{}, func(user) bool { return true }},
			{"active", roster.UserQuery{Status: roster.StatusActive}, func(u user) bool { return !u.inactive }},
			{"group", roster.UserQuery{Group: fmt.Sprint(team.ID)}, func(u user) bool { return u.inTeam }},
			{"active in group", roster.UserQuery{Group: fmt.Sprint(team.ID), Status: roster.StatusActive}, func(u user) bool { return u.inTeam && !u.inactive }},
			// A filter that keeps most users: walked (a few: read and sorted).
			{"not roaming", roster.UserQuery{Roaming: "false"}, func(u user) bool { return !u.roaming }},
			{"agents", roster.UserQuery{Role: roster.RoleAgent}, func(u user) bool { return u.agent }},
			{"active agents", roster.UserQuery{Role: roster.RoleAgent, Status: roster.StatusActive}, func(u user) bool { return u.agent && !u.inactive }},
			{"search", roster.UserQuery{Q: "u1"}, func(u user) bool { i := indexByID(users, u.id); return i >= 10 && i <= 19 }},
		} {
			for _, desc := range []bool{false, true} {
				want := lastLoginOrder(slices.DeleteFunc(slices.Clone(users), func(u user) bool { return !c.keep(u) }), desc)
				var got []int64
				q := c.q
				q.Sort, q.PerPage = "last_login_at", "10"
				if desc {
					q.Order = "desc"
				}
				for page := 1; page <= 3; page++ {
					q.Page = fmt.Sprint(page)
					p, err := svc.ListUsers(ctx, a, q)
					if err != nil {
						t.Fatal(err)
					}
					if p.Total != len(want) {
						t.Fatalf("%s desc=%v: total %d, want %d", c.name, desc, p.Total, len(want))
					}
					for _, u := range p.Items {
						got = append(got, u.ID)
						if w := users[indexByID(users, u.ID)].last; (w == nil) != (u.LastLoginAt == nil) || (w != nil && !w.Equal(*u.LastLoginAt)) {
							t.Errorf("%s: user %d last login %v, want %v", c.name, u.ID, u.LastLoginAt, w)
						}
					}
				}
				if !slices.Equal(got, want) {
					t.Errorf("%s desc=%v:\n got %v\nwant %v", c.name, desc, got, want)
				}
			}
		}

		// A team leader's scope (home group in scope, or themself) is
		// held by user_logins too.
		scope := &roster.ScopeFilter{GroupIDs: []int64{team.ID}, UserID: users[0].id}
		want := lastLoginOrder(slices.DeleteFunc(slices.Clone(users), func(u user) bool { return !u.inTeam && u.id != users[0].id }), true)
		var got []int64
		for page := 1; page <= 2; page++ {
			p, total, err := db.Read().ListUsers(ctx, tenantID, roster.UserFilter{Scope: scope, Sort: "last_login_at", Desc: true, Page: page, PerPage: 10})
			if err != nil {
				t.Fatal(err)
			}
			if total != len(want) {
				t.Fatalf("scoped: total %d, want %d", total, len(want))
			}
			for _, u := range p {
				got = append(got, u.ID)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("scoped:\n got %v\nwant %v", got, want)
		}

		// Stats count the active users who signed in at least once.
		stats, err := svc.Stats(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		signedIn := 0
		for _, u := range users {
			if u.last != nil && !u.inactive {
				signedIn++
			}
		}
		if stats.Active != signedIn {
			t.Errorf("stats: %d active users signed in, want %d", stats.Active, signedIn)
		}

		// An edit of the user made from an older read keeps the sign-in
		// that came in between: the time is not part of the users row.
		stale, err := db.Read().User(ctx, tenantID, users[0].id)
		if err != nil {
			t.Fatal(err)
		}
		later := base.Add(48 * time.Hour)
		setLastLogin(t, db, tenantID, users[0].id, later)
		stale.Name = "Renamed"
		if err := db.InTx(ctx, func(tx roster.Tx) error { return tx.UpdateUser(ctx, stale) }); err != nil {
			t.Fatal(err)
		}
		fresh, err := db.Read().User(ctx, tenantID, users[0].id)
		if err != nil {
			t.Fatal(err)
		}
		if fresh.Name != "Renamed" || fresh.LastLoginAt == nil || !fresh.LastLoginAt.Equal(later) {
			t.Errorf("after an edit from an older read: name %q, last login %v, want %v", fresh.Name, fresh.LastLoginAt, later)
		}

		// Deleting a user deletes their sign-in time.
		if err := svc.DeleteUser(ctx, a, users[1].id); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := db.SQL().QueryRow(`SELECT count(*) FROM user_logins WHERE user_id = ` + fmt.Sprint(users[1].id)).Scan(&n); err != nil || n != 0 {
			t.Errorf("a deleted user's user_logins rows: %d (%v)", n, err)
		}
	})
}

// newTenant makes a tenant through the core; it returns the tenant's system
// actor and top group.
func newTenant(t *testing.T, svc *roster.Service, slug string) (*roster.Actor, int64) {
	t.Helper()
	ctx := context.Background()
	ten, err := svc.CreateTenant(ctx, slug, slug)
	if err != nil {
		t.Fatal(err)
	}
	a := roster.SystemActor(ten.ID)
	groups, err := svc.ListGroups(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	return a, groups[0].ID
}

// newUser makes a tenant with one user in its top group.
func newUser(t *testing.T, svc *roster.Service, slug, username string) *roster.User {
	t.Helper()
	a, top := newTenant(t, svc, slug)
	u, err := svc.CreateUser(context.Background(), a, roster.UserInput{Username: roster.Some(username),
		Email: roster.Some(username + "@example.com"), Language: roster.Some("en"), GroupID: roster.Some(top)})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// lastLoginOrder is the ids of users in last sign-in order: those who never
// signed in first, ties by id; desc reverses it.
func lastLoginOrder(users []user, desc bool) []int64 {
	slices.SortStableFunc(users, func(x, y user) int {
		switch {
		case x.last == nil && y.last != nil:
			return -1
		case x.last != nil && y.last == nil:
			return 1
		case x.last != nil && !x.last.Equal(*y.last):
			return x.last.Compare(*y.last)
		}
		return int(x.id - y.id)
	})
	if desc {
		slices.Reverse(users)
	}
	ids := make([]int64, 0, len(users))
	for _, u := range users {
		ids = append(ids, u.id)
	}
	return ids
}

// user is what TestLastLoginOrder knows of one of its users.
type user struct {
	id       int64
	last     *time.Time
	agent    bool
	roaming  bool
	inactive bool
	inTeam   bool
}

func indexByID(users []user, id int64) int {
	return slices.IndexFunc(users, func(u user) bool { return u.id == id })
}

// TestUserLoginsMigration upgrades a database made before sign-in times
// moved to user_logins: every user's time is kept, and users made after
// the upgrade have a row of their own.
func TestUserLoginsMigration(t *testing.T) {
	ctx := context.Background()
	for _, d := range []struct {
		name string
		open func(t *testing.T) *store.DB
	}{
		{"sqlite", func(t *testing.T) *store.DB {
			db, err := store.Open(ctx, "", filepath.Join(t.TempDir(), "data"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		}},
		{"postgres", func(t *testing.T) *store.DB {
			dsn, drop := testdb.NewSchema(t)
			db, err := store.Open(ctx, dsn, "")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close(); drop() })
			return db
		}},
	} {
		t.Run(d.name, func(t *testing.T) {
			db := d.open(t)
			if err := db.MigrateBefore(ctx, "user_logins"); err != nil {
				t.Fatal(err)
			}
			// Rows as the older schema held them.
			for _, q := range []string{
				`INSERT INTO tenants (id, slug, name, settings, created_at) VALUES (1, 'old', 'Old', '{}', 0)`,
				`INSERT INTO org_groups (id, tenant_id, parent_id, name, level, created_at, updated_at) VALUES (1, 1, NULL, 'All', 1, 0, 0)`,
				`INSERT INTO users (id, tenant_id, username, name, email, language, group_id, group_name, status, last_login_at, created_at, updated_at, search)
					VALUES (1001, 1, 'ann', 'Ann', 'ann@example.com', 'en', 1, 'All', 'active', 1790000000000, 0, 0, 'ann')`,
				`INSERT INTO users (id, tenant_id, username, name, email, language, group_id, group_name, status, last_login_at, created_at, updated_at, search)
					VALUES (1002, 1, 'bob', 'Bob', 'bob@example.com', 'en', 1, 'All', 'invited', NULL, 0, 0, 'bob')`,
			} {
				if _, err := db.SQL().ExecContext(ctx, q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			if _, err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			ann, err := db.Read().User(ctx, 1, 1001)
			if err != nil {
				t.Fatal(err)
			}
			if ann.LastLoginAt == nil || ann.LastLoginAt.UnixMilli() != 1790000000000 {
				t.Errorf("ann's last login after the upgrade: %v", ann.LastLoginAt)
			}
			bob, err := db.Read().User(ctx, 1, 1002)
			if err != nil {
				t.Fatal(err)
			}
			if bob.LastLoginAt != nil {
				t.Errorf("bob never signed in, got %v", bob.LastLoginAt)
			}
			var n int
			if err := db.SQL().QueryRowContext(ctx, `SELECT count(*) FROM user_logins`).Scan(&n); err != nil || n != 2 {
				t.Fatalf("user_logins rows after the upgrade: %d (%v), want 2", n, err)
			}
			// A user made after the upgrade, as the store makes them.
			cid := &roster.User{TenantID: 1, Username: "cid", Name: "Cid", Email: "cid@example.com", Language: "en", GroupID: 1,
				Status: roster.StatusActive, Nicknames: []string{}, Roles: []string{}, GroupAccess: []int64{}, AgentIDs: []int64{}}
			if err := db.InTx(ctx, func(tx roster.Tx) error { return tx.CreateUser(ctx, cid) }); err != nil {
				t.Fatal(err)
			}
			at := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
			setLastLogin(t, db, 1, cid.ID, at)
			got, err := db.Read().User(ctx, 1, cid.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.LastLoginAt == nil || !got.LastLoginAt.Equal(at) {
				t.Errorf("a user made after the upgrade: last login %v, want %v", got.LastLoginAt, at)
			}
		})
	}
}
