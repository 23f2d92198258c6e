package store_test

import (
	"context"
	"regexp"
	"testing"

	"github.com/roster-dev/roster/internal/bench"
	"github.com/roster-dev/roster/internal/roster"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/testdb"
)

// tenantScan matches a plan that reads every user of the tenant: a
// sequential scan, or an index used for the tenant alone.
var tenantScan = regexp.MustCompile(`Seq Scan on users|(?m)SCAN u$|INDEX \w+ \(tenant_id=\?\)|Index Cond: \(tenant_id = '\d+'::bigint\)\n`)

// TestSCIMFilterPlans: on a directory of 10,000 users with statistics, the
// filters identity providers send are served by an index on both databases,
// never by reading every user of the tenant.
func TestSCIMFilterPlans(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc := roster.NewService(db, roster.Options{})
		ds, err := bench.Load(ctx, svc, db, bench.Config{Tenants: 2, UsersPerTenant: 5_000}, t.Logf)
		if err != nil {
			t.Fatal(err)
		}
		tid := ds.TenantIDs[0]
		sqldb := db.SQL()
		if _, err := sqldb.ExecContext(ctx, rebind(db, `UPDATE users SET external_id = 'ext-' || id WHERE tenant_id = ?`), tid); err != nil {
			t.Fatal(err)
		}
		analyze := "ANALYZE"
		if db.Dialect() == store.Postgres {
			analyze = "VACUUM (ANALYZE) users" // also empties the trigram index's pending list the update filled
		}
		if _, err := sqldb.ExecContext(ctx, analyze); err != nil {
			t.Fatal(err)
		}
		var username, email, name string
		if err := sqldb.QueryRowContext(ctx, rebind(db, `SELECT username, email, name FROM users WHERE tenant_id = ? AND email <> '' ORDER BY id LIMIT 1 OFFSET 2500`), tid).
			Scan(&username, &email, &name); err != nil {
			t.Fatal(err)
		}
		cmp := func(field, op string, v any) *roster.SCIMFilter {
			return &roster.SCIMFilter{Op: op, Field: field, Value: v}
		}
		for _, f := range []*roster.SCIMFilter{
			cmp(roster.SCIMFieldUsername, "eq", username),
			cmp(roster.SCIMFieldExternalID, "eq", "ext-42"),
			cmp(roster.SCIMFieldEmail, "eq", email),
			cmp(roster.SCIMFieldName, "eq", name),
			cmp(roster.SCIMFieldUsername, "sw", username[:4]),
			cmp(roster.SCIMFieldName, "sw", name[:5]),
			cmp(roster.SCIMFieldUsername, "co", username[1:6]),
			{Op: "and", Args: []*roster.SCIMFilter{cmp(roster.SCIMFieldUsername, "eq", username), cmp(roster.SCIMFieldActive, "eq", true)}},
			{Op: "or", Args: []*roster.SCIMFilter{cmp(roster.SCIMFieldUsername, "eq", username), cmp(roster.SCIMFieldExternalID, "eq", "ext-7")}},
		} {
			plan, err := db.SCIMPlan(ctx, tid, f)
			if err != nil {
				t.Fatalf("%+v: %v", f, err)
			}
			if tenantScan.MatchString(plan + "\n") {
				t.Errorf("%s %s %v reads the whole tenant:\n%s", f.Field, f.Op, f.Value, plan)
			}
		}
	})
}

// rebind turns ? placeholders into PostgreSQL's $1, $2 (queries here hold at most two).
func rebind(db *store.DB, q string) string {
	if db.Dialect() != store.Postgres {
		return q
	}
	n := 0
	return regexp.MustCompile(`\?`).ReplaceAllStringFunc(q, func(string) string { n++; return "$" + string(rune('0'+n)) })
}
