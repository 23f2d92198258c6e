package bench

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/roster"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/testdb"
)

// TestLoad loads a small dataset and checks that it is what the core would
// have written: the same derived columns, the same indexes, totals that
// agree with plain SQL, and a second load that finds the first.
func TestLoad(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc := roster.NewService(db, roster.Options{})
		before := indexDefs(t, db)
		cfg := Config{Tenants: 2, UsersPerTenant: 400}
		ds, err := Load(ctx, svc, db, cfg, t.Logf)
		if err != nil {
			t.Fatal(err)
		}
		if got := indexDefs(t, db); !slices.Equal(got, before) {
			t.Errorf("indexes after the load differ from the migrated schema:\n got %q\nwant %q", got, before)
		}
		// What triggers keep for the lists: counts, and the status copy.
		for _, q := range []string{
			`SELECT count(*) FROM (SELECT tenant_id, status, group_id, count(*) AS n FROM users GROUP BY tenant_id, status, group_id) u
				FULL JOIN (SELECT tenant_id, status, group_id, sum(n) AS n FROM user_counts WHERE role_id = 0
					GROUP BY tenant_id, status, group_id) c
				ON c.tenant_id = u.tenant_id AND c.status = u.status AND c.group_id = u.group_id
				WHERE coalesce(c.n, 0) <> coalesce(u.n, 0)`,
			`SELECT count(*) FROM (SELECT tenant_id, role_id, status, count(*) AS n FROM user_roles GROUP BY tenant_id, role_id, status) u
				FULL JOIN (SELECT tenant_id, role_id, status, sum(n) AS n FROM user_counts WHERE role_id <> 0
					GROUP BY tenant_id, role_id, status) c
				ON c.tenant_id = u.tenant_id AND c.role_id = u.role_id AND c.status = u.status
				WHERE coalesce(c.n, 0) <> coalesce(u.n, 0)`,
			`SELECT count(*) FROM user_roles ur JOIN users u ON u.id = ur.user_id WHERE ur.status <> u.status`,
		} {
			var wrong int
			if err := db.SQL().QueryRow(q).Scan(&wrong); err != nil {
				t.Fatal(err)
			}
			if wrong != 0 {
				t.Errorf("%d rows disagree: %s", wrong, q)
			}
		}
		tid := ds.TenantIDs[0]
		a := roster.SystemActor(tid)

		// The store recomputes search and group_name on update; an update
		// that changes nothing must leave the loaded values as they were.
		p, err := svc.ListUsers(ctx, a, roster.UserQuery{PerPage: "100"})
		if err != nil {
			t.Fatal(err)
		}
		if p.Total != cfg.UsersPerTenant {
			t.Fatalf("total %d, want %d", p.Total, cfg.UsersPerTenant)
		}
		for _, u := range p.Items[:20] {
			s0, g0 := derived(t, db, u.ID)
			if _, err := svc.UpdateUser(ctx, a, u.ID, roster.UserInput{Name: roster.Some(u.Name)}); err != nil {
				t.Fatal(err)
			}
			if s1, g1 := derived(t, db, u.ID); s1 != s0 || g1 != g0 {
				t.Errorf("user %d: loaded (%q, %q), store writes (%q, %q)", u.ID, s0, g0, s1, g1)
			}
			if len(u.Roles) == 0 {
				t.Errorf("user %d has no roles", u.ID)
			}
		}

		scenarios, err := Scenarios(ctx, svc, ds, 25)
		if err != nil {
			t.Fatal(err)
		}
		checks := map[string]string{
			"active_name_first": `SELECT count(*) FROM users WHERE tenant_id = ? AND status = 'active'`,
			"q_surname":         `SELECT count(*) FROM users WHERE tenant_id = ? AND search LIKE '%` + surnameFragment + `%'`,
			"q_email":           `SELECT count(*) FROM users WHERE tenant_id = ? AND search LIKE '%` + emailFragment + `%'`,
			"role_agent": `SELECT count(*) FROM user_roles ur JOIN roles r ON r.id = ur.role_id
				WHERE ur.tenant_id = ? AND r.key = 'agent'`,
		}
		for _, sc := range scenarios {
			r, err := Measure(ctx, svc, tid, sc, 1)
			if err != nil {
				t.Fatal(err)
			}
			if r.Items > 25 || (r.Items == 0) != (r.Total == 0) {
				t.Errorf("%s: total %d, %d rows", sc.Key, r.Total, r.Items)
			}
			if q, ok := checks[sc.Key]; ok {
				var want int
				if err := db.SQL().QueryRow(rebind(db, q), tid).Scan(&want); err != nil {
					t.Fatal(err)
				}
				if r.Total != want {
					t.Errorf("%s: total %d, SQL counts %d", sc.Key, r.Total, want)
				}
			}
		}

		// Substring search (the trigram index on SQLite) finds what LIKE finds.
		for _, frag := range []string{p.Items[0].Email[2:9], p.Items[1].Name[1:4], "example.com"} {
			got, err := svc.ListUsers(ctx, a, roster.UserQuery{Q: frag})
			if err != nil {
				t.Fatal(err)
			}
			var want int
			if err := db.SQL().QueryRow(rebind(db, `SELECT count(*) FROM users WHERE tenant_id = ? AND search LIKE ?`),
				tid, "%"+strings.ToLower(frag)+"%").Scan(&want); err != nil {
				t.Fatal(err)
			}
			if got.Total != want || want == 0 {
				t.Errorf("q=%q: total %d, LIKE finds %d", frag, got.Total, want)
			}
		}

		again, err := Load(ctx, svc, db, cfg, t.Logf)
		if err != nil {
			t.Fatal(err)
		}
		if !again.Reused || !slices.Equal(again.TenantIDs, ds.TenantIDs) {
			t.Errorf("second load: reused %v, tenants %v; want the first load's %v", again.Reused, again.TenantIDs, ds.TenantIDs)
		}
		if _, err := Load(ctx, svc, db, Config{Tenants: 1, UsersPerTenant: 10}, t.Logf); err == nil {
			t.Error("loading another size over a dataset succeeded")
		}
		// Ids go on after the loaded ones (PostgreSQL's identity was moved on).
		g, err := svc.ListGroups(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		u, err := svc.CreateUser(ctx, a, roster.UserInput{Username: roster.Some("after.load"), Email: roster.Some("after.load@example.com"),
			Language: roster.Some("en"), GroupID: roster.Some(g[0].ID)})
		if err != nil {
			t.Fatal(err)
		}
		if want := int64(cfg.Tenants * cfg.UsersPerTenant); u.ID <= want {
			t.Errorf("new user got id %d, inside the loaded range 1..%d", u.ID, want)
		}
	})
}

func derived(t *testing.T, db *store.DB, id int64) (search, groupName string) {
	t.Helper()
	if err := db.SQL().QueryRow(rebind(db, `SELECT search, group_name FROM users WHERE id = ?`), id).Scan(&search, &groupName); err != nil {
		t.Fatal(err)
	}
	return search, groupName
}

func indexDefs(t *testing.T, db *store.DB) []string {
	t.Helper()
	q := `SELECT name || ' ' || coalesce(sql, '') FROM sqlite_master WHERE type IN ('index', 'trigger') ORDER BY name`
	if db.Dialect() == store.Postgres {
		q = `SELECT indexname || ' ' || indexdef FROM pg_indexes WHERE schemaname = current_schema() ORDER BY indexname`
	}
	rows, err := db.SQL().Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// TestOpen checks that a kept dataset is reused, and loaded again once the
// schema it was loaded into differs from what the migrations make.
func TestOpen(t *testing.T) {
	ctx := context.Background()
	// A name of its own: the PostgreSQL schema is shared with other runs.
	cfg := Config{Tenants: 1, UsersPerTenant: 30, Name: fmt.Sprintf("test_%d", time.Now().UnixNano())}
	for _, dsn := range []string{"", testdb.PostgresURL()} {
		if dsn != "" && os.Getenv("ROSTER_TEST_SKIP_POSTGRES") == "1" {
			continue
		}
		dir := t.TempDir()
		load := func(breakSchema bool) bool {
			t.Helper()
			db, err := Open(ctx, dsn, dir, cfg, false, t.Logf)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			ds, err := Load(ctx, roster.NewService(db, roster.Options{}), db, cfg, t.Logf)
			if err != nil {
				t.Fatal(err)
			}
			if breakSchema { // what the next run sees as an old schema
				if _, err := db.SQL().Exec(`DROP INDEX user_logins_order`); err != nil {
					t.Fatal(err)
				}
			}
			return ds.Reused
		}
		for i, c := range []struct{ breakSchema, reused bool }{{false, false}, {true, true}, {false, false}, {false, true}} {
			if got := load(c.breakSchema); got != c.reused {
				t.Errorf("%q: run %d reused the dataset: %v, want %v", dsn, i+1, got, c.reused)
			}
		}
		db, err := Open(ctx, dsn, dir, cfg, true, t.Logf)
		if err != nil {
			t.Fatal(err)
		}
		if dsn != "" {
			if _, err := db.SQL().Exec(`DROP SCHEMA roster_bench_` + cfg.Name + `_1x30 CASCADE`); err != nil {
				t.Error(err)
			}
		}
		db.Close()
	}
}

func TestPercentile(t *testing.T) {
	var s []time.Duration
	for i := 100; i >= 1; i-- {
		s = append(s, time.Duration(i))
	}
	for _, c := range []struct {
		p    float64
		want time.Duration
	}{{50, 50}, {95, 95}, {99, 99}, {100, 100}, {0, 1}} {
		if got := Percentile(s, c.p); got != c.want {
			t.Errorf("p%v = %d, want %d", c.p, got, c.want)
		}
	}
}

// BenchmarkDirectory times the directory's list pages on the full dataset
// (DefaultConfig; ROSTER_BENCH_USERS and ROSTER_BENCH_TENANTS change the
// size), on SQLite and on PostgreSQL. Like every benchmark it runs only with
// -bench; the datasets stay on disk (SQLite under DefaultDir, PostgreSQL in
// a schema of the test server), so only the first run pays for the load.
// Each sub-benchmark reports its p50, p95 and p99 in milliseconds.
//
//	go test ./internal/bench -run '^$' -bench Directory -benchtime 200x -timeout 60m
func BenchmarkDirectory(b *testing.B) {
	if testing.Short() {
		b.Skip("loads a million users")
	}
	cfg := DefaultConfig
	if n, err := strconv.Atoi(os.Getenv("ROSTER_BENCH_USERS")); err == nil {
		cfg.UsersPerTenant = n
	}
	if n, err := strconv.Atoi(os.Getenv("ROSTER_BENCH_TENANTS")); err == nil {
		cfg.Tenants = n
	}
	dsns := map[string]string{"sqlite": "", "postgres": testdb.PostgresURL()}
	if u := os.Getenv("ROSTER_BENCH_POSTGRES"); u != "" {
		dsns["postgres"] = u
	}
	for _, name := range []string{"sqlite", "postgres"} {
		b.Run(name, func(b *testing.B) {
			if name == "postgres" && os.Getenv("ROSTER_TEST_SKIP_POSTGRES") == "1" {
				b.Skip("ROSTER_TEST_SKIP_POSTGRES=1")
			}
			benchDirectory(b, dsns[name], cfg)
		})
	}
}

func benchDirectory(b *testing.B, dsn string, cfg Config) {
	ctx := context.Background()
	db, err := Open(ctx, dsn, DefaultDir(), cfg, false, b.Logf)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	svc := roster.NewService(db, roster.Options{})
	ds, err := Load(ctx, svc, db, cfg, b.Logf)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("%s dataset %s: loaded in %s (reused: %v)", db.Dialect(), cfg, ds.LoadTime.Round(time.Second), ds.Reused)
	scenarios, err := Scenarios(ctx, svc, ds, 25)
	if err != nil {
		b.Fatal(err)
	}
	a := roster.SystemActor(ds.TenantIDs[0])
	for _, sc := range scenarios {
		b.Run(sc.Key, func(b *testing.B) {
			var samples []time.Duration
			for b.Loop() {
				t0 := time.Now()
				if _, err := svc.ListUsers(ctx, a, sc.Query); err != nil {
					b.Fatal(err)
				}
				samples = append(samples, time.Since(t0))
			}
			for _, p := range []float64{50, 95, 99} {
				b.ReportMetric(float64(Percentile(samples, p))/float64(time.Millisecond), fmt.Sprintf("p%v-ms", p))
			}
		})
	}
}

// rebind turns ? placeholders into PostgreSQL's $1, $2.
func rebind(db *store.DB, q string) string {
	if db.Dialect() != store.Postgres {
		return q
	}
	n := 0
	var b strings.Builder
	for _, c := range q {
		if c == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}
