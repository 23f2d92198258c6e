package store_test

import (
	"context"
	"slices"
	"testing"

	"github.com/roster-dev/roster/internal/authz"
	"github.com/roster-dev/roster/internal/roster"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/testdb"
)

// TestAuthzChangeLog checks the change log the decision index follows: the
// triggers write an entry for each kind of change, whatever code makes it,
// and a reader never skips an entry, even one that a transaction which began
// earlier commits after a later one (PostgreSQL hands out ids at insert
// time, not at commit).
func TestAuthzChangeLog(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		r := db.Read()
		head, err := r.AuthzHead(ctx)
		if err != nil {
			t.Fatal(err)
		}
		svc := roster.NewService(db, roster.Options{})
		ten, err := svc.CreateTenant(ctx, "log", "Log")
		if err != nil {
			t.Fatal(err)
		}
		changes, cur, err := r.AuthzChanges(ctx, head)
		if err != nil {
			t.Fatal(err)
		}
		kinds := map[string]int{}
		for _, c := range changes {
			if c.TenantID != ten.ID {
				t.Errorf("change of another tenant: %+v", c)
			}
			kinds[c.Kind]++
		}
		if kinds[authz.KindRole] != len(roster.BuiltinRoles()) || kinds[authz.KindGroup] != 1 {
			t.Fatalf("a new tenant logged %v", kinds)
		}

		// Plain SQL, not the core: the triggers still log it.
		sqldb := db.SQL()
		q := func(s string) string {
			if db.Dialect() == store.Postgres {
				return "UPDATE roles SET name = name || '!' WHERE tenant_id = $1 AND key = $2"
			}
			return s
		}
		if _, err := sqldb.ExecContext(ctx, q("UPDATE roles SET name = name || '!' WHERE tenant_id = ? AND key = ?"), ten.ID, "agent"); err != nil {
			t.Fatal(err)
		}
		changes, cur, err = r.AuthzChanges(ctx, cur)
		if err != nil || len(changes) != 1 || changes[0].Kind != authz.KindRole {
			t.Fatalf("after an UPDATE of a role: %+v, %v", changes, err)
		}

		// Two transactions commit in the opposite order of their writes.
		insertGroup := "INSERT INTO org_groups (tenant_id, parent_id, name, level, created_at, updated_at) VALUES (?, NULL, ?, 1, 0, 0)"
		if db.Dialect() == store.Postgres {
			insertGroup = "INSERT INTO org_groups (tenant_id, parent_id, name, level, created_at, updated_at) VALUES ($1, NULL, $2, 1, 0, 0)"
		}
		first, err := sqldb.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer first.Rollback()
		if _, err := first.ExecContext(ctx, insertGroup, ten.ID, "First"); err != nil {
			t.Fatal(err)
		}
		if db.Dialect() == store.Postgres {
			// SQLite has one writer at a time: the second transaction would
			// wait for the first, so ids commit in order there by design.
			second, err := sqldb.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := second.ExecContext(ctx, insertGroup, ten.ID, "Second"); err != nil {
				t.Fatal(err)
			}
			if err := second.Commit(); err != nil {
				t.Fatal(err)
			}
			changes, cur, err = r.AuthzChanges(ctx, cur)
			if err != nil || len(changes) != 1 {
				t.Fatalf("after the second commit: %+v, %v", changes, err)
			}
			if len(cur.Pending) == 0 {
				t.Fatal("the running first transaction is not remembered")
			}
		}
		if err := first.Commit(); err != nil {
			t.Fatal(err)
		}
		changes, cur, err = r.AuthzChanges(ctx, cur)
		if err != nil || len(changes) != 1 || changes[0].Kind != authz.KindGroup {
			t.Fatalf("the first transaction's change was skipped: %+v, %v", changes, err)
		}
		changes, _, err = r.AuthzChanges(ctx, cur)
		if err != nil || len(changes) != 0 {
			t.Fatalf("read twice: %+v, %v", changes, err)
		}

		// Loading and patching read the same data.
		data, err := r.AuthzTenant(ctx, ten.ID)
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, g := range data.Groups {
			ids = append(ids, g.ID)
		}
		groups, err := r.AuthzGroups(ctx, ten.ID, append(ids, 999999))
		if err != nil || len(groups) != len(ids) || len(data.Roles) != len(roster.BuiltinRoles()) {
			t.Fatalf("tenant %+v, groups %+v, %v", data, groups, err)
		}
		slices.Sort(ids)
		if want := map[store.Dialect]int{store.SQLite: 2, store.Postgres: 3}[db.Dialect()]; len(ids) != want {
			t.Errorf("groups %v, want %d", ids, want)
		}
	})
}
