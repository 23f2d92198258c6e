package bench

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/roster"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/testdb"
)

// TestSCIMScenarios runs every SCIM scenario once on a small dataset: the
// lookups find exactly their user, the pages are full.
func TestSCIMScenarios(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc := roster.NewService(db, roster.Options{})
		ds, err := Load(ctx, svc, db, Config{Tenants: 2, UsersPerTenant: 1000}, t.Logf)
		if err != nil {
			t.Fatal(err)
		}
		if err := PrepareSCIM(ctx, db, ds); err != nil {
			t.Fatal(err)
		}
		scenarios, err := SCIMScenarios(ctx, db, ds)
		if err != nil {
			t.Fatal(err)
		}
		h, token, err := SCIMHandler(ctx, svc, ds)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]int{"username_eq": 1, "externalid_eq": 1, "email_eq": 1, "username_eq_active": -1, "group_eq": 1,
			"page_first": 1000, "page_middle": 1000, "sort_username": 1000, "total_only": 1000}
		for _, sc := range scenarios {
			r, err := MeasureSCIM(h, token, sc, 1)
			if err != nil {
				t.Fatal(err)
			}
			if n, ok := want[sc.Key]; ok && n >= 0 && r.Total != n {
				t.Errorf("%s: total %d, want %d", sc.Key, r.Total, n)
			}
			if r.Total == 0 {
				t.Errorf("%s finds nothing", sc.Key)
			}
		}
	})
}

// BenchmarkSCIM measures SCIM filter and page requests on the directory
// dataset (1M users, 200k in the measured tenant; its own copy, named scim).
// Each sub-benchmark reports p50, p95 and p99 in milliseconds.
//
//	go test ./internal/bench -run '^$' -bench SCIM -benchtime 200x -timeout 60m
func BenchmarkSCIM(b *testing.B) {
	if testing.Short() {
		b.Skip("loads a million users")
	}
	cfg := DefaultConfig
	cfg.Name = "scim"
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
			benchSCIM(b, dsns[name], cfg)
		})
	}
}

func benchSCIM(b *testing.B, dsn string, cfg Config) {
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
	if err := PrepareSCIM(ctx, db, ds); err != nil {
		b.Fatal(err)
	}
	scenarios, err := SCIMScenarios(ctx, db, ds)
	if err != nil {
		b.Fatal(err)
	}
	h, token, err := SCIMHandler(ctx, svc, ds)
	if err != nil {
		b.Fatal(err)
	}
	for _, sc := range scenarios {
		b.Run(sc.Key, func(b *testing.B) {
			if _, err := MeasureSCIM(h, token, sc, 0); err != nil { // five warm-up requests
				b.Fatal(err)
			}
			var samples []time.Duration
			for b.Loop() {
				t0 := time.Now()
				if status, body := SCIMRequest(h, token, sc.Path); status != 200 {
					b.Fatalf("%d %s", status, body)
				}
				samples = append(samples, time.Since(t0))
			}
			for _, p := range []float64{50, 95, 99} {
				b.ReportMetric(float64(Percentile(samples, p))/float64(time.Millisecond), fmt.Sprintf("p%v-ms", p))
			}
		})
	}
}

// TestSCIMTooBroad: on a tenant over roster.SCIMScanLimit users, a filter no
// index narrows is refused with tooMany, and the same filter joined with an
// indexed condition runs.
func TestSCIMTooBroad(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc := roster.NewService(db, roster.Options{})
		ds, err := Load(ctx, svc, db, Config{Tenants: 1, UsersPerTenant: roster.SCIMScanLimit + 50}, t.Logf)
		if err != nil {
			t.Fatal(err)
		}
		h, token, err := SCIMHandler(ctx, svc, ds)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{`active eq true`, `not (userName eq "x")`, `userName eq "x" or active eq false`, `meta.created gt "2020-01-01T00:00:00Z"`, `userName co "ma"`} {
			status, body := SCIMRequest(h, token, "/Users?filter="+url.QueryEscape(f))
			if status != 400 || !strings.Contains(string(body), `"scimType":"tooMany"`) {
				t.Errorf("%s: %d %s", f, status, body)
			}
		}
		for _, f := range []string{`userName sw "ma" and active eq true`, `userName eq "x" or externalId eq "y"`} {
			if status, body := SCIMRequest(h, token, "/Users?filter="+url.QueryEscape(f)); status != 200 {
				t.Errorf("%s: %d %s", f, status, body)
			}
		}
		if status, _ := SCIMRequest(h, token, "/Users?count=10"); status != 200 {
			t.Errorf("no filter: %d", status)
		}
	})
}
